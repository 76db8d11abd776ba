/// A damaged or unreadable file — a snapshot, an AOF file or a manifest — with the offset
/// where the damage starts, so that people and tools can find and repair it.
public struct FileDamageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file.
    public var path: String
    /// Byte offset of the damage (for commands, the start of the bad command).
    public var offset: Int
    /// What is wrong.
    public var reason: String

    /// An error naming `path` and `offset`.
    public init(path: String, offset: Int, reason: String) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(path) at offset \(offset): \(reason)" }
}
