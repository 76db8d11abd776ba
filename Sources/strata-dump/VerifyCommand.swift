//! `strata-dump verify`: reads everything and checks every checksum and record. For a
//! snapshot it names the first damage (file offset of the bad chunk) and the last good key;
//! `--salvage OUT` writes a new snapshot with every readable record and lists what was
//! lost. For an AOF see AppendOnlyInput.swift.

import Foundation
import StrataEngine
import StrataPersistence

enum VerifyCommand {
    static func run(_ arguments: [String]) -> Never {
        let options = Options(arguments, flags: ["--json", "--fix"], values: ["--salvage", "--codec"])
        guard options.positional.count == 1 else { usageError("verify takes one FILE or directory") }
        let path = options.positional[0]
        let format = OutputFormat(options)
        if format == .csv { usageError("verify writes a table or --json") }
        if AppendOnlyInput.isAppendOnly(path) {
            if options.values["--salvage"] != nil { usageError("--salvage is for snapshots; AOF files take --fix") }
            AppendOnlyInput.verify(path, fix: options.has("--fix"), format: format)
        }
        if options.has("--fix") { usageError("--fix is for AOF files; snapshots take --salvage OUT") }
        if let out = options.values["--salvage"] {
            salvage(path, to: out, codec: ConvertCommand.codec(options, default: nil, source: path))
        }
        var lastKey: (db: Int, key: String)?
        var keys = 0
        do {
            let report = try readRecords(path, head: SnapshotIndexLocator.head(path: path)) { record in
                keys += 1
                lastKey = (record.db, record.key.displayText)
            }
            let checksum = report.checksumMatches.map { $0 ? "ok" : "mismatch" } ?? "absent"
            if format == .json {
                print(
                    jsonLine([
                        "file": path, "ok": true, "keys": report.keys, "rdbVersion": report.rdbVersion,
                        "checksum": checksum, "chunks": report.index?.chunks.count ?? 0, "rdbBytes": report.rdbBytes,
                    ]))
            } else {
                var text = "\(path): OK, \(report.keys) keys, RDB version \(report.rdbVersion), checksum \(checksum)"
                if let index = report.index {
                    text += ", \(index.chunks.count) chunk\(index.chunks.count == 1 ? "" : "s")"
                }
                print(text)
            }
            exit(0)
        } catch {
            var object: [String: Any] = ["file": path, "ok": false, "error": "\(error)", "keysRead": keys]
            if let damage = error as? FileDamageError { object["offset"] = damage.offset }
            if let lastKey { object["lastGoodKey"] = ["db": lastKey.db, "key": lastKey.key] }
            if format == .json {
                print(jsonLine(object))
            } else {
                var text = "DAMAGED: \(error)\n  \(keys) keys read before it"
                if let lastKey { text += "; last good key: db\(lastKey.db) \(lastKey.key)" }
                print(text)
            }
            exit(1)
        }
    }

    /// Writes every readable record of `path` to `out` (streamed: memory stays bounded)
    /// and lists the chunks it skipped.
    static func salvage(_ path: String, to out: String, codec: CompressionCodec?) -> Never {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var options = SnapshotOptions()
        if let codec { options.codec = codec }
        do {
            let writer = try SnapshotStreamWriter(
                path: out, tempPath: out + ".tmp-\(getpid())", options: options, now: now)
            do {
                let report = try SnapshotReader.records(
                    path: path, settings: EngineSettings(), salvage: true, dropExpiredBy: now
                ) { record in
                    try writer.append(db: record.db, key: record.key, value: record.value, deadline: record.deadline)
                }
                let summary = try writer.finish()
                for skipped in report.skipped {
                    print("lost \(skipped.fileBytes) bytes at offset \(skipped.fileOffset): \(skipped.reason)")
                }
                print("wrote \(out): \(summary.keys) keys")
                exit(report.skipped.isEmpty ? 0 : 1)
            } catch {
                writer.abandon()
                throw error
            }
        } catch {
            fail("\(error)")
        }
    }
}
