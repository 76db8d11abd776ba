//! Reply encoding: each RESP2/RESP3 frame type written straight into the outgoing
//! buffer, without intermediate values, so a pipelined batch of replies is one buffer.

import NIOCore

/// The protocol version a connection speaks (`HELLO 2` / `HELLO 3`).
public enum RESPVersion: Int, Sendable {
    case resp2 = 2
    case resp3 = 3
}

extension ByteBuffer {
    /// Writes `+text\r\n`.
    @inlinable
    public mutating func writeRESPSimpleString(_ text: String) {
        writeInteger(UInt8(ascii: "+"))
        writeString(text)
        writeCRLF()
    }

    /// Writes `-message\r\n`; `message` includes its code, e.g. `ERR syntax error`.
    @inlinable
    public mutating func writeRESPError(_ message: String) {
        writeInteger(UInt8(ascii: "-"))
        writeString(message)
        writeCRLF()
    }

    /// Writes `:value\r\n`.
    @inlinable
    public mutating func writeRESPInteger(_ value: Int) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: 24) { out in
            guard let base = out.baseAddress else { return 0 }
            base.storeBytes(of: UInt8(ascii: ":"), as: UInt8.self)
            let digits = RESPDigits.write(value, to: base + 1)
            (base + 1 + digits).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
            return digits + 3
        }
    }

    /// Writes `$len\r\n<bytes>\r\n`.
    @inlinable
    public mutating func writeRESPBulk(_ bytes: UnsafeRawBufferPointer) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: RESPDigits.bulkRoom(bytes.count)) { out in
            guard let base = out.baseAddress else { return 0 }
            return RESPDigits.writeBulk(bytes, to: base)
        }
    }

    /// Writes a null: `$-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func writeRESPNull(_ version: RESPVersion) {
        writeStaticString(version == .resp3 ? "_\r\n" : "$-1\r\n")
    }

    /// Writes a null array: `*-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func writeRESPNullArray(_ version: RESPVersion) {
        writeStaticString(version == .resp3 ? "_\r\n" : "*-1\r\n")
    }

    /// Writes an aggregate header: `*n`, or in RESP3 `%n` (map), `~n` (set), `>n` (push).
    @inlinable
    public mutating func writeRESPHeader(_ marker: UInt8, count: Int) {
        writeInteger(marker)
        writeDecimal(count)
        writeCRLF()
    }

    /// Writes a double already formatted as Redis prints it (`text`): a RESP3 `,` frame,
    /// or a bulk string in RESP2.
    @inlinable
    public mutating func writeRESPDouble(formatted text: String, _ version: RESPVersion) {
        if version == .resp3 {
            writeInteger(UInt8(ascii: ","))
            writeString(text)
            writeCRLF()
        } else {
            writeInteger(UInt8(ascii: "$"))
            writeDecimal(text.utf8.count)
            writeCRLF()
            writeString(text)
            writeCRLF()
        }
    }

    /// Writes a double whose value is the integer `value` (Redis prints it without a
    /// fraction): `,digits` in RESP3, a bulk string of the digits in RESP2. No allocation.
    @inlinable
    public mutating func writeRESPDouble(integral value: Int, _ version: RESPVersion) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: 32) { out in
            guard let base = out.baseAddress else { return 0 }
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
                guard let start = raw.baseAddress else { return 0 }
                return RESPDigits.write(value, to: start)
            }
            var index = 0
            if version == .resp3 {
                base.storeBytes(of: UInt8(ascii: ","), as: UInt8.self)
                index = 1
            } else {
                base.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
                index = 1 + RESPDigits.write(count, to: base + 1)
                (base + index).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
                index += 2
            }
            withUnsafeBytes(of: &digits) { raw in
                if let source = raw.baseAddress { (base + index).copyMemory(from: source, byteCount: count) }
            }
            index += count
            (base + index).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
            return index + 2
        }
    }

    /// Writes a boolean: RESP3 `#t`/`#f`, or `:1`/`:0` in RESP2.
    @inlinable
    public mutating func writeRESPBool(_ value: Bool, _ version: RESPVersion) {
        if version == .resp3 {
            writeStaticString(value ? "#t\r\n" : "#f\r\n")
        } else {
            writeStaticString(value ? ":1\r\n" : ":0\r\n")
        }
    }

    /// Writes verbatim text: RESP3 `=len\r\ntxt:...`, or a bulk string in RESP2.
    @inlinable
    public mutating func writeRESPVerbatim(_ text: String, _ version: RESPVersion) {
        let length = text.utf8.count
        if version == .resp3 {
            writeInteger(UInt8(ascii: "="))
            writeDecimal(length + 4)
            writeStaticString("\r\ntxt:")
        } else {
            writeInteger(UInt8(ascii: "$"))
            writeDecimal(length)
            writeCRLF()
        }
        writeString(text)
        writeCRLF()
    }

    @inlinable
    mutating func writeCRLF() {
        writeInteger(UInt16(0x0D0A), endianness: .big)
    }

    /// Writes the decimal digits of `value` without allocating.
    @inlinable
    public mutating func writeDecimal(_ value: Int) {
        if value >= 0 && value < 10 {
            writeInteger(UInt8(truncatingIfNeeded: value) &+ 48)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let written = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var magnitude = value.magnitude
            var index = 23
            repeat {
                raw[index] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                magnitude /= 10
                index -= 1
            } while magnitude > 0
            if value < 0 {
                raw[index] = UInt8(ascii: "-")
                index -= 1
            }
            return 23 - index
        }
        Swift.withUnsafeBytes(of: &digits) { raw in
            _ = writeBytes(UnsafeRawBufferPointer(start: raw.baseAddress.map { $0 + (24 - written) }, count: written))
        }
    }
}

/// Decimal digits written straight to memory.
public enum RESPDigits {
    /// The number of bytes ``write(_:to:)`` writes for `value`.
    @inlinable
    public static func count(_ value: Int) -> Int {
        var length = value < 0 ? 2 : 1
        var magnitude = value.magnitude / 10
        while magnitude > 0 {
            length += 1
            magnitude /= 10
        }
        return length
    }

    /// Writes the decimal form of `value` at `destination` (room for 20 bytes needed).
    ///
    /// - Returns: the number of bytes written.
    @inlinable
    public static func write(_ value: Int, to destination: UnsafeMutableRawPointer) -> Int {
        if value >= 0 && value < 10 {
            destination.storeBytes(of: UInt8(truncatingIfNeeded: value) &+ 48, as: UInt8.self)
            return 1
        }
        if value >= 10 && value < 100 {  // lengths of short strings: no loop
            destination.storeBytes(of: UInt8(truncatingIfNeeded: value / 10) &+ 48, as: UInt8.self)
            destination.storeBytes(of: UInt8(truncatingIfNeeded: value % 10) &+ 48, toByteOffset: 1, as: UInt8.self)
            return 2
        }
        var magnitude = value.magnitude
        var length = value < 0 ? 1 : 0
        var probe = magnitude
        repeat {
            length += 1
            probe /= 10
        } while probe > 0
        var index = length - 1
        repeat {
            destination.storeBytes(
                of: UInt8(truncatingIfNeeded: magnitude % 10) &+ 48, toByteOffset: index, as: UInt8.self)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        if value < 0 { destination.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self) }
        return length
    }

    /// The room ``writeBulk(_:to:)`` may need for `count` bytes: `$`, the length's digits,
    /// two CRLFs.
    @inlinable
    public static func bulkRoom(_ count: Int) -> Int { count &+ 26 }

    /// Writes `$len\r\n<bytes>\r\n` at `destination` (``bulkRoom(_:)`` bytes of room).
    ///
    /// - Returns: the number of bytes written.
    @inlinable
    public static func writeBulk(_ bytes: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer) -> Int {
        let count = bytes.count
        destination.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
        var index = 1 + write(count, to: destination + 1)
        (destination + index).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
        index += 2
        if count > 0, let source = bytes.baseAddress {
            (destination + index).copyMemory(from: source, byteCount: count)
        }
        index += count
        (destination + index).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
        return index + 2
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
