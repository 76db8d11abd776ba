import Testing

@testable import StrataEngine

/// Key-spec evaluation and the commands' own key searches, with the answers redis-server
/// 7.0.15 gives to `COMMAND GETKEYSANDFLAGS` (the e2e test compares them live).
@Suite("KeySearch")
struct KeySearchTests {
    /// The keys of `words` as (position, flag names).
    func keys(_ words: String...) -> [Pair] {
        let args = words.map { Bytes($0) }
        guard let metadata = CommandMetadata.named(words[0].lowercased()) else { return [] }
        return metadata.keyReferences(in: args).map { Pair(position: $0.position, flags: $0.flags.names) }
    }

    struct Pair: Equatable, CustomStringConvertible {
        let position: Int
        let flags: [String]
        init(position: Int, flags: [String]) {
            self.position = position
            self.flags = flags
        }
        init(_ position: Int, _ flags: String = "") {
            self.position = position
            self.flags = flags.split(separator: " ").map(String.init)
        }
        var description: String { "\(position) \(flags)" }
    }

    @Test func indexAndRangeSpecs() {
        #expect(keys("GET", "k") == [Pair(1, "RO access")])
        #expect(keys("LMOVE", "a", "b", "left", "right") == [Pair(1, "RW access delete"), Pair(2, "RW insert")])
        #expect(
            keys("MSET", "a", "1", "b", "2", "c", "3") == [
                Pair(1, "OW update"), Pair(3, "OW update"), Pair(5, "OW update"),
            ])
        #expect(keys("BLPOP", "a", "b", "0") == [Pair(1, "RW access delete"), Pair(2, "RW access delete")])
    }

    @Test func keyCountSpecs() {
        #expect(
            keys("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2")
                == [Pair(1, "OW update"), Pair(3, "RO access"), Pair(4, "RO access")])
        #expect(keys("LMPOP", "2", "a", "b", "LEFT") == [Pair(2, "RW access delete"), Pair(3, "RW access delete")])
        #expect(keys("EVAL", "s", "1", "k", "arg") == [Pair(3, "RW access update")])
    }

    @Test func anUnusableKeyCountFallsBackToTheCommandsOwnSearch() {
        // Not a strict integer: the fallback reads it with atoi and lists the store key last, without flags.
        #expect(keys("ZUNIONSTORE", "d", "1abc", "a") == [Pair(3), Pair(1)])
        // Zero keys: the spec's range is empty, the fallback finds none.
        #expect(keys("EVAL", "s", "0").isEmpty)
        #expect(keys("ZUNIONSTORE", "d", "3", "a", "b").isEmpty)
        // Counts beyond an int wrap as Redis's do, and find nothing rather than trap.
        #expect(keys("FCALL", "f", "2147483648", "a").isEmpty)
        #expect(keys("FCALL", "f", "4294967297", "a", "b") == [Pair(3, "RW access update")])
        #expect(keys("EVAL", "s", "99999999999999999999", "a").isEmpty)
    }

    @Test func keywordSpecs() {
        #expect(
            keys("XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0") == [Pair(4, "RO access"), Pair(5, "RO access")])
        #expect(keys("XREAD", "COUNT", "1", "a", "b").isEmpty)
        #expect(keys("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">") == [Pair(5, "RO access")])
        // The search starts after GROUP's arguments: a group named STREAMS is not the keyword.
        #expect(
            keys("XREADGROUP", "GROUP", "streams", "c", "STREAMS", "streams", ">") == [Pair(5, "RO access")])
        // MIGRATE's KEYS spec is incomplete: its own search answers.
        #expect(keys("MIGRATE", "h", "1", "k", "0", "100") == [Pair(3, "RW access delete")])
        #expect(
            keys("MIGRATE", "h", "1", "", "0", "100", "KEYS", "a", "b")
                == [Pair(7, "RW access delete"), Pair(8, "RW access delete")])
        #expect(keys("MIGRATE", "h", "1", "k", "0", "100", "KEYS", "a").isEmpty)
    }

    @Test func unknownSpecsAndVariableFlagsUseTheCommandsOwnSearch() {
        #expect(keys("SORT", "k", "BY", "w", "GET", "#", "STORE", "d") == [Pair(1, "RO access"), Pair(7, "OW update")])
        #expect(keys("SORT", "k", "GET", "store") == [Pair(1, "RO access")])
        #expect(keys("SORT_RO", "k", "STORE", "d") == [Pair(1, "RO access")])
        #expect(keys("SET", "k", "v") == [Pair(1, "OW update")])
        #expect(keys("SET", "k", "v", "EX", "1", "get") == [Pair(1, "RW access update")])
        #expect(keys("BITFIELD", "k", "GET", "u8", "0", "OVERFLOW", "SAT") == [Pair(1, "RO access")])
        #expect(keys("BITFIELD", "k", "GET", "u8") == [Pair(1, "RW access update")])
        // GEORADIUS's keyword specs are complete: each one answers, in spec order.
        #expect(
            keys("GEORADIUS", "g", "1", "2", "3", "km", "STOREDIST", "d", "STORE", "e")
                == [Pair(1, "RO access"), Pair(9, "OW update"), Pair(7, "OW update")])
        #expect(keys("GEORADIUS", "g", "1", "2", "3", "km", "STORE") == [Pair(1, "RO access")])
    }

    @Test func notKeySpecsHaveNoKeys() {
        let spublish = CommandMetadata.named("spublish")
        #expect(spublish?.hasKeys == false)
        #expect(keys("SPUBLISH", "ch", "msg").isEmpty)
        #expect(CommandMetadata.named("ping")?.hasKeys == false)
        #expect(CommandMetadata.named("eval")?.hasKeys == true)
    }

    @Test func manyKeysAreAllFound() {
        let found = keys(["DEL"] + (0..<300).map { "k\($0)" })
        #expect(found.count == 300)
        #expect(found.last == Pair(300, "RM delete"))
        let stored = keys(["ZUNIONSTORE", "d", "300"] + (0..<300).map { "k\($0)" })
        #expect(stored.count == 301)
    }

    func keys(_ words: [String]) -> [Pair] {
        let args = words.map { Bytes($0) }
        guard let metadata = CommandMetadata.named(words[0].lowercased()) else { return [] }
        return metadata.keyReferences(in: args).map { Pair(position: $0.position, flags: $0.flags.names) }
    }

    @Test func specsNeverReadPastTheArguments() {
        let spec = KeySpec("RO access", .index(1), .keyNumber(index: 5, firstKey: 1, keyStep: 1))
        #expect(spec.range(from: 1, in: [Bytes("X"), Bytes("a")]) == nil)
        let range = KeySpec("RO access", .index(4), .range(lastKey: 2, keyStep: 1, limit: 0))
        #expect(range.range(from: 4, in: [Bytes("X"), Bytes("a")]) == nil)
        let keyword = KeySpec("RO access", .keyword("KEYS", startFrom: -20), .range(lastKey: -1, keyStep: 1, limit: 0))
        if case .some(.some) = keyword.start(in: [Bytes("X"), Bytes("KEYS")]) {
            Issue.record("found a keyword before the start")
        }
    }

    @Test func atoiIsGlibcs() {
        #expect(KeyFallback.atoi(Bytes(" 12x")) == 12)
        #expect(KeyFallback.atoi(Bytes("-3")) == -3)
        #expect(KeyFallback.atoi(Bytes("+7")) == 7)
        #expect(KeyFallback.atoi(Bytes("x")) == 0)
        #expect(KeyFallback.atoi(Bytes("4294967297")) == 1)
        #expect(KeyFallback.atoi(Bytes("99999999999999999999")) == -1)
        #expect(KeyFallback.atoi(Bytes("-99999999999999999999")) == 0)
    }

    @Test func theTableAgreesWithRedisOnArityAndFlags() {
        // Deliberate: Strata accepts Redis 7.2's ZRANK/ZREVRANK WITHSCORE.
        let arityExceptions: Set<String> = ["zrank", "zrevrank"]
        var checked = 0
        let specs = CommandTable.standard.specs.values.flatMap { [$0] + Array($0.subcommands.values) }
        for spec in specs {
            guard let metadata = spec.redisMetadata else { continue }
            checked += 1
            if !arityExceptions.contains(spec.name) {
                #expect(spec.arity == metadata.arity, "\(spec.name)")
            }
            #expect(spec.printedFlags == metadata.flags, "\(spec.name)")
        }
        #expect(checked > 200)
        #expect(CommandMetadata.all.count == 366)
        #expect(CommandMetadata.named("client|tracking")?.arity == -3)
    }

    @Test func keySpecRepliesHaveRedisShape() {
        let migrate = CommandMetadata.named("migrate")?.keySpecs.last
        #expect(
            migrate?.reply
                == .map([
                    (
                        .text("flags"),
                        .set([.status("RW"), .status("access"), .status("delete"), .status("incomplete")])
                    ),
                    (
                        .text("begin_search"),
                        .map([
                            (.text("type"), .text("keyword")),
                            (
                                .text("spec"),
                                .map([(.text("keyword"), .text("KEYS")), (.text("startfrom"), .integer(-2))])
                            ),
                        ])
                    ),
                    (
                        .text("find_keys"),
                        .map([
                            (.text("type"), .text("range")),
                            (
                                .text("spec"),
                                .map([
                                    (.text("lastkey"), .integer(-1)), (.text("keystep"), .integer(1)),
                                    (.text("limit"), .integer(0)),
                                ])
                            ),
                        ])
                    ),
                ]))
    }
}
