//! Stored values and per-key bookkeeping, laid out for memory: a `Value` is 20 bytes (short
//! strings up to 18 bytes inline, longer ones in one shared heap block, integers unboxed)
//! and an `Entry` is 24, so a keyspace slot (key + entry) is 48 bytes. Every case is a
//! value with copy-on-write storage, so a frozen copy of a shard (for a snapshot) never
//! sees later writes.

/// A stored value.
/// Sendable for the same reason as ``Bytes``: shared storage is never mutated in place.
public enum Value: @unchecked Sendable {
    /// A string of at most ``Value/inlineCapacity`` bytes, stored inline.
    case shortString(UInt64, UInt64, UInt16, count: UInt8)
    /// A longer string: the first `count` bytes of a shared copy-on-write block.
    case longString(ByteStorage, count: Int)
    /// A string that is the canonical decimal form of an integer (`int` encoding).
    case integer(Int)
    /// A string modified in place (APPEND, SETRANGE, SETBIT): Redis's `raw` encoding,
    /// always on the heap whatever its length: the first `count` bytes of the block.
    case rawString(ByteStorage, count: Int)
    /// A hash (`listpack` or `hashtable`).
    case hash(HashValue)
    /// A set (`intset` or `hashtable`).
    case set(SetValue)
    /// A list (`quicklist`).
    case list(ListValue)
    /// A sorted set (`listpack` or `skiplist`).
    case sortedSet(SortedSetValue)
    /// A stream.
    case stream(StreamStorage)

    /// Bytes a string keeps inline.
    public static let inlineCapacity = 18

    /// A string value holding `bytes`.
    @inlinable
    public static func string(_ bytes: Bytes) -> Value {
        switch bytes.storage {
        case .large(let storage, let count):
            return .longString(storage, count: count)
        case .small(_, _, _, _, let count) where Int(count) > inlineCapacity:
            return bytes.withUnsafeBytes {
                .longString(ByteStorage.make(copying: $0, capacity: $0.count), count: $0.count)
            }
        case .small(let a, let b, let c, _, let count):
            return .shortString(a, b, UInt16(truncatingIfNeeded: c), count: count)
        }
    }

    /// A `raw`-encoded string value holding `bytes`.
    @inlinable
    public static func raw(_ bytes: Bytes) -> Value {
        if case .large(let storage, let count) = bytes.storage { return .rawString(storage, count: count) }
        return bytes.withUnsafeBytes { .rawString(ByteStorage.make(copying: $0, capacity: $0.count), count: $0.count) }
    }

    /// The name `TYPE` reports.
    public var typeName: String {
        switch self {
        case .shortString, .longString, .integer, .rawString: return "string"
        case .hash: return "hash"
        case .set: return "set"
        case .list: return "list"
        case .sortedSet: return "zset"
        case .stream: return "stream"
        }
    }

    /// The name `OBJECT ENCODING` reports, with Redis's thresholds.
    public var encodingName: String {
        switch self {
        case .integer: return "int"
        case .shortString: return "embstr"
        case .longString(_, let count): return count <= 44 ? "embstr" : "raw"
        case .rawString: return "raw"
        case .hash(let hash): return hash.encodingName
        case .set(let set): return set.encodingName
        case .list(let list): return list.encodingName
        case .sortedSet(let zset): return zset.encodingName
        case .stream: return "stream"
        }
    }

    /// A string value from bytes, using the integer encoding when the bytes are the
    /// canonical form of an integer (as Redis's `tryObjectEncoding`).
    @inlinable
    public static func fromString(_ bytes: Bytes) -> Value {
        if bytes.count <= 20, let n = bytes.strictInteger { return .integer(n) }
        return .string(bytes)
    }

    /// The string bytes of a string value, or nil for other types.
    @inlinable
    public var stringBytes: Bytes? {
        switch self {
        case .shortString(let a, let b, let c, let count):
            return Bytes(storage: .small(a, b, UInt32(c), 0, count: count))
        case .longString(let storage, let count), .rawString(let storage, let count):
            if count > Bytes.inlineCapacity { return Bytes(storage: .large(storage, count: count)) }
            return storage.withBytes(count: count) { Bytes($0) }
        case .integer(let n): return Bytes(n)
        case .hash, .set, .list, .sortedSet, .stream: return nil
        }
    }
}

extension Value: Equatable {
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): return a == b
        case (.hash(let a), .hash(let b)): return a == b
        case (.set(let a), .set(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.sortedSet(let a), .sortedSet(let b)): return a == b
        case (.stream(let a), .stream(let b)): return a === b || a.stream == b.stream
        case (.hash, _), (_, .hash), (.set, _), (_, .set), (.list, _), (_, .list), (.sortedSet, _), (_, .sortedSet),
            (.stream, _), (_, .stream):
            return false
        default: return lhs.typeName == rhs.typeName && lhs.stringBytes == rhs.stringBytes
        }
    }
}

/// Per-key bookkeeping kept beside the value: 24 bytes in all.
public struct Entry: Sendable {
    /// The stored value.
    public var value: Value
    /// Bit 31: the key has a deadline in its shard's table; bits 0–30: the access clock
    /// at the last access, in tenths of a second, wrapping every 6.8 years (for `OBJECT
    /// IDLETIME` and LRU; ten times finer than Redis's one-second LRU clock) — or the LFU
    /// counter under an LFU policy.
    @usableFromInline var meta: UInt32

    /// Milliseconds per access-clock tick.
    public static let clockTickMilliseconds: Int64 = 100

    /// An entry for `value` accessed at `accessClock`.
    @inlinable
    public init(value: Value, hasDeadline: Bool = false, accessClock: UInt32) {
        self.value = value
        self.meta = (accessClock & 0x7FFF_FFFF) | (hasDeadline ? 0x8000_0000 : 0)
    }

    /// Whether the key has a deadline in its shard's `deadlines` table (saves a lookup).
    @inlinable
    public var hasDeadline: Bool {
        get { meta & 0x8000_0000 != 0 }
        set { meta = newValue ? meta | 0x8000_0000 : meta & 0x7FFF_FFFF }
    }

    /// Last access on the engine's access clock (see ``Entry/clock(now:)``).
    @inlinable
    public var accessClock: UInt32 {
        get { meta & 0x7FFF_FFFF }
        set { meta = (meta & 0x8000_0000) | (newValue & 0x7FFF_FFFF) }
    }

    /// The access clock for Unix time `now` in milliseconds.
    @inlinable
    public static func clock(now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: max(0, now / clockTickMilliseconds)) & 0x7FFF_FFFF
    }

    /// Ticks from access clock `then` to `now`, across the clock's wrap.
    @inlinable
    public static func ticks(from then: UInt32, to now: UInt32) -> UInt32 {
        (now &- then) & 0x7FFF_FFFF
    }
}
