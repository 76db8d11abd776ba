import Testing

@testable import StrataEngine
@testable import StrataServer

/// `DEBUG DIGEST` and `DIGEST-VALUE` against the digests redis-server 7.0.15 printed for
/// the same keyspaces.
@Suite struct DatasetDigestTests {
    static func engine(_ commands: [[String]]) -> Engine {
        let engine = Engine()
        var db = 0
        for words in commands { _ = engine.execute(words.map { Bytes($0) }, db: &db, now: 1_000) }
        return engine
    }

    @Test func emptyKeyspaceIsZeros() {
        #expect(DatasetDigest.hex(DatasetDigest.dataset(Engine().databases)) == String(repeating: "0", count: 40))
    }

    @Test func matchesRedis() throws {
        let engine = Self.engine([["set", "s", "hello"]])
        #expect(
            DatasetDigest.hex(DatasetDigest.dataset(engine.databases)) == "a500c6b54937da22f2ac1167da1da852479c7339")
        for words in [
            ["rpush", "l", "a", "1"], ["sadd", "st", "a", "b"], ["hset", "h", "f", "v"],
            ["zadd", "z", "1.5", "m", "0.1", "n"], ["xadd", "x", "1-1", "a", "1"], ["pexpire", "l", "100000"],
        ] {
            var db = 0
            _ = engine.execute(words.map { Bytes($0) }, db: &db, now: 1_000)
        }
        #expect(
            DatasetDigest.hex(DatasetDigest.dataset(engine.databases)) == "1f68e20e2d8e53906cf654bce42c5989323d2e12")
        let expected = [
            "s": "36b23a1456b2dce2c3ed252c456761301dba8060", "l": "42308a200873ce4fb49541f708cbd168044ef816",
            "st": "dd99329063ca0f1f28df2ac68d94b82fd95501c6", "h": "90c76e9e9f4c62d642a34fc97c7dad503b51f906",
            "z": "56aefd71afb0522fef8daa67986cff8b8561fa6e", "x": "e63bcb852a375e66ef47d37f2575bc03f71e7ecd",
        ]
        let database = engine.databases[0]
        for (key, hex) in expected {
            let entry = try #require(database.rawEntry(Bytes(key)))
            let digest = DatasetDigest.value(entry.value, hasDeadline: database.deadline(Bytes(key)) != nil)
            #expect(DatasetDigest.hex(digest) == hex, "\(key)")
        }
    }
}
