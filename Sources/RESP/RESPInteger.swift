import RedisInteger

/// Redis's strict integer syntax (`string2ll`), as the protocol reads it; see
/// ``RedisInteger``.
public enum RESPInteger {
    /// Parses `bytes` as a strict decimal integer.
    ///
    /// - Returns: the value, or nil when the bytes are not exactly an in-range integer.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int? {
        RedisInteger.parse(bytes)
    }
}
