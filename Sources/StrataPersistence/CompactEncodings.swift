//! Decoders for the compact blobs Redis stores inside RDB values: ziplist (Redis ≤ 6.2),
//! listpack (7.0), intset and zipmap. Each returns the elements as byte strings (integers
//! in their decimal form), checking every length against the blob so a damaged blob is
//! an error rather than an out-of-bounds read.

import StrataEngine

enum CompactEncodings {
    struct Damaged: Error {
        let reason: String
    }

    /// The `n`-byte little-endian signed integer at `at` (bounds checked by the caller).
    static func signedLittleEndian(_ blob: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> Int64 {
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(blob[at + k]) << (8 * UInt64(k)) }
        let shift = UInt64(64 - 8 * n)
        return Int64(bitPattern: v << shift) >> Int64(shift)
    }

    /// The entries of a listpack.
    static func listpack(_ blob: UnsafeRawBufferPointer) throws -> [Bytes] {
        guard blob.count >= 7 else { throw Damaged(reason: "listpack shorter than its header") }
        var out: [Bytes] = []
        var p = 6
        while true {
            guard p < blob.count else { throw Damaged(reason: "listpack without end marker") }
            let b = blob[p]
            if b == 0xFF { break }
            let start = p
            func need(_ n: Int) throws {
                guard p + n <= blob.count else { throw Damaged(reason: "listpack entry overruns the blob") }
            }
            if b & 0x80 == 0 {
                out.append(Bytes(Int(b & 0x7F)))
                p += 1
            } else if b & 0xC0 == 0x80 {
                let n = Int(b & 0x3F)
                try need(1 + n)
                out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[(p + 1)..<(p + 1 + n)])))
                p += 1 + n
            } else if b & 0xE0 == 0xC0 {
                try need(2)
                let raw = (Int(b & 0x1F) << 8) | Int(blob[p + 1])
                out.append(Bytes(raw >= 1 << 12 ? raw - (1 << 13) : raw))
                p += 2
            } else if b & 0xF0 == 0xE0 {
                try need(2)
                let n = (Int(b & 0x0F) << 8) | Int(blob[p + 1])
                try need(2 + n)
                out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[(p + 2)..<(p + 2 + n)])))
                p += 2 + n
            } else {
                switch b {
                case 0xF0:
                    try need(5)
                    let n = Int(UInt32(truncatingIfNeeded: signedLittleEndian(blob, p + 1, 4)))
                    try need(5 + n)
                    out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[(p + 5)..<(p + 5 + n)])))
                    p += 5 + n
                case 0xF1, 0xF2, 0xF3, 0xF4:
                    let width = [0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8][Int(b)] ?? 8
                    try need(1 + width)
                    out.append(Bytes(Int(signedLittleEndian(blob, p + 1, width))))
                    p += 1 + width
                default:
                    throw Damaged(reason: "unknown listpack encoding 0x\(String(b, radix: 16))")
                }
            }
            let length = p - start
            p += length < 128 ? 1 : length < 16383 ? 2 : length < 2_097_151 ? 3 : length < 268_435_455 ? 4 : 5
        }
        return out
    }

    /// The entries of a ziplist.
    static func ziplist(_ blob: UnsafeRawBufferPointer) throws -> [Bytes] {
        guard blob.count >= 11 else { throw Damaged(reason: "ziplist shorter than its header") }
        var out: [Bytes] = []
        var p = 10
        while true {
            guard p < blob.count else { throw Damaged(reason: "ziplist without end marker") }
            if blob[p] == 0xFF { break }
            p += blob[p] == 0xFE ? 5 : 1  // previous entry length
            guard p < blob.count else { throw Damaged(reason: "ziplist entry overruns the blob") }
            let b = blob[p]
            func need(_ n: Int) throws {
                guard p + n <= blob.count else { throw Damaged(reason: "ziplist entry overruns the blob") }
            }
            switch b >> 6 {
            case 0:
                let n = Int(b & 0x3F)
                try need(1 + n)
                out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[(p + 1)..<(p + 1 + n)])))
                p += 1 + n
            case 1:
                try need(2)
                let n = (Int(b & 0x3F) << 8) | Int(blob[p + 1])
                try need(2 + n)
                out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[(p + 2)..<(p + 2 + n)])))
                p += 2 + n
            case 2:
                try need(5)
                var n = 0
                for k in 1...4 { n = (n << 8) | Int(blob[p + k]) }
                try need(5 + n)
                out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[(p + 5)..<(p + 5 + n)])))
                p += 5 + n
            default:
                let widths: [UInt8: Int] = [0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1]
                if let width = widths[b] {
                    try need(1 + width)
                    out.append(Bytes(Int(signedLittleEndian(blob, p + 1, width))))
                    p += 1 + width
                } else if b >= 0xF1 && b <= 0xFD {
                    out.append(Bytes(Int(b & 0x0F) - 1))
                    p += 1
                } else {
                    throw Damaged(reason: "unknown ziplist encoding 0x\(String(b, radix: 16))")
                }
            }
        }
        return out
    }

    /// The members of an intset.
    static func intset(_ blob: UnsafeRawBufferPointer) throws -> [Bytes] {
        guard blob.count >= 8 else { throw Damaged(reason: "intset shorter than its header") }
        let width = Int(UInt32(littleEndian: blob.loadUnaligned(as: UInt32.self)))
        let count = Int(UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard [2, 4, 8].contains(width), 8 + width * count == blob.count else {
            throw Damaged(reason: "intset size does not match its header")
        }
        return (0..<count).map { i in
            let at = 8 + i * width
            switch width {
            case 2: return Bytes(Int(Int16(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int16.self))))
            case 4: return Bytes(Int(Int32(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int32.self))))
            default: return Bytes(Int(Int64(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int64.self))))
            }
        }
    }

    /// The fields and values of a zipmap (Redis ≤ 2.4 hashes), flattened.
    static func zipmap(_ blob: UnsafeRawBufferPointer) throws -> [Bytes] {
        var out: [Bytes] = []
        var p = 1
        func length() throws -> Int {
            guard p < blob.count else { throw Damaged(reason: "zipmap overruns the blob") }
            let b = blob[p]
            if b < 254 {
                p += 1
                return Int(b)
            }
            guard b == 254, p + 5 <= blob.count else { throw Damaged(reason: "zipmap length damaged") }
            let n = Int(UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: p + 1, as: UInt32.self)))
            p += 5
            return n
        }
        while p < blob.count && blob[p] != 0xFF {
            let fieldLength = try length()
            guard p + fieldLength <= blob.count else { throw Damaged(reason: "zipmap overruns the blob") }
            out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[p..<(p + fieldLength)])))
            p += fieldLength
            let valueLength = try length()
            guard p < blob.count else { throw Damaged(reason: "zipmap overruns the blob") }
            let free = Int(blob[p])
            p += 1
            guard p + valueLength + free <= blob.count else { throw Damaged(reason: "zipmap overruns the blob") }
            out.append(Bytes(UnsafeRawBufferPointer(rebasing: blob[p..<(p + valueLength)])))
            p += valueLength + free
        }
        return out
    }
}
