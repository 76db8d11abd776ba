//! Output helpers shared by the subcommands: JSON objects and lines, CSV fields, keys as
//! text, byte sizes for people, and tables.

import Foundation
import StrataEngine

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
