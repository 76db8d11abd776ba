//! Bytes as lowercase hex digits, as Redis prints digests and password hashes (DEBUG
//! DIGEST, SHA-1 script names, ACL password hashes): one place for the two-digit table.

extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hex, two digits each.
    public var lowercaseHex: String {
        let digits: StaticString = "0123456789abcdef"
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits.utf8Start[Int(byte >> 4)])
            text.append(digits.utf8Start[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
