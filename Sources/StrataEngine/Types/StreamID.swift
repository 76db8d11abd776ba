//! Stream entry ids (`<ms>-<seq>`, two unsigned 64-bit numbers) and the forms commands
//! accept: explicit ids, `*` and `<ms>-*` (XADD), `-`/`+` and exclusive `(` bounds
//! (XRANGE), with Redis 7.0's error texts.

/// A stream entry id.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds part.
    public var ms: UInt64
    /// Sequence part.
    public var seq: UInt64

    /// The id `ms-seq`.
    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// `0-0`.
    public static let zero = StreamID(ms: 0, seq: 0)
    /// `18446744073709551615-18446744073709551615`.
    public static let max = StreamID(ms: .max, seq: .max)

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        lhs.ms != rhs.ms ? lhs.ms < rhs.ms : lhs.seq < rhs.seq
    }

    public var description: String { "\(ms)-\(seq)" }

    /// The id as the bulk string replies carry (formatted without `String`: XADD and every
    /// read reply make one per entry).
    public var bytes: Bytes {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 41) { buffer in
            var position = 41
            func prepend(_ value: UInt64) {
                var rest = value
                repeat {
                    position -= 1
                    buffer[position] = UInt8(truncatingIfNeeded: rest % 10) + 48
                    rest /= 10
                } while rest > 0
            }
            prepend(seq)
            position -= 1
            buffer[position] = UInt8(ascii: "-")
            prepend(ms)
            return Bytes(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[position...])))
        }
    }

    /// The next id, or nil after ``max``.
    public var successor: StreamID? {
        if seq < .max { return StreamID(ms: ms, seq: seq + 1) }
        if ms < .max { return StreamID(ms: ms + 1, seq: 0) }
        return nil
    }

    /// The previous id, or nil before ``zero``.
    public var predecessor: StreamID? {
        if seq > 0 { return StreamID(ms: ms, seq: seq - 1) }
        if ms > 0 { return StreamID(ms: ms - 1, seq: .max) }
        return nil
    }

    /// `Invalid stream ID specified as stream command argument`.
    public static let invalidError = Reply.error("ERR Invalid stream ID specified as stream command argument")

    /// Parses `ms-seq` or `ms` (the sequence then `missingSequence`); nil when invalid.
    /// Each part is read as Redis's `string2ull` reads it, quirks included (see `number`);
    /// as in Redis, the text ends at a NUL byte and may not be longer than 127 bytes.
    public static func parse(_ text: Bytes, missingSequence: UInt64 = 0) -> StreamID? {
        text.withUnsafeBytes { whole in
            guard whole.count <= 127 else { return nil }
            let bytes = whole[..<(whole.firstIndex(of: 0) ?? whole.endIndex)]
            guard !bytes.isEmpty else { return nil }
            guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")) else {
                return number(bytes).map { StreamID(ms: $0, seq: missingSequence) }
            }
            guard let ms = number(bytes[..<dash]), let seq = number(bytes[(dash + 1)...]) else { return nil }
            return StreamID(ms: ms, seq: seq)
        }
    }

    /// A range bound of XRANGE/XREVRANGE: `-`, `+`, an id (a bare `ms` means its first or
    /// last sequence) or an exclusive `(id`. Nil when invalid; `.failure` for an
    /// exclusive bound that excludes everything (`(0-0` as a start, `(max` as an end).
    public static func bound(_ text: Bytes, isStart: Bool) -> Result<StreamID, Reply>? {
        if text == Bytes("-") { return .success(.zero) }
        if text == Bytes("+") { return .success(.max) }
        var raw = text.array
        var exclusive = false
        if raw.first == UInt8(ascii: "(") {
            exclusive = true
            raw.removeFirst()
        }
        guard let id = parse(Bytes(raw), missingSequence: isStart ? 0 : .max) else { return nil }
        guard exclusive else { return .success(id) }
        guard let moved = isStart ? id.successor : id.predecessor else {
            return .failure(.error("ERR invalid \(isStart ? "start" : "end") ID for the interval"))
        }
        return .success(moved)
    }

    /// Redis's `string2ull`: a strict integer (`string2ll`) when it is one, refused when it is
    /// negative; otherwise C's `strtoull`, which also takes leading white space, a `+`,
    /// leading zeros, values past Int64.max, and a `-` before a number it then wraps
    /// (`-05` is 2^64 - 5). Nothing may follow the digits; an overflow is refused. Plain
    /// digits, the common case, take the first loop only and allocate nothing.
    static func number(_ text: Slice<UnsafeRawBufferPointer>) -> UInt64? {
        if let plain = digits(text) { return plain }
        var index = text.startIndex
        while index < text.endIndex, text[index] == 32 || (9...13).contains(text[index]) { index += 1 }
        var negative = false
        if index < text.endIndex, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        guard let magnitude = digits(text[index...]) else { return nil }
        guard negative else { return magnitude }
        // `-` then a digit 1-9 at the very start is a strict negative for string2ll (when it
        // fits Int64), which string2ull refuses; anything else wraps as strtoull does.
        let strict = index == text.startIndex + 1 && text[index] != UInt8(ascii: "0") && magnitude <= 1 << 63
        return strict ? nil : 0 &- magnitude
    }

    /// One or more ASCII digits and nothing else, without overflow.
    private static func digits(_ text: Slice<UnsafeRawBufferPointer>) -> UInt64? {
        guard !text.isEmpty else { return nil }
        var value: UInt64 = 0
        for digit in text {
            guard digit >= 48 && digit <= 57 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(digit - 48))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
