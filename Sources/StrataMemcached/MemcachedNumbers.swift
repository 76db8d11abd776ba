//! Numbers in memcached's text protocol are read with C's `strtoul`/`strtol`/`strtoull`
//! and memcached's checks around them (`safe_strtoul`, `safe_strtol`, `safe_strtoull`),
//! whose quirks clients can see: leading white space and a sign are accepted, `-0` is 0,
//! a negative number is refused only when it wraps to a huge unsigned one, and flags wider
//! than 32 bits keep their low 32 bits. Every step here is checked arithmetic.

public enum MemcachedNumbers {
    /// C's `isspace` in the "C" locale.
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// What `strtoull` reads from `token`: the value (wrapped as C wraps a negated one),
    /// whether it overflowed (ERANGE), whether a `-` came first, and whether the digits
    /// run to the end of the token or stop at white space (memcached's end check).
    private static func scan(_ token: ArraySlice<UInt8>) -> (value: UInt64, overflow: Bool, negative: Bool, valid: Bool)
    {
        var index = token.startIndex
        while index < token.endIndex && isSpace(token[index]) { index += 1 }
        var negative = false
        if index < token.endIndex && (token[index] == UInt8(ascii: "+") || token[index] == UInt8(ascii: "-")) {
            negative = token[index] == UInt8(ascii: "-")
            index += 1
        }
        let digitsStart = index
        var value: UInt64 = 0
        var overflow = false
        while index < token.endIndex, (48...57).contains(token[index]) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(token[index] - 48))
            if o1 || o2 { overflow = true }
            value = sum
            index += 1
        }
        guard index > digitsStart else { return (0, false, negative, false) }
        let ends = index == token.endIndex || isSpace(token[index])
        if negative { value = 0 &- value }
        return (value, overflow, negative, ends)
    }

    /// `safe_strtoul` into a 32-bit value (memcached's flags): the low 32 bits of what
    /// `strtoul` read; nil where memcached refuses the token.
    static func flags(_ token: ArraySlice<UInt8>) -> UInt32? {
        let scanned = scan(token)
        guard scanned.valid, !scanned.overflow else { return nil }
        if Int64(bitPattern: scanned.value) < 0 && scanned.negative { return nil }
        return UInt32(truncatingIfNeeded: scanned.value)
    }

    /// `safe_strtoull` (deltas, CAS uniques); nil where memcached refuses the token.
    static func unsigned64(_ token: ArraySlice<UInt8>) -> UInt64? {
        let scanned = scan(token)
        guard scanned.valid, !scanned.overflow else { return nil }
        if Int64(bitPattern: scanned.value) < 0 && scanned.negative { return nil }
        return scanned.value
    }

    /// `safe_strtol` into a 32-bit value (exptimes, data lengths): refused above
    /// `Int32.max` or outside a long; below `Int32.min` it wraps, as C's conversion does.
    static func signed32(_ token: ArraySlice<UInt8>) -> Int32? {
        let scanned = scan(token)
        guard scanned.valid, !scanned.overflow else { return nil }
        // strtol: the magnitude must fit a long (a negative one may reach -2^63).
        let magnitude = scanned.negative ? 0 &- scanned.value : scanned.value
        if scanned.negative ? magnitude > UInt64(1) << 63 : magnitude > UInt64(Int64.max) { return nil }
        let value = Int64(bitPattern: scanned.value)
        guard value <= Int64(Int32.max) else { return nil }
        return Int32(truncatingIfNeeded: value)
    }

    /// An item's value read as a counter by `incr`/`decr` (`safe_strtoull` on the data,
    /// which ends in white space or the value's end); nil when it is not one.
    public static func counter(_ value: [UInt8]) -> UInt64? { unsigned64(value[...]) }

    /// A data length or exptime parsed as memcached does, widened for arithmetic.
    static func signed(_ token: ArraySlice<UInt8>) -> Int64? { signed32(token).map(Int64.init) }
}
