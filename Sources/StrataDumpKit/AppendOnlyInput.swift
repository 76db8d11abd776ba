//! AOF inputs: a directory with a manifest, a manifest, or one RESP file. `verify` checks
//! every part (`--fix` cuts a damaged last file, keeping `.broken`); `inspect` summarises
//! the parts from the same check.

import Foundation
import StrataPersistence

enum AppendOnlyInput {
    /// Whether `path` is an AOF directory, manifest or RESP AOF file (not a snapshot).
    static func isAppendOnly(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
        if isDirectory.boolValue || path.hasSuffix(".manifest") { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 1)
        return head.first == UInt8(ascii: "*") || head.first == UInt8(ascii: "#")
    }

    /// The manifest of the AOF at `path`: the directory's manifest, `path` itself when it
    /// is one, nil for a single AOF file; a failure when a directory has none.
    static func manifestPath(_ path: String) throws -> String? {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            guard let manifest = AOFVerifier.manifestPath(in: path) else {
                throw DumpFailure.failed("\(path): no manifest")
            }
            return manifest
        }
        return path.hasSuffix(".manifest") ? path : nil
    }

    /// Checks every part of the AOF at `path`; throws naming the problem when the
    /// directory or manifest cannot be read.
    static func check(_ path: String) throws -> [AOFFileCheck] {
        guard let manifest = try manifestPath(path) else { return [AOFVerifier.check(path: path)] }
        return try AOFVerifier.checkDirectory(manifestPath: manifest)
    }

    /// `inspect` of an AOF: its parts, their sizes and commands; a damaged part makes it a
    /// failure (exit code 1) after the report.
    static func summarize(_ path: String, format: OutputFormat, output: DumpOutput) throws {
        let checks = try check(path)
        let damaged = checks.contains { $0.problem != nil }
        switch format {
        case .json:
            output.print(jsonLine(["file": path, "format": "aof", "parts": checks.map(describe), "ok": !damaged]))
        case .csv:
            output.print(csvLine(["file", "bytes", "commands", "snapshot_keys", "valid_bytes", "problem"]))
            for c in checks {
                output.print(
                    csvLine([
                        c.path, String(c.bytes), String(c.commands), String(c.snapshotKeys), String(c.validBytes),
                        c.problem ?? "",
                    ]))
            }
        case .table:
            var rows = [["file", "size", "commands", "snapshot keys", "state"]]
            for c in checks {
                let state =
                    c.problem.map { "\(c.truncated ? "truncated" : "damaged") at \(c.validBytes): \($0)" } ?? "ok"
                rows.append([c.path, humanBytes(c.bytes), String(c.commands), String(c.snapshotKeys), state])
            }
            output.print(
                "\(path): append-only file, \(checks.count) part\(checks.count == 1 ? "" : "s")\n" + table(rows))
        }
        if damaged { throw DumpFailure.damaged }
    }

    static func describe(_ check: AOFFileCheck) -> [String: Any] {
        [
            "file": check.path, "commands": check.commands, "bytes": check.bytes, "validBytes": check.validBytes,
            "snapshotKeys": check.snapshotKeys, "problem": check.problem ?? "", "truncated": check.truncated,
        ]
    }

    /// `verify` of an AOF: every part (`json`: as one JSON line); `fix` cuts a damaged last
    /// file at the damage. Damage left is a failure (exit code 1) after the report.
    static func verify(_ path: String, fix: Bool, json: Bool, output: DumpOutput) throws {
        let checks = try check(path)
        var lines: [String] = []
        var damaged = false
        for (position, check) in checks.enumerated() {
            var line = "\(check.path): \(check.commands) commands"
            if check.snapshotKeys > 0 { line += ", \(check.snapshotKeys) keys in its snapshot part" }
            if let problem = check.problem {
                line +=
                    "; \(check.truncated ? "TRUNCATED" : "DAMAGED") at offset \(check.validBytes) of \(check.bytes): \(problem)"
                if fix && position == checks.count - 1 {
                    do {
                        try AOFVerifier.cut(path: check.path, at: check.validBytes)
                        line +=
                            "\n  fixed: cut at offset \(check.validBytes) (\(check.bytes - check.validBytes) bytes dropped), original kept as \(check.path).broken"
                    } catch {
                        line += "\n  could not fix: \(error)"
                        damaged = true
                    }
                } else {
                    damaged = true
                    if fix { line += "\n  not fixed: only the last file can be cut without losing what follows it" }
                }
            } else {
                line += ", OK"
            }
            lines.append(line)
        }
        if json {
            output.print(jsonLine(["files": checks.map(describe), "ok": !damaged]))
        } else {
            output.print(lines.joined(separator: "\n"))
        }
        if damaged { throw DumpFailure.damaged }
    }
}
