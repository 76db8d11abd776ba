/// A stored value. Every case is a value type with copy-on-write storage, so a frozen copy
/// of a shard (for a snapshot) never sees later writes.
public enum Value: Sendable, Equatable {
    /// A string held as bytes (`embstr`/`raw` in Redis's terms).
    case string(Bytes)
    /// A string that is the canonical decimal form of an integer (`int` encoding).
    case integer(Int)

    /// The name `TYPE` reports.
    public var typeName: String {
        switch self {
        case .string, .integer: return "string"
        }
    }

    /// The name `OBJECT ENCODING` reports, with Redis's thresholds.
    public var encodingName: String {
        switch self {
        case .integer: return "int"
        case .string(let bytes): return bytes.count <= 44 ? "embstr" : "raw"
        }
    }

    /// A string value from bytes, using the integer encoding when the bytes are the
    /// canonical form of an integer (as Redis's `tryObjectEncoding`).
    public static func fromString(_ bytes: Bytes) -> Value {
        if bytes.count <= 20, let n = bytes.strictInteger { return .integer(n) }
        return .string(bytes)
    }

    /// The string bytes of a string value, or nil for other types.
    public var stringBytes: Bytes? {
        switch self {
        case .string(let bytes): return bytes
        case .integer(let n): return Bytes(n)
        }
    }
}

/// Per-key bookkeeping kept beside the value.
public struct Entry: Sendable {
    /// The stored value.
    public var value: Value
    /// Whether the key has a deadline in its shard's `expires` table (saves a lookup).
    public var hasDeadline: Bool
    /// Last access, in seconds of the engine clock (for `OBJECT IDLETIME` and LRU).
    public var accessSeconds: UInt32

    /// An entry for `value` accessed at `accessSeconds`.
    public init(value: Value, hasDeadline: Bool = false, accessSeconds: UInt32) {
        self.value = value
        self.hasDeadline = hasDeadline
        self.accessSeconds = accessSeconds
    }
}
