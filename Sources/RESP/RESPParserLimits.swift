/// Limits the request parser enforces; each mirrors a Redis default and config name.
///
/// - `maxBulkLength`: `proto-max-bulk-len`, default 512 MiB.
/// - `maxMultibulkLength`: the largest `*<count>` accepted, default `Int32.max` (Redis's cap).
/// - `maxInlineLength`: the longest inline command or length line, default 64 KiB
///   (Redis's `PROTO_INLINE_MAX_SIZE`).
/// - `maxUnauthenticatedMultibulkLength` / `maxUnauthenticatedBulkLength`: the tighter caps
///   applied before a client authenticates when a password is set, default 10 and 16 KiB.
public struct RESPParserLimits: Sendable, Equatable {
    /// Largest bulk string, in bytes (`proto-max-bulk-len`).
    public var maxBulkLength: Int
    /// Largest argument count of one command.
    public var maxMultibulkLength: Int
    /// Longest inline command or `*`/`$` length line, in bytes.
    public var maxInlineLength: Int
    /// Largest argument count before authentication.
    public var maxUnauthenticatedMultibulkLength: Int
    /// Largest bulk string before authentication, in bytes.
    public var maxUnauthenticatedBulkLength: Int

    /// Redis 7's defaults.
    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxMultibulkLength: Int = Int(Int32.max),
        maxInlineLength: Int = 64 * 1024,
        maxUnauthenticatedMultibulkLength: Int = 10,
        maxUnauthenticatedBulkLength: Int = 16384
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxMultibulkLength = maxMultibulkLength
        self.maxInlineLength = maxInlineLength
        self.maxUnauthenticatedMultibulkLength = maxUnauthenticatedMultibulkLength
        self.maxUnauthenticatedBulkLength = maxUnauthenticatedBulkLength
    }
}
