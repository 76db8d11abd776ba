//! What memcached keeps with an item that a Strata string has no room for: its 32-bit
//! client flags and its CAS unique. Most items have flags 0 and nobody asks for their CAS,
//! so the table holds only the others: an entry appears when an item is stored with
//! flags, or when a CAS unique is handed out (`gets`, `gats`), and leaves whenever the key
//! is written again, by either protocol, or deleted (the server forgets it for every key
//! its write record names). A CAS unique is therefore handed out once per version of the
//! item and never reused: `cas` with an older one finds another or none, and fails.

/// Flags and CAS uniques of the items that have them, by key.
public struct MemcachedItemTable<Key: Hashable>: Sendable where Key: Sendable {
    /// An item's flags and, once handed out, CAS unique (0: none yet).
    public struct Entry: Sendable, Equatable {
        public var flags: UInt32
        public var casUnique: UInt64
    }

    private var entries: [Key: Entry] = [:]
    /// The last CAS unique handed out.
    private var lastCAS: UInt64

    /// An empty table whose CAS uniques start after `firstCAS` (the server seeds it from
    /// the clock, so that a unique handed out before a restart names nothing after it).
    public init(firstCAS: UInt64 = 0) {
        lastCAS = firstCAS
    }

    /// Items with an entry.
    public var count: Int { entries.count }

    /// The client flags of `key` (0 when it has no entry).
    public func flags(of key: Key) -> UInt32 { entries[key]?.flags ?? 0 }

    /// The CAS unique of `key`'s current version, handed out now if it has none.
    public mutating func casUnique(of key: Key) -> UInt64 {
        if let unique = entries[key]?.casUnique, unique != 0 { return unique }
        lastCAS &+= 1
        entries[key, default: Entry(flags: 0, casUnique: 0)].casUnique = lastCAS
        return lastCAS
    }

    /// Whether `unique` is the CAS unique of `key`'s current version.
    public func matches(_ key: Key, casUnique unique: UInt64) -> Bool {
        guard unique != 0, let entry = entries[key] else { return false }
        return entry.casUnique == unique
    }

    /// A new version of `key` was stored with `flags` (after the write was committed,
    /// which forgot the old version).
    public mutating func stored(_ key: Key, flags: UInt32) {
        if flags == 0 && entries.isEmpty { return }
        if flags == 0 {
            entries[key] = nil
        } else {
            entries[key] = Entry(flags: flags, casUnique: 0)
        }
    }

    /// `key` was written or removed: its flags and CAS unique go.
    public mutating func forget(_ key: Key) { entries[key] = nil }

    /// Every item went (a flush).
    public mutating func forgetAll() { entries.removeAll() }
}
