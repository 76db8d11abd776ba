//! The keys of a dump, whatever it is: a snapshot (streamed record by record) or an AOF
//! directory, manifest or file (replayed into memory first, optionally only up to a moment
//! for point-in-time restores). Used by `convert` and `restore`.

import Foundation
import StrataEngine
import StrataPersistence

struct KeySource {
    let path: String
    /// Where progress lines go.
    let output: DumpOutput
    /// Unix seconds: replay an AOF only up to then.
    var until: Int64?
    let now = Int64(Date().timeIntervalSince1970 * 1000)

    /// What reading found.
    struct Outcome {
        var keys = 0
        var expired = 0
        /// For an AOF read with `until`: the last `#TS:` replayed and where it stopped.
        var lastTimestamp: Int64?
        var stoppedAt: Int64?
    }

    /// Calls `body` for every live key (grouped by database), with its memcached metadata
    /// when it has some, with progress on a terminal; `function` first receives the code of
    /// each function library the dump holds (before any key).
    func forEachKey(
        function: (_ code: Bytes) throws -> Void = { _ in },
        _ body: (_ db: Int, _ key: Bytes, _ value: Value, _ deadline: Int64?, _ metadata: ItemMetadata?) throws -> Void
    ) throws -> Outcome {
        var outcome = Outcome()
        if AppendOnlyInput.isAppendOnly(path) {
            let (directory, manifest) = try appendOnlyManifest()
            let partitions = try plan(directory: directory, manifest: manifest)
            for (pass, partition) in partitions.enumerated() {
                if partitions.count > 1 && output.isTerminal {
                    output.writeError("\r\u{1B}[Kreplaying the AOF: pass \(pass + 1) of \(partitions.count)")
                }
                let engine = Engine(databaseCount: 16)
                let report = try AOFLoader.load(
                    directory: directory, manifest: manifest, into: engine, now: now, allowTruncatedTail: false,
                    until: until, partition: partitions.count > 1 ? partition : nil)
                outcome.lastTimestamp = report.lastTimestamp
                outcome.stoppedAt = report.stoppedAtTimestamp
                if pass == 0 {
                    for code in KeySource.libraries(report.functionCommands) { try function(code) }
                }
                for (db, database) in engine.databases.enumerated() where database.count > 0 {
                    try database.forEachLive(now: now) { key, value, deadline in
                        outcome.keys += 1
                        try body(db, key, value, deadline, database.itemMetadata(key))
                    }
                }
            }
            if partitions.count > 1 && output.isTerminal { output.writeError("\r\u{1B}[K") }
            return outcome
        }
        if until != nil { throw DumpFailure.usage(KeySource.untilNeedsAnAOF) }
        let head = try SnapshotIndexLocator.head(path: path)
        let report = try readRecords(path, head: head, dropExpiredBy: now, output: output, function: function) {
            record in
            outcome.keys += 1
            try body(record.db, record.key, record.value, record.deadline, record.metadata)
        }
        outcome.expired = report.expiredKeys
        return outcome
    }

    /// The libraries the log's function commands leave loaded, in load order: `FUNCTION LOAD
    /// [REPLACE] code` adds or replaces one, `FUNCTION DELETE name` and `FUNCTION FLUSH`
    /// remove them (`FUNCTION RESTORE` payloads are not read here).
    static func libraries(_ commands: [[Bytes]]) -> [Bytes] {
        var loaded: [(name: String, code: Bytes)] = []
        for args in commands where args.count >= 2 {
            switch args[1].lowercased.string {
            case "load":
                guard let code = args.last, let name = libraryName(code) else { continue }
                loaded.removeAll { $0.name == name }
                loaded.append((name, code))
            case "delete" where args.count >= 3:
                loaded.removeAll { $0.name == args[2].string }
            case "flush":
                loaded.removeAll()
            default:
                continue
            }
        }
        return loaded.map(\.code)
    }

    /// The name in a library's `#!lua name=<name>` first line.
    static func libraryName(_ code: Bytes) -> String? {
        let firstLine = code.string.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        guard firstLine.hasPrefix("#!") else { return nil }
        for part in firstLine.split(separator: " ") where part.hasPrefix("name=") {
            return String(part.dropFirst(5))
        }
        return nil
    }

    /// The directory and manifest of the AOF at `path` (a directory, a manifest, or a
    /// single file taken as a base).
    func appendOnlyManifest() throws -> (String, AOFManifest) {
        guard let manifestPath = try AppendOnlyInput.manifestPath(path) else {
            let directory = (path as NSString).deletingLastPathComponent
            let name = (path as NSString).lastPathComponent
            let base = AOFManifest.File(name: name, sequence: 1, type: .base)
            return (directory.isEmpty ? "." : directory, AOFManifest(base: base))
        }
        let directory = (manifestPath as NSString).deletingLastPathComponent
        let manifest = try AOFManifest.parse(String(contentsOfFile: manifestPath, encoding: .utf8), path: manifestPath)
        return (directory.isEmpty ? "." : directory, manifest)
    }

    /// Memory the replay of one partition group may take, in bytes
    /// (`STRATA_DUMP_MEMORY_BUDGET_MB`, default 32).
    static var memoryBudget: Int {
        max(1, Int(ProcessInfo.processInfo.environment["STRATA_DUMP_MEMORY_BUDGET_MB"] ?? "") ?? 32) << 20
    }

    /// The replays that keep memory within the budget: one when the log is small, else
    /// groups of hash partitions linked by the log's multi-key commands (a first read of
    /// the commands; a snapshot base is only sized from its index).
    func plan(directory: String, manifest: AOFManifest) throws -> [AOFPartition] {
        var records = 0
        for file in manifest.replayOrder {
            let path = directory + "/" + file.name
            let head = try? SnapshotIndexLocator.head(path: path)
            records += head?.index?.rdbBytes ?? AOFLoader.fileSize(path)
        }
        // A keyspace takes about three times its records' bytes in memory.
        var count = min(4096, max(1, (records * 3 + KeySource.memoryBudget - 1) / KeySource.memoryBudget))
        if let forced = Int(ProcessInfo.processInfo.environment["STRATA_DUMP_AOF_PARTITIONS"] ?? ""), forced > 0 {
            count = min(forced, 4096)  // for tests
        }
        guard count > 1 else { return [AOFPartition(count: 1, members: [0])] }
        var plan = AOFPartitionPlan(count: count)
        for file in manifest.replayOrder {
            let path = directory + "/" + file.name
            var start = 0
            if let head = try? SnapshotIndexLocator.head(path: path) {
                guard head.layout == .plain else { continue }  // a compressed base holds no commands
                start = try SnapshotReader.read(path: path, settings: EngineSettings(), now: .min) { _, _, _, _ in }
                    .rdbBytes
            }
            let result = try AOFCommandReader.read(path: path, from: start, until: until) { plan.note($0) }
            if result.stoppedAtTimestamp != nil { break }
        }
        return plan.groups()
    }

    /// Why `--until` cannot apply to a snapshot.
    static let untilNeedsAnAOF = "--until applies to an AOF directory with timestamps (aof-timestamp-enabled yes)"
}

/// Streams the records of the snapshot at `path` (`head` from `SnapshotIndexLocator`), with
/// progress (bytes of records read out of the index's total, keys, rate) on a terminal.
func readRecords(
    _ path: String, head: SnapshotHead, dropExpiredBy now: Int64 = .min, output: DumpOutput,
    function: (Bytes) throws -> Void = { _ in }, _ body: (SnapshotRecord) throws -> Void
) throws -> SnapshotReport {
    let progress = Progress(
        totalBytes: head.index?.rdbBytes ?? (head.layout == .plain ? head.fileBytes : 0), output: output)
    defer { progress.finish() }
    var bytes = 0
    var keys = 0
    return try SnapshotReader.records(path: path, settings: EngineSettings(), dropExpiredBy: now, function: function) {
        record in
        bytes += record.encodedBytes
        keys += 1
        progress.update(bytes: bytes, keys: keys)
        try body(record)
    }
}

extension ItemMetadata {
    /// The fields JSON output adds for a key with memcached metadata.
    var jsonFields: [String: Any] { ["memcachedFlags": Int(flags), "casUnique": casUnique] }
}
