//! Redis's CRC-64 (Jones polynomial, reflected, initial value 0, no final xor), the
//! checksum at the end of every RDB stream. Check value: "123456789" → 0xe9c6d914c4b8d9ca.
//! Slicing by eight: eight table lookups per eight input bytes.

/// A running CRC-64 as Redis computes it.
public struct CRC64: Sendable {
    /// The checksum of the bytes so far.
    public private(set) var value: UInt64 = 0

    /// A checksum of nothing yet.
    public init() {}

    /// Eight tables of 256 entries; `tables[0]` is the classic byte-at-a-time table.
    private static let tables: [[UInt64]] = {
        let polynomial: UInt64 = 0x95AC_9329_AC4B_C9B5  // 0xad93d23594c935a9 reflected
        var first = [UInt64](repeating: 0, count: 256)
        for i in 0..<256 {
            var crc = UInt64(i)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            first[i] = crc
        }
        var tables = [first]
        for k in 1..<8 {
            tables.append(
                (0..<256).map { i in
                    let previous = tables[k - 1][i]
                    return first[Int(previous & 0xFF)] ^ (previous >> 8)
                })
        }
        return tables
    }()

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = value
        var index = 0
        let count = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
            while index + 8 <= count {
                let word = crc ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                crc =
                    t7[Int(word & 0xFF)] ^ t6[Int((word >> 8) & 0xFF)] ^ t5[Int((word >> 16) & 0xFF)]
                    ^ t4[Int((word >> 24) & 0xFF)] ^ t3[Int((word >> 32) & 0xFF)] ^ t2[Int((word >> 40) & 0xFF)]
                    ^ t1[Int((word >> 48) & 0xFF)] ^ t0[Int(word >> 56)]
                index += 8
            }
            while index < count {
                crc = t0[Int((crc ^ UInt64(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        value = crc
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }
}
