/// A request that breaks the protocol; the server replies `-ERR <message>` and closes.
///
/// A struct with a private code so that new cases never break callers that match on
/// the public static values.
public struct RESPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case tooBigInline
        case unbalancedQuotes
        case tooBigMultibulkCount
        case invalidMultibulkLength
        case unauthenticatedMultibulkLength
        case expectedDollar(UInt8)
        case tooBigBulkCount
        case invalidBulkLength
        case unauthenticatedBulkLength
    }

    private let code: Code

    /// An inline request longer than the inline limit without a newline.
    public static let tooBigInline = RESPProtocolError(code: .tooBigInline)
    /// An inline request whose quotes do not close.
    public static let unbalancedQuotes = RESPProtocolError(code: .unbalancedQuotes)
    /// A `*` line longer than the inline limit.
    public static let tooBigMultibulkCount = RESPProtocolError(code: .tooBigMultibulkCount)
    /// A `*` count that is not a number or is over the limit.
    public static let invalidMultibulkLength = RESPProtocolError(code: .invalidMultibulkLength)
    /// A `*` count over the pre-authentication limit.
    public static let unauthenticatedMultibulkLength = RESPProtocolError(code: .unauthenticatedMultibulkLength)
    /// A `$` line longer than the inline limit.
    public static let tooBigBulkCount = RESPProtocolError(code: .tooBigBulkCount)
    /// A `$` length that is not a number, negative, or over `proto-max-bulk-len`.
    public static let invalidBulkLength = RESPProtocolError(code: .invalidBulkLength)
    /// A `$` length over the pre-authentication limit.
    public static let unauthenticatedBulkLength = RESPProtocolError(code: .unauthenticatedBulkLength)

    /// An argument that does not start with `$`.
    public static func expectedDollar(got byte: UInt8) -> RESPProtocolError {
        RESPProtocolError(code: .expectedDollar(byte))
    }

    /// The text Redis sends after `-ERR `.
    public var message: String {
        switch code {
        case .tooBigInline: return "Protocol error: too big inline request"
        case .unbalancedQuotes: return "Protocol error: unbalanced quotes in request"
        case .tooBigMultibulkCount: return "Protocol error: too big mbulk count string"
        case .invalidMultibulkLength: return "Protocol error: invalid multibulk length"
        case .unauthenticatedMultibulkLength: return "Protocol error: unauthenticated multibulk length"
        case .expectedDollar(let byte):
            return "Protocol error: expected '$', got '\(Character(Unicode.Scalar(byte)))'"
        case .tooBigBulkCount: return "Protocol error: too big bulk count string"
        case .invalidBulkLength: return "Protocol error: invalid bulk length"
        case .unauthenticatedBulkLength: return "Protocol error: unauthenticated bulk length"
        }
    }

    public var description: String { message }
}
