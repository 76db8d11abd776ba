//! Base64 keys of memcached's meta commands (the `b` flag): decoded as memcached 1.6's
//! decoder decodes them, which is lenient, and encoded in standard padded form for the
//! `k` flag's echo.
//!
//! The decoder skips every byte outside the alphabet (`A-Z a-z 0-9 + / =`); what remains
//! must be a non-empty multiple of four. Groups decode in turn until the first one holding
//! padding: one `=` drops one byte, two drop two, more is an error, and decoding stops
//! there (anything after that group is ignored). An empty result is an error.

/// memcached's base64 for meta-command keys.
public enum MemcachedBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Each byte's 6-bit value; 0xFF outside the alphabet, 0xFE for `=`.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        table[Int(UInt8(ascii: "="))] = 0xFE
        return table
    }()

    /// The bytes `text` encodes, nil when memcached's decoder refuses it.
    public static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        let kept = text.filter { values[Int($0)] != 0xFF }
        guard !kept.isEmpty, kept.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(kept.count / 4 * 3)
        var index = 0
        while index < kept.count {
            let group = kept[index..<index + 4].map { values[Int($0)] }
            let pads = group.filter { $0 == 0xFE }.count
            let digits = group.map { $0 == 0xFE ? 0 : UInt32($0) }
            let bits = digits[0] << 18 | digits[1] << 12 | digits[2] << 6 | digits[3]
            let bytes = [
                UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 8),
                UInt8(truncatingIfNeeded: bits),
            ]
            if pads > 0 {
                guard pads <= 2 else { return nil }
                out += bytes.prefix(3 - pads)
                break
            }
            out += bytes
            index += 4
        }
        return out.isEmpty ? nil : out
    }

    /// `bytes` in standard base64 with `=` padding.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var bits: UInt32 = 0
            for offset in 0..<3 {
                bits <<= 8
                if offset < count { bits |= UInt32(bytes[index + offset]) }
            }
            for position in 0..<4 {
                if position <= count {
                    out.append(alphabet[Int((bits >> UInt32(18 - 6 * position)) & 0x3F)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return out
    }
}
