//! Numbers printed as Redis prints them with `snprintf`: `%.2f` in INFO fields, `%.3f`
//! in log lines, `%.17g` in DEBUG DIGEST. The formatting is the C library's own, so the
//! digits and the rounding are Redis's to the byte.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension String {
    /// `value` formatted by the C `printf` conversion `format`, which must hold exactly one
    /// conversion of a `double` (`%.2f`, `%f`, `%.17g`...) and may hold other text around
    /// it. The process keeps the C locale, so the decimal point is always `.`. A stack
    /// buffer holds every usual number; a longer result (`%f` of 1e300) is formatted again
    /// into a buffer of its exact length.
    init(printf format: String, _ value: Double) {
        let stackCapacity = 64
        let (short, needed) = withUnsafeTemporaryAllocation(of: CChar.self, capacity: stackCapacity) {
            buffer -> (String?, Int) in
            let length = withVaList([value]) { vsnprintf(buffer.baseAddress, stackCapacity, format, $0) }
            guard length >= 0 else { return ("", 0) }
            guard Int(length) < stackCapacity else { return (nil, Int(length)) }
            let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(length))
            return (String(decoding: bytes, as: UTF8.self), 0)
        }
        if let short {
            self = short
            return
        }
        var long = [CChar](repeating: 0, count: needed + 1)
        let length = long.withUnsafeMutableBufferPointer { buffer in
            withVaList([value]) { vsnprintf(buffer.baseAddress, buffer.count, format, $0) }
        }
        let count = Swift.min(Swift.max(Int(length), 0), needed)
        self = long.withUnsafeBytes { String(decoding: $0.prefix(count), as: UTF8.self) }
    }
}
