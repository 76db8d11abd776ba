//! `strata-dump inspect`: what a dump holds. The summary of a compressed Strata snapshot
//! comes from its index alone (the body is not read); a plain RDB file, or a snapshot whose
//! index is damaged, is read through once. `--keys` lists keys with their type, TTL, encoded
//! size and element count; `--memory` is the memory report (MemoryReport.swift). An AOF
//! directory, manifest or file gets a summary of its parts.

import Foundation
import StrataEngine
import StrataPersistence

enum InspectCommand {
    static let typeNames: Set<String> = ["string", "list", "set", "zset", "hash", "stream"]

    static func run(_ arguments: [String]) -> Never {
        let options = Options(
            arguments, flags: ["--json", "--csv", "--keys", "--memory", "--expired", "--no-expired"],
            values: ["--db", "--type", "--match", "--top", "--separator", "--depth"])
        guard options.positional.count == 1 else { usageError("inspect takes one FILE or directory") }
        let path = options.positional[0]
        let format = OutputFormat(options)
        if options.has("--keys") && options.has("--memory") { usageError("--keys and --memory exclude each other") }
        if options.has("--expired") && options.has("--no-expired") {
            usageError("--expired and --no-expired exclude each other")
        }
        let filter = KeyFilter(options)
        if AppendOnlyInput.isAppendOnly(path) {
            if options.has("--keys") || options.has("--memory") {
                fail("\(path): --keys and --memory read snapshot files; convert the AOF directory to one first")
            }
            AppendOnlyInput.summarize(path, format: format)
        }
        let head: SnapshotHead
        do {
            head = try SnapshotIndexLocator.head(path: path)
        } catch {
            fail("\(error)")
        }
        if options.has("--keys") {
            listKeys(path, head: head, filter: filter, format: format)
        } else if options.has("--memory") {
            var report = MemoryReport(
                top: options.integer("--top", default: 10, in: 1...100_000),
                separator: options.values["--separator"] ?? ":",
                depth: options.integer("--depth", default: 1, in: 1...64))
            scanRecords(path, head: head, filter: filter) { report.add($0) }
            print(report.render(format))
            exit(0)
        } else {
            summarize(path, head: head, format: format)
        }
    }

    // MARK: Summary

    /// Counts for one database.
    struct DatabaseCounts {
        var keys = 0
        var expires = 0
        var types: [String: Int] = [:]
    }

    static func summarize(_ path: String, head: SnapshotHead, format: OutputFormat) -> Never {
        var summary: [String: Any] = [
            "file": path, "fileBytes": head.fileBytes, "layout": "\(head.layout)",
        ]
        var databases: [Int: DatabaseCounts] = [:]
        if let index = head.index {
            summary["source"] = "index"
            summary["format"] = index.format
            summary["layoutVersion"] = index.version
            summary["codec"] = index.codec
            summary["created"] = index.created
            summary["writer"] = index.writer
            summary["rdbVersion"] = index.rdbVersion
            summary["rdbBytes"] = index.rdbBytes
            summary["chunks"] = index.chunks.count
            for (db, types) in index.keys {
                guard let number = Int(db) else { continue }
                databases[number, default: DatabaseCounts()].types = types
                databases[number, default: DatabaseCounts()].keys = types.values.reduce(0, +)
            }
            for (db, count) in index.expires {
                guard let number = Int(db) else { continue }
                databases[number, default: DatabaseCounts()].expires = count
            }
        } else {
            summary["source"] = "scan"
            summary["format"] = head.layout == .plain ? "rdb" : "strata-snapshot"
            summary["codec"] = head.layout == .plain ? "none" : head.layout == .lz4 ? "lz4" : "zlib"
            let report = scanRecords(path, head: head, filter: KeyFilter()) { record in
                databases[record.db, default: DatabaseCounts()].keys += 1
                databases[record.db, default: DatabaseCounts()].types[record.value.typeName, default: 0] += 1
                if record.deadline != nil { databases[record.db, default: DatabaseCounts()].expires += 1 }
            }
            summary["rdbVersion"] = report.rdbVersion
            summary["rdbBytes"] = report.rdbBytes
            summary["writer"] = report.aux["redis-ver"].map { "redis \($0)" } ?? ""
            if let ctime = report.aux["ctime"].flatMap(Int64.init) { summary["created"] = ctime * 1000 }
        }
        let total = databases.values.reduce(0) { $0 + $1.keys }
        summary["keys"] = total
        summary["expires"] = databases.values.reduce(0) { $0 + $1.expires }
        summary["databases"] = Dictionary(
            uniqueKeysWithValues: databases.map { db, counts in
                (String(db), ["keys": counts.keys, "expires": counts.expires, "types": counts.types] as [String: Any])
            })
        let types = ["string", "list", "set", "zset", "hash", "stream"]
        switch format {
        case .json:
            print(jsonLine(summary))
        case .csv:
            print(csvLine(["db", "keys", "expires"] + types))
            for db in databases.keys.sorted() {
                let counts = databases[db] ?? DatabaseCounts()
                print(
                    csvLine(
                        [String(db), String(counts.keys), String(counts.expires)]
                            + types.map { String(counts.types[$0] ?? 0) }))
            }
        case .table:
            var lines: [String] = []
            let name = summary["format"] as? String == "rdb" ? "Redis RDB file" : "Strata snapshot"
            var first = "\(path): \(name)"
            if let codec = summary["codec"] as? String, codec != "none" { first += ", \(codec)" }
            if let version = summary["layoutVersion"] as? Int { first += ", layout \(version)" }
            first += ", RDB version \(summary["rdbVersion"] ?? 0), \(humanBytes(head.fileBytes))"
            lines.append(first)
            var second: [String] = []
            if let created = summary["created"] as? Int64 {
                let date = Date(timeIntervalSince1970: Double(created) / 1000)
                second.append("created \(ISO8601DateFormatter().string(from: date))")
            }
            if let writer = summary["writer"] as? String, !writer.isEmpty { second.append("written by \(writer)") }
            if let chunks = summary["chunks"] as? Int { second.append("\(chunks) chunk\(chunks == 1 ? "" : "s")") }
            if let rdbBytes = summary["rdbBytes"] as? Int { second.append("\(humanBytes(rdbBytes)) of records") }
            second.append(head.index != nil ? "read from the index" : "read through")
            lines.append(second.joined(separator: ", "))
            var rows = [["db", "keys", "with TTL"] + types]
            for db in databases.keys.sorted() {
                let counts = databases[db] ?? DatabaseCounts()
                rows.append(
                    ["db\(db)", String(counts.keys), String(counts.expires)]
                        + types.map { String(counts.types[$0] ?? 0) })
            }
            rows.append(
                ["total", String(total), String(summary["expires"] as? Int ?? 0)]
                    + types.map { type in String(databases.values.reduce(0) { $0 + ($1.types[type] ?? 0) }) })
            lines.append(table(rows))
            print(lines.joined(separator: "\n"))
        }
        exit(0)
    }

    // MARK: Keys

    static func listKeys(_ path: String, head: SnapshotHead, filter: KeyFilter, format: OutputFormat) -> Never {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var rows: [[String]] = []
        if format == .csv {
            print(csvLine(["db", "type", "key", "ttl_ms", "expires_at_ms", "encoded_bytes", "elements"]))
        }
        if format == .table { rows.append(["db", "type", "key", "ttl", "size", "elements"]) }
        scanRecords(path, head: head, filter: filter) { record in
            let ttl = record.deadline.map { max(0, $0 - now) }
            switch format {
            case .json:
                var object: [String: Any] = [
                    "db": record.db, "type": record.value.typeName, "key": record.key.jsonValue,
                    "encodedBytes": record.encodedBytes, "elements": record.value.elementCount,
                ]
                if let deadline = record.deadline {
                    object["expiresAt"] = deadline
                    object["ttlMs"] = ttl ?? 0
                }
                print(jsonLine(object))
            case .csv:
                print(
                    csvLine([
                        String(record.db), record.value.typeName, record.key.displayText,
                        ttl.map { String($0) } ?? "-1", record.deadline.map { String($0) } ?? "",
                        String(record.encodedBytes), String(record.value.elementCount),
                    ]))
            case .table:
                let ttlText = ttl.map { $0 == 0 ? "expired" : "\(($0 + 999) / 1000)s" } ?? "-"
                rows.append([
                    String(record.db), record.value.typeName, record.key.displayText, ttlText,
                    String(record.encodedBytes), String(record.value.elementCount),
                ])
                // Print in blocks so that memory stays bounded on big files.
                if rows.count == 10_001 {
                    print(table(rows, left: [1, 2]))
                    rows = [rows[0]]
                }
            }
        }
        if format == .table && rows.count > 1 { print(table(rows, left: [1, 2])) }
        exit(0)
    }

    // MARK: Reading

    /// Reads every record of the snapshot at `path` that `filter` accepts; exits with code
    /// 1 naming file and offset when it is damaged.
    @discardableResult
    static func scanRecords(
        _ path: String, head: SnapshotHead, filter: KeyFilter, _ body: (SnapshotRecord) -> Void
    ) -> SnapshotReport {
        do {
            return try readRecords(path, head: head) { record in
                if filter.accepts(record) { body(record) }
            }
        } catch {
            fail("\(error)")
        }
    }
}

/// The `--db`, `--type`, `--match` and `--expired`/`--no-expired` filters.
struct KeyFilter {
    var db: Int?
    var type: String?
    var pattern: Bytes?
    /// true: only expired keys; false: only keys not expired; nil: all.
    var expired: Bool?
    let now = Int64(Date().timeIntervalSince1970 * 1000)

    init() {}

    init(_ options: Options) {
        if options.values["--db"] != nil { db = options.integer("--db", default: 0, in: 0...1_000_000) }
        if let type = options.values["--type"] {
            guard InspectCommand.typeNames.contains(type) else {
                usageError("--type takes one of \(InspectCommand.typeNames.sorted().joined(separator: ", "))")
            }
            self.type = type
        }
        pattern = options.values["--match"].map { Bytes($0) }
        if options.has("--expired") { expired = true }
        if options.has("--no-expired") { expired = false }
    }

    func accepts(_ record: SnapshotRecord) -> Bool {
        accepts(db: record.db, key: record.key, value: record.value, deadline: record.deadline)
    }

    func accepts(db: Int, key: Bytes, value: Value, deadline: Int64?) -> Bool {
        if let wanted = self.db, db != wanted { return false }
        if let type, value.typeName != type { return false }
        if let expired {
            let isExpired = deadline.map { $0 <= now } ?? false
            if isExpired != expired { return false }
        }
        if let pattern, !GlobPattern.matches(pattern, key) { return false }
        return true
    }
}
