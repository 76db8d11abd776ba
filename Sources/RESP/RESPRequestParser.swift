//! The request parser: RESP multibulk frames and inline commands, fed from a network or
//! file buffer as bytes arrive. It keeps Redis's resume state (arguments still expected,
//! the pending bulk length, the arguments parsed so far), so a frame split across many
//! reads is never rescanned: each byte is examined once. It never reserves memory from a
//! length the client sent; a bulk body is taken only once all of its bytes are present.

import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An argument type the parser can build from the bytes of one bulk string or inline word.
public protocol RESPArgument {
    /// Copies the argument's bytes; the pointer is valid only during the call.
    init(_ bytes: UnsafeRawBufferPointer)
}

/// Incremental parser of client requests (RESP arrays of bulk strings, or inline commands).
///
/// Call ``next(_:)`` with the accumulated input; it consumes what it used and returns a
/// command, or `nil` when more bytes are needed. Errors are ``RESPProtocolError`` values
/// after which the connection must be closed.
public struct RESPRequestParser<Argument: RESPArgument> {
    /// The limits enforced; may be changed between calls (for `CONFIG SET`).
    public var limits: RESPParserLimits
    /// Whether the client has authenticated; when false the tighter limits apply.
    public var authenticated: Bool

    /// Arguments still expected in the current multibulk; 0 between requests.
    @usableFromInline var pendingArguments = 0
    /// Length of the bulk whose body is awaited, or -1 while awaiting a `$` line.
    @usableFromInline var bulkLength = -1
    /// Arguments of the current multibulk parsed so far.
    @usableFromInline var arguments: [Argument] = []
    /// Bytes held in `arguments` (plus a per-argument overhead), counted against the
    /// client's query buffer limit so a huge multibulk cannot grow memory unseen.
    @usableFromInline internal(set) var _pendingArgumentBytes = 0
    /// See `_pendingArgumentBytes`.
    public var pendingArgumentBytes: Int { _pendingArgumentBytes }

    /// A parser with the given limits.
    public init(limits: RESPParserLimits = RESPParserLimits(), authenticated: Bool = true) {
        self.limits = limits
        self.authenticated = authenticated
    }

    /// True while a request has been started but not completed.
    public var isMidRequest: Bool { pendingArguments > 0 }

    /// Parses the next complete command from `buffer`.
    ///
    /// - Parameter buffer: accumulated input; the reader index moves past what was used,
    ///   including partial progress that is kept as resume state.
    /// - Returns: the command's arguments, or `nil` when more bytes are needed.
    /// - Throws: ``RESPProtocolError`` on malformed or oversized input.
    @inlinable
    public mutating func next(_ buffer: inout ByteBuffer) throws -> [Argument]? {
        if buffer.readableBytes == 0 { return nil }
        let (consumed, command) = try buffer.withUnsafeReadableBytes { raw in
            try self.parse(raw)
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        return command
    }

    @inlinable
    mutating func parse(_ raw: UnsafeRawBufferPointer) throws -> (Int, [Argument]?) {
        var pos = 0
        let end = raw.count
        while pendingArguments == 0 {
            guard pos < end else { return (pos, nil) }
            if raw[pos] == UInt8(ascii: "*") {
                let short = RESPRequestParser.shortLength(raw, from: pos + 1)
                guard let lineEnd = short?.lineEnd ?? RESPRequestParser.findCRLF(raw, from: pos + 1) else {
                    if end - pos > limits.maxInlineLength { throw RESPProtocolError.tooBigMultibulkCount }
                    return (pos, nil)
                }
                let count = short?.value ?? RESPRequestParser.parseInteger(raw, pos + 1, lineEnd)
                guard let count, count <= limits.maxMultibulkLength else {
                    throw RESPProtocolError.invalidMultibulkLength
                }
                if !authenticated && count > limits.maxUnauthenticatedMultibulkLength {
                    throw RESPProtocolError.unauthenticatedMultibulkLength
                }
                pos = lineEnd + 2
                if count <= 0 { continue }
                pendingArguments = count
                bulkLength = -1
                // Empty here: a recycled array keeps its capacity (see ``recycle(_:)``).
                arguments.reserveCapacity(Swift.min(count, 1024))
            } else {
                guard let newline = RESPRequestParser.find(UInt8(ascii: "\n"), raw, from: pos) else {
                    if end - pos > limits.maxInlineLength { throw RESPProtocolError.tooBigInline }
                    return (pos, nil)
                }
                var lineEnd = newline
                if lineEnd > pos && raw[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let words = try RESPInlineSplitter.split(UnsafeRawBufferPointer(rebasing: raw[pos..<lineEnd]))
                pos = newline + 1
                if words.isEmpty { continue }
                return (pos, words.map { word in word.withUnsafeBytes { Argument($0) } })
            }
        }
        while pendingArguments > 0 {
            if bulkLength < 0 {
                guard pos < end else { return (pos, nil) }
                guard raw[pos] == UInt8(ascii: "$") else { throw RESPProtocolError.expectedDollar(got: raw[pos]) }
                let length: Int
                let lineEnd: Int
                if let short = RESPRequestParser.shortLength(raw, from: pos + 1) {
                    (length, lineEnd) = short
                } else {
                    guard let found = RESPRequestParser.findCRLF(raw, from: pos + 1) else {
                        if end - pos > limits.maxInlineLength { throw RESPProtocolError.tooBigBulkCount }
                        return (pos, nil)
                    }
                    guard let parsed = RESPRequestParser.parseInteger(raw, pos + 1, found), parsed >= 0 else {
                        throw RESPProtocolError.invalidBulkLength
                    }
                    (length, lineEnd) = (parsed, found)
                }
                guard length <= limits.maxBulkLength else { throw RESPProtocolError.invalidBulkLength }
                if !authenticated && length > limits.maxUnauthenticatedBulkLength {
                    throw RESPProtocolError.unauthenticatedBulkLength
                }
                bulkLength = length
                pos = lineEnd + 2
            }
            guard end - pos >= bulkLength + 2 else { return (pos, nil) }
            arguments.append(
                Argument(UnsafeRawBufferPointer(start: raw.baseAddress.map { $0 + pos }, count: bulkLength)))
            _pendingArgumentBytes += bulkLength + 32
            pos += bulkLength + 2
            bulkLength = -1
            pendingArguments -= 1
        }
        let command = arguments
        arguments = []
        _pendingArgumentBytes = 0
        return (pos, command)
    }

    /// Hands back a command that ``next(_:)`` returned, once its caller is done with it, so
    /// the next command's arguments go into the same array instead of a new allocation per
    /// command (as Redis reuses `argv`). Its elements are released now; an array someone
    /// else still holds (a queued transaction, a logged effect) is left to them, and a large
    /// one is dropped rather than kept for an idle client.
    @inlinable
    public mutating func recycle(_ command: consuming [Argument]) {
        guard command.capacity <= 64, pendingArguments == 0, arguments.isEmpty, arguments.capacity == 0 else { return }
        command.removeAll(keepingCapacity: true)
        arguments = command
    }

    /// The length line at `from` (`<digits>\r\n`) read in one pass, for the common case of
    /// at most nine digits without a leading zero: the value and the index of its `\r`.
    /// Nil for anything else, which the general path (find the line end, then parse it)
    /// accepts or refuses as before.
    @inlinable
    static func shortLength(_ raw: UnsafeRawBufferPointer, from: Int) -> (value: Int, lineEnd: Int)? {
        let limit = Swift.min(raw.count - 1, from + 10)
        guard from < limit, raw[from] != UInt8(ascii: "0") || raw[from + 1] == UInt8(ascii: "\r") else { return nil }
        var value = 0
        var index = from
        while index < limit {
            let c = raw[index]
            if c == UInt8(ascii: "\r") {
                guard index > from, raw[index + 1] == UInt8(ascii: "\n") else { return nil }
                return (value, index)
            }
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            value = value &* 10 &+ Int(c &- UInt8(ascii: "0"))
            index += 1
        }
        // A line still arriving, or a tenth digit: the general path decides.
        return nil
    }

    /// Index of the `\r` of the first `\r\n` at or after `from`, or nil.
    @inlinable
    static func findCRLF(_ raw: UnsafeRawBufferPointer, from: Int) -> Int? {
        var start = from
        while let cr = find(UInt8(ascii: "\r"), raw, from: start) {
            guard cr + 1 < raw.count else { return nil }
            if raw[cr + 1] == UInt8(ascii: "\n") { return cr }
            start = cr + 1
        }
        return nil
    }

    /// Index of the first `byte` at or after `from`, or nil.
    @inlinable
    static func find(_ byte: UInt8, _ raw: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard from < raw.count, let base = raw.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(byte), raw.count - from) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// Strict decimal parse of `raw[start..<end]` with Redis's `string2ll` rules.
    @inlinable
    static func parseInteger(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        RESPInteger.parse(UnsafeRawBufferPointer(start: raw.baseAddress.map { $0 + start }, count: end - start))
    }
}
