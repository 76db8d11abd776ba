//! One value in the RDB encoding Redis 7.0 gives it in memory and therefore writes: lists
//! as a quicklist of listpack nodes (type 18), sets of integers as an intset (11), small
//! hashes and sorted sets as listpacks (16, 17) and larger ones as plain records (4, and 5
//! with the highest score first, as Redis walks its skiplist from the tail). The encoding
//! follows Strata's own `OBJECT ENCODING`, which applies Redis's thresholds, so a `DUMP`
//! of a small value has the bytes Redis's has. Snapshots keep the plain records of
//! `RDBEncoder.entry` (every Redis loads them); this form is for `DUMP` payloads.

import StrataEngine

extension RDBEncoder {
    /// Largest listpack node of a dumped list, as Redis's default `list-max-listpack-size -2`.
    static let listNodeBytes = 8192

    /// The type byte and the encoded value.
    mutating func dumpValue(_ value: Value) {
        switch value {
        case .shortString, .longString, .rawString, .integer:
            byte(RDB.typeString)
            if case .integer(let n) = value, integer(n) { break }
            string(value.stringBytes ?? Bytes())
        case .list(let list):
            byte(RDB.typeListQuicklist2)
            let nodes = Self.listNodes(list.elements)
            length(nodes.count)
            for node in nodes {
                length(2)  // a packed (listpack) node
                string(Bytes(node))
            }
        case .set(let set) where set.encodingName == "intset":
            byte(RDB.typeSetIntset)
            string(Bytes(Self.intset(set.members.compactMap { $0.strictInteger })))
        case .hash(let hash) where hash.encodingName == "listpack":
            byte(RDB.typeHashListpack)
            var writer = ListpackWriter()
            for entry in hash.entries {
                writer.appendElement(entry.field)
                writer.appendElement(entry.value)
            }
            string(Bytes(writer.bytes))
        case .sortedSet(let zset) where zset.encodingName == "listpack":
            byte(RDB.typeZSetListpack)
            var writer = ListpackWriter()
            for item in zset.all {
                writer.appendElement(item.member)
                writer.appendElement(Bytes(NumberFormat.double(item.score)))
            }
            string(Bytes(writer.bytes))
        case .sortedSet(let zset):
            byte(RDB.typeZSet2)
            length(zset.count)
            for item in zset.all.reversed() {
                string(item.member)
                withUnsafeBytes(of: item.score.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        case .set, .hash:
            // Plain records, as `entry` writes them (without the key).
            var plain = RDBEncoder()
            plain.entry(key: Bytes(), value: value, deadline: nil)
            bytes.append(plain.bytes[0])
            bytes.append(contentsOf: plain.bytes[2...])  // after the type byte and the empty key
        case .stream(let storage):
            byte(RDB.typeStreamListpacks2)
            stream(storage.stream)
        }
    }

    /// The listpack nodes of a list: a new node once the current one would pass
    /// ``listNodeBytes`` (a node always takes at least one element).
    static func listNodes<C: Collection>(_ elements: C) -> [[UInt8]] where C.Element == Bytes {
        var nodes: [[UInt8]] = []
        var writer = ListpackWriter()
        for element in elements {
            if writer.count > 0 && writer.body.count + element.count + 11 > listNodeBytes {
                nodes.append(writer.bytes)
                writer = ListpackWriter()
            }
            writer.appendElement(element)
        }
        if writer.count > 0 { nodes.append(writer.bytes) }
        return nodes
    }

    /// An intset (Redis's `intset.c` layout): the width of every value (2, 4 or 8 bytes),
    /// the count, then the values ascending, little-endian.
    static func intset(_ values: [Int]) -> [UInt8] {
        let sorted = values.sorted()
        let width: Int
        if sorted.allSatisfy({ Int16(exactly: $0) != nil }) {
            width = 2
        } else if sorted.allSatisfy({ Int32(exactly: $0) != nil }) {
            width = 4
        } else {
            width = 8
        }
        var out: [UInt8] = []
        out.reserveCapacity(8 + width * sorted.count)
        withUnsafeBytes(of: UInt32(width).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: sorted.count).littleEndian) { out.append(contentsOf: $0) }
        for value in sorted {
            withUnsafeBytes(of: Int64(value).littleEndian) { out.append(contentsOf: $0.prefix(width)) }
        }
        return out
    }
}

extension ListpackWriter {
    /// Appends an element as Redis's `lpAppend` does: as an integer entry when the bytes
    /// are the canonical decimal form of a 64-bit integer, else as a string entry.
    mutating func appendElement(_ element: Bytes) {
        if let n = element.strictInteger {
            append(Int64(n))
        } else {
            append(element)
        }
    }
}
