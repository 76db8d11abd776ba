//! Redis's strict integer syntax (`string2ll`), shared by the protocol parser (lengths and
//! counts) and the engine (arguments and values): one definition, so that the two can
//! never disagree about what an integer is.

/// Redis's strict integer syntax: optional `-`, no `+`, no spaces, no leading zeros,
/// within `Int64`.
public enum RedisInteger {
    /// Parses `bytes` as a strict decimal integer.
    ///
    /// - Returns: the value, or nil when the bytes are not exactly an in-range integer.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let count = bytes.count
        guard count > 0, count <= 20 else { return nil }
        if count == 1 {
            let c = bytes[0]
            return c >= 48 && c <= 57 ? Int(c - 48) : nil
        }
        var index = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        guard bytes[index] >= 49 && bytes[index] <= 57 else { return nil }
        var magnitude: UInt64 = 0
        while index < count {
            let c = bytes[index]
            guard c >= 48 && c <= 57 else { return nil }
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(c - 48))
            if o1 || o2 { return nil }
            magnitude = m2
            index += 1
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int.min : -Int(magnitude)
        }
        return magnitude > UInt64(Int64.max) ? nil : Int(magnitude)
    }
}
