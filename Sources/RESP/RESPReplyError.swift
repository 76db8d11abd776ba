//! What the reply parser refuses and the bounds it enforces. Replies come from the network,
//! so a wrong byte or a length past a bound is an error the caller can report, never a trap
//! or an allocation the input chose.

/// A reply that breaks the protocol or goes past ``RESPReplyLimits``; the connection it
/// came from cannot be read any further.
public struct RESPReplyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, for people.
    public var message: String
    /// The offset, from the start of the reply, of the byte that was wrong.
    public var offset: Int

    /// An error about the byte at `offset`.
    public init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "RESP protocol error at byte \(offset) of the reply: \(message)" }
}

/// Bounds on what ``RESPReplyParser`` accepts, so that a server (or whatever answers on
/// its port) cannot make a client allocate without limit or recurse without end.
public struct RESPReplyLimits: Sendable, Equatable {
    /// Largest bulk string, verbatim string or bulk error, in bytes (Redis's
    /// `proto-max-bulk-len` default: 512 MiB).
    public var maxBulkLength: Int
    /// Largest element count of one array, set or push, or pair count of one map.
    public var maxAggregateCount: Int
    /// Longest line (simple string, error, number, length), in bytes without its CRLF.
    public var maxLineLength: Int
    /// Deepest nesting of aggregates; a top-level array is depth 1.
    public var maxDepth: Int

    /// Bounds generous for any reply Redis or Strata sends.
    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxAggregateCount: Int = Int(Int32.max),
        maxLineLength: Int = 1024 * 1024,
        maxDepth: Int = 64
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxAggregateCount = maxAggregateCount
        self.maxLineLength = maxLineLength
        self.maxDepth = maxDepth
    }
}
