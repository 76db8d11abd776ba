import Foundation
import StrataEngine
import Testing

@testable import StrataPersistence

/// A temp directory removed when the test ends.
final class TempDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "strata-test-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Databases holding every type, TTLs, binary keys, and empty and larger values.
func sampleDatabases(now: Int64) -> [Database] {
    var databases = Array(repeating: Database(), count: 16)
    let clock = Entry.clock(now: now)
    var settings = EngineSettings()
    settings.setLimits.maxIntsetEntries = 512
    for db in 0..<16 {
        databases[db].set(Bytes("db"), .integer(db), accessClock: clock)
    }
    databases[0].set(Bytes("string"), .string(Bytes("hello")), accessClock: clock)
    databases[0].set(Bytes("empty"), .string(Bytes()), accessClock: clock)
    databases[0].set(Bytes("big"), .string(Bytes(Array(repeating: 120, count: 300_000))), accessClock: clock)
    databases[0].set(Bytes("negative"), .integer(-9_223_372_036_854_775_807), accessClock: clock)
    databases[0].set(Bytes([0, 255, 10, 13]), .string(Bytes([1, 2, 0, 3])), accessClock: clock)
    databases[0].set(Bytes("list"), .list(ListValue((0..<1000).map { Bytes("e\($0)") })), accessClock: clock)
    databases[0].set(
        Bytes("intset"), .set(SetValue((0..<100).map { Bytes($0 * 3) }, limits: settings.setLimits)), accessClock: clock
    )
    databases[0].set(
        Bytes("set"), .set(SetValue((0..<2000).map { Bytes("m\($0)") }, limits: settings.setLimits)), accessClock: clock
    )
    var hash = HashValue()
    for n in 0..<300 { hash.set(Bytes("f\(n)"), Bytes("v\(n)"), limits: settings.hashLimits) }
    databases[0].set(Bytes("hash"), .hash(hash), accessClock: clock)
    let members =
        (0..<500).map { ScoredMember(score: Double($0) / 3, member: Bytes("z\($0)")) } + [
            ScoredMember(score: .infinity, member: Bytes("top")),
            ScoredMember(score: -.infinity, member: Bytes("bottom")),
        ]
    databases[0].set(
        Bytes("zset"), .sortedSet(SortedSetValue(members, limits: settings.sortedSetLimits)), accessClock: clock)
    databases[3].set(Bytes("session"), .string(Bytes("alive")), accessClock: clock)
    databases[3].setDeadline(Bytes("session"), now + 60_000)
    databases[3].set(Bytes("gone"), .string(Bytes("dead")), accessClock: clock)
    databases[3].setDeadline(Bytes("gone"), now - 1)
    return databases
}

/// Every live key of `databases` with its value and deadline, for comparison.
func contents(_ databases: [Database], now: Int64) -> [String: (Value, Int64?)] {
    var out: [String: (Value, Int64?)] = [:]
    for (index, database) in databases.enumerated() {
        for shard in database.shards {
            for (key, entry) in shard.entries {
                let deadline = entry.hasDeadline ? shard.deadlines[key] : nil
                if let deadline, deadline <= now { continue }
                out["\(index)/\(key.array)"] = (entry.value, deadline)
            }
        }
    }
    return out
}

/// Expects `actual` to hold exactly the keys of `expected`, with the same values and deadlines.
func expectSameContents(
    _ expected: [String: (Value, Int64?)], _ actual: [String: (Value, Int64?)],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(Set(expected.keys) == Set(actual.keys), sourceLocation: sourceLocation)
    for (key, (value, deadline)) in expected {
        #expect(actual[key]?.0 == value, "value of \(key)", sourceLocation: sourceLocation)
        #expect(actual[key]?.1 == deadline, "deadline of \(key)", sourceLocation: sourceLocation)
    }
}

@Suite("Snapshots")
struct SnapshotTests {
    let now: Int64 = 1_800_000_000_000

    @Test func crc64MatchesRedis() {
        var crc = CRC64()
        crc.update(Array("123456789".utf8))
        #expect(crc.value == 0xe9c6_d914_c4b8_d9ca)
        var split = CRC64()
        split.update(Array("12345".utf8))
        split.update(Array("6789".utf8))
        #expect(split.value == crc.value)
    }

    @Test(arguments: CompressionCodec.allCases)
    func everyTypeRoundTrips(codec: CompressionCodec) throws {
        let directory = TempDirectory()
        let path = directory.file("dump.sdb")
        var options = SnapshotOptions()
        options.codec = codec
        options.chunkBytes = 4096  // many chunks
        let original = sampleDatabases(now: now)
        let summary = try SnapshotWriter.write(
            original, to: path, tempPath: directory.file("temp.sdb"), options: options, now: now)
        #expect(summary.keys == 16 + 10 + 1)  // "gone" has expired
        #expect(summary.chunks >= 5)
        let (loaded, report) = try SnapshotReader.load(
            path: path, databaseCount: 16, settings: EngineSettings(), now: now)
        #expect(report.checksumMatches == true)
        #expect(report.keys == summary.keys)
        #expect(report.index?.chunks.count == (codec == .none ? nil : summary.chunks))
        let expected = contents(original, now: now)
        let actual = contents(loaded, now: now)
        expectSameContents(expected, actual)
        #expect(!FileManager.default.fileExists(atPath: directory.file("temp.sdb")))
    }

    @Test func aDamagedChunkIsReportedWithItsOffsetAndCanBeSkipped() throws {
        let directory = TempDirectory()
        let path = directory.file("dump.sdb")
        var options = SnapshotOptions()
        options.chunkBytes = 2048
        var databases = [Database()]
        for n in 0..<5000 {
            databases[0].set(Bytes("key:\(n)"), .string(Bytes("value \(n) of some length")), accessClock: 0)
        }
        _ = try SnapshotWriter.write(databases, to: path, tempPath: path + ".tmp", options: options, now: now)
        guard
            let index = try SnapshotReader.read(path: path, settings: EngineSettings(), now: now, { _, _, _, _ in })
                .index
        else {
            Issue.record("no index")
            return
        }
        let victim = index.chunks[index.chunks.count / 2]
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[victim.fileOffset + victim.fileBytes / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        #expect {
            try SnapshotReader.load(path: path, databaseCount: 1, settings: EngineSettings(), now: now)
        } throws: { error in
            let text = "\(error)"
            return text.contains(path) && text.contains("offset \(victim.fileOffset)")
        }
        let (loaded, report) = try SnapshotReader.load(
            path: path, databaseCount: 1, settings: EngineSettings(), now: now, salvage: true)
        #expect(report.skipped.map { $0.fileOffset } == [victim.fileOffset])
        #expect(report.checksumMatches == false)
        #expect(loaded[0].count == 5000 - victim.keys)
    }

    @Test func aTruncatedFileIsAnError() throws {
        let directory = TempDirectory()
        let path = directory.file("dump.sdb")
        _ = try SnapshotWriter.write(
            sampleDatabases(now: now), to: path, tempPath: path + ".tmp", options: SnapshotOptions(), now: now)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in [5, bytes.count / 2, bytes.count - 30] {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            #expect(throws: FileDamageError.self) {
                try SnapshotReader.load(path: path, databaseCount: 16, settings: EngineSettings(), now: now)
            }
        }
    }

    @Test func aFailedWriteLeavesTheOldFile() throws {
        let directory = TempDirectory()
        let path = directory.file("dump.sdb")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: DurableFileError.self) {
            _ = try SnapshotWriter.write(
                sampleDatabases(now: now), to: path, tempPath: directory.file("missing/dir/temp"),
                options: SnapshotOptions(), now: now)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
    }

    @Test func checksumsCanBeTurnedOff() throws {
        let directory = TempDirectory()
        let path = directory.file("dump.sdb")
        var options = SnapshotOptions()
        options.checksum = false
        _ = try SnapshotWriter.write(
            sampleDatabases(now: now), to: path, tempPath: path + ".tmp", options: options, now: now)
        let report = try SnapshotReader.read(path: path, settings: EngineSettings(), now: now) { _, _, _, _ in }
        #expect(report.checksumMatches == nil)
        #expect(report.keys == 27)
    }
}
