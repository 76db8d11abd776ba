//! `strata-dump diff A B`: what changed between two dumps (any mix of Strata snapshots,
//! Redis RDB files and AOF directories): keys only in A, only in B, and keys in both whose
//! type, value or TTL differ, summarised by key prefix, with `--keys` for every key.
//!
//! Memory stays bounded whatever the dumps' sizes: each dump is streamed once into 64 hash
//! partitions on disk, one compact record per key (database, key, type, a 64-bit checksum
//! of the value, deadline); then each partition of A is held in memory (a 64th of the keys)
//! while the same partition of B streams past it. Values are compared by their checksum
//! (CRC-64 of the commands that rebuild them), so two values differ unless their checksums
//! collide.

import ArgumentParser
import Foundation
import StrataEngine
import StrataPersistence

struct DiffCommand: DumpSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Shows the keys added, removed and changed between two dumps.",
        usage: "strata-dump diff A B [--keys] [--separator S] [--depth N] [--json|--csv]")

    @Argument(help: ArgumentHelp("The older dump: a snapshot, an RDB file or an AOF directory.", valueName: "A"))
    var first: String?

    @Argument(help: ArgumentHelp("The newer dump.", valueName: "B"))
    var second: String?

    @Flag(help: "List every key that differs (- only in A, + only in B, ~ changed).")
    var keys = false

    @Option(parsing: .unconditional, help: ArgumentHelp("What separates the parts of a key.", valueName: "S"))
    var separator = ":"

    @Option(parsing: .unconditional, help: ArgumentHelp("How many key parts make a prefix.", valueName: "N"))
    var depth = 1

    @OptionGroup var formatOptions: OutputFormatOptions

    init() {}

    static let partitions = 64

    func validate() throws {
        guard first != nil, second != nil else { throw ValidationError("diff takes two dumps, A and B") }
        try checkRange(depth, "--depth", in: 1...64)
    }

    /// A key's summary in a partition file.
    struct Summary: Equatable {
        var type: UInt8
        var digest: UInt64
        var deadline: Int64
    }

    /// Counts of one prefix.
    struct Counts {
        var onlyInA = 0
        var onlyInB = 0
        var changed = 0
    }

    static let typeNames = ["string", "list", "set", "zset", "hash", "stream"]

    func execute(output: DumpOutput) throws {
        guard let first, let second else { throw DumpFailure.usage("diff takes two dumps, A and B") }
        let format = formatOptions.format
        let directory = NSTemporaryDirectory() + "strata-dump-diff-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keysA = try Self.partition(first, into: directory + "/a", output: output)
        let keysB = try Self.partition(second, into: directory + "/b", output: output)
        let namer = MemoryReport(top: 1, separator: separator, depth: depth)
        var byPrefix: [String: Counts] = [:]
        var total = Counts()
        if keys && format == .csv { output.print(csvLine(["change", "db", "key", "what"])) }
        for index in 0..<Self.partitions {
            var older: [KeyRef: Summary] = [:]
            try Self.read(directory + "/a.\(index)") { db, key, summary in older[KeyRef(db: db, key: key)] = summary }
            try Self.read(directory + "/b.\(index)") { db, key, summary in
                let ref = KeyRef(db: db, key: key)
                if let before = older.removeValue(forKey: ref) {
                    guard before != summary else { return }
                    var what: [String] = []
                    if before.type != summary.type { what.append("type") }
                    if before.type == summary.type && before.digest != summary.digest { what.append("value") }
                    if before.deadline != summary.deadline { what.append("ttl") }
                    total.changed += 1
                    byPrefix[namer.prefix(of: key), default: Counts()].changed += 1
                    if keys { Self.printKey("changed", db: db, key: key, what: what, format: format, output: output) }
                } else {
                    total.onlyInB += 1
                    byPrefix[namer.prefix(of: key), default: Counts()].onlyInB += 1
                    if keys { Self.printKey("added", db: db, key: key, what: [], format: format, output: output) }
                }
            }
            for ref in older.keys.sorted(by: { ($0.db, $0.key.displayText) < ($1.db, $1.key.displayText) }) {
                total.onlyInA += 1
                byPrefix[namer.prefix(of: ref.key), default: Counts()].onlyInA += 1
                if keys { Self.printKey("removed", db: ref.db, key: ref.key, what: [], format: format, output: output) }
            }
        }
        let prefixes = byPrefix.sorted {
            let (a, b) = (
                $0.value.onlyInA + $0.value.onlyInB + $0.value.changed,
                $1.value.onlyInA + $1.value.onlyInB + $1.value.changed
            )
            return a > b || (a == b && $0.key < $1.key)
        }
        switch format {
        case .json:
            output.print(
                jsonLine([
                    "a": first, "b": second, "keysInA": keysA, "keysInB": keysB, "onlyInA": total.onlyInA,
                    "onlyInB": total.onlyInB, "changed": total.changed,
                    "prefixes": prefixes.map {
                        [
                            "prefix": $0.key, "onlyInA": $0.value.onlyInA, "onlyInB": $0.value.onlyInB,
                            "changed": $0.value.changed,
                        ]
                            as [String: Any]
                    },
                ]))
        case .csv:
            if keys { return }
            output.print(csvLine(["prefix", "only_in_a", "only_in_b", "changed"]))
            for (prefix, counts) in prefixes {
                output.print(csvLine([prefix, String(counts.onlyInA), String(counts.onlyInB), String(counts.changed)]))
            }
        case .table:
            output.print(
                "\(first): \(keysA) keys; \(second): \(keysB) keys\n"
                    + "only in A: \(total.onlyInA), only in B: \(total.onlyInB), changed: \(total.changed)")
            if !prefixes.isEmpty {
                var rows = [["prefix", "only in A", "only in B", "changed"]]
                for (prefix, counts) in prefixes {
                    rows.append([prefix, String(counts.onlyInA), String(counts.onlyInB), String(counts.changed)])
                }
                output.print("\n" + table(rows, left: [0]))
            }
        }
    }

    private static func printKey(
        _ change: String, db: Int, key: Bytes, what: [String], format: OutputFormat, output: DumpOutput
    ) {
        switch format {
        case .json:
            var object: [String: Any] = ["change": change, "db": db, "key": key.jsonValue]
            if !what.isEmpty { object["what"] = what }
            output.print(jsonLine(object))
        case .csv:
            output.print(csvLine([change, String(db), key.displayText, what.joined(separator: " ")]))
        case .table:
            let mark = change == "added" ? "+" : change == "removed" ? "-" : "~"
            output.print(
                "\(mark) \(db) \(key.displayText)" + (what.isEmpty ? "" : " (\(what.joined(separator: ", ")))"))
        }
    }

    /// Streams the dump at `path` into `partitions` files `<base>.<n>`; its key count.
    static func partition(_ path: String, into base: String, output: DumpOutput) throws -> Int {
        var buffers = Array(repeating: [UInt8](), count: partitions)
        let handles = try (0..<partitions).map { index -> FileHandle in
            let name = "\(base).\(index)"
            guard FileManager.default.createFile(atPath: name, contents: nil) else {
                throw DumpFailure.failed("cannot create \(name)")
            }
            return try FileHandle(forWritingTo: URL(fileURLWithPath: name))
        }
        defer { for handle in handles { try? handle.close() } }
        let outcome = try KeySource(path: path, output: output).forEachKey { db, key, value, deadline, _ in
            var digest = CRC64()
            digest.update(AOFBaseWriter.commands(rebuilding: key, value, deadline: nil))
            let type = UInt8(typeNames.firstIndex(of: value.typeName) ?? 0)
            let index = Int(Database.placementHash(key) % UInt64(partitions))
            append(
                &buffers[index], db: db, key: key,
                summary: Summary(type: type, digest: digest.value, deadline: deadline ?? .min))
            if buffers[index].count >= 1 << 16 {
                try handles[index].write(contentsOf: buffers[index])
                buffers[index].removeAll(keepingCapacity: true)
            }
        }
        for index in 0..<partitions where !buffers[index].isEmpty {
            try handles[index].write(contentsOf: buffers[index])
        }
        return outcome.keys
    }

    private static func append(_ buffer: inout [UInt8], db: Int, key: Bytes, summary: Summary) {
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { buffer += $0 } }
        put(UInt32(truncatingIfNeeded: db))
        put(UInt32(truncatingIfNeeded: key.count))
        key.withUnsafeBytes { buffer += $0 }
        put(summary.type)
        put(summary.digest)
        put(summary.deadline)
    }

    /// Calls `body` for every record of a partition file.
    private static func read(_ path: String, _ body: (Int, Bytes, Summary) throws -> Void) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var offset = 0
        func take<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= data.count else { throw DumpFailure.failed("\(path): a partition file was cut") }
            var value = T.zero
            withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: data[offset..<offset + size]) }
            offset += size
            return T(littleEndian: value)
        }
        while offset < data.count {
            let db = Int(try take(UInt32.self))
            let length = Int(try take(UInt32.self))
            guard offset + length <= data.count else { throw DumpFailure.failed("\(path): a partition file was cut") }
            let key = Bytes(Array(data[offset..<offset + length]))
            offset += length
            let summary = Summary(
                type: try take(UInt8.self), digest: try take(UInt64.self), deadline: try take(Int64.self))
            try body(db, key, summary)
        }
    }
}
