/// One shard of a database: a copy-on-write dictionary of about a thousand entries, plus
/// the deadlines of those of its keys that have one. Copying a `Shard` is O(1); the first
/// write to a copied shard copies just that shard (DESIGN.md: fork-less snapshots).
public struct Shard: Sendable {
    /// Key → value and bookkeeping.
    public var entries: [Bytes: Entry] = [:]
    /// Key → absolute deadline in Unix milliseconds, for keys that have one.
    public var deadlines: [Bytes: Int64] = [:]

    /// An empty shard.
    public init() {}

    /// Releases table capacity left behind by deletions, as Redis's `tryResizeHashTables`.
    ///
    /// Swift dictionaries never shrink on removal; a shard emptied by expiry would keep its
    /// peak table. Rebuilding when under an eighth full returns that memory.
    public mutating func shrinkIfSparse() {
        if entries.isEmpty {
            if entries.capacity > 0 { entries = [:] }
        } else if entries.capacity > 64 && entries.count * 8 < entries.capacity {
            entries = Dictionary(minimumCapacity: entries.count).merging(entries) { a, _ in a }
        }
        if deadlines.isEmpty {
            if deadlines.capacity > 0 { deadlines = [:] }
        } else if deadlines.capacity > 64 && deadlines.count * 8 < deadlines.capacity {
            deadlines = Dictionary(minimumCapacity: deadlines.count).merging(deadlines) { a, _ in a }
        }
    }

    /// The identity of the entry table's storage: equal for two shards exactly while they
    /// share it (neither was written since one was copied from the other). nil when the
    /// standard library's layout is not the single reference this relies on.
    public var storageIdentity: UInt? {
        guard MemoryLayout<[Bytes: Entry]>.size == MemoryLayout<UInt>.size else { return nil }
        return unsafeBitCast(entries, to: UInt.self)
    }
}
