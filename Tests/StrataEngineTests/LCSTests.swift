import Testing

@testable import StrataEngine

/// LCS's replies (redis-server 7.0's for the same commands) and its table limits.
@Suite("LCS")
struct LCSTests {
    func range(_ a: Int, _ b: Int) -> Reply { .array([.integer(a), .integer(b)]) }

    func harness() -> Harness {
        let h = Harness()
        h.run("SET", "a", "ohmytext")
        h.run("SET", "b", "mynewtext")
        return h
    }

    @Test func stringAndLength() {
        let h = harness()
        #expect(h.run("LCS", "a", "b") == .b("mytext"))
        #expect(h.run("LCS", "a", "b", "LEN") == .integer(6))
        #expect(h.run("LCS", "a", "missing") == .b(""))
        #expect(h.run("LCS", "missing", "other", "len") == .integer(0))
        h.run("SET", "n", "12345")
        #expect(h.run("LCS", "n", "a") == .b(""))
        #expect(h.run("LCS", "n", "n") == .b("12345"))
    }

    @Test func indexes() {
        let h = harness()
        let all: [Reply] = [
            .array([range(4, 7), range(5, 8)]),
            .array([range(2, 3), range(0, 1)]),
        ]
        #expect(h.run("LCS", "a", "b", "IDX") == .map([(.b("matches"), .array(all)), (.b("len"), .integer(6))]))
        #expect(
            h.run("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
                == .map([
                    (.b("matches"), .array([.array([range(4, 7), range(5, 8), .integer(4)])])),
                    (.b("len"), .integer(6)),
                ]))
        #expect(
            h.run("LCS", "a", "b", "IDX", "MINMATCHLEN", "-5")
                == .map([(.b("matches"), .array(all)), (.b("len"), .integer(6))]))
        #expect(
            h.run("LCS", "a", "missing", "IDX") == .map([(.b("matches"), .array([])), (.b("len"), .integer(0))]))
    }

    @Test func errors() {
        let h = harness()
        #expect(
            h.run("LCS", "a", "b", "LEN", "IDX")
                == .error("ERR If you want both the length and indexes, please just use IDX."))
        #expect(h.run("LCS", "a", "b", "LEN", "MINMATCHLEN") == Errors.syntax)
        #expect(h.run("LCS", "a", "b", "MINMATCHLEN", "x") == Errors.notInteger)
        #expect(h.run("LCS", "a", "b", "foo") == Errors.syntax)
        h.run("LPUSH", "l", "x")
        let notStrings = Reply.error("ERR The specified keys must contain string values")
        #expect(h.run("LCS", "a", "l") == notStrings)
        #expect(h.run("LCS", "l", "missing", "foo") == notStrings)
    }

    @Test func tableIsBoundedByProtoMaxBulkLen() {
        let h = harness()
        h.engine.settings.maxStringLength = 1024 * 1024
        h.run("SET", "x", String(repeating: "a", count: 600))
        h.run("SET", "y", String(repeating: "a", count: 600))
        #expect(
            h.run("LCS", "x", "y", "LEN")
                == .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"))
        h.run("SET", "y", String(repeating: "a", count: 400))
        #expect(h.run("LCS", "x", "y", "LEN") == .integer(400))
        // The table's size in bytes is what is compared with the limit.
        let huge = LCSCommand.solve(Bytes("ab"), Bytes("b"), maxTableBytes: 4, walk: true)
        #expect(
            huge == .failure(.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")))
        #expect(LCSCommand.solve(Bytes("ab"), Bytes("b"), maxTableBytes: 24, walk: true).map(\.length) == .success(1))
    }

    @Test func walkBackMatchesRedisChoices() throws {
        // On ties Redis steps back in the second string, which decides the subsequence.
        let solution = try LCSCommand.solve(Bytes("abcb"), Bytes("bacb"), maxTableBytes: 1 << 20, walk: true).get()
        #expect(solution.length == 3)
        #expect(solution.subsequence == Bytes("bcb"))
        #expect(solution.matches.map(\.first) == [2...3, 1...1])
        #expect(solution.matches.map(\.second) == [2...3, 0...0])
        let disjoint = try LCSCommand.solve(Bytes("xyz"), Bytes("abc"), maxTableBytes: 1 << 20, walk: true).get()
        #expect(disjoint.length == 0 && disjoint.matches.isEmpty && disjoint.subsequence.isEmpty)
    }
}
