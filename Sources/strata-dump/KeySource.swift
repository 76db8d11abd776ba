//! The keys of a dump, whatever it is: a snapshot (streamed record by record) or an AOF
//! directory, manifest or file (replayed into memory first, optionally only up to a moment
//! for point-in-time restores). Used by `convert` and `restore`.

import Foundation
import StrataEngine
import StrataPersistence

struct KeySource {
    let path: String
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

    /// Calls `body` for every live key (grouped by database), with progress on a terminal.
    func forEachKey(_ body: (_ db: Int, _ key: Bytes, _ value: Value, _ deadline: Int64?) throws -> Void) throws
        -> Outcome
    {
        var outcome = Outcome()
        if AppendOnlyInput.isAppendOnly(path) {
            let (engine, report) = try loadAppendOnly()
            outcome.lastTimestamp = report.lastTimestamp
            outcome.stoppedAt = report.stoppedAtTimestamp
            for (db, database) in engine.databases.enumerated() where database.count > 0 {
                try database.forEachLive(now: now) { key, value, deadline in
                    outcome.keys += 1
                    try body(db, key, value, deadline)
                }
            }
            return outcome
        }
        if until != nil {
            usageError("--until applies to an AOF directory with timestamps (aof-timestamp-enabled yes)")
        }
        let head = try SnapshotIndexLocator.head(path: path)
        let progress = Progress(totalBytes: head.index?.rdbBytes ?? (head.layout == .plain ? head.fileBytes : 0))
        defer { progress.finish() }
        var bytes = 0
        let report = try SnapshotReader.records(path: path, settings: EngineSettings(), dropExpiredBy: now) { record in
            bytes += record.encodedBytes
            outcome.keys += 1
            progress.update(bytes: bytes, keys: outcome.keys)
            try body(record.db, record.key, record.value, record.deadline)
        }
        outcome.expired = report.expiredKeys
        return outcome
    }

    /// Replays the AOF at `path` (directory, manifest or single file) into a new engine;
    /// the files are only read.
    func loadAppendOnly() throws -> (Engine, AOFLoadReport) {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let directory: String
        let manifest: AOFManifest
        if isDirectory.boolValue || path.hasSuffix(".manifest") {
            let manifestPath: String
            if isDirectory.boolValue {
                guard let found = AOFVerifier.manifestPath(in: path) else { fail("\(path): no manifest") }
                manifestPath = found
            } else {
                manifestPath = path
            }
            directory = (manifestPath as NSString).deletingLastPathComponent
            manifest = try AOFManifest.parse(String(contentsOfFile: manifestPath, encoding: .utf8), path: manifestPath)
        } else {
            directory = (path as NSString).deletingLastPathComponent
            let name = (path as NSString).lastPathComponent
            manifest = AOFManifest(base: AOFManifest.File(name: name, sequence: 1, type: .base))
        }
        let engine = Engine(databaseCount: 16)
        // A copy of nothing: the loader only cuts a truncated tail when allowed, and it is not.
        let report = try AOFLoader.load(
            directory: directory.isEmpty ? "." : directory, manifest: manifest, into: engine, now: now,
            allowTruncatedTail: false, until: until)
        return (engine, report)
    }

    /// `--until` as Unix seconds: an integer, or an ISO 8601 time (`2026-11-28T10:00:00Z`).
    static func parseTime(_ text: String) -> Int64 {
        if let seconds = Int64(text) { return seconds }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) }
        usageError("--until takes Unix seconds or an ISO 8601 time such as 2026-11-28T10:00:00Z, not \(text)")
    }
}
