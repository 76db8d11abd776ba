//! The integer arithmetic behind BITFIELD: reading and writing an integer of 1 to 64 bits
//! at any bit offset of a byte buffer (most significant bit first, as SETBIT numbers
//! bits), and Redis 7.0's overflow rules for WRAP, SAT and FAIL. The overflow checks keep
//! Redis's formulas, computed with wrapping operators where Redis relies on two's
//! complement, so that edge cases (a SET of a value far below a narrow type's minimum,
//! i64 limits) classify and saturate exactly as Redis does.

/// What BITFIELD does when a SET or INCRBY leaves the type's range.
public enum BitFieldOverflow: Sendable, Equatable {
    /// Wrap around modulo 2^bits (the default).
    case wrap
    /// Saturate at the type's minimum or maximum.
    case saturate
    /// Refuse the operation: nothing is written and the reply is nil.
    case fail
}

/// An integer type of a BITFIELD operation: `i1`...`i64` or `u1`...`u63`.
public struct BitFieldType: Sendable, Equatable {
    /// Whether values are two's complement signed.
    public let signed: Bool
    /// The width in bits.
    public let bits: Int

    /// A type; nil when the width is not allowed (1...64 signed, 1...63 unsigned).
    public init?(signed: Bool, bits: Int) {
        guard bits >= 1, bits <= (signed ? 64 : 63) else { return nil }
        self.signed = signed
        self.bits = bits
    }

    /// Parses `i16`, `u8`...: a lowercase `i` or `u` and a width in Redis's strict integer
    /// form. As Redis reads the width as a C string, it ends at the first NUL byte.
    public init?(parsing argument: Bytes) {
        // One pass over the raw bytes. Reading them through `Bytes`'s subscript here was
        // miscompiled by the whole-module optimizer of Swift 6.3 (every type refused in
        // release builds only; the differential e2e test caught it).
        let parsed = argument.withUnsafeBytes { raw -> (signed: Bool, bits: Int)? in
            guard let head = raw.first, head == UInt8(ascii: "i") || head == UInt8(ascii: "u") else { return nil }
            let digits = raw.dropFirst().prefix { $0 != 0 }
            guard let width = Bytes.strictInteger(UnsafeRawBufferPointer(rebasing: digits)) else { return nil }
            return (head == UInt8(ascii: "i"), width)
        }
        guard let parsed else { return nil }
        self.init(signed: parsed.signed, bits: parsed.bits)
    }
}

/// Reads and writes BITFIELD integers in a byte buffer, with Redis's overflow rules.
public enum BitFieldArithmetic {
    /// The `bits`-wide unsigned integer at bit `offset` of `bytes`. Bits past the end of
    /// the buffer read as zero.
    public static func unsignedValue(_ bytes: UnsafeRawBufferPointer, offset: Int, bits: Int) -> UInt64 {
        if let span = Span(offset: offset, bits: bits), span.last < bytes.count {
            var word: UInt64 = 0
            for index in span.first...span.last { word = word << 8 | UInt64(bytes[index]) }
            return (word >> UInt64(span.shift)) & span.mask
        }
        var value: UInt64 = 0
        var bit = offset
        for _ in 0..<bits {
            let byteIndex = bit >> 3
            var set: UInt64 = 0
            if byteIndex < bytes.count {
                set = UInt64((bytes[byteIndex] >> UInt8(7 - (bit & 7))) & 1)
            }
            value = (value << 1) | set
            bit += 1
        }
        return value
    }

    /// The `bits`-wide two's complement integer at bit `offset` of `bytes`.
    public static func signedValue(_ bytes: UnsafeRawBufferPointer, offset: Int, bits: Int) -> Int64 {
        let raw = unsignedValue(bytes, offset: offset, bits: bits)
        var value = Int64(bitPattern: raw)
        if bits < 64 && raw & (UInt64(1) << UInt64(bits - 1)) != 0 {
            value |= Int64(bitPattern: UInt64.max << UInt64(bits))
        }
        return value
    }

    /// Writes the low `bits` bits of `value` at bit `offset` of `bytes`, which must be long
    /// enough.
    public static func store(_ value: UInt64, into bytes: UnsafeMutableRawBufferPointer, offset: Int, bits: Int) {
        if let span = Span(offset: offset, bits: bits) {
            var word: UInt64 = 0
            for index in span.first...span.last { word = word << 8 | UInt64(bytes[index]) }
            let mask = span.mask << UInt64(span.shift)
            word = (word & ~mask) | ((value << UInt64(span.shift)) & mask)
            for index in (span.first...span.last).reversed() {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
            return
        }
        var bit = offset
        for index in 0..<bits {
            let set = (value >> UInt64(bits - 1 - index)) & 1 != 0
            let byteIndex = bit >> 3
            let mask = UInt8(0x80) >> UInt8(bit & 7)
            if set { bytes[byteIndex] |= mask } else { bytes[byteIndex] &= ~mask }
            bit += 1
        }
    }

    /// The bytes a field covers when they fit one 64-bit word (at most 8 bytes): read as a
    /// big-endian word, the field is `mask` shifted left by `shift`. A field that would
    /// need a ninth byte (more than 57 bits at an unaligned offset) goes bit by bit.
    struct Span {
        let first: Int
        let last: Int
        let shift: Int
        let mask: UInt64

        init?(offset: Int, bits: Int) {
            let lead = offset & 7
            guard bits >= 1, lead + bits <= 64 else { return nil }
            let count = (lead + bits + 7) >> 3
            first = offset >> 3
            last = first + count - 1
            shift = count * 8 - lead - bits
            mask = bits == 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
        }
    }

    /// Redis's unsigned overflow check of `value + increment` for a type of `bits`
    /// (at most 63): nil when it fits, else the value to write under `overflow` (the
    /// wrapped or saturated value; unused for FAIL).
    public static func unsignedOverflow(
        _ value: UInt64, _ increment: Int64, bits: Int, _ overflow: BitFieldOverflow
    ) -> UInt64? {
        let max: UInt64 = bits == 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
        let maxIncrement = Int64(bitPattern: max &- value)
        let minIncrement = Int64(bitPattern: 0 &- value)
        let wrapped = (value &+ UInt64(bitPattern: increment)) & ~(UInt64.max << UInt64(bits))
        if value > max || (increment > 0 && increment > maxIncrement) {
            return overflow == .saturate ? max : wrapped
        }
        if increment < 0 && increment < minIncrement {
            return overflow == .saturate ? 0 : wrapped
        }
        return nil
    }

    /// Redis's signed overflow check of `value + increment` for a type of `bits`: nil when
    /// it fits, else the value to write under `overflow` (unused for FAIL).
    public static func signedOverflow(
        _ value: Int64, _ increment: Int64, bits: Int, _ overflow: BitFieldOverflow
    ) -> Int64? {
        let max: Int64 = bits == 64 ? Int64.max : (Int64(1) << Int64(bits - 1)) - 1
        let min = -max - 1
        // As Redis, both limits may wrap; they are only consulted where they cannot.
        let maxIncrement = Int64(bitPattern: UInt64(bitPattern: max) &- UInt64(bitPattern: value))
        let minIncrement = min &- value
        if value > max || (bits != 64 && increment > maxIncrement)
            || (value >= 0 && increment > 0 && increment > maxIncrement)
        {
            return overflow == .saturate ? max : wrap(value, increment, bits: bits)
        }
        if value < min || (bits != 64 && increment < minIncrement)
            || (value < 0 && increment < 0 && increment < minIncrement)
        {
            return overflow == .saturate ? min : wrap(value, increment, bits: bits)
        }
        return nil
    }

    /// `value + increment` modulo 2^bits, sign-extended from the type's top bit.
    static func wrap(_ value: Int64, _ increment: Int64, bits: Int) -> Int64 {
        var sum = UInt64(bitPattern: value) &+ UInt64(bitPattern: increment)
        if bits < 64 {
            let high = UInt64.max << UInt64(bits)
            if sum & (UInt64(1) << UInt64(bits - 1)) != 0 { sum |= high } else { sum &= ~high }
        }
        return Int64(bitPattern: sum)
    }
}
