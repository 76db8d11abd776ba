import Testing

@testable import StrataEngine

@Suite("KeyCommands")
struct KeyCommandsTests {
    @Test func existenceAndDeletion() {
        let h = Harness()
        h.run("MSET", "a", "1", "b", "2")
        #expect(h.run("EXISTS", "a", "a", "c") == .integer(2))
        #expect(h.run("DEL", "a", "c") == .integer(1))
        #expect(h.run("UNLINK", "b") == .integer(1))
        #expect(h.run("DBSIZE") == .integer(0))
        #expect(h.run("TYPE", "a") == .status("none"))
        h.run("SET", "a", "1")
        #expect(h.run("TYPE", "a") == .status("string"))
        #expect(h.run("TOUCH", "a", "zz") == .integer(1))
    }

    @Test func keysMatchesGlobs() {
        let h = Harness()
        h.run("MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1", "h[x]", "1")
        func keys(_ p: String) -> Set<String> {
            guard case .array(let items) = h.run("KEYS", p) else { return [] }
            return Set(items.compactMap { if case .bulk(let b) = $0 { return b.string } else { return nil } })
        }
        #expect(keys("h?llo") == ["hello", "hallo", "hxllo"])
        #expect(keys("h*llo") == ["hello", "hallo", "hxllo", "hllo", "heeeello"])
        #expect(keys("h[ae]llo") == ["hello", "hallo"])
        #expect(keys("h[^e]llo") == ["hallo", "hxllo"])
        #expect(keys("h[a-b]llo") == ["hallo"])
        #expect(keys("h\\[x\\]") == ["h[x]"])
        #expect(keys("*").count == 6)
    }

    @Test func renameMovesTheDeadline() {
        let h = Harness()
        h.run("SET", "a", "1", "EX", "100")
        #expect(h.run("RENAME", "a", "b") == .ok)
        #expect(h.run("TTL", "b") == .integer(100))
        #expect(h.run("RENAME", "a", "b") == .error("ERR no such key"))
        h.run("SET", "c", "3")
        #expect(h.run("RENAMENX", "b", "c") == .integer(0))
        #expect(h.run("RENAMENX", "b", "d") == .integer(1))
        #expect(h.run("RENAME", "d", "d") == .ok)
    }

    @Test func copyAndMove() {
        let h = Harness()
        h.run("SET", "a", "1", "EX", "100")
        #expect(h.run("COPY", "a", "b") == .integer(1))
        #expect(h.run("TTL", "b") == .integer(100))
        #expect(h.run("COPY", "a", "b") == .integer(0))
        #expect(h.run("COPY", "a", "b", "REPLACE") == .integer(1))
        #expect(h.run("COPY", "a", "a") == .error("ERR source and destination objects are the same"))
        #expect(h.run("COPY", "a", "x", "DB", "16") == .error("ERR DB index is out of range"))
        #expect(h.run("COPY", "a", "a", "DB", "3") == .integer(1))
        #expect(h.run("MOVE", "a", "1") == .integer(1))
        #expect(h.run("EXISTS", "a") == .integer(0))
        #expect(h.run("MOVE", "b", "0") == .error("ERR source and destination objects are the same"))
        #expect(h.run("MOVE", "b", "99") == .error("ERR DB index is out of range"))
        #expect(h.run("SELECT", "1") == .ok)
        #expect(h.db == 1)
        #expect(h.run("GET", "a") == .b("1"))
        #expect(h.run("TTL", "a") == .integer(100))
        #expect(h.run("SELECT", "16") == .error("ERR DB index is out of range"))
        #expect(h.run("SELECT", "x") == Errors.notInteger)
    }

    @Test func flushAndSwap() {
        let h = Harness()
        h.run("SET", "a", "1")
        h.run("SELECT", "2")
        h.run("SET", "b", "1")
        #expect(h.run("FLUSHDB", "BOGUS") == Errors.syntax)
        #expect(h.run("FLUSHDB") == .ok)
        #expect(h.run("DBSIZE") == .integer(0))
        #expect(h.run("SWAPDB", "0", "2") == .ok)
        #expect(h.run("GET", "a") == .b("1"))
        #expect(h.run("FLUSHALL", "ASYNC") == .ok)
        #expect(h.run("DBSIZE") == .integer(0))
    }

    @Test func randomKeyFindsOnlyLiveKeys() {
        let h = Harness()
        #expect(h.run("RANDOMKEY") == .null)
        h.run("SET", "dead", "1", "PX", "10")
        h.run("SET", "live", "1")
        h.advance(milliseconds: 20)
        for _ in 0..<20 { #expect(h.run("RANDOMKEY") == .b("live")) }
    }

    @Test func scanReturnsEveryKeyPresentThroughoutWhileTheKeyspaceGrows() {
        let h = Harness()
        for i in 0..<15_000 { h.run("SET", "stable:\(i)", "v") }
        var cursor = "0"
        var seen = Set<String>()
        var added = 0
        var calls = 0
        repeat {
            calls += 1
            guard case .array(let parts) = h.run("SCAN", cursor, "COUNT", "37"),
                case .bulk(let next) = parts[0], case .array(let keys) = parts[1]
            else {
                Issue.record("bad SCAN reply")
                return
            }
            for case .bulk(let key) in keys { seen.insert(key.string) }
            // Grow the keyspace mid-iteration so shards split under the cursor.
            for _ in 0..<10 {
                h.run("SET", "new:\(added)", "v")
                added += 1
            }
            cursor = next.string
        } while cursor != "0" && calls < 10_000
        #expect(cursor == "0")
        for i in 0..<15_000 { #expect(seen.contains("stable:\(i)")) }
        #expect(h.engine.databases[0].shards.count > Database.initialShardCount)
    }

    @Test func scanOptions() {
        let h = Harness()
        for i in 0..<100 { h.run("SET", "user:\(i)", "v") }
        h.run("SET", "other", "v")
        var cursor = "0"
        var matched = 0
        repeat {
            guard case .array(let parts) = h.run("SCAN", cursor, "MATCH", "user:*", "COUNT", "1000", "TYPE", "string"),
                case .bulk(let next) = parts[0], case .array(let keys) = parts[1]
            else {
                Issue.record("unexpected reply shape")
                return
            }
            matched += keys.count
            cursor = next.string
        } while cursor != "0"
        #expect(matched == 100)
        #expect(h.run("SCAN", "0", "COUNT", "0") == Errors.syntax)
        #expect(h.run("SCAN", "abc") == .error("ERR invalid cursor"))
        #expect(h.run("SCAN", "0", "MATCH") == Errors.syntax)
    }

    @Test func objectIdletimeUsesTheInjectedClock() {
        let h = Harness()
        h.run("SET", "k", "v")
        h.advance(milliseconds: 5000)
        #expect(h.run("OBJECT", "IDLETIME", "k") == .integer(5))
        guard case .error(let message) = h.run("OBJECT", "FREQ", "k") else {
            Issue.record("OBJECT FREQ must refuse without an LFU policy")
            return
        }
        #expect(message.hasPrefix("ERR An LFU maxmemory policy is not selected"))
        #expect(h.run("OBJECT", "IDLETIME", "nokey") == .null)
    }
}

@Suite("GlobPattern")
struct GlobPatternTests {
    @Test(arguments: [
        ("*", "", true), ("*", "anything", true), ("a*", "abc", true), ("a*c", "abbbc", true), ("a*c", "abbbd", false),
        ("h?llo", "hello", true), ("h?llo", "hllo", false), ("h[ae]llo", "hallo", true), ("h[^e]llo", "hello", false),
        ("h[a-b]llo", "hbllo", true), ("h[b-a]llo", "hallo", true), ("\\*", "*", true), ("\\*", "a", false),
        ("*.txt", "notes.txt", true), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("[abc", "a", true),
        ("user:*:name", "user:42:name", true), ("", "", true), ("", "a", false),
    ])
    func matchesLikeRedis(pattern: String, string: String, expected: Bool) {
        #expect(GlobPattern.matches(Bytes(pattern), Bytes(string)) == expected)
    }

    @Test func hostilePatternsFinishQuickly() {
        let pattern = Bytes(String(repeating: "*a", count: 40) + "b")
        let string = Bytes(String(repeating: "a", count: 5000))
        #expect(!GlobPattern.matches(pattern, string))
    }
}

@Suite("Lazy free")
struct LazyFreeTests {
    @Test func flushAsyncHandsTheOldDataToTheReleaseHook() {
        let h = Harness()
        var released: [Sendable] = []
        h.engine.releaseInBackground = { released.append($0) }
        for i in 0..<100 { h.run("SET", "k\(i)", "v") }
        #expect(h.run("FLUSHALL", "ASYNC") == .ok)
        #expect(h.run("DBSIZE") == .integer(0))
        #expect(released.count == 1)
        #expect((released.first as? [Database])?.first?.count == 100)
        #expect(h.run("FLUSHDB", "SYNC") == .ok)
        #expect(released.count == 1)
    }
}

@Suite("MemoryCommands")
struct MemoryCommandsTests {
    @Test func usageGrowsWithTheValue() {
        let h = Harness()
        h.run("SET", "small", "v")
        h.run("SET", "big", String(repeating: "x", count: 10_000))
        guard case .integer(let small) = h.run("MEMORY", "USAGE", "small"),
            case .integer(let big) = h.run("MEMORY", "USAGE", "big")
        else {
            Issue.record("MEMORY USAGE did not return integers")
            return
        }
        #expect(small > 48 && small < 200)
        #expect(big >= 10_000 && big < 10_300)
        #expect(h.run("MEMORY", "USAGE", "nokey") == .null)
        #expect(h.run("MEMORY", "USAGE", "small", "SAMPLES") == Errors.syntax)
    }
}
