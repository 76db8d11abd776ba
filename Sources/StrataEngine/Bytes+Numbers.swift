//! Number syntax for arguments and values, with Redis's rules: `string2ll` for integers,
//! `strtold` without spaces for floats, and Redis's `%.17Lf`-then-trim output for
//! INCRBYFLOAT results.

import RedisInteger

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Bytes {
    /// The bytes as a strict integer (`string2ll`: no `+`, no spaces, no leading zeros).
    @inlinable
    public var strictInteger: Int? {
        withUnsafeBytes(Bytes.strictInteger)
    }

    /// `raw` as a strict integer (see ``strictInteger``), for parsers that read part of
    /// an argument without copying it out.
    @inlinable
    public static func strictInteger(_ raw: UnsafeRawBufferPointer) -> Int? {
        RedisInteger.parse(raw)
    }

    /// The bytes as a float with Redis's rules (`getDoubleFromObject`): no surrounding
    /// spaces, not NaN, no overflow to infinity or underflow to zero.
    public var strictDouble: Double? {
        parseFloat(maxLength: .max) { text, end in strtod(text, end) }
    }

    /// The bytes as an extended-precision float (`strtold`), as INCRBYFLOAT reads them:
    /// shorter than Redis's `MAX_LONG_DOUBLE_CHARS` (5 KiB).
    public var strictLongDouble: Float80? {
        parseFloat(maxLength: 5 * 1024 - 1) { text, end in strtold(text, end) }
    }

    private func parseFloat<F: BinaryFloatingPoint>(
        maxLength: Int, _ convert: (UnsafePointer<CChar>, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> F
    ) -> F? {
        guard count > 0, count <= maxLength else { return nil }
        return withUnsafeBytes { raw -> F? in
            if isSpaceByte(raw[0]) || isSpaceByte(raw[raw.count - 1]) { return nil }
            var text = [CChar](repeating: 0, count: raw.count + 1)
            for i in 0..<raw.count {
                if raw[i] == 0 { return nil }
                text[i] = CChar(bitPattern: raw[i])
            }
            return text.withUnsafeBufferPointer { ptr -> F? in
                guard let base = ptr.baseAddress else { return nil }
                var end: UnsafeMutablePointer<CChar>?
                errno = 0
                let value = convert(base, &end)
                guard let end, end - UnsafeMutablePointer(mutating: base) == raw.count else { return nil }
                // Overflow to infinity and underflow to zero are errors, as in Redis.
                if errno == ERANGE && (value.isInfinite || value == 0) { return nil }
                return value.isNaN ? nil : value
            }
        }
    }
}

@usableFromInline
func isSpaceByte(_ c: UInt8) -> Bool {
    c == 32 || (c >= 9 && c <= 13)
}

/// Number formatting as Redis prints values it stores.
public enum NumberFormat {
    /// INCRBYFLOAT's result: `%.17Lf`, trailing zeros of a fraction removed.
    public static func humanFloat(_ value: Float80) -> Bytes {
        var buffer = [CChar](repeating: 0, count: 5200)
        let count = buffer.withUnsafeMutableBufferPointer { ptr in
            withVaList([value]) { vsnprintf(ptr.baseAddress, 5200, "%.17Lf", $0) }
        }
        var bytes = buffer[0..<Int(count)].map { UInt8(bitPattern: $0) }
        if bytes.contains(UInt8(ascii: ".")) && !bytes.contains(UInt8(ascii: "e")) {
            while bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
            if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        }
        if bytes == Array("-0".utf8) { bytes = Array("0".utf8) }
        return Bytes(bytes)
    }

    /// The integer `value` equals when `%.17g` prints it as a plain integer (no exponent,
    /// no fraction, not `-0`); nil otherwise.
    @inlinable
    public static func integral(_ value: Double) -> Int? {
        guard value == value.rounded(), abs(value) < 1e17, value != 0 || value.sign == .plus else { return nil }
        return Int(value)
    }

    /// A double as Redis 7.0 prints it in replies: `%.17g`, with `inf` and `-inf`.
    public static func double(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if let integral = integral(value) { return String(integral) }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            withVaList([value]) { vsnprintf(pointer.baseAddress, 64, "%.17g", $0) }
        }
        return String(decoding: buffer[0..<Int(count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
