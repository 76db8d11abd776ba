//! SHA-1, for the script cache's keys (`redis.sha1hex`, EVALSHA). Not for security: Redis
//! names scripts by the SHA-1 of their body, so Strata must compute the same digest.

import StrataEngine

/// SHA-1 digests.
public enum SHA1 {
    /// The 20-byte digest of `data`.
    public static func digest(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
            0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
        )
        var block = [UInt8](repeating: 0, count: 64)
        var words = [UInt32](repeating: 0, count: 80)
        let bitLength = UInt64(data.count) &* 8
        // The padded message: data, 0x80, zeros, 64-bit big-endian length.
        let paddedCount = ((data.count + 8) / 64 + 1) * 64
        var offset = 0
        while offset < paddedCount {
            for i in 0..<64 {
                let position = offset + i
                if position < data.count {
                    block[i] = data[position]
                } else if position == data.count {
                    block[i] = 0x80
                } else if position >= paddedCount - 8 {
                    block[i] = UInt8(truncatingIfNeeded: bitLength >> (UInt64(paddedCount - 1 - position) * 8))
                } else {
                    block[i] = 0
                }
            }
            for t in 0..<16 {
                words[t] =
                    UInt32(block[t * 4]) << 24 | UInt32(block[t * 4 + 1]) << 16 | UInt32(block[t * 4 + 2]) << 8
                    | UInt32(block[t * 4 + 3])
            }
            for t in 16..<80 {
                let x = words[t - 3] ^ words[t - 8] ^ words[t - 14] ^ words[t - 16]
                words[t] = (x << 1) | (x >> 31)
            }
            var (a, b, c, d, e) = h
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let temp = ((a << 5) | (a >> 27)) &+ f &+ e &+ k &+ words[t]
                e = d
                d = c
                c = (b << 30) | (b >> 2)
                b = a
                a = temp
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
            offset += 64
        }
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for word in [h.0, h.1, h.2, h.3, h.4] {
            out += [
                UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8),
                UInt8(truncatingIfNeeded: word),
            ]
        }
        return out
    }

    /// The digest as 40 lower-case hex digits.
    public static func hex(_ data: UnsafeRawBufferPointer) -> String { digest(data).lowercaseHex }
}
