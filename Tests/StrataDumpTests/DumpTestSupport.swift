import Foundation
import RESP
import StrataDumpKit
import StrataEngine
import StrataPersistence

/// What one in-process run of strata-dump wrote and returned.
struct DumpRun {
    var code: Int32
    var output: String
    var outputBytes: [UInt8]
    var error: String
}

/// Runs strata-dump with `arguments` in this process.
func strataDump(_ arguments: String...) -> DumpRun {
    let output = CapturedDumpOutput()
    let code = StrataDump.run(arguments, output: output)
    return DumpRun(code: code, output: output.output, outputBytes: output.outputBytes, error: output.error)
}

/// The repository's `Fixtures` folder.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// A Redis 7.0 RDB file of 21 keys in databases 0, 5 and 15 (one with a TTL).
let redisFixture = fixtures + "/redis-7.0-no-checksum.rdb"

/// A directory removed when the value is released.
final class ScratchDirectory {
    let path = NSTemporaryDirectory() + "strata-dump-test-\(UUID().uuidString)"

    init() {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// The clock the sample snapshots are written with (2027-01-15T08:00:00Z).
let sampleNow: Int64 = 1_800_000_000_000

/// The deadline of the sample's one key with a TTL (2100-01-01).
let sampleDeadline: Int64 = 4_102_444_800_000

/// Five keys: in database 0 `greeting` (string), `queue` (list a b c) and `user:1` (hash
/// name ann); in database 3 `tags` (set x) and `later` (string, expiring in 2100).
func sampleDatabases() -> [Database] {
    var databases = Array(repeating: Database(), count: 16)
    let clock = Entry.clock(now: sampleNow)
    let settings = EngineSettings()
    databases[0].set(Bytes("greeting"), .string(Bytes("hello")), accessClock: clock)
    databases[0].set(Bytes("queue"), .list(ListValue([Bytes("a"), Bytes("b"), Bytes("c")])), accessClock: clock)
    var hash = HashValue()
    hash.set(Bytes("name"), Bytes("ann"), limits: settings.hashLimits)
    databases[0].set(Bytes("user:1"), .hash(hash), accessClock: clock)
    databases[3].set(Bytes("tags"), .set(SetValue([Bytes("x")], limits: settings.setLimits)), accessClock: clock)
    databases[3].set(Bytes("later"), .string(Bytes("soon")), deadline: sampleDeadline, accessClock: clock)
    return databases
}

/// Writes the sample as a snapshot at `path`.
@discardableResult
func writeSampleSnapshot(to path: String, codec: CompressionCodec = .lz4) throws -> SnapshotSummary {
    var options = SnapshotOptions()
    options.codec = codec
    return try SnapshotWriter.write(
        sampleDatabases(), to: path, tempPath: path + ".temp", options: options, now: sampleNow)
}

/// Writes `commands` as a RESP AOF file at `path`.
func writeAppendOnlyFile(_ commands: [[String]], to path: String) throws {
    var bytes: [UInt8] = []
    for command in commands { bytes.appendRESPCommand(command.map { Array($0.utf8) }) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// `text` as RESP command bytes, for finding commands in output.
func respCommand(_ arguments: String...) -> [UInt8] {
    .respCommand(arguments.map { Array($0.utf8) })
}

extension Array where Element: Equatable {
    /// Whether `part` occurs in the array.
    func contains(slice part: [Element]) -> Bool {
        guard !part.isEmpty, part.count <= count else { return part.isEmpty }
        return (0...(count - part.count)).contains { start in self[start..<(start + part.count)].elementsEqual(part) }
    }
}
