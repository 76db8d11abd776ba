import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// What `strata-dump` builds on: the index found from the file's tail, records with their
/// encoded sizes, and the streaming writer.
@Suite("Snapshot tooling")
struct SnapshotToolingTests {
    let now: Int64 = 1_800_000_000_000

    func written(_ codec: CompressionCodec, in directory: TempDirectory) throws -> (String, SnapshotSummary) {
        let path = directory.file("dump-\(codec.rawValue).sdb")
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = 4096
        let summary = try SnapshotWriter.write(
            sampleDatabases(now: now), to: path, tempPath: directory.file("temp"), options: options, now: now)
        return (path, summary)
    }

    @Test(arguments: [CompressionCodec.lz4, .zlib])
    func theIndexIsFoundFromTheTail(codec: CompressionCodec) throws {
        let directory = TempDirectory()
        let (path, summary) = try written(codec, in: directory)
        let head = try SnapshotIndexLocator.head(path: path)
        #expect(head.layout == (codec == .lz4 ? .lz4 : .gzip))
        let index = try #require(head.index)
        #expect(index.chunks.count == summary.chunks)
        #expect(index.keys["0"]?["zset"] == 1)
        #expect(index.expires["3"] == 1)
        #expect(head.fileBytes == summary.fileBytes)
        // Cut anywhere before the end: no index (the frame must end at the end of the file).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 1).write(to: URL(fileURLWithPath: directory.file("cut")))
        #expect(try SnapshotIndexLocator.head(path: directory.file("cut")).index == nil)
    }

    @Test func aPlainFileHasNoIndexAndAForeignFileIsRefused() throws {
        let directory = TempDirectory()
        let (path, _) = try written(.none, in: directory)
        let head = try SnapshotIndexLocator.head(path: path)
        #expect(head.layout == .plain && head.index == nil)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: directory.file("text")))
        #expect(throws: FileDamageError.self) { try SnapshotIndexLocator.head(path: directory.file("text")) }
        #expect(throws: FileDamageError.self) { try SnapshotIndexLocator.head(path: directory.file("missing")) }
    }

    @Test func recordsCarryExpiredKeysAndTheirEncodedSizes() throws {
        let directory = TempDirectory()
        // A plain file written with a clock before "gone" expired keeps it.
        let path = directory.file("dump.rdb")
        var options = SnapshotOptions()
        options.codec = .none
        _ = try SnapshotWriter.write(
            sampleDatabases(now: now), to: path, tempPath: directory.file("temp"), options: options, now: now - 10)
        var records: [SnapshotRecord] = []
        let report = try SnapshotReader.records(path: path, settings: EngineSettings()) { records.append($0) }
        #expect(records.count == 28)
        #expect(records.contains { $0.key == Bytes("gone") && $0.deadline == now - 1 })
        #expect(records.allSatisfy { $0.encodedBytes > 0 })
        // The records plus header, AUX fields, SELECTDBs and the end make the stream.
        let total = records.reduce(0) { $0 + $1.encodedBytes }
        #expect(total < report.rdbBytes && total > report.rdbBytes - 1024)
        let big = try #require(records.first { $0.key == Bytes("big") })
        #expect(big.encodedBytes > 300_000 / 100)  // compressible, but present
        var live = 0
        let dropping = try SnapshotReader.records(path: path, settings: EngineSettings(), dropExpiredBy: now) { _ in
            live += 1
        }
        #expect(live == 27 && dropping.expiredKeys == 1)
    }

    @Test(arguments: CompressionCodec.allCases)
    func theStreamWriterWritesWhatTheWholeWriterWrites(codec: CompressionCodec) throws {
        let directory = TempDirectory()
        let original = sampleDatabases(now: now)
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = 4096
        let path = directory.file("streamed")
        let writer = try SnapshotStreamWriter(path: path, tempPath: directory.file("temp"), options: options, now: now)
        for (db, database) in original.enumerated() {
            try database.forEachLive(now: now) { key, value, deadline in
                try writer.append(db: db, key: key, value: value, deadline: deadline)
            }
        }
        let summary = try writer.finish()
        #expect(summary.keys == 27 && (codec == .none || summary.chunks >= 5))
        let (loaded, report) = try SnapshotReader.load(
            path: path, databaseCount: 16, settings: EngineSettings(), now: now)
        #expect(report.checksumMatches == true)
        let expected = contents(original, now: now)
        let actual = contents(loaded, now: now)
        expectSameContents(expected, actual)
        if codec != .none {
            let index = try #require(try SnapshotIndexLocator.head(path: path).index)
            #expect(index.keys["0"]?.values.reduce(0, +) == 11)
            #expect(index.expires["3"] == 1)
        }
    }

    @Test func anAbandonedStreamLeavesNoFile() throws {
        let directory = TempDirectory()
        let writer = try SnapshotStreamWriter(
            path: directory.file("out"), tempPath: directory.file("temp"), options: SnapshotOptions(), now: now)
        try writer.append(db: 0, key: Bytes("k"), value: .string(Bytes("v")), deadline: nil)
        writer.abandon()
        #expect(!FileManager.default.fileExists(atPath: directory.file("out")))
        #expect(!FileManager.default.fileExists(atPath: directory.file("temp")))
    }
}
