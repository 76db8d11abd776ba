import TestSupport
import Testing

@testable import StrataEngine

@Suite("ListCommands")
struct ListCommandsTests {
    @Test func pushPopAtBothEnds() {
        let h = Harness()
        #expect(h.run("RPUSH", "q", "a", "b") == .integer(2))
        #expect(h.run("LPUSH", "q", "z") == .integer(3))
        #expect(h.run("LRANGE", "q", "0", "-1") == .array([.b("z"), .b("a"), .b("b")]))
        #expect(h.run("LPOP", "q") == .b("z"))
        #expect(h.run("RPOP", "q", "5") == .array([.b("b"), .b("a")]))
        #expect(h.run("EXISTS", "q") == .integer(0))
        #expect(h.run("LPOP", "q") == .null)
        #expect(h.run("LPOP", "q", "2") == .nullArray)
        #expect(h.run("LPUSHX", "q", "a") == .integer(0))
        #expect(h.run("OBJECT", "ENCODING", "q") == .null)
    }

    @Test func queueOfManyElementsKeepsFIFOOrder() {
        let h = Harness()
        for i in 0..<10_000 { h.run("LPUSH", "jobs", "job\(i)") }
        for i in 0..<10_000 { #expect(h.run("RPOP", "jobs") == .b("job\(i)")) }
        #expect(h.run("LLEN", "jobs") == .integer(0))
    }

    @Test func indexingAndEditing() {
        let h = Harness()
        h.run("RPUSH", "l", "a", "b", "c", "b")
        #expect(h.run("LINDEX", "l", "-1") == .b("b"))
        #expect(h.run("LSET", "l", "1", "B") == .ok)
        #expect(h.run("LSET", "l", "9", "x") == .error("ERR index out of range"))
        #expect(h.run("LSET", "nokey", "0", "x") == Errors.noSuchKey)
        #expect(h.run("LINSERT", "l", "BEFORE", "c", "x") == .integer(5))
        #expect(h.run("LINSERT", "l", "AFTER", "zz", "x") == .integer(-1))
        #expect(h.run("LREM", "l", "0", "b") == .integer(1))
        #expect(h.run("LRANGE", "l", "0", "-1") == .array([.b("a"), .b("B"), .b("x"), .b("c")]))
        #expect(h.run("LTRIM", "l", "1", "2") == .ok)
        #expect(h.run("LRANGE", "l", "0", "-1") == .array([.b("B"), .b("x")]))
        #expect(h.run("LPOS", "l", "x") == .integer(1))
        #expect(h.run("LPOS", "l", "x", "COUNT", "0") == .array([.integer(1)]))
    }

    @Test func moves() {
        let h = Harness()
        h.run("RPUSH", "a", "1", "2", "3")
        #expect(h.run("LMOVE", "a", "b", "LEFT", "RIGHT") == .b("1"))
        #expect(h.run("RPOPLPUSH", "a", "b") == .b("3"))
        #expect(h.run("LRANGE", "b", "0", "-1") == .array([.b("3"), .b("1")]))
        #expect(
            h.run("LMPOP", "2", "none", "b", "LEFT", "COUNT", "5") == .array([.b("b"), .array([.b("3"), .b("1")])]))
        #expect(h.run("LMPOP", "1", "b", "LEFT") == .nullArray)
        h.run("SET", "s", "v")
        #expect(h.run("LMOVE", "a", "s", "LEFT", "LEFT") == Errors.wrongType)
        #expect(h.run("LRANGE", "a", "0", "-1") == .array([.b("2")]))
    }
}

@Suite("ListValue model")
struct ListValueModelTests {
    @Test(arguments: [11, 12])
    func pushesAndPopsMatchAnArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let h = Harness()
        var model: [String] = []
        for step in 0..<3000 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                h.run("LPUSH", "l", "e\(step)")
                model.insert("e\(step)", at: 0)
            case 1:
                h.run("RPUSH", "l", "e\(step)")
                model.append("e\(step)")
            case 2:
                #expect(h.run("LPOP", "l") == (model.isEmpty ? .null : .b(model.removeFirst())))
            default:
                #expect(h.run("RPOP", "l") == (model.isEmpty ? .null : .b(model.removeLast())))
            }
            #expect(h.run("LLEN", "l") == .integer(model.count))
        }
        #expect(h.run("LRANGE", "l", "0", "-1") == .array(model.map { .b($0) }))
    }
}
