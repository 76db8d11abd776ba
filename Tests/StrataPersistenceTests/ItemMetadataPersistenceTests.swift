import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// memcached flags and CAS uniques survive every way the keyspace is written down: a
/// snapshot in each codec (an AUX field before the key, which Redis ignores), an AOF base
/// of either kind, and the log's `STRATA.ITEMMETA` commands replayed in order.
@Suite("Item metadata persistence")
struct ItemMetadataPersistenceTests {
    private let now: Int64 = 1_800_000_000_000

    private func databases() -> [Database] {
        var databases = Array(repeating: Database(), count: 16)
        for i in 0..<300 {
            let key = Bytes("item:\(i)")
            databases[i % 2].set(
                key, .string(Bytes("value \(i)")), deadline: i % 3 == 0 ? now + 60_000 : nil, accessClock: 0)
            if i % 5 != 0 {
                databases[i % 2].setItemMetadata(
                    ItemMetadata(flags: UInt32(i), casUnique: UInt64(i % 7) * 1000), for: key)
            }
        }
        databases[0].set(Bytes("plain"), .string(Bytes("no metadata")), accessClock: 0)
        return databases
    }

    private func expectSameMetadata(_ expected: [Database], _ actual: [Database]) {
        for db in 0..<2 {
            #expect(actual[db].itemMetadataCount == expected[db].itemMetadataCount)
            for (key, item) in expected[db].allItemMetadata {
                #expect(actual[db].itemMetadata(key) == item, "\(key.string)")
            }
        }
        #expect(actual[0].itemMetadata(Bytes("plain")) == nil)
    }

    @Test(arguments: CompressionCodec.allCases)
    func snapshotsCarryIt(codec: CompressionCodec) throws {
        let directory = TempDirectory()
        let path = directory.file("dump.sdb")
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = 1024  // the AUX field and its key share a chunk across many chunks
        let original = databases()
        _ = try SnapshotWriter.write(original, to: path, tempPath: path + ".tmp", options: options, now: now)
        let (loaded, report) = try SnapshotReader.load(
            path: path, databaseCount: 16, settings: EngineSettings(), now: now)
        #expect(report.keys == 301)
        // The field is no ordinary AUX field of the file.
        #expect(report.aux[ItemMetadata.snapshotAuxField] == nil)
        expectSameMetadata(original, loaded)
        var streamed = 0
        _ = try SnapshotReader.records(path: path, settings: EngineSettings()) { record in
            if record.metadata != nil { streamed += 1 }
        }
        #expect(streamed == 240)
    }

    @Test(arguments: [true, false])
    func appendOnlyBasesCarryIt(snapshotBase: Bool) throws {
        let directory = TempDirectory()
        let name = snapshotBase ? "appendonly.aof.1.base.rdb" : "appendonly.aof.1.base.aof"
        let original = databases()
        _ = try AOFBaseWriter.write(
            original, tempPath: directory.file(name), snapshot: snapshotBase, options: SnapshotOptions(), now: now)
        let manifest = AOFManifest(base: .init(name: name, sequence: 1, type: .base))
        let engine = Engine()
        _ = try AOFLoader.load(
            directory: directory.path, manifest: manifest, into: engine, now: now, allowTruncatedTail: false)
        expectSameMetadata(original, engine.databases)
        #expect(AOFVerifier.check(path: directory.file(name)).problem == nil)
    }

    @Test func theLogRestoresItInOrder() throws {
        let directory = TempDirectory()
        let name = "appendonly.aof.1.incr.aof"
        let log = resp([
            ["SELECT", "0"], ["SET", "a", "1"], ["STRATA.ITEMMETA", "a", "5", "0"], ["SET", "b", "2"],
            ["STRATA.ITEMMETA", "b", "6", "0"], ["STRATA.ITEMMETA", "b", "6", "900"], ["APPEND", "a", "x"],
        ])
        try Data(log).write(to: URL(fileURLWithPath: directory.file(name)))
        #expect(AOFVerifier.check(path: directory.file(name)).problem == nil)
        let manifest = AOFManifest(incrementals: [.init(name: name, sequence: 1, type: .incremental)])
        let engine = Engine()
        _ = try AOFLoader.load(
            directory: directory.path, manifest: manifest, into: engine, now: now, allowTruncatedTail: false)
        #expect(engine.databases[0].itemMetadata(Bytes("a")) == nil)  // APPEND made a new version
        #expect(engine.databases[0].itemMetadata(Bytes("b")) == ItemMetadata(flags: 6, casUnique: 900))
        #expect(engine.nextCASUnique() == 901)
    }

    @Test func aFieldThisReaderCannotReadLeavesTheKeyWithoutMetadata() throws {
        let directory = TempDirectory()
        let path = directory.file("dump.rdb")
        var options = SnapshotOptions()
        options.codec = .none
        var databases = Array(repeating: Database(), count: 1)
        databases[0].set(Bytes("k"), .string(Bytes("v")), accessClock: 0)
        databases[0].setItemMetadata(ItemMetadata(flags: 1, casUnique: 2), for: Bytes("k"))
        _ = try SnapshotWriter.write(databases, to: path, tempPath: path + ".tmp", options: options, now: now)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let text = Array("1 2".utf8)
        guard let at = (0...(bytes.count - text.count)).first(where: { Array(bytes[$0..<$0 + text.count]) == text })
        else {
            Issue.record("the field's text is not in the file")
            return
        }
        bytes[at] = UInt8(ascii: "x")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (loaded, report) = try SnapshotReader.load(
            path: path, databaseCount: 1, settings: EngineSettings(), now: now, salvage: true)
        #expect(report.keys == 1)
        #expect(loaded[0].itemMetadata(Bytes("k")) == nil)
        #expect(loaded[0].rawEntry(Bytes("k"))?.value.stringBytes == Bytes("v"))
    }

    @Test func entriesThatOnlySayFetchedAreNotWritten() throws {
        let directory = TempDirectory()
        let path = directory.file("dump.sdb")
        var databases = Array(repeating: Database(), count: 1)
        databases[0].set(Bytes("k"), .string(Bytes("v")), accessClock: 0)
        databases[0].setItemMetadata(ItemMetadata(flags: 0, state: .fetched), for: Bytes("k"))
        #expect(databases[0].itemMetadataCount == 1)
        _ = try SnapshotWriter.write(databases, to: path, tempPath: path + ".tmp", options: SnapshotOptions(), now: now)
        var withMetadata = 0
        _ = try SnapshotReader.records(path: path, settings: EngineSettings()) {
            if $0.metadata != nil { withMetadata += 1 }
        }
        #expect(withMetadata == 0)
        _ = try AOFBaseWriter.write(
            databases, tempPath: directory.file("base.aof"), snapshot: false, options: SnapshotOptions(), now: now)
        let text = String(
            decoding: try Data(contentsOf: URL(fileURLWithPath: directory.file("base.aof"))), as: UTF8.self)
        #expect(!text.contains("ITEMMETA"))
    }
}
