//! `strata-dump inspect`: what a dump holds. The summary of a compressed Strata snapshot
//! comes from its index alone (the body is not read); a plain RDB file, or a snapshot whose
//! index is damaged, is read through once. `--keys` lists keys with their type, TTL, encoded
//! size and element count; `--memory` is the memory report (MemoryReport.swift). An AOF
//! directory, manifest or file gets a summary of its parts.

import ArgumentParser
import Foundation
import StrataEngine
import StrataPersistence

struct InspectCommand: DumpSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "What a dump holds: a summary, its keys (--keys) or what fills it (--memory).",
        usage: """
            strata-dump inspect FILE|AOFDIR [--json|--csv]
            strata-dump inspect FILE --keys [--db N] [--type T] [--match GLOB] [--expired|--no-expired] [--json|--csv]
            strata-dump inspect FILE --memory [--top N] [--separator S] [--depth N] [--by-slot] [--svg OUT] [--db N] [--type T] [--match GLOB] [--json|--csv]
            """)

    @Argument(help: ArgumentHelp("A snapshot, an RDB file, or an AOF directory, manifest or file.", valueName: "FILE"))
    var path: String?

    @Flag(help: "List the keys with their type, TTL, encoded size and element count.")
    var keys = false

    @Flag(help: "Report memory by type, database and key prefix, and the biggest keys.")
    var memory = false

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --memory: how many prefixes and biggest keys to show.", valueName: "N"))
    var top = 10

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --memory: what separates the parts of a key.", valueName: "S"))
    var separator = ":"

    @Option(
        parsing: .unconditional, help: ArgumentHelp("With --memory: how many key parts make a prefix.", valueName: "N"))
    var depth = 1

    @Flag(
        help: ArgumentHelp(
            "With --memory: totals by cluster hash slot too (CRC16 of the key or its {tag}, as Redis Cluster)."))
    var bySlot = false

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "With --memory: also draw memory by key prefix (--separator, --depth levels) as an SVG picture.",
            valueName: "FILE"))
    var svg: String?

    @OptionGroup var filterOptions: KeyFilterOptions
    @OptionGroup var formatOptions: OutputFormatOptions

    init() {}

    func validate() throws {
        guard path != nil else { throw ValidationError("inspect takes one FILE or directory") }
        if keys && memory { throw ValidationError("--keys and --memory exclude each other") }
        if bySlot && !memory { throw ValidationError("--by-slot is an option of --memory") }
        if svg != nil && !memory { throw ValidationError("--svg is an option of --memory") }
        try checkRange(top, "--top", in: 1...100_000)
        try checkRange(depth, "--depth", in: 1...64)
    }

    func execute(output: DumpOutput) throws {
        guard let path else { throw DumpFailure.usage("inspect takes one FILE or directory") }
        let format = formatOptions.format
        let filter = filterOptions.filter
        let appendOnly = AppendOnlyInput.isAppendOnly(path)
        if appendOnly && !keys && !memory {
            return try AppendOnlyInput.summarize(path, format: format, output: output)
        }
        let head = appendOnly ? nil : try SnapshotIndexLocator.head(path: path)
        if keys {
            try Self.listKeys(path, head: head, filter: filter, format: format, output: output)
        } else if memory {
            var report = MemoryReport(top: top, separator: separator, depth: depth, bySlot: bySlot)
            var tree = svg.map { _ in MemoryTree(separator: separator, depth: depth) }
            try Self.scanRecords(
                path, head: head, filter: filter, output: output, function: { report.addFunction($0) }
            ) { record in
                report.add(record)
                if tree != nil {
                    let bytes = record.value.memoryUsage(
                        keyBytes: record.key.count, hasDeadline: record.deadline != nil)
                    tree?.add(key: record.key, type: record.value.typeName, bytes: bytes)
                }
            }
            output.print(report.render(format))
            if let svg, let tree {
                let picture = MemorySVG.render(tree, title: (path as NSString).lastPathComponent)
                do {
                    try picture.write(toFile: svg, atomically: true, encoding: .utf8)
                } catch {
                    throw DumpFailure.failed("cannot write \(svg): \(error)")
                }
            }
        } else if let head {
            try Self.summarize(path, head: head, format: format, output: output)
        }
    }

    // MARK: Summary

    /// Counts for one database.
    struct DatabaseCounts {
        var keys = 0
        var expires = 0
        var types: [String: Int] = [:]
    }

    static func summarize(_ path: String, head: SnapshotHead, format: OutputFormat, output: DumpOutput) throws {
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
            let report = try readRecords(path, head: head, output: output) { record in
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
            output.print(jsonLine(summary))
        case .csv:
            output.print(csvLine(["db", "keys", "expires"] + types))
            for db in databases.keys.sorted() {
                let counts = databases[db] ?? DatabaseCounts()
                output.print(
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
            output.print(lines.joined(separator: "\n"))
        }
    }

    // MARK: Keys

    static func listKeys(
        _ path: String, head: SnapshotHead?, filter: KeyFilter, format: OutputFormat, output: DumpOutput
    ) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var rows: [[String]] = []
        if format == .csv {
            output.print(csvLine(["db", "type", "key", "ttl_ms", "expires_at_ms", "encoded_bytes", "elements"]))
        }
        if format == .table { rows.append(["db", "type", "key", "ttl", "size", "elements"]) }
        try scanRecords(path, head: head, filter: filter, output: output) { record in
            // The deadline is any Int64 the file holds: no subtraction that could overflow.
            let ttl = record.deadline.map { $0 > now ? $0 - now : 0 }
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
                if let metadata = record.metadata { object.merge(metadata.jsonFields) { $1 } }
                output.print(jsonLine(object))
            case .csv:
                output.print(
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
                    output.print(table(rows, left: [1, 2]))
                    rows = [rows[0]]
                }
            }
        }
        if format == .table && rows.count > 1 { output.print(table(rows, left: [1, 2])) }
    }

    // MARK: Reading

    /// Reads every record of the snapshot (or, without `head`, the AOF directory) at `path`
    /// that `filter` accepts, and the function libraries; a damaged file is an error naming
    /// file and offset.
    static func scanRecords(
        _ path: String, head: SnapshotHead?, filter: KeyFilter, output: DumpOutput,
        function: (Bytes) -> Void = { _ in }, _ body: (SnapshotRecord) -> Void
    ) throws {
        guard let head else {
            // An AOF directory, replayed in bounded memory; a key's encoded size is that of
            // the commands that rebuild it.
            _ = try KeySource(path: path, output: output).forEachKey(function: { function($0) }) {
                db, key, value, deadline, metadata in
                let record = SnapshotRecord(
                    db: db, key: key, value: value, deadline: deadline,
                    encodedBytes: AOFBaseWriter.commands(rebuilding: key, value, deadline: deadline).count,
                    metadata: metadata)
                if filter.accepts(record) { body(record) }
            }
            return
        }
        _ = try readRecords(path, head: head, output: output, function: { function($0) }) { record in
            if filter.accepts(record) { body(record) }
        }
    }
}
