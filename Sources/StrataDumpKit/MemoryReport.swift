//! `strata-dump inspect --memory`: what fills a cache. Memory is Strata's estimate for each
//! key (the same as `MEMORY USAGE`), encoded bytes are the key's record in the dump; totals
//! by type, by database and by key prefix, and the biggest keys. Memory stays bounded: the
//! top list keeps N keys, and prefix groups beyond `maximumPrefixes` fold into one row.
//! With `--by-slot` keys are also totalled by Redis Cluster hash slot (16,384 at most), to
//! see which slots a reshard would move the most memory with.

import StrataEngine
import StrataPersistence

struct MemoryReport {
    /// Totals of a group of keys.
    struct Totals {
        var keys = 0
        var memory = 0
        var encoded = 0

        mutating func add(memory: Int, encoded: Int) {
            keys += 1
            self.memory += memory
            self.encoded += encoded
        }
    }

    /// One of the biggest keys.
    struct BigKey {
        var db: Int
        var type: String
        var key: String
        var memory: Int
        var encoded: Int
        var elements: Int
    }

    /// Prefix groups kept apart at most; later new prefixes count in `(other prefixes)`.
    static let maximumPrefixes = 100_000
    static let otherPrefixes = "(other prefixes)"

    let top: Int
    let separator: [UInt8]
    let depth: Int
    var total = Totals()
    var byType: [String: Totals] = [:]
    var byDatabase: [Int: Totals] = [:]
    var byPrefix: [String: Totals] = [:]
    /// Totals per hash slot (with `--by-slot`), indexed by slot.
    var bySlot: [Totals]?
    /// The biggest keys seen, largest first, at most `top`.
    var biggest: [BigKey] = []
    /// The function libraries, by name, with the bytes of their code.
    var functions: [(name: String, bytes: Int)] = []

    /// Counts a function library.
    mutating func addFunction(_ code: Bytes) {
        functions.append((KeySource.libraryName(code) ?? "(unnamed)", code.count))
    }

    init(top: Int, separator: String, depth: Int, bySlot: Bool = false) {
        self.top = top
        self.separator = Array(separator.utf8)
        self.depth = depth
        if bySlot { self.bySlot = Array(repeating: Totals(), count: SlotKeyIndex.slotCount) }
    }

    /// The slots holding keys, by slot number.
    var usedSlots: [(slot: Int, totals: Totals)] {
        guard let bySlot else { return [] }
        return bySlot.indices.filter { bySlot[$0].keys > 0 }.map { ($0, bySlot[$0]) }
    }

    mutating func add(_ record: SnapshotRecord) {
        let memory = record.value.memoryUsage(keyBytes: record.key.count, hasDeadline: record.deadline != nil)
        let encoded = record.encodedBytes
        total.add(memory: memory, encoded: encoded)
        byType[record.value.typeName, default: Totals()].add(memory: memory, encoded: encoded)
        byDatabase[record.db, default: Totals()].add(memory: memory, encoded: encoded)
        if bySlot != nil { bySlot?[SlotKeyIndex.slot(of: record.key)].add(memory: memory, encoded: encoded) }
        var group = prefix(of: record.key)
        if byPrefix[group] == nil && byPrefix.count >= MemoryReport.maximumPrefixes {
            group = MemoryReport.otherPrefixes
        }
        byPrefix[group, default: Totals()].add(memory: memory, encoded: encoded)
        if biggest.count < top || memory > (biggest.last?.memory ?? 0) {
            let entry = BigKey(
                db: record.db, type: record.value.typeName, key: record.key.displayText, memory: memory,
                encoded: encoded, elements: record.value.elementCount)
            let position = biggest.firstIndex { $0.memory < memory } ?? biggest.count
            biggest.insert(entry, at: position)
            if biggest.count > top { biggest.removeLast() }
        }
    }

    /// The key's first `depth` parts by `separator`, followed by the separator and `*` when
    /// the key has more parts; the whole key when it has no more.
    func prefix(of key: Bytes) -> String {
        key.withUnsafeBytes { raw -> String in
            let bytes = Array(raw)
            guard !separator.isEmpty else { return key.displayText }
            var found = 0
            var index = 0
            while index + separator.count <= bytes.count {
                if Array(bytes[index..<(index + separator.count)]) == separator {
                    found += 1
                    if found == depth {
                        let head = Bytes(Array(bytes[..<(index + separator.count)]))
                        return head.displayText + "*"
                    }
                    index += separator.count
                } else {
                    index += 1
                }
            }
            return key.displayText
        }
    }

    /// The report in `format`.
    func render(_ format: OutputFormat) -> String {
        let prefixes = byPrefix.sorted {
            $0.value.memory > $1.value.memory || ($0.value.memory == $1.value.memory && $0.key < $1.key)
        }
        switch format {
        case .json:
            func totals(_ t: Totals) -> [String: Int] {
                ["keys": t.keys, "memory": t.memory, "encodedBytes": t.encoded]
            }
            var object: [String: Any] = [
                "total": totals(total),
                "types": byType.mapValues(totals),
                "databases": Dictionary(uniqueKeysWithValues: byDatabase.map { (String($0.key), totals($0.value)) }),
                "prefixes": prefixes.map {
                    [
                        "prefix": $0.key, "keys": $0.value.keys, "memory": $0.value.memory,
                        "encodedBytes": $0.value.encoded,
                    ]
                },
                "biggest": biggest.map {
                    [
                        "db": $0.db, "type": $0.type, "key": $0.key, "memory": $0.memory, "encodedBytes": $0.encoded,
                        "elements": $0.elements,
                    ] as [String: Any]
                },
            ]
            if !functions.isEmpty {
                object["functions"] = functions.map { ["library": $0.name, "bytes": $0.bytes] as [String: Any] }
            }
            if bySlot != nil {
                object["slots"] = usedSlots.map {
                    [
                        "slot": $0.slot, "keys": $0.totals.keys, "memory": $0.totals.memory,
                        "encodedBytes": $0.totals.encoded,
                    ]
                }
            }
            return jsonLine(object)
        case .csv:
            var lines = [csvLine(["section", "name", "keys", "memory", "encoded_bytes", "db", "type", "elements"])]
            func row(_ section: String, _ name: String, _ t: Totals) -> String {
                csvLine([section, name, String(t.keys), String(t.memory), String(t.encoded), "", "", ""])
            }
            lines.append(row("total", "all", total))
            for (type, t) in byType.sorted(by: { $0.key < $1.key }) { lines.append(row("type", type, t)) }
            for (db, t) in byDatabase.sorted(by: { $0.key < $1.key }) { lines.append(row("db", String(db), t)) }
            for (name, t) in prefixes { lines.append(row("prefix", name, t)) }
            for (slot, t) in usedSlots { lines.append(row("slot", String(slot), t)) }
            for library in functions {
                lines.append(csvLine(["function", library.name, "", "", String(library.bytes), "", "", ""]))
            }
            for key in biggest {
                lines.append(
                    csvLine([
                        "key", key.key, "1", String(key.memory), String(key.encoded), String(key.db), key.type,
                        String(key.elements),
                    ]))
            }
            return lines.joined(separator: "\n")
        case .table:
            func rows(_ title: String, _ items: [(String, Totals)]) -> String {
                var rows = [[title, "keys", "memory", "% of memory", "encoded"]]
                for (name, t) in items {
                    let share = total.memory > 0 ? Double(t.memory) * 100 / Double(total.memory) : 0
                    rows.append([
                        name, String(t.keys), humanBytes(t.memory), String(format: "%.1f%%", share),
                        humanBytes(t.encoded),
                    ])
                }
                return table(rows)
            }
            var out = [
                "\(total.keys) keys, \(humanBytes(total.memory)) in memory (Strata's estimate, as MEMORY USAGE), \(humanBytes(total.encoded)) encoded",
                "",
                rows("type", byType.sorted { $0.value.memory > $1.value.memory }.map { ($0.key, $0.value) }),
                "",
                rows("db", byDatabase.sorted { $0.key < $1.key }.map { ("db\($0.key)", $0.value) }),
                "",
                rows("prefix", prefixes.prefix(top).map { ($0.key, $0.value) }),
                "",
            ]
            if bySlot != nil {
                let slots = usedSlots
                let largest = slots.sorted {
                    $0.totals.memory > $1.totals.memory || ($0.totals.memory == $1.totals.memory && $0.slot < $1.slot)
                }
                out.append("\(slots.count) of \(SlotKeyIndex.slotCount) hash slots hold keys")
                out.append(rows("slot", largest.prefix(top).map { ("slot \($0.slot)", $0.totals) }))
                out.append("")
            }
            if !functions.isEmpty {
                var libraries = [["function library", "code"]]
                for library in functions { libraries.append([library.name, humanBytes(library.bytes)]) }
                out.append(table(libraries))
                out.append("")
            }
            var big = [["biggest keys", "db", "type", "memory", "encoded", "elements"]]
            for key in biggest {
                big.append([
                    key.key, String(key.db), key.type, humanBytes(key.memory), humanBytes(key.encoded),
                    String(key.elements),
                ])
            }
            out.append(table(big))
            return out.joined(separator: "\n")
        }
    }
}
