//! Output helpers shared by the subcommands: JSON objects and lines, CSV fields, keys as
//! text, byte sizes for people, and progress on a terminal.

import Foundation
import StrataEngine

/// The output format chosen with `--json` or `--csv` (else a table for people).
enum OutputFormat {
    case table, json, csv

    init(_ options: Options) {
        if options.has("--json") && options.has("--csv") { usageError("--json and --csv exclude each other") }
        self = options.has("--json") ? .json : options.has("--csv") ? .csv : .table
    }
}

/// `object` as one line of JSON with sorted keys.
func jsonLine(_ object: Any) -> String {
    guard
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}

/// A CSV line (RFC 4180 quoting) of `fields`.
func csvLine(_ fields: [String]) -> String {
    fields.map { field in
        if field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return field
    }.joined(separator: ",")
}

extension Bytes {
    /// The bytes as text for people: UTF-8 when they are valid UTF-8, else `0x` and hex
    /// digits.
    var displayText: String {
        withUnsafeBytes { raw in
            if let text = String(validating: raw, as: UTF8.self) { return text }
            return "0x" + raw.map { String(format: "%02x", $0) }.joined()
        }
    }

    /// The bytes for JSON, without ambiguity: a string when they are valid UTF-8, else
    /// `{"base64": "..."}`.
    var jsonValue: Any {
        withUnsafeBytes { raw -> Any in
            if let text = String(validating: raw, as: UTF8.self) { return text }
            return ["base64": Data(raw).base64EncodedString()]
        }
    }
}

/// `bytes` for people: `512 B`, `1.5 KB`, `3.2 MB` (powers of 1024, as Redis's `used_memory_human`).
func humanBytes(_ bytes: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// Lays out `rows` (the first is the header) in columns: those in `left` left-aligned, the
/// others (numbers) right-aligned.
func table(_ rows: [[String]], left: Set<Int> = [0]) -> String {
    guard let first = rows.first else { return "" }
    var widths = Array(repeating: 0, count: first.count)
    for row in rows {
        for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    return rows.map { row in
        row.enumerated().map { i, cell in
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            return left.contains(i) ? cell + pad : pad + cell
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

/// Progress on standard error while a long read runs: bytes, keys, rate and ETA, redrawn
/// at most five times a second, only when both standard output and standard error are
/// terminals and only once the work has taken more than a second.
final class Progress {
    private let total: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let enabled = isatty(1) == 1 && isatty(2) == 1
    /// Seconds before the first line (`STRATA_DUMP_PROGRESS_AFTER`, for tests; default 1).
    private let after = Double(ProcessInfo.processInfo.environment["STRATA_DUMP_PROGRESS_AFTER"] ?? "") ?? 1

    /// A reporter for work of `total` bytes (0 when unknown).
    init(totalBytes: Int) { total = totalBytes }

    /// Notes that `bytes` of the total are done and `keys` keys seen.
    func update(bytes: Int, keys: Int) {
        guard enabled, keys & 1023 == 0 else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed > after, now.timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = now
        drawn = true
        var line = "\(humanBytes(bytes))"
        if total > 0 { line += " of \(humanBytes(total)) (\(min(100, bytes * 100 / total))%)" }
        line += ", \(keys) keys, \(Int(Double(keys) / elapsed)) keys/s"
        if total > 0 && bytes > 0 {
            let remaining = elapsed * Double(total - bytes) / Double(bytes)
            line += ", ETA \(Int(remaining.rounded())) s"
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    /// Clears the progress line.
    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
