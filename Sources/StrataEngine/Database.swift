//! A logical database (`SELECT n`): the keyspace as an array of shards addressed by linear
//! hashing. The shard count grows one split at a time as keys are added (about a thousand
//! keys per shard), so growth never rehashes the whole keyspace at once, and a snapshot
//! freezes the database by copying only the array of shards.
//!
//! Every lookup applies lazy expiry: a key past its deadline is deleted on sight and is
//! never visible to a command.

/// A logical database: sharded keyspace with deadlines.
public struct Database: Sendable {
    /// The shards; index by ``shardIndex(for:)``.
    public private(set) var shards: [Shard]
    /// Linear hashing: shards below `splitPointer` have been split at the current level.
    private var splitPointer = 0
    /// Linear hashing: the number of shards at the start of the current level.
    private var levelBase: Int
    /// Number of keys (including expired ones not yet removed).
    public private(set) var count = 0
    /// Number of keys with a deadline.
    public private(set) var deadlineCount = 0
    /// On a replica, a key past its deadline reads as missing but stays until the primary
    /// deletes it (its `DEL` comes in the stream), as in Redis: deleting it here would
    /// lose it when a command of the primary's, written before the key expired there,
    /// arrives late (a `PERSIST`), and would add a write the primary's stream lacks.
    public var keepsExpiredKeys = false
    /// Estimated average remaining TTL in ms of keys with a deadline (`INFO keyspace`
    /// `avg_ttl`), maintained by the active expiry cycle.
    public internal(set) var averageTTL: Int64 = 0
    /// The keys of each hash slot, kept in cluster mode only (``enableSlotIndex()``).
    public internal(set) var slotIndex: SlotKeyIndex?
    /// Where eviction sampling continues (``forEachSample(_:volatileOnly:_:)``).
    var samplingCursor = SamplingCursor()
    /// memcached items' flags and CAS uniques, by key (see `ItemMetadata`).
    @usableFromInline var itemMetadataByKey: [Bytes: ItemMetadata] = [:]
    /// The largest CAS unique ever set here (new uniques are handed out past it).
    public internal(set) var largestCASUnique: UInt64 = 0

    /// Shards in a new database.
    public static let initialShardCount = 16
    /// Average keys per shard before a shard is split.
    public static let keysPerShard = 1024

    /// An empty database.
    public init() {
        shards = Array(repeating: Shard(), count: Database.initialShardCount)
        levelBase = Database.initialShardCount
    }

    /// The mixed 64-bit hash used to place a key; the low bits choose the shard, the high
    /// 32 bits give the key's position in SCAN order within its shard.
    @inlinable
    public static func placementHash(_ key: Bytes) -> UInt64 {
        var h = key.placementSeed
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h
    }

    /// The shard that holds `key`.
    @inlinable
    public func shardIndex(for key: Bytes) -> Int {
        shardIndex(hash: Database.placementHash(key))
    }

    /// The shard for a placement hash.
    public func shardIndex(hash: UInt64) -> Int {
        var index = Int(truncatingIfNeeded: hash & UInt64(levelBase - 1))
        if index < splitPointer {
            index = Int(truncatingIfNeeded: hash & UInt64(levelBase * 2 - 1))
        }
        return index
    }

    // MARK: Lookup

    /// Runs `body` on shard `s` where it is stored, through a pointer. Reading `shards[s]`
    /// copied the shard out of the array, and so did passing it borrowed to a closure the
    /// optimizer does not inline: a retain and a release of each of its tables per lookup.
    @inlinable
    func shard<R>(_ s: Int, _ body: (UnsafePointer<Shard>) -> R) -> R {
        shards.withUnsafeBufferPointer { body($0.baseAddress.unsafelyUnwrapped + s) }
    }

    /// The slot of `key` in shard `s` and whether its entry has a deadline; nil when the key
    /// is not stored. No expiry check.
    private func storedSlot(_ key: Bytes, hash: UInt64, shard s: Int) -> (slot: Int, hasDeadline: Bool)? {
        shard(s) { shard in
            shard.pointee.entries.slot(of: key, hash: hash).map { ($0, shard.pointee.entries.hasDeadline(at: $0)) }
        }
    }

    /// The live entry for `key`, deleting it first if its deadline has passed.
    ///
    /// - Returns: the entry, and whether a deadline made it expire now.
    public mutating func entry(_ key: Bytes, now: Int64) -> (entry: Entry?, expired: Bool) {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        let (slot, expired) = liveSlot(key, hash: hash, shard: s, now: now)
        guard let slot else { return (nil, expired) }
        return (shard(s) { $0.pointee.entries.element(at: slot) }, expired)
    }

    /// The slot of `key` in shard `s` while the key is live; a key past its deadline is
    /// deleted first (reported as `expired`).
    private mutating func liveSlot(_ key: Bytes, hash: UInt64, shard s: Int, now: Int64) -> (slot: Int?, expired: Bool)
    {
        let (found, deadline) = shard(s) { shard -> (Int?, Int64?) in
            guard let slot = shard.pointee.entries.slot(of: key, hash: hash) else { return (nil, nil) }
            return (slot, shard.pointee.entries.hasDeadline(at: slot) ? shard.pointee.deadlines[key, hash] : nil)
        }
        guard let slot = found else { return (nil, false) }
        if let deadline, deadline <= now {
            if keepsExpiredKeys { return (nil, false) }
            removeEntry(key, hash: hash, shard: s)
            return (nil, true)
        }
        return (slot, false)
    }

    /// Runs `body` on the live value of `key` in place (one hash lookup), applying expiry.
    ///
    /// - Returns: `body`'s result, or nil when the key is missing (or just expired), and
    ///   whether a deadline made it expire now.
    public mutating func modify<R>(
        _ key: Bytes, now: Int64, _ body: (inout Value) -> R
    ) -> (result: R?, expired: Bool) {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        let (slot, expired) = liveSlot(key, hash: hash, shard: s, now: now)
        guard let slot else { return (nil, expired) }
        return (shards[s].entries.withElement(at: slot) { body(&$0.value) }, false)
    }

    /// The live value of `key` for reading, with the access time updated in the same
    /// lookup; deletes the key first if its deadline has passed.
    public mutating func read(_ key: Bytes, now: Int64, clock: UInt32) -> (value: Value?, expired: Bool) {
        read(key, now: now) { _ in clock }
    }

    /// The live value of `key` for reading, replacing its access bits with `update(old)`
    /// (the access clock, or LFU counters) — written only when they change, so a read in
    /// the same clock tick leaves a shard shared with a snapshot alone; deletes the key
    /// first if its deadline has passed.
    public mutating func read(
        _ key: Bytes, now: Int64, updatingAccess update: (UInt32) -> UInt32
    ) -> (value: Value?, expired: Bool) {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        let (slot, expired) = liveSlot(key, hash: hash, shard: s, now: now)
        guard let slot else { return (nil, expired) }
        let (value, old) = shard(s) { ($0.pointee.entries.value(at: slot), $0.pointee.entries.accessBits(at: slot)) }
        let bits = update(old)
        if bits != old { shards[s].entries.withElement(at: slot) { $0.accessClock = bits } }
        return (value, false)
    }

    /// The deadline of `key`, if it has one. Does not apply expiry.
    public func deadline(_ key: Bytes) -> Int64? {
        let hash = Database.placementHash(key)
        return shard(shardIndex(hash: hash)) { $0.pointee.deadlines[key, hash] }
    }

    /// nil when `key` is not stored, else its access bits and whether it has a deadline
    /// (no expiry check; the value is not touched).
    func accessState(_ key: Bytes) -> (accessBits: UInt32, hasDeadline: Bool)? {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        return shard(s) { shard in
            shard.pointee.entries.slot(of: key, hash: hash).map {
                (shard.pointee.entries.accessBits(at: $0), shard.pointee.entries.hasDeadline(at: $0))
            }
        }
    }

    /// The entry for `key` without expiry checks (for iteration by callers that check).
    public func rawEntry(_ key: Bytes) -> Entry? {
        let hash = Database.placementHash(key)
        return shard(shardIndex(hash: hash)) { $0.pointee.entries[key, hash] }
    }

    // MARK: Mutation

    /// Stores `value` under `key` with `deadline` (nil: none), replacing any previous value
    /// and deadline, in one lookup per table (loading snapshots).
    public mutating func set(_ key: Bytes, _ value: Value, deadline: Int64?, accessClock: UInt32) {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        let entry = Entry(value: value, hasDeadline: deadline != nil, accessClock: accessClock)
        let previous = shards[s].entries.updateValue(entry, forKey: key, hash: hash)
        if let deadline {
            if shards[s].deadlines.updateValue(deadline, forKey: key, hash: hash) == nil { deadlineCount += 1 }
        } else if previous?.hasDeadline == true {
            shards[s].deadlines.removeValue(forKey: key, hash: hash)
            deadlineCount -= 1
        }
        if previous == nil {
            count += 1
            slotIndex?.insert(key)
            splitIfNeeded()
        }
    }

    /// Stores `value` under `key`. Keeps the key's deadline only when `keepDeadline`.
    ///
    /// - Returns: whether the key is new.
    @discardableResult
    public mutating func set(_ key: Bytes, _ value: Value, keepDeadline: Bool = false, accessClock: UInt32) -> Bool {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        var entry = Entry(value: value, accessClock: accessClock)
        if let stored = storedSlot(key, hash: hash, shard: s) {
            entry.hasDeadline = stored.hasDeadline && keepDeadline
            shards[s].entries.withElement(at: stored.slot) { $0 = entry }
            if stored.hasDeadline && !keepDeadline {
                shards[s].deadlines.removeValue(forKey: key, hash: hash)
                deadlineCount -= 1
            }
            return false
        }
        shards[s].entries.insertNew(key, entry, tag: KeyTable<Entry>.tag(hash))
        count += 1
        slotIndex?.insert(key)
        splitIfNeeded()
        return true
    }

    /// Replaces the value of an existing key in place, keeping its deadline.
    ///
    /// - Returns: false when the key does not exist.
    @discardableResult
    public mutating func update(_ key: Bytes, _ body: (inout Value) -> Void) -> Bool {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        guard let slot = storedSlot(key, hash: hash, shard: s)?.slot else { return false }
        shards[s].entries.withElement(at: slot) { body(&$0.value) }
        return true
    }

    /// Deletes `key`. Does not check the deadline: a deleted expired key was still stored.
    ///
    /// - Returns: whether a key was stored.
    @discardableResult
    public mutating func remove(_ key: Bytes) -> Entry? {
        let hash = Database.placementHash(key)
        return removeEntry(key, hash: hash, shard: shardIndex(hash: hash))
    }

    /// Deletes `key` like ``remove(_:)`` without handing back its entry (eviction: the value
    /// is freed without being touched twice).
    ///
    /// - Returns: whether a key was stored.
    mutating func delete(_ key: Bytes) -> Bool {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        guard let stored = storedSlot(key, hash: hash, shard: s) else { return false }
        shards[s].entries.remove(at: stored.slot)
        count -= 1
        slotIndex?.remove(key)
        if stored.hasDeadline {
            shards[s].deadlines.removeValue(forKey: key, hash: hash)
            deadlineCount -= 1
        }
        return true
    }

    @discardableResult
    private mutating func removeEntry(_ key: Bytes, hash: UInt64, shard s: Int) -> Entry? {
        guard let old = shards[s].entries.removeValue(forKey: key, hash: hash) else { return nil }
        count -= 1
        slotIndex?.remove(key)
        if old.hasDeadline {
            shards[s].deadlines.removeValue(forKey: key, hash: hash)
            deadlineCount -= 1
        }
        return old
    }

    /// Sets the absolute deadline of an existing key.
    public mutating func setDeadline(_ key: Bytes, _ deadline: Int64) {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        guard let slot = storedSlot(key, hash: hash, shard: s)?.slot else { return }
        if shards[s].deadlines.updateValue(deadline, forKey: key, hash: hash) == nil {
            deadlineCount += 1
        }
        shards[s].entries.withElement(at: slot) { $0.hasDeadline = true }
    }

    /// Removes the deadline of `key`.
    ///
    /// - Returns: whether there was one.
    @discardableResult
    public mutating func removeDeadline(_ key: Bytes) -> Bool {
        let hash = Database.placementHash(key)
        let s = shardIndex(hash: hash)
        guard shards[s].deadlines.removeValue(forKey: key, hash: hash) != nil else { return false }
        deadlineCount -= 1
        if let slot = storedSlot(key, hash: hash, shard: s)?.slot {
            shards[s].entries.withElement(at: slot) { $0.hasDeadline = false }
        }
        return true
    }

    /// As ``forEachLive(now:_:)``, but each shard is released once visited, leaving this
    /// database empty: walking a frozen copy that nothing else holds, what the live
    /// keyspace copied or replaced since the freeze is freed as the walk goes, not at its
    /// end.
    public mutating func drainLive(now: Int64, _ body: (Bytes, Value, Int64?) throws -> Void) rethrows {
        for index in shards.indices {
            let shard = shards[index]
            shards[index] = Shard()
            try Database.forEachLive(in: shard, now: now, body)
        }
        let indexed = slotIndex != nil
        self = Database()
        if indexed { slotIndex = SlotKeyIndex() }
    }

    /// Removes every key.
    public mutating func removeAll() {
        let keeps = keepsExpiredKeys
        let indexed = slotIndex != nil
        self = Database()
        keepsExpiredKeys = keeps
        if indexed { slotIndex = SlotKeyIndex() }
    }

    // MARK: Growth

    private mutating func splitIfNeeded() {
        guard count > shards.count * Database.keysPerShard else { return }
        let source = splitPointer
        let target = shards.count
        let mask = UInt64(levelBase * 2 - 1)
        // Both halves are rebuilt at the size their keys call for (the source's table was
        // sized for twice as many); keys and values move without reference counting, and
        // tags carry over, so only the placement hash decides, nothing is rehashed twice.
        let total = shards[source].entries.count
        var staying = Shard()
        var moving = Shard()
        staying.entries.reserveCapacity(total / 2 + total / 32 + 8)
        moving.entries.reserveCapacity(total / 2 + total / 32 + 8)
        let leaves = { (key: Bytes) in Int(truncatingIfNeeded: Database.placementHash(key) & mask) != source }
        shards[source].entries.split(into: &staying.entries, &moving.entries, where: leaves)
        shards[source].deadlines.split(into: &staying.deadlines, &moving.deadlines, where: leaves)
        shards[source] = staying
        shards.append(moving)
        precondition(shards.count == target + 1)
        splitPointer += 1
        if splitPointer == levelBase {
            levelBase *= 2
            splitPointer = 0
        }
    }

    /// Prepares an empty database for about `keys` keys (a snapshot's RESIZEDB hint):
    /// creates the shards linear hashing would reach and reserves their tables, so loading
    /// never splits or rehashes. Does nothing once the database holds keys.
    public mutating func reserve(keys: Int) {
        guard count == 0, splitPointer == 0, keys > shards.count * Database.keysPerShard else { return }
        var base = levelBase
        while base * Database.keysPerShard < keys { base *= 2 }
        levelBase = base
        let perShard = keys / base + keys / base / 8 + 16
        shards = (0..<base).map { _ in
            var shard = Shard()
            shard.entries.reserveCapacity(perShard)
            return shard
        }
    }

    /// Applies `body` to one shard in place (for the expiry cycle and resizing).
    mutating func withShard<R>(_ index: Int, _ body: (inout Shard) -> R) -> R {
        body(&shards[index])
    }

    /// Adjusts counts after a caller removed entries from a shard directly.
    mutating func noteRemoved(keys: Int, deadlines: Int) {
        count -= keys
        deadlineCount -= deadlines
    }
}
