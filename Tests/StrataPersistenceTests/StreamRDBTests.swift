import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// Streams in RDB form: our encoding read back, and a stream redis-server 7.0.15 saved.
@Suite struct StreamRDBTests {
    func records(_ bytes: [UInt8]) throws -> [RDBRecord] {
        var delivered = false
        let decoder = RDBDecoder(
            stream: RDBStream {
                defer { delivered = true }
                return delivered ? nil : bytes
            }, settings: EngineSettings())
        try decoder.header()
        var out: [RDBRecord] = []
        while true {
            let record = try decoder.next()
            out.append(record)
            if case .end = record { return out }
        }
    }

    func stream(in records: [RDBRecord]) -> (Bytes, StreamValue)? {
        for record in records {
            if case .entry(let key, .stream(let storage), _) = record { return (key, storage.stream) }
        }
        return nil
    }

    /// An RDB file holding `value` as the type 19 stream at `s`.
    func encoded(_ value: StreamValue) -> [UInt8] {
        var encoder = RDBEncoder()
        encoder.header()
        encoder.byte(RDB.typeStreamListpacks2)
        encoder.string(Bytes("s"))
        encoder.stream(value)
        var checksum = CRC64()
        encoder.end(checksum: &checksum, enabled: true)
        return encoder.bytes
    }

    @Test func ourEncodingReadsBack() throws {
        var value = StreamValue()
        for i in 0..<250 {
            let fields =
                i % 9 == 0
                ? [Bytes("other"), Bytes(String(repeating: "x", count: i))]
                : [Bytes("a"), Bytes("\(i)"), Bytes("b"), Bytes("-\(i * 1000)")]
            value.append(
                StreamEntry(id: StreamID(ms: 1_700_000_000_000 + UInt64(i / 3), seq: UInt64(i % 3)), fields: fields))
        }
        value.delete([StreamID(ms: 1_700_000_000_000, seq: 1), StreamID(ms: 1_700_000_000_050, seq: 0)])
        value.lastID = StreamID(ms: .max, seq: 7)
        let (key, decoded) = try #require(stream(in: try records(encoded(value))))
        #expect(key == Bytes("s"))
        #expect(decoded == value)
    }

    @Test func groupsReadBack() throws {
        var value = StreamValue()
        for i in 1...20 {
            value.append(StreamEntry(id: StreamID(ms: UInt64(i), seq: 0), fields: [Bytes("f"), Bytes("\(i)")]))
        }
        var group = StreamGroup(lastID: StreamID(ms: 12, seq: 0), entriesRead: 12)
        for i in 3...12 {
            group.deliver(
                StreamID(ms: UInt64(i), seq: 0), to: Bytes(i % 2 == 0 ? "even" : "odd"), time: 1000 + Int64(i),
                count: UInt64(i))
        }
        group.consumers[Bytes("idle")] = StreamConsumer(seenTime: 77)
        value.groups[Bytes("g")] = group
        value.groups[Bytes("unknown")] = StreamGroup(lastID: .max, entriesRead: StreamGroup.unknownEntriesRead)
        let (_, decoded) = try #require(stream(in: try records(encoded(value))))
        #expect(decoded == value)
        let read = try #require(decoded.groups[Bytes("g")])
        #expect(
            read.pending[StreamID(ms: 7, seq: 0)]
                == StreamPendingEntry(consumer: Bytes("odd"), deliveryTime: 1007, deliveryCount: 7))
        #expect(read.consumers[Bytes("idle")]?.seenTime == 77)
        #expect(decoded.groups[Bytes("unknown")]?.entriesRead == StreamGroup.unknownEntriesRead)
    }

    @Test func aRedisStreamWithGroupsIsRead() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/redis-7.0-stream-groups.rdb").path
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let (_, value) = try #require(stream(in: try records(Array(bytes))))
        #expect(value.length == 4)
        #expect(value.groupNames == [Bytes("g1"), Bytes("g2")])
        let g1 = try #require(value.groups[Bytes("g1")])
        #expect(g1.lastID == StreamID(ms: 3, seq: 1))
        #expect(g1.entriesRead == 3)
        #expect(g1.pending.count == 2)
        #expect(g1.pending[StreamID(ms: 2, seq: 1)]?.consumer == Bytes("alice"))
        #expect(g1.pending[StreamID(ms: 3, seq: 1)]?.consumer == Bytes("bob"))
        #expect(g1.pending[StreamID(ms: 2, seq: 1)]?.deliveryTime == 1_795_875_583_959)
        #expect(g1.consumerNames == [Bytes("alice"), Bytes("bob"), Bytes("carol")])
        #expect(g1.consumers[Bytes("carol")]?.seenTime == 1_795_875_583_966)
        #expect(value.lag(of: g1) == nil)  // a deleted entry lies after its last id, as Redis reports
        let g2 = try #require(value.groups[Bytes("g2")])
        #expect(g2.entriesRead == StreamGroup.unknownEntriesRead)
        #expect(value.lag(of: g2) == 0)
    }

    /// The rewrite's commands rebuild a stream with groups exactly, including pending
    /// entries whose stream entry was deleted (placeholders added, claimed and deleted).
    @Test func rewriteCommandsRebuildGroupsAndDeletedPendingEntries() throws {
        let live = Engine()
        var db = 0
        func run(_ engine: Engine, _ words: [String]) -> Reply {
            engine.execute(words.map { Bytes($0) }, db: &db, now: 1_800_000_000_000)
        }
        for i in 1...30 { _ = run(live, ["XADD", "s", "\(i)-0", "n", "\(i)"]) }
        _ = run(live, ["XGROUP", "CREATE", "s", "g", "0"])
        _ = run(live, ["XGROUP", "CREATE", "s", "h", "$"])
        _ = run(live, ["XREADGROUP", "GROUP", "g", "a", "COUNT", "10", "STREAMS", "s", ">"])
        _ = run(live, ["XREADGROUP", "GROUP", "g", "b", "COUNT", "5", "STREAMS", "s", ">"])
        _ = run(live, ["XGROUP", "CREATECONSUMER", "s", "h", "idle"])
        _ = run(live, ["XDEL", "s", "3-0", "12-0", "20-0", "30-0"])
        let value = try #require(live.lookup(Bytes("s"), db: 0, now: 1_800_000_000_000))
        let rebuilt = Engine()
        for command in AOFBaseWriter.commandArguments(rebuilding: Bytes("s"), value, deadline: nil) {
            let reply = rebuilt.execute(command, db: &db, now: 1_800_000_000_000)
            if case .error(let text) = reply { Issue.record("\(command): \(text)") }
        }
        let copy = try #require(rebuilt.lookup(Bytes("s"), db: 0, now: 1_800_000_000_000))
        #expect(copy == value)
        guard case .stream(let storage) = copy else { return }
        #expect(storage.stream.groups[Bytes("g")]?.pending[StreamID(ms: 12, seq: 0)]?.consumer == Bytes("b"))
        #expect(storage.stream.maxDeletedID == StreamID(ms: 30, seq: 0))
    }

    @Test func aRedisStreamIsRead() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/redis-7.0-stream.rdb").path
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let (key, value) = try #require(stream(in: try records(Array(bytes))))
        #expect(key == Bytes("s"))
        #expect(
            value.range(from: .zero, to: .max) == [
                StreamEntry(
                    id: StreamID(ms: 1_700_000_000_000, seq: 0), fields: ["a", "1", "b", "2"].map { Bytes($0) }),
                StreamEntry(id: StreamID(ms: 1_700_000_000_001, seq: 5), fields: ["other", "x"].map { Bytes($0) }),
                StreamEntry(
                    id: StreamID(ms: 1_700_000_000_002, seq: 0), fields: ["a", "5", "b", "6"].map { Bytes($0) }),
            ])
        #expect(value.lastID == StreamID(ms: 1_700_000_000_002, seq: 0))
        #expect(value.entriesAdded == 4)
        #expect(value.maxDeletedID == StreamID(ms: 1_700_000_000_001, seq: 0))
    }

    @Test func damagedStreamsAreErrorsNotCrashes() throws {
        var value = StreamValue()
        value.append(StreamEntry(id: StreamID(ms: 5, seq: 0), fields: [Bytes("f"), Bytes("v")]))
        value.append(StreamEntry(id: StreamID(ms: 6, seq: 0), fields: [Bytes("f"), Bytes("w")]))
        let blocks = StreamRDB.listpacks(value)
        var swapped = StreamValue()
        // Ids that go backwards inside a block must be refused.
        var writer = ListpackWriter()
        for item: Int64 in [2, 0, 1] { writer.append(item) }
        writer.append(Bytes("f"))
        writer.append(0)
        for (delta, text) in [(1, "v"), (0, "w")] {
            writer.append(StreamRDB.sameFields)
            writer.append(Int64(delta))
            writer.append(0)
            writer.append(Bytes(text))
            writer.append(4)
        }
        #expect(throws: CompactEncodings.Damaged.self) {
            try StreamRDB.appendBlock(StreamRDB.masterKey(StreamID(ms: 5, seq: 0)), Bytes(writer.bytes), to: &swapped)
        }
        #expect(throws: CompactEncodings.Damaged.self) {
            try StreamRDB.appendBlock(Bytes("short"), Bytes(blocks[0].1), to: &swapped)
        }
        var truncated = blocks[0].1
        truncated.removeLast(3)
        #expect(throws: CompactEncodings.Damaged.self) {
            try StreamRDB.appendBlock(StreamRDB.masterKey(blocks[0].0), Bytes(truncated), to: &swapped)
        }
    }
}
