//! `strata-dump verify`: reads everything and checks every checksum and record. For a
//! snapshot it names the first damage (file offset of the bad chunk) and the last good key;
//! `--salvage OUT` writes a new snapshot with every readable record and lists what was
//! lost. For an AOF see AppendOnlyInput.swift.

import ArgumentParser
import Foundation
import StrataEngine
import StrataPersistence

struct VerifyCommand: DumpSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Reads everything and checks every checksum and record.",
        usage: """
            strata-dump verify FILE [--salvage OUT] [--json]
            strata-dump verify AOFDIR|MANIFEST|AOFFILE [--fix] [--json]
            """)

    @Argument(help: ArgumentHelp("A snapshot, an RDB file, or an AOF directory, manifest or file.", valueName: "FILE"))
    var path: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Write every readable record of a snapshot to a new one at OUT.", valueName: "OUT"))
    var salvage: String?

    @Option(
        parsing: .unconditional, help: ArgumentHelp("With --salvage: the new snapshot's codec.", valueName: "CODEC"))
    var codec: CompressionCodec?

    @Flag(help: "Cut a damaged last AOF file at the damage, keeping the original as .broken.")
    var fix = false

    @Flag(help: "Write the result as one JSON line.")
    var json = false

    init() {}

    func validate() throws {
        guard let path else { throw ValidationError("verify takes one FILE or directory") }
        if AppendOnlyInput.isAppendOnly(path) {
            if salvage != nil { throw ValidationError("--salvage is for snapshots; AOF files take --fix") }
        } else if fix {
            throw ValidationError("--fix is for AOF files; snapshots take --salvage OUT")
        }
    }

    func execute(output: DumpOutput) throws {
        guard let path else { throw DumpFailure.usage("verify takes one FILE or directory") }
        if AppendOnlyInput.isAppendOnly(path) {
            return try AppendOnlyInput.verify(path, fix: fix, json: json, output: output)
        }
        if let salvage { return try Self.salvage(path, to: salvage, codec: codec, output: output) }
        var lastKey: (db: Int, key: String)?
        var keys = 0
        do {
            let report = try readRecords(path, head: SnapshotIndexLocator.head(path: path), output: output) { record in
                keys += 1
                lastKey = (record.db, record.key.displayText)
            }
            let checksum = report.checksumMatches.map { $0 ? "ok" : "mismatch" } ?? "absent"
            if json {
                output.print(
                    jsonLine([
                        "file": path, "ok": true, "keys": report.keys, "rdbVersion": report.rdbVersion,
                        "checksum": checksum, "chunks": report.index?.chunks.count ?? 0, "rdbBytes": report.rdbBytes,
                    ]))
            } else {
                var text = "\(path): OK, \(report.keys) keys, RDB version \(report.rdbVersion), checksum \(checksum)"
                if let index = report.index {
                    text += ", \(index.chunks.count) chunk\(index.chunks.count == 1 ? "" : "s")"
                }
                output.print(text)
            }
        } catch {
            var object: [String: Any] = ["file": path, "ok": false, "error": "\(error)", "keysRead": keys]
            if let damage = error as? FileDamageError { object["offset"] = damage.offset }
            if let lastKey { object["lastGoodKey"] = ["db": lastKey.db, "key": lastKey.key] }
            if json {
                output.print(jsonLine(object))
            } else {
                var text = "DAMAGED: \(error)\n  \(keys) keys read before it"
                if let lastKey { text += "; last good key: db\(lastKey.db) \(lastKey.key)" }
                output.print(text)
            }
            throw DumpFailure.damaged
        }
    }

    /// Writes every readable record of `path` to `out` (streamed: memory stays bounded)
    /// and lists the chunks it skipped; a failure (exit code 1) when it skipped any.
    static func salvage(_ path: String, to out: String, codec: CompressionCodec?, output: DumpOutput) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var options = SnapshotOptions()
        if let codec { options.codec = codec }
        let writer = try SnapshotStreamWriter(path: out, tempPath: out + ".tmp-\(getpid())", options: options, now: now)
        let report: SnapshotReport
        let summary: SnapshotSummary
        do {
            report = try SnapshotReader.records(
                path: path, settings: EngineSettings(), salvage: true, dropExpiredBy: now
            ) { record in
                try writer.append(db: record.db, key: record.key, value: record.value, deadline: record.deadline)
            }
            summary = try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        for skipped in report.skipped {
            output.print("lost \(skipped.fileBytes) bytes at offset \(skipped.fileOffset): \(skipped.reason)")
        }
        output.print("wrote \(out): \(summary.keys) keys")
        if !report.skipped.isEmpty { throw DumpFailure.damaged }
    }
}
