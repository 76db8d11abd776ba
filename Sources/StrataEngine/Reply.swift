/// A command's reply, independent of the wire protocol version; the server encodes it as
/// RESP2 or RESP3 for each client.
public enum Reply: Sendable, Equatable {
    /// `+OK`.
    case ok
    /// A status reply, e.g. `PONG`.
    case status(String)
    /// An error; the text starts with its code, e.g. `ERR syntax error`.
    case error(String)
    /// An integer.
    case integer(Int)
    /// A bulk string.
    case bulk(Bytes)
    /// A null bulk string (RESP3 null).
    case null
    /// A null array (RESP3 null).
    case nullArray
    /// An array.
    case array([Reply])
    /// A map: RESP3 `%`, flattened to an array in RESP2.
    case map([(Reply, Reply)])
    /// Pairs: RESP3 an array of two-element arrays, RESP2 one flat array (HRANDFIELD and
    /// ZRANGE-style WITHVALUES/WITHSCORES replies).
    case pairs([(Reply, Reply)])
    /// Keyed results: RESP3 a map, RESP2 an array of two-element arrays (XREAD and
    /// XREADGROUP's streams).
    case keyed([(Reply, Reply)])
    /// Out-of-band data (pub/sub messages): RESP3 `>`, an array in RESP2.
    case push([Reply])
    /// Several replies sent back to back (SUBSCRIBE answers once per channel).
    case sequence([Reply])
    /// Not a wire reply: a blocking command found nothing and asks the server to park the
    /// client on `keys` (milliseconds, 0 for ever) and run the command again when one of
    /// them is written. Inside MULTI the server answers a null array instead.
    case blockedOn(keys: [Bytes], timeoutMilliseconds: Int64)
    /// A set: RESP3 `~`, an array in RESP2.
    case set([Reply])
    /// A double: RESP3 `,`, a bulk string in RESP2.
    case double(Double)
    /// A double the command has already printed (GEOPOS's coordinates, with more digits
    /// than `%.17g`): RESP3 `,` with this text, a bulk string in RESP2.
    case formattedDouble(String)
    /// A boolean: RESP3 `#`, an integer in RESP2.
    case bool(Bool)
    /// Verbatim text: RESP3 `=`, a bulk string in RESP2.
    case verbatim(String)
    /// A big number, in decimal: RESP3 `(`, a bulk string in RESP2.
    case bigNumber(String)
    /// RESP3 attributes (`|`) before a reply; in RESP2 the reply alone.
    indirect case attribute([(Reply, Reply)], Reply)
    /// Sorted-set members as ZRANGE replies them: the same as ``expanded`` (an array of
    /// bulk strings, or with scores ``pairs(_:)`` of bulk strings and doubles), encoded
    /// straight from the members without building a reply per element.
    case members([ScoredMember], withScores: Bool)

    /// The reply with ``members(_:withScores:)`` spelled out as arrays of replies (for
    /// consumers that walk replies element by element, such as scripts).
    public var expanded: Reply {
        guard case .members(let members, let withScores) = self else { return self }
        if withScores { return .pairs(members.map { (.bulk($0.member), .double($0.score)) }) }
        return .array(members.map { .bulk($0.member) })
    }

    /// A bulk string from text.
    public static func text(_ string: String) -> Reply { .bulk(Bytes(string)) }

    /// A bulk string or null.
    public static func optional(_ bytes: Bytes?) -> Reply { bytes.map(Reply.bulk) ?? .null }

    public static func == (lhs: Reply, rhs: Reply) -> Bool {
        switch (lhs, rhs) {
        case (.members, _), (_, .members): return lhs.expanded.equalsExpanded(rhs.expanded)
        default: return lhs.equalsExpanded(rhs)
        }
    }

    private func equalsExpanded(_ rhs: Reply) -> Bool {
        let lhs = self
        switch (lhs, rhs) {
        case (.ok, .ok), (.null, .null), (.nullArray, .nullArray): return true
        case (.status(let a), .status(let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulk(let a), .bulk(let b)): return a == b
        case (.array(let a), .array(let b)), (.push(let a), .push(let b)), (.sequence(let a), .sequence(let b)):
            return a == b
        case (.set(let a), .set(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.bool(let a), .bool(let b)): return a == b
        case (.verbatim(let a), .verbatim(let b)), (.formattedDouble(let a), .formattedDouble(let b)),
            (.bigNumber(let a), .bigNumber(let b)):
            return a == b
        case (.attribute(let a, let x), .attribute(let b, let y)):
            return x == y && a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.blockedOn(let keysA, let timeoutA), .blockedOn(let keysB, let timeoutB)):
            return keysA == keysB && timeoutA == timeoutB
        case (.map(let a), .map(let b)), (.pairs(let a), .pairs(let b)), (.keyed(let a), .keyed(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// Error replies with Redis 7's exact text.
public enum Errors {
    public static let syntax = Reply.error("ERR syntax error")
    public static let wrongType = Reply.error(
        "WRONGTYPE Operation against a key holding the wrong kind of value")
    public static let notInteger = Reply.error("ERR value is not an integer or out of range")
    public static let notFloat = Reply.error("ERR value is not a valid float")
    public static let overflow = Reply.error("ERR increment or decrement would overflow")
    public static let noSuchKey = Reply.error("ERR no such key")
    public static let dbIndexOutOfRange = Reply.error("ERR DB index is out of range")
    public static let bitOffset = Reply.error("ERR bit offset is not an integer or out of range")
    public static let bitValue = Reply.error("ERR bit is not an integer or out of range")
    public static let stringTooLong = Reply.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")

    /// `ERR wrong number of arguments for 'name' command`.
    public static func arity(_ name: String) -> Reply {
        .error("ERR wrong number of arguments for '\(name)' command")
    }

    /// `ERR invalid expire time in 'name' command`.
    public static func invalidExpireTime(_ name: String) -> Reply {
        .error("ERR invalid expire time in '\(name)' command")
    }
}

/// A reply can travel as the failure of a `Result` (an error reply a helper produced).
extension Reply: Error {}
