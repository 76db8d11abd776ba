//! Which keys each hash slot holds, kept by a database in cluster mode so that
//! `CLUSTER COUNTKEYSINSLOT` and `GETKEYSINSLOT` (and so slot migration) cost the size of
//! one slot, not of the keyspace. The keyspace's own layout is by placement hash, which
//! says nothing of slots; Redis 7.0 links each slot's keys through two pointers in their
//! dictionary entries, this keeps a set per slot (about twice its memory per key, and
//! nothing at all outside cluster mode).

import StrataCluster

/// The keys of each hash slot.
public struct SlotKeyIndex: Sendable {
    private var slots: [Set<Bytes>]

    /// An empty index.
    public init() {
        slots = Array(repeating: [], count: HashSlot.count)
    }

    /// How many hash slots there are.
    public static let slotCount = HashSlot.count

    /// The slot of `key`.
    @inlinable
    public static func slot(of key: Bytes) -> Int {
        key.withUnsafeBytes { HashSlot.of($0) }
    }

    mutating func insert(_ key: Bytes) {
        slots[SlotKeyIndex.slot(of: key)].insert(key)
    }

    mutating func remove(_ key: Bytes) {
        slots[SlotKeyIndex.slot(of: key)].remove(key)
    }

    /// The number of keys in `slot`.
    public func count(in slot: Int) -> Int { slots[slot].count }

    /// Up to `limit` keys of `slot`.
    public func keys(in slot: Int, limit: Int) -> [Bytes] { Array(slots[slot].prefix(limit)) }
}

extension Database {
    /// Starts keeping ``slotIndex`` (cluster mode), built from the keys stored now.
    public mutating func enableSlotIndex() {
        var index = SlotKeyIndex()
        for shard in shards {
            for (key, _) in shard.entries { index.insert(key) }
        }
        slotIndex = index
    }
}
