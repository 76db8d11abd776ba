//! The one encoder of Redis commands: `*<count>\r\n` followed by `$<length>\r\n<bytes>\r\n`
//! for each argument. The AOF (every write the server logs), the AOF rewrite, strata-dump's
//! `convert --format resp` and strata-dump's client all frame commands through it, so the
//! framing exists once.
//!
//! The server calls it for every write it executes, so it stays as fast as a hand-written
//! loop: it is generic and `@inlinable` (specialised for the caller's argument type across
//! modules), reserves room once per command from an over-estimate (no digit counting, no
//! per-argument capacity check) and writes the digits straight into that room.

import NIOCore

/// A byte string that can be written as one RESP bulk string.
///
/// `[UInt8]` and `ArraySlice<UInt8>` conform as they are; the engine's byte string conforms
/// where it is used (StrataPersistence).
public protocol RESPEncodableArgument {
    /// The number of bytes.
    var count: Int { get }
    /// Calls `body` with the bytes; the pointer is valid only during the call.
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension Array: RESPEncodableArgument where Element == UInt8 {}
extension ArraySlice: RESPEncodableArgument where Element == UInt8 {}

/// Frames commands as RESP arrays of bulk strings, as clients send them and as the AOF
/// stores them.
public enum RESPCommandEncoder {
    /// Room per frame element beyond its bytes: a type byte, at most 19 digits (a count
    /// is never negative) and two CRLFs. A computed constant, so the hot path reads no global.
    @inlinable static var elementOverhead: Int { 24 }

    /// An upper bound of the encoded size of `arguments` (what ``write(_:to:)`` needs).
    @inlinable
    public static func maximumLength<Arguments: Collection>(of arguments: Arguments) -> Int
    where Arguments.Element: RESPEncodableArgument {
        // The arguments are in memory, so their sizes add up far below `Int.max`.
        var size = elementOverhead
        for argument in arguments { size &+= argument.count &+ elementOverhead }
        return size
    }

    /// The exact encoded size of `arguments`.
    @inlinable
    public static func length<Arguments: Collection>(of arguments: Arguments) -> Int
    where Arguments.Element: RESPEncodableArgument {
        var size = 3 + RESPDigits.count(arguments.count)
        for argument in arguments { size += 5 + RESPDigits.count(argument.count) + argument.count }
        return size
    }

    /// Writes `arguments` as one command at `destination`, which must have room for
    /// ``length(of:)`` bytes (``maximumLength(of:)`` is a bound that is cheaper to get).
    ///
    /// - Returns: the number of bytes written (``length(of:)``).
    @inlinable
    public static func write<Arguments: Collection>(_ arguments: Arguments, to destination: UnsafeMutableRawPointer)
        -> Int
    where Arguments.Element: RESPEncodableArgument {
        destination.storeBytes(of: UInt8(ascii: "*"), as: UInt8.self)
        var index = 1 &+ RESPDigits.write(arguments.count, to: destination + 1)
        (destination + index).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
        index &+= 2
        for argument in arguments {
            (destination + index).storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
            index &+= 1
            index &+= RESPDigits.write(argument.count, to: destination + index)
            (destination + index).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
            index &+= 2
            let count = argument.withUnsafeBytes { bytes -> Int in
                if let source = bytes.baseAddress, bytes.count > 0 {
                    (destination + index).copyMemory(from: source, byteCount: bytes.count)
                }
                return bytes.count
            }
            index &+= count
            (destination + index).storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)
            index &+= 2
        }
        return index
    }
}

extension ByteBuffer {
    /// Writes `arguments` as one RESP command (`*N` and a bulk string per argument).
    ///
    /// One reservation for the whole command: this runs for every write the server logs.
    @inlinable
    public mutating func writeRESPCommand<Arguments: Collection>(_ arguments: Arguments)
    where Arguments.Element: RESPEncodableArgument {
        writeWithUnsafeMutableBytes(minimumWritableBytes: RESPCommandEncoder.maximumLength(of: arguments)) { out in
            guard let base = out.baseAddress else { return 0 }
            return RESPCommandEncoder.write(arguments, to: base)
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends `arguments` as one RESP command (`*N` and a bulk string per argument).
    @inlinable
    public mutating func appendRESPCommand<Arguments: Collection>(_ arguments: Arguments)
    where Arguments.Element: RESPEncodableArgument {
        let start = count
        let length = RESPCommandEncoder.length(of: arguments)
        append(contentsOf: repeatElement(0, count: length))
        let written = withUnsafeMutableBytes { out -> Int in
            guard let base = out.baseAddress else { return 0 }
            return RESPCommandEncoder.write(arguments, to: base + start)
        }
        assert(written == length, "RESPCommandEncoder.length disagrees with write")
    }

    /// `arguments` as one RESP command.
    @inlinable
    public static func respCommand<Arguments: Collection>(_ arguments: Arguments) -> [UInt8]
    where Arguments.Element: RESPEncodableArgument {
        var bytes: [UInt8] = []
        bytes.appendRESPCommand(arguments)
        return bytes
    }
}
