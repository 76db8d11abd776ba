//! A set of hash slots as 16,384 bits. On the cluster bus the bits travel as 2,048 bytes
//! where slot `s` is bit `s % 8` of byte `s / 8` (Redis's `bitmapTestBit`); held here as
//! 256 words where slot `s` is bit `s % 64` of word `s / 64`, which is the same layout
//! read little-endian.

/// A set of hash slots.
public struct SlotBitmap: Equatable, Sendable {
    private var words: [UInt64]

    /// The size of the bitmap on the bus.
    public static let byteCount = HashSlot.count / 8

    /// No slots.
    public init() {
        words = Array(repeating: 0, count: HashSlot.count / 64)
    }

    /// The bitmap in its bus layout (exactly ``byteCount`` bytes).
    public init(busBytes: UnsafeRawBufferPointer) {
        self.init()
        precondition(busBytes.count == SlotBitmap.byteCount)
        for w in 0..<words.count {
            var word: UInt64 = 0
            for b in 0..<8 { word |= UInt64(busBytes[w * 8 + b]) << (8 * UInt64(b)) }
            words[w] = word
        }
    }

    /// Appends the bitmap in its bus layout to `out`.
    public func appendBusBytes(to out: inout [UInt8]) {
        for word in words {
            for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(b)))) }
        }
    }

    /// Whether `slot` is in the set.
    public func contains(_ slot: Int) -> Bool {
        words[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }

    /// Adds or removes `slot`.
    public mutating func set(_ slot: Int, _ present: Bool) {
        if present {
            words[slot >> 6] |= 1 << UInt64(slot & 63)
        } else {
            words[slot >> 6] &= ~(1 << UInt64(slot & 63))
        }
    }

    /// The number of slots in the set.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Whether no slot is in the set.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The slots in the set as ascending runs of consecutive slots (a word at a time:
    /// `nodes.conf` is written after every slot change, with each node's runs).
    public var ranges: [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        var start: Int?
        var slot = 0
        while slot < HashSlot.count {
            let word = words[slot >> 6]
            let bit = slot & 63
            let rest = word >> UInt64(bit)
            if start == nil {
                if rest == 0 {
                    slot = (slot | 63) + 1
                    continue
                }
                slot += rest.trailingZeroBitCount
                start = slot
            } else {
                let ones = (~rest).trailingZeroBitCount
                if ones >= 64 - bit {
                    slot = (slot | 63) + 1
                    continue
                }
                slot += ones
                if let first = start { result.append(first...(slot - 1)) }
                start = nil
            }
        }
        if let first = start { result.append(first...(HashSlot.count - 1)) }
        return result
    }
}
