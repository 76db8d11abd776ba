//! Writes Redis's RDB encoding: lengths, strings (integer-encoded when short integers),
//! and one record per key in the plain types every Redis since 2.x loads — string, list,
//! set, hash, and sorted set with binary scores (`ZSET_2`). Compact encodings are left to
//! the loader (Redis converts small collections to listpack/intset as it loads), and
//! compression to the snapshot frames.

import StrataEngine

/// Appends RDB-encoded data to a byte buffer.
struct RDBEncoder {
    /// The encoded bytes so far.
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// A length: 6, 14, 32 or 64 bits.
    mutating func length(_ value: Int) {
        let n = UInt64(value)
        if n < 1 << 6 {
            bytes.append(UInt8(n))
        } else if n < 1 << 14 {
            bytes.append(0x40 | UInt8(n >> 8))
            bytes.append(UInt8(n & 0xFF))
        } else if n <= UInt64(UInt32.max) {
            bytes.append(0x80)
            withUnsafeBytes(of: UInt32(n).bigEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.append(0x81)
            withUnsafeBytes(of: n.bigEndian) { bytes.append(contentsOf: $0) }
        }
    }

    /// A string: integer-encoded when it is the canonical form of a 32-bit integer.
    mutating func string(_ value: Bytes) {
        if value.count <= 11, let n = value.strictInteger, integer(n) { return }
        length(value.count)
        value.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// An integer in the shortest RDB integer encoding; false when it needs more than 32 bits.
    mutating func integer(_ n: Int) -> Bool {
        if n >= Int(Int8.min) && n <= Int(Int8.max) {
            bytes.append(0xC0 | RDB.encodingInt8)
            bytes.append(UInt8(bitPattern: Int8(n)))
        } else if n >= Int(Int16.min) && n <= Int(Int16.max) {
            bytes.append(0xC0 | RDB.encodingInt16)
            withUnsafeBytes(of: Int16(n).littleEndian) { bytes.append(contentsOf: $0) }
        } else if n >= Int(Int32.min) && n <= Int(Int32.max) {
            bytes.append(0xC0 | RDB.encodingInt32)
            withUnsafeBytes(of: Int32(n).littleEndian) { bytes.append(contentsOf: $0) }
        } else {
            return false
        }
        return true
    }

    /// The file header, `REDIS0010`.
    mutating func header() {
        bytes.append(contentsOf: Array("REDIS00\(RDB.writtenVersion)".utf8))
    }

    /// An auxiliary field.
    mutating func aux(_ key: String, _ value: String) {
        bytes.append(RDB.opAux)
        string(Bytes(key))
        string(Bytes(value))
    }

    /// `SELECTDB` and, when sizes are known, `RESIZEDB`.
    mutating func selectDB(_ index: Int, keys: Int? = nil, expires: Int = 0) {
        bytes.append(RDB.opSelectDB)
        length(index)
        if let keys {
            bytes.append(RDB.opResizeDB)
            length(keys)
            length(expires)
        }
    }

    /// One key: its deadline, type byte, name and value.
    mutating func entry(key: Bytes, value: Value, deadline: Int64?) {
        if let deadline {
            bytes.append(RDB.opExpireTimeMs)
            withUnsafeBytes(of: deadline.littleEndian) { bytes.append(contentsOf: $0) }
        }
        switch value {
        case .shortString, .longString, .rawString, .integer:
            bytes.append(RDB.typeString)
            string(key)
            if case .integer(let n) = value, integer(n) { break }
            string(value.stringBytes ?? Bytes())
        case .list(let list):
            bytes.append(RDB.typeList)
            string(key)
            length(list.count)
            for element in list.elements { string(element) }
        case .set(let set):
            bytes.append(RDB.typeSet)
            string(key)
            length(set.count)
            for member in set.members { string(member) }
        case .hash(let hash):
            bytes.append(RDB.typeHash)
            string(key)
            let entries = hash.entries
            length(entries.count)
            for entry in entries {
                string(entry.field)
                string(entry.value)
            }
        case .sortedSet(let zset):
            bytes.append(RDB.typeZSet2)
            string(key)
            length(zset.count)
            for item in zset.all {
                string(item.member)
                withUnsafeBytes(of: item.score.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        case .stream(let storage):
            bytes.append(RDB.typeStreamListpacks2)
            string(key)
            stream(storage.stream)
        }
    }

    /// `EOF` and the CRC-64 of everything before it (including the EOF byte), or zeros
    /// when checksums are off (`rdbchecksum no`).
    mutating func end(checksum: inout CRC64, enabled: Bool) {
        bytes.append(RDB.opEOF)
        checksum.update(bytes)
        let crc = enabled ? checksum.value : 0
        withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
