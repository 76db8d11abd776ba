//! The one parser of server replies (RESP2 and RESP3), for clients such as strata-dump's
//! `restore --to` and `backup --from`. The bytes come from the network, so nothing in them
//! is trusted: every length and count is checked against ``RESPReplyLimits`` with checked
//! arithmetic before it is used, memory is never reserved from a count the server sent
//! (only up to what the bytes present could hold), and nesting is bounded so that a reply
//! of a million `*1` lines cannot exhaust the stack.
//!
//! It is incremental in the simple way: given the bytes received so far it returns a reply
//! and its length, or nil when the reply is not complete yet; the caller keeps the bytes,
//! appends what arrives next and asks again. A reply is scanned again from its start after
//! each read, which costs little for the replies of a pipeline (each is parsed on its own)
//! and nothing for a big bulk string (its length is known from its first line).

import NIOCore

/// Parses RESP2 and RESP3 replies from bytes as they arrive.
public struct RESPReplyParser: Sendable {
    /// The bounds enforced.
    public var limits: RESPReplyLimits

    /// A parser enforcing `limits`.
    public init(limits: RESPReplyLimits = RESPReplyLimits()) {
        self.limits = limits
    }

    /// Parses the reply at the start of `bytes`.
    ///
    /// - Returns: the reply and the number of bytes it took, or nil when `bytes` hold only
    ///   the beginning of a reply (or nothing).
    /// - Throws: ``RESPReplyError`` when the bytes are not a valid reply or go past the limits.
    public func parse(_ bytes: UnsafeRawBufferPointer) throws -> (reply: RESPReply, length: Int)? {
        var cursor = RESPReplyCursor(bytes: bytes, limits: limits)
        guard let reply = try cursor.reply(depth: 0) else { return nil }
        return (reply, cursor.position)
    }

    /// Parses the reply at the start of `bytes`; see ``parse(_:)-(UnsafeRawBufferPointer)``.
    public func parse(_ bytes: [UInt8]) throws -> (reply: RESPReply, length: Int)? {
        try bytes.withUnsafeBytes { try parse($0) }
    }

    /// Takes the next complete reply from `buffer`, moving its reader index past it.
    ///
    /// - Returns: the reply, or nil (reader index unchanged) when it has not all arrived.
    public func next(_ buffer: inout ByteBuffer) throws -> RESPReply? {
        guard let (reply, length) = try buffer.withUnsafeReadableBytes({ try parse($0) }) else { return nil }
        buffer.moveReaderIndex(forwardBy: length)
        return reply
    }
}

/// A position in the bytes of one reply while it is parsed.
struct RESPReplyCursor {
    let bytes: UnsafeRawBufferPointer
    let limits: RESPReplyLimits
    var position = 0

    init(bytes: UnsafeRawBufferPointer, limits: RESPReplyLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The value at `position`, nested inside `depth` aggregates; nil when incomplete.
    mutating func reply(depth: Int) throws -> RESPReply? {
        guard position < bytes.count else { return nil }
        let start = position
        let type = bytes[position]
        // Known before the line ends, so garbage fails at once instead of waiting for a CRLF.
        guard RESPReplyCursor.types.contains(type) else {
            throw RESPReplyError("unknown reply type \(describe(type))", at: start)
        }
        guard let line = try line() else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simpleString(text(line))
        case UInt8(ascii: "-"): return .error(text(line))
        case UInt8(ascii: ":"): return .integer(try integer(line))
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw RESPReplyError("a null carries no value", at: line.lowerBound) }
            return .null
        case UInt8(ascii: "#"):
            guard line.count == 1 else { throw RESPReplyError("a boolean is t or f", at: line.lowerBound) }
            switch bytes[line.lowerBound] {
            case UInt8(ascii: "t"): return .boolean(true)
            case UInt8(ascii: "f"): return .boolean(false)
            default: throw RESPReplyError("a boolean is t or f", at: line.lowerBound)
            }
        case UInt8(ascii: ","): return .double(try double(line))
        case UInt8(ascii: "("): return .bigNumber(try bigNumber(line))
        case UInt8(ascii: "$"):
            let length = try length(line, nullable: true, limit: limits.maxBulkLength)
            if length < 0 { return .null }
            return try body(length).map { .bulkString(Array($0)) }
        case UInt8(ascii: "!"):
            let length = try length(line, nullable: false, limit: limits.maxBulkLength)
            return try body(length).map { .error(String(decoding: $0, as: UTF8.self)) }
        case UInt8(ascii: "="):
            let length = try length(line, nullable: false, limit: limits.maxBulkLength)
            guard length >= 4 else { throw RESPReplyError("a verbatim string starts with fmt:", at: line.lowerBound) }
            let bodyStart = position
            guard let text = try body(length) else { return nil }
            guard text[text.startIndex + 3] == UInt8(ascii: ":") else {
                throw RESPReplyError("a verbatim string starts with fmt:", at: bodyStart)
            }
            return .verbatimString(
                format: String(decoding: text.prefix(3), as: UTF8.self), text: Array(text.dropFirst(4)))
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            let count = try length(line, nullable: type == UInt8(ascii: "*"), limit: limits.maxAggregateCount)
            if count < 0 { return .null }
            guard let elements = try elements(count, depth: depth, at: start) else { return nil }
            switch type {
            case UInt8(ascii: "~"): return .set(elements)
            case UInt8(ascii: ">"): return .push(elements)
            default: return .array(elements)
            }
        case UInt8(ascii: "%"):
            let count = try length(line, nullable: false, limit: limits.maxAggregateCount)
            return try pairs(count, depth: depth, at: start).map { .map($0) }
        default:
            throw RESPReplyError("unknown reply type \(describe(type))", at: start)
        }
    }

    /// The type bytes of RESP2 and RESP3 replies.
    static let types: Set<UInt8> = Set("+-:_#,($!=*~>%".utf8)

    // MARK: Lines and bodies

    /// The line after the type byte at `position`, without its CRLF, moving `position`
    /// past the CRLF; nil when the CRLF has not arrived.
    mutating func line() throws -> Range<Int>? {
        let first = position + 1
        var index = first
        while index < bytes.count {
            if bytes[index] == 13 {
                guard index + 1 < bytes.count else { return nil }
                guard bytes[index + 1] == 10 else { throw RESPReplyError("CR not followed by LF", at: index + 1) }
                position = index + 2
                return first..<index
            }
            if index - first >= limits.maxLineLength {
                throw RESPReplyError("a line longer than \(limits.maxLineLength) bytes", at: index)
            }
            index += 1
        }
        return nil
    }

    /// The `length` bytes at `position` and the CRLF after them, moving `position` past
    /// them; nil when they have not all arrived.
    mutating func body(_ length: Int) throws -> UnsafeRawBufferPointer.SubSequence? {
        let (end, overflow) = position.addingReportingOverflow(length)
        guard !overflow else { throw RESPReplyError("a length past the end of memory", at: position) }
        guard end < bytes.count - 1 else { return nil }
        guard bytes[end] == 13, bytes[end + 1] == 10 else {
            throw RESPReplyError("\(length) bytes not followed by CRLF", at: end)
        }
        let body = bytes[position..<end]
        position = end + 2
        return body
    }

    // MARK: Aggregates

    /// `count` values nested one level below `depth`; nil when incomplete.
    mutating func elements(_ count: Int, depth: Int, at start: Int) throws -> [RESPReply]? {
        guard depth < limits.maxDepth else {
            throw RESPReplyError("replies nested deeper than \(limits.maxDepth)", at: start)
        }
        var elements: [RESPReply] = []
        // Every value takes at least three bytes: reserve no more than those present allow.
        elements.reserveCapacity(min(count, (bytes.count - position) / 3))
        for _ in 0..<count {
            guard let element = try reply(depth: depth + 1) else { return nil }
            elements.append(element)
        }
        return elements
    }

    /// `count` key and value pairs nested one level below `depth`; nil when incomplete.
    mutating func pairs(_ count: Int, depth: Int, at start: Int) throws -> [RESPReply.Pair]? {
        guard depth < limits.maxDepth else {
            throw RESPReplyError("replies nested deeper than \(limits.maxDepth)", at: start)
        }
        var pairs: [RESPReply.Pair] = []
        pairs.reserveCapacity(min(count, (bytes.count - position) / 6))
        for _ in 0..<count {
            guard let key = try reply(depth: depth + 1), let value = try reply(depth: depth + 1) else { return nil }
            pairs.append(RESPReply.Pair(key: key, value: value))
        }
        return pairs
    }

    // MARK: Numbers and text

    /// The line as a signed 64-bit integer, with Redis's strict syntax (``RESPInteger``).
    func integer(_ line: Range<Int>) throws -> Int64 {
        guard let value = RESPInteger.parse(UnsafeRawBufferPointer(rebasing: bytes[line])) else {
            throw RESPReplyError("not an integer in the 64-bit range", at: line.lowerBound)
        }
        return Int64(value)
    }

    /// The line as a length or count in `0...limit`, or -1 (a null) when `nullable`.
    func length(_ line: Range<Int>, nullable: Bool, limit: Int) throws -> Int {
        let value = try integer(line)
        if value == -1 && nullable { return -1 }
        guard value >= 0 else { throw RESPReplyError("a negative length \(value)", at: line.lowerBound) }
        guard value <= limit else {
            throw RESPReplyError("a length of \(value) over the limit of \(limit)", at: line.lowerBound)
        }
        return Int(value)
    }

    /// The line as a double (`1.5`, `-3e10`, `inf`, `-inf`, `nan`).
    func double(_ line: Range<Int>) throws -> Double {
        guard !line.isEmpty, let value = Double(text(line)) else {
            throw RESPReplyError("not a double", at: line.lowerBound)
        }
        return value
    }

    /// The line as a big number: an optional sign and at least one digit.
    func bigNumber(_ line: Range<Int>) throws -> String {
        var digits = line
        if let first = digits.first, bytes[first] == UInt8(ascii: "-") || bytes[first] == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ bytes[$0] >= UInt8(ascii: "0") && bytes[$0] <= UInt8(ascii: "9") })
        else { throw RESPReplyError("not a big number", at: line.lowerBound) }
        return text(line)
    }

    /// The bytes of `range` as text (invalid UTF-8 repaired).
    func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A byte for an error message: the character when printable, else its hex value.
    func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }
}
