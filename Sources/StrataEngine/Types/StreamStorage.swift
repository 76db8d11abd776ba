//! The box a stream lives in inside `Value` (which must stay 20 bytes). Writers swap the
//! stream out of a uniquely referenced box and back (`StreamCommands.modify`); a box shared
//! with a frozen snapshot is never changed.

/// A stream held by reference in a keyspace slot.
public final class StreamStorage: @unchecked Sendable {
    /// The stream.
    public var stream: StreamValue

    /// A box holding `stream`.
    public init(_ stream: StreamValue) {
        self.stream = stream
    }
}
