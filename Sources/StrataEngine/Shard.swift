/// One shard of a database: a copy-on-write table of about a thousand entries, plus
/// the deadlines of those of its keys that have one. Copying a `Shard` is O(1); the first
/// write to a copied shard copies just that shard (DESIGN.md: fork-less snapshots).
public struct Shard: Sendable {
    /// Key → value and bookkeeping.
    public var entries = KeyTable<Entry>()
    /// Key → absolute deadline in Unix milliseconds, for keys that have one.
    public var deadlines = KeyTable<Int64>()

    /// An empty shard.
    public init() {}

    /// Releases table capacity left behind by deletions, as Redis's `tryResizeHashTables`
    /// (tables never shrink on removal).
    public mutating func shrinkIfSparse() {
        entries.shrinkIfSparse()
        deadlines.shrinkIfSparse()
    }

    /// The identity of the entry table's storage: equal for two shards exactly while they
    /// share it (neither was written since one was copied from the other); nil when empty.
    public var storageIdentity: UInt? {
        entries.storageIdentity
    }
}
