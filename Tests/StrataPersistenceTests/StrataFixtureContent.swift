import Foundation
import NIOCore
import StrataEngine

@testable import StrataPersistence

/// What the frozen Strata fixtures in `Fixtures/strata` hold, and how they are written:
/// `StrataFixtureWriter` wrote them once from this content with the writers of the time;
/// `StrataFixtureTests` reads them back with today's readers and requires this content
/// exactly, so a format change cannot slip past round-trip tests.
enum StrataFixture {
    /// The time the fixtures were written at (Unix ms), and the time they are read at.
    static let now: Int64 = 1_800_000_000_000
    /// The deadline of the keys with a TTL (2100-01-01).
    static let deadline: Int64 = 4_102_444_800_000
    /// The function library the snapshots hold.
    static let library = Bytes("#!lua name=fixturelib\nredis.register_function('answer', function() return 42 end)")

    /// The directory of the fixtures.
    static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/strata").path
    }

    /// The keyspace: every type, small and large encodings, TTLs, binary data, three databases.
    static func databases() -> [Database] {
        var databases = Array(repeating: Database(), count: 16)
        let clock = Entry.clock(now: now)
        let settings = EngineSettings()
        func set(_ db: Int, _ key: String, _ value: Value, deadline: Int64? = nil) {
            databases[db].set(Bytes(key), value, accessClock: clock)
            if let deadline { databases[db].setDeadline(Bytes(key), deadline) }
        }
        set(0, "string", .string(Bytes("hello")))
        set(0, "empty", .string(Bytes()))
        set(0, "int", .integer(12345))
        set(0, "negative", .integer(-9_223_372_036_854_775_807))
        set(0, "binary", .string(Bytes([0, 255, 10, 13, 128])))
        set(0, "compressible", .string(Bytes(Array(repeating: UInt8(ascii: "a"), count: 300))))
        set(0, "ttl", .string(Bytes("expires in 2100")), deadline: deadline)
        set(0, "small-list", .list(ListValue((0..<5).map { Bytes("item-\($0)") })))
        set(0, "large-list", .list(ListValue((0..<130).map { Bytes("element-\($0)") })))
        var smallHash = HashValue()
        for n in 0..<3 { smallHash.set(Bytes("field-\(n)"), Bytes("value-\(n)"), limits: settings.hashLimits) }
        set(0, "small-hash", .hash(smallHash))
        var largeHash = HashValue()
        for n in 0..<130 { largeHash.set(Bytes("f\(n)"), Bytes("v\(n)"), limits: settings.hashLimits) }
        set(0, "large-hash", .hash(largeHash), deadline: deadline)
        set(0, "intset", .set(SetValue((0..<20).map { Bytes($0 * 3) }, limits: settings.setLimits)))
        set(0, "small-set", .set(SetValue(["a", "b", "c"].map { Bytes($0) }, limits: settings.setLimits)))
        set(0, "large-set", .set(SetValue((0..<130).map { Bytes("member-\($0)") }, limits: settings.setLimits)))
        let smallZset = [ScoredMember(score: 1.5, member: Bytes("one")), ScoredMember(score: -2, member: Bytes("two"))]
        set(0, "small-zset", .sortedSet(SortedSetValue(smallZset, limits: settings.sortedSetLimits)))
        let largeZset =
            (0..<130).map { ScoredMember(score: Double($0) / 4, member: Bytes("z\($0)")) } + [
                ScoredMember(score: .infinity, member: Bytes("top")),
                ScoredMember(score: -.infinity, member: Bytes("bottom")),
            ]
        set(0, "large-zset", .sortedSet(SortedSetValue(largeZset, limits: settings.sortedSetLimits)))
        set(0, "stream", .stream(StreamStorage(stream())))
        set(1, "db1-string", .string(Bytes("in database 1")))
        set(1, "db1-ttl", .integer(7), deadline: deadline + 1)
        set(15, "last-db", .string(Bytes("in database 15")))
        return databases
    }

    /// A stream with deleted entries, two consumer groups, pending entries and an idle consumer.
    static func stream() -> StreamValue {
        var value = StreamValue()
        for i in 1...6 {
            value.append(
                StreamEntry(
                    id: StreamID(ms: 1_700_000_000_000 + UInt64(i), seq: 0), fields: [Bytes("n"), Bytes("\(i)")]))
        }
        value.delete([StreamID(ms: 1_700_000_000_002, seq: 0)])
        var group = StreamGroup(lastID: StreamID(ms: 1_700_000_000_004, seq: 0), entriesRead: 4)
        group.deliver(StreamID(ms: 1_700_000_000_003, seq: 0), to: Bytes("alice"), time: now - 5000, count: 2)
        group.deliver(StreamID(ms: 1_700_000_000_004, seq: 0), to: Bytes("bob"), time: now - 1000, count: 1)
        group.consumers[Bytes("carol")] = StreamConsumer(seenTime: now - 60_000)
        value.groups[Bytes("readers")] = group
        value.groups[Bytes("late")] = StreamGroup(lastID: value.lastID, entriesRead: 6)
        return value
    }

    /// The commands of the AOF fixtures' incremental file, after the base: a database
    /// switch, a transaction, a deletion, an expiry, a timestamp annotation before them.
    static let increment: [[String]] = [
        ["SELECT", "1"], ["SET", "after-base", "1"], ["MULTI"], ["INCR", "counter"],
        ["RPUSH", "small-list-1", "x", "y"],
        ["EXEC"], ["SELECT", "0"], ["DEL", "small-set"], ["HSET", "small-hash", "field-9", "value-9"],
        ["PEXPIREAT", "string", String(deadline)],
    ]

    /// The incremental file's bytes: a `#TS:` annotation, then ``increment``.
    static func incrementBytes() -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 1024)
        buffer.writeString("#TS:\(now / 1000)\r\n")
        for command in increment { AOFEncoding.append(command.map { Bytes($0) }, to: &buffer) }
        return Array(buffer.readableBytesView)
    }

    /// The keyspace once ``increment`` is replayed over ``databases()``.
    static func databasesAfterIncrement() -> [Database] {
        var databases = databases()
        let clock = Entry.clock(now: now)
        databases[1].set(Bytes("after-base"), .integer(1), accessClock: clock)
        databases[1].set(Bytes("counter"), .integer(1), accessClock: clock)
        databases[1].set(Bytes("small-list-1"), .list(ListValue([Bytes("x"), Bytes("y")])), accessClock: clock)
        _ = databases[0].remove(Bytes("small-set"))
        var hash = HashValue()
        for n in [0, 1, 2, 9] {
            hash.set(Bytes("field-\(n)"), Bytes("value-\(n)"), limits: EngineSettings().hashLimits)
        }
        databases[0].set(Bytes("small-hash"), .hash(hash), accessClock: clock)
        databases[0].setDeadline(Bytes("string"), deadline)
        return databases
    }
}
