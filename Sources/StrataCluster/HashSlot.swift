//! Key to hash slot, as Redis Cluster computes it: CRC16 (the XMODEM variant: polynomial
//! 0x1021, initial value 0, no reflection) of the key modulo 16,384. When the key holds a
//! `{...}` with at least one byte between the first `{` and the next `}`, only those bytes
//! are hashed, so that keys sharing a tag share a slot and multi-key commands can use them
//! together. The table is computed once from the polynomial rather than written out.

/// Hash slots of Redis Cluster.
public enum HashSlot {
    /// The number of hash slots.
    public static let count = 16_384

    /// The slot of `key`.
    public static func of(_ key: UnsafeRawBufferPointer) -> Int {
        let tagged = hashTag(key)
        return Int(crc16(UnsafeRawBufferPointer(rebasing: key[tagged])) & 0x3FFF)
    }

    /// The slot of `key`.
    public static func of<C: Collection>(_ key: C) -> Int where C.Element == UInt8 {
        let bytes = Array(key)
        return bytes.withUnsafeBytes { of($0) }
    }

    /// The range of `key` that is hashed: the bytes between the first `{` and the `}`
    /// after it when there is at least one, else the whole key.
    static func hashTag(_ key: UnsafeRawBufferPointer) -> Range<Int> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return 0..<key.count }
        guard let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 else {
            return 0..<key.count
        }
        return (open + 1)..<close
    }

    /// CRC16/XMODEM of `bytes`.
    public static func crc16(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(truncatingIfNeeded: (crc >> 8) ^ UInt16(byte))]
        }
        return crc
    }

    /// CRC16/XMODEM of every byte value, one step of the shift register each.
    private static let table: [UInt16] = (0..<256).map { value in
        var crc = UInt16(value) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
