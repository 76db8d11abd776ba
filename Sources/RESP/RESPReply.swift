//! A server's reply as a value, for clients (strata-dump talks to Strata and Redis). It
//! covers RESP2 and RESP3 alike so that a client need not know which one it speaks: RESP2's
//! null bulk string and null array and RESP3's null are all ``RESPReply/null``, and an
//! error sent as a bulk (RESP3 `!`) is an ``RESPReply/error(_:)`` like a one-line one.

/// One reply, as ``RESPReplyParser`` reads it.
public indirect enum RESPReply: Hashable, Sendable {
    /// `+text`: a status such as `OK`.
    case simpleString(String)
    /// `-CODE message` or RESP3 `!len`: the whole text, code included.
    case error(String)
    /// `:n`: a signed 64-bit integer.
    case integer(Int64)
    /// `$len`: binary-safe bytes.
    case bulkString([UInt8])
    /// RESP2 `$-1` and `*-1`, RESP3 `_`.
    case null
    /// `*n`: elements in order.
    case array([RESPReply])
    /// RESP3 `%n`: key and value pairs in the order sent.
    case map([Pair])
    /// RESP3 `~n`: members in the order sent.
    case set([RESPReply])
    /// RESP3 `>n`: an out-of-band message (pub/sub, invalidation).
    case push([RESPReply])
    /// RESP3 `,`: a double, `inf`, `-inf` or `nan` included.
    case double(Double)
    /// RESP3 `#t` / `#f`.
    case boolean(Bool)
    /// RESP3 `=len`: text with its three-letter format (`txt`, `mkd`).
    case verbatimString(format: String, text: [UInt8])
    /// RESP3 `(`: an integer of any size, as its decimal digits (with a `-` when negative).
    case bigNumber(String)

    /// One entry of a ``RESPReply/map(_:)``.
    public struct Pair: Hashable, Sendable {
        /// The entry's key.
        public var key: RESPReply
        /// The entry's value.
        public var value: RESPReply

        /// A pair of `key` and `value`.
        public init(key: RESPReply, value: RESPReply) {
            self.key = key
            self.value = value
        }
    }

}
