// strata-dump: offline work on snapshot files, without a running server.
//
//   strata-dump inspect FILE [--json]        what the file holds (from its index when it has one)
//   strata-dump verify FILE [--json]         read every record; name the first damage
//   strata-dump verify AOFDIR|MANIFEST|AOF [--fix] [--json]
//                                            check every AOF file; --fix cuts a damaged last
//                                            file at the damage (keeping FILE.broken)
//   strata-dump restore [--salvage] [--codec lz4|zlib|none] SOURCE DEST
//                                            rewrite SOURCE as DEST; --salvage skips damaged chunks
//
// Exit codes: 0 good, 1 damaged (or chunks skipped), 2 usage error.

import Foundation
import StrataEngine
import StrataPersistence

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("strata-dump: \(message)\n".utf8))
    exit(code)
}

let usage = """
    usage: strata-dump inspect FILE [--json]
           strata-dump verify FILE [--json]
           strata-dump verify AOFDIR|MANIFEST|AOFFILE [--fix] [--json]
           strata-dump restore [--salvage] [--codec lz4|zlib|none] SOURCE DEST
    """

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail(usage, code: 2) }
arguments.removeFirst()
let json = arguments.contains("--json")
arguments.removeAll { $0 == "--json" }
let now = Int64(Date().timeIntervalSince1970 * 1000)

func emit(_ object: [String: Any], text: String) {
    if json, let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    } else {
        print(text)
    }
}

/// Reads the whole file, counting keys per database and type.
func scan(_ path: String, salvage: Bool) throws -> (SnapshotReport, [Int: [String: Int]]) {
    var counts: [Int: [String: Int]] = [:]
    let report = try SnapshotReader.read(path: path, settings: EngineSettings(), now: 0, salvage: salvage) {
        db, _, value, _ in counts[db, default: [:]][value.typeName, default: 0] += 1
    }
    return (report, counts)
}

/// Whether `path` is an AOF directory, manifest or RESP AOF file (not a snapshot).
func isAppendOnly(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
    if isDirectory.boolValue || path.hasSuffix(".manifest") { return true }
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    let head = handle.readData(ofLength: 1)
    return head.first == UInt8(ascii: "*") || head.first == UInt8(ascii: "#")
}

/// `verify` of an AOF directory, manifest or file.
func verifyAppendOnly(_ path: String, fix: Bool) -> Never {
    var isDirectory: ObjCBool = false
    FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    let checks: [AOFFileCheck]
    do {
        if isDirectory.boolValue {
            guard let manifest = AOFVerifier.manifestPath(in: path) else { fail("\(path): no manifest", code: 1) }
            checks = try AOFVerifier.checkDirectory(manifestPath: manifest)
        } else if path.hasSuffix(".manifest") {
            checks = try AOFVerifier.checkDirectory(manifestPath: path)
        } else {
            checks = [AOFVerifier.check(path: path)]
        }
    } catch {
        emit(["file": path, "error": "\(error)"], text: "DAMAGED: \(error)")
        exit(1)
    }
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
    let files: [[String: Any]] = checks.map {
        [
            "file": $0.path, "commands": $0.commands, "bytes": $0.bytes, "validBytes": $0.validBytes,
            "problem": $0.problem ?? "", "truncated": $0.truncated,
        ]
    }
    emit(["files": files, "ok": !damaged], text: lines.joined(separator: "\n"))
    exit(damaged ? 1 : 0)
}

switch command {
case "verify" where arguments.contains("--fix") || (arguments.count == 1 && isAppendOnly(arguments[0])):
    let fix = arguments.contains("--fix")
    arguments.removeAll { $0 == "--fix" }
    guard arguments.count == 1 else { fail(usage, code: 2) }
    verifyAppendOnly(arguments[0], fix: fix)
case "inspect", "verify":
    guard arguments.count == 1 else { fail(usage, code: 2) }
    let path = arguments[0]
    do {
        let (report, counts) = try scan(path, salvage: false)
        let keys = counts.mapValues { $0.values.reduce(0, +) }
        let summary: [String: Any] = [
            "file": path, "layout": "\(report.layout)", "rdbVersion": report.rdbVersion, "keys": report.keys,
            "checksum": report.checksumMatches.map { $0 ? "ok" : "mismatch" } ?? "absent",
            "chunks": report.index?.chunks.count ?? 0, "writer": report.index?.writer ?? report.aux["redis-ver"] ?? "",
            "databases": Dictionary(uniqueKeysWithValues: counts.map { (String($0.key), $0.value) }),
        ]
        var text = "\(path): \(report.layout), RDB version \(report.rdbVersion), \(report.keys) keys"
        if let index = report.index { text += ", \(index.chunks.count) chunks, written by \(index.writer)" }
        for db in keys.keys.sorted() {
            let types = (counts[db] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            text += "\n  db\(db): \(keys[db] ?? 0) keys (\(types.joined(separator: ", ")))"
        }
        if command == "verify" { text += "\nOK: every record read, checksum \(summary["checksum"] ?? "")" }
        emit(summary, text: text)
        exit(0)
    } catch {
        emit(["file": path, "error": "\(error)"], text: "DAMAGED: \(error)")
        exit(1)
    }
case "restore":
    var salvage = false
    var options = SnapshotOptions()
    var paths: [String] = []
    var index = 0
    while index < arguments.count {
        switch arguments[index] {
        case "--salvage": salvage = true
        case "--codec":
            index += 1
            guard index < arguments.count, let codec = CompressionCodec(rawValue: arguments[index]) else {
                fail(usage, code: 2)
            }
            options.codec = codec
        default: paths.append(arguments[index])
        }
        index += 1
    }
    guard paths.count == 2 else { fail(usage, code: 2) }
    do {
        let (databases, report) = try SnapshotReader.load(
            path: paths[0], databaseCount: 16, settings: EngineSettings(), now: now, salvage: salvage)
        let summary = try SnapshotWriter.write(
            databases, to: paths[1], tempPath: paths[1] + ".tmp-\(getpid())", options: options, now: now)
        for skipped in report.skipped {
            print("skipped \(skipped.fileBytes) bytes at offset \(skipped.fileOffset): \(skipped.reason)")
        }
        print("wrote \(paths[1]): \(summary.keys) keys")
        exit(report.skipped.isEmpty ? 0 : 1)
    } catch {
        fail("\(error)", code: 1)
    }
default:
    fail(usage, code: 2)
}
