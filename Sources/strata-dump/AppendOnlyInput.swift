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
    /// is one, nil for a single AOF file; exits with code 1 when a directory has none.
    static func manifestPath(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            guard let manifest = AOFVerifier.manifestPath(in: path) else { fail("\(path): no manifest") }
            return manifest
        }
        return path.hasSuffix(".manifest") ? path : nil
    }

    /// Checks every part of the AOF at `path`; exits with code 1 naming the problem when
    /// the directory or manifest cannot be read.
    static func check(_ path: String) -> [AOFFileCheck] {
        do {
            guard let manifest = manifestPath(path) else { return [AOFVerifier.check(path: path)] }
            return try AOFVerifier.checkDirectory(manifestPath: manifest)
        } catch {
            fail("\(error)")
        }
    }

    /// `inspect` of an AOF: its parts, their sizes and commands.
    static func summarize(_ path: String, format: OutputFormat) -> Never {
        let checks = check(path)
        let damaged = checks.contains { $0.problem != nil }
        switch format {
        case .json:
            print(jsonLine(["file": path, "format": "aof", "parts": checks.map(describe), "ok": !damaged]))
        case .csv:
            print(csvLine(["file", "bytes", "commands", "snapshot_keys", "valid_bytes", "problem"]))
            for c in checks {
                print(
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
            print("\(path): append-only file, \(checks.count) part\(checks.count == 1 ? "" : "s")\n" + table(rows))
        }
        exit(damaged ? 1 : 0)
    }

    static func describe(_ check: AOFFileCheck) -> [String: Any] {
        [
            "file": check.path, "commands": check.commands, "bytes": check.bytes, "validBytes": check.validBytes,
            "snapshotKeys": check.snapshotKeys, "problem": check.problem ?? "", "truncated": check.truncated,
        ]
    }

    /// `verify` of an AOF: every part; `fix` cuts a damaged last file at the damage.
    static func verify(_ path: String, fix: Bool, format: OutputFormat) -> Never {
        let checks = check(path)
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
        if format == .json {
            print(jsonLine(["files": checks.map(describe), "ok": !damaged]))
        } else {
            print(lines.joined(separator: "\n"))
        }
        exit(damaged ? 1 : 0)
    }
}
