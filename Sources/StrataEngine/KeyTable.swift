//! The keyspace's hash table: one per shard for entries and one for deadlines.
//!
//! Open addressing with Robin Hood linear probing and backward-shift deletion, in one
//! malloc block of slots (key and element side by side, so a hit reads one cache line of
//! slot) followed by a 16-bit tag per slot. The tag is the top 15 bits of the key's
//! placement hash with the high bit set (0 marks an empty slot); it chooses the key's home
//! slot (`tag × capacity / 2¹⁵`), so a probe knows every resident's distance from home
//! without touching its key, a miss stops as soon as it meets a resident closer to home
//! than itself, and growing never rehashes a key. The capacity is whatever fits the
//! allocator's size class for the requested slots, not a power of two. A growing table is
//! at most 90% full and at least 60% after it grew; one sized for a known count (a shard
//! split, a reservation, shrinking, compaction near `maxmemory`) starts 80% full — the
//! keyspace's memory per key is mostly this table.
//!
//! The table is a value with copy-on-write storage, like every engine value: a snapshot
//! copies a shard in O(1) and the first write to either copy duplicates that shard's table.
//! Slot positions are stable between writes, and a copy keeps them, so a slot found by a
//! lookup can be modified in place (``withElement(at:_:)``).

import CPrefetch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A hash table from keys to elements, specialised for the keyspace.
public struct KeyTable<Payload>: @unchecked Sendable {
    @usableFromInline var storage: KeyTableStorage<Payload>?

    /// An empty table; it allocates on the first insertion.
    @inlinable
    public init() {}

    /// An empty table with room for `minimumCapacity` keys before it grows.
    public init(minimumCapacity: Int) {
        if minimumCapacity > 0 { storage = KeyTableStorage(slots: KeyTable.denseSlots(forKeys: minimumCapacity)) }
    }

    /// Number of keys.
    @inlinable
    public var count: Int { storage?.count ?? 0 }

    /// Whether the table holds no key.
    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// Number of slots (the memory held is about `capacity` × slot size).
    public var capacity: Int { storage?.capacity ?? 0 }

    /// Bytes of the table's slots and tags.
    public var allocatedBytes: Int {
        capacity * KeyTableStorage<Payload>.bytesPerSlot
    }

    /// Keys the table holds before it must grow.
    var growthLimit: Int { storage.map { KeyTable.maximumKeys(slots: $0.capacity) } ?? 0 }

    /// The identity of the storage: equal for two tables exactly while they share it.
    public var storageIdentity: UInt? {
        storage.map { UInt(bitPattern: ObjectIdentifier($0).hashValue) }
    }

    // MARK: Sizing

    /// Most keys a table of `slots` slots holds (90% load).
    static func maximumKeys(slots: Int) -> Int { slots * 9 / 10 }

    /// Slots for a table growing past `keys` keys: room for a quarter as many again (80%
    /// full right after growing, 72–80% once the allocator's size class rounds the table up;
    /// tables average about 80–85% between growths, so the keyspace's memory per key stays
    /// under memcached's; growth moves each key four to seven times over a table's life).
    static func slots(forKeys keys: Int) -> Int { Swift.max(8, keys + keys / 4 + 1) }

    /// Slots for a table sized for a known number of keys (a reservation, a shard split,
    /// shrinking, compaction): at most 86% full, then rounded up to the allocator's size
    /// class (so 69–86%).
    static func denseSlots(forKeys keys: Int) -> Int { Swift.max(8, keys + keys / 6 + 1) }

    // MARK: Hashing

    /// The tag of a placement hash: its top 15 bits, high bit set.
    @inlinable
    static func tag(_ hash: UInt64) -> UInt16 {
        0x8000 | UInt16(truncatingIfNeeded: hash >> 49)
    }

    /// The placement hash of `key` (``Database/placementHash(_:)``).
    @inlinable
    static func hash(_ key: Bytes) -> UInt64 { Database.placementHash(key) }

    // MARK: Lookup

    /// The slot holding `key`, or nil.
    @inlinable
    public func slot(of key: Bytes, hash: UInt64) -> Int? {
        // The probe runs on plain pointers, read in a call of their own: a call on the
        // storage, or on pointers read from it in this function, kept the storage retained
        // and released around the probe (the table holds it meanwhile).
        guard let layout = occupiedLayout else { return nil }
        return layout.find(key, tag: KeyTable.tag(hash))
    }

    /// The storage's layout when it holds any key.
    @usableFromInline
    @inline(never)
    var occupiedLayout: KeyTableLayout<Payload>? {
        // Read through the stored reference: binding it (`guard let`) retained and released
        // the table on every lookup.
        guard storage != nil, storage.unsafelyUnwrapped.count > 0 else { return nil }
        return storage.unsafelyUnwrapped.layout
    }

    /// The element at an occupied slot.
    @inlinable
    public func element(at slot: Int) -> Payload {
        storage.unsafelyUnwrapped.slots[slot].element
    }

    /// The key at an occupied slot.
    @inlinable
    public func key(at slot: Int) -> Bytes {
        storage.unsafelyUnwrapped.slots[slot].key
    }

    /// Runs `body` on the element at an occupied slot in place (copying shared storage first).
    @inlinable
    public mutating func withElement<R>(at slot: Int, _ body: (inout Payload) -> R) -> R {
        makeUnique()
        // The slot's address first: a call through the storage reference kept it retained
        // around `body` (the table holds it, and `body` sees only the element).
        let slots = storage.unsafelyUnwrapped.slots
        return body(&slots[slot].element)
    }

    /// The element stored for `key`, whose placement hash is `hash`.
    @inlinable
    public subscript(key: Bytes, hash: UInt64) -> Payload? {
        slot(of: key, hash: hash).map { element(at: $0) }
    }

    /// The element stored for `key` (hashing it); setting nil removes the key.
    public subscript(key: Bytes) -> Payload? {
        get { self[key, KeyTable.hash(key)] }
        set {
            let hash = KeyTable.hash(key)
            if let newValue {
                updateValue(newValue, forKey: key, hash: hash)
            } else {
                removeValue(forKey: key, hash: hash)
            }
        }
    }

    // MARK: Mutation

    /// Stores `element` under `key`.
    ///
    /// - Returns: the element it replaced, or nil when the key is new.
    @inlinable
    @discardableResult
    public mutating func updateValue(_ element: Payload, forKey key: Bytes, hash: UInt64) -> Payload? {
        if let slot = slot(of: key, hash: hash) {
            return withElement(at: slot) { stored in
                let old = stored
                stored = element
                return old
            }
        }
        insertNew(key, element, tag: KeyTable.tag(hash))
        return nil
    }

    /// Inserts a key known to be absent.
    @usableFromInline
    mutating func insertNew(_ key: Bytes, _ element: Payload, tag: UInt16) {
        insert(KeyTableSlot(key: key, element: element), tag: tag)
    }

    /// Inserts a slot whose key is known to be absent, growing (or unsharing) first.
    @usableFromInline
    mutating func insert(_ entry: consuming KeyTableSlot<Payload>, tag: UInt16) {
        makeUnique(reserving: count + 1)
        storage.unsafelyUnwrapped.insert(consume entry, tag: tag)
    }

    /// Removes `key`.
    ///
    /// - Returns: its element, or nil when it was absent.
    @discardableResult
    public mutating func removeValue(forKey key: Bytes, hash: UInt64) -> Payload? {
        guard let slot = slot(of: key, hash: hash) else { return nil }
        makeUnique()
        return storage.unsafelyUnwrapped.remove(at: slot).element
    }

    /// Removes the key at an occupied slot, dropping its element without copying it out
    /// (a copy would retain a heap value just before freeing it).
    mutating func remove(at slot: Int) {
        makeUnique()
        _ = storage.unsafelyUnwrapped.remove(at: slot)
    }

    /// Ensures room for `keys` keys without growing.
    public mutating func reserveCapacity(_ keys: Int) {
        guard keys > growthLimit else { return }
        if storage == nil {
            storage = KeyTableStorage(slots: KeyTable.denseSlots(forKeys: keys))
        } else {
            resize(slots: KeyTable.denseSlots(forKeys: keys))
        }
    }

    /// Rebuilds the storage at the size `count` calls for when it is under 35% full (after
    /// deletions: a table never shrinks by itself); frees it when empty.
    public mutating func shrinkIfSparse() {
        guard let storage else { return }
        if storage.count == 0 {
            self.storage = nil
        } else if storage.capacity > 16 && storage.count * 20 < storage.capacity * 7 {
            resize(slots: KeyTable.denseSlots(forKeys: storage.count))
        }
    }

    /// Rebuilds the storage denser when it is under 70% full (memory is tight: the
    /// server asks for this near `maxmemory`, where every byte of table is a value fewer
    /// kept). Returns whether it did.
    @discardableResult
    public mutating func compactIfLoose() -> Bool {
        guard let storage, storage.capacity > 16, storage.count * 10 < storage.capacity * 7 else { return false }
        let slots = KeyTable.denseSlots(forKeys: storage.count)
        // Only when it frees a tenth or more (size classes can round the new one back up).
        guard KeyTableStorage<Payload>.capacity(forSlots: slots) * 10 < storage.capacity * 9 else { return false }
        resize(slots: slots)
        return true
    }

    /// Moves every key into `first` or, where `toSecond(key)`, `second`, leaving this
    /// table empty. Tags carry over (nothing is rehashed), and keys and elements move
    /// without reference counting when the storage is not shared.
    mutating func split(into first: inout KeyTable, _ second: inout KeyTable, where toSecond: (Bytes) -> Bool) {
        guard var source = storage else { return }
        storage = nil
        let unique = isKnownUniquelyReferenced(&source)
        for slot in 0..<source.capacity where source.tags[slot] != 0 {
            let tag = source.tags[slot]
            let entry: KeyTableSlot<Payload>
            if unique {
                source.tags[slot] = 0
                entry = (source.slots + slot).move()
            } else {
                entry = source.slots[slot]
            }
            if toSecond(entry.key) {
                second.insert(consume entry, tag: tag)
            } else {
                first.insert(consume entry, tag: tag)
            }
        }
        if unique { source.count = 0 }
    }

    // MARK: Sampling

    /// A uniformly random occupied slot, or nil when empty.
    func randomSlot<G: RandomNumberGenerator>(using generator: inout G) -> Int? {
        guard let storage, storage.count > 0 else { return nil }
        // Random slots until an occupied one: tables are at least a third full, except
        // sparse ones awaiting shrinking; after 32 misses, the next occupied slot.
        var slot = Int.random(in: 0..<storage.capacity, using: &generator)
        strata_prefetch(storage.slots + slot)
        for _ in 0..<32 where storage.tags[slot] == 0 {
            slot = Int.random(in: 0..<storage.capacity, using: &generator)
            strata_prefetch(storage.slots + slot)
        }
        while storage.tags[slot] == 0 {
            slot += 1
            if slot == storage.capacity { slot = 0 }
        }
        return slot
    }

    /// Calls `body` with up to `count` occupied slots from slot `start` on, without
    /// wrapping.
    ///
    /// - Returns: the slot after the last one visited (``capacity`` at the end of the
    ///   table) and how many occupied slots `body` got.
    func forEachOccupiedSlot(from start: Int, upTo count: Int, _ body: (Int) -> Void) -> (next: Int, found: Int) {
        guard let storage, start < storage.capacity else { return (capacity, 0) }
        var slot = start
        var found = 0
        while slot < storage.capacity && found < count {
            if storage.tags[slot] != 0 {
                body(slot)
                found += 1
            }
            slot += 1
        }
        return (slot, found)
    }

    /// A uniformly random key, or nil when empty.
    func randomKey<G: RandomNumberGenerator>(using generator: inout G) -> Bytes? {
        randomSlot(using: &generator).map { key(at: $0) }
    }

    // MARK: Storage management

    /// Makes the storage unique (copying it when shared) with room for `keys` keys.
    @usableFromInline
    mutating func makeUnique(reserving keys: Int = 0) {
        if storage == nil {
            storage = KeyTableStorage(slots: KeyTable.slots(forKeys: keys))
            return
        }
        if keys > growthLimit {
            resize(slots: KeyTable.slots(forKeys: keys))
        } else if !isKnownUniquelyReferenced(&storage) {
            storage = storage.unsafelyUnwrapped.copy()
        }
    }

    /// Moves (or, when shared, copies) every key into new storage of about `slots` slots.
    @usableFromInline
    mutating func resize(slots: Int) {
        guard var source = storage else { return }
        let fresh = KeyTableStorage<Payload>(slots: slots)
        storage = nil
        if isKnownUniquelyReferenced(&source) {
            for slot in 0..<source.capacity where source.tags[slot] != 0 {
                fresh.insert((source.slots + slot).move(), tag: source.tags[slot])
                source.tags[slot] = 0
            }
            source.count = 0
        } else {
            source.forEachOccupied { slot, tag in fresh.insert(slot, tag: tag) }
        }
        storage = fresh
    }
}

extension KeyTable: Sequence {
    /// Iterates keys and elements in slot order.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let storage: KeyTableStorage<Payload>?
        @usableFromInline var slot = 0

        @usableFromInline
        init(storage: KeyTableStorage<Payload>?) {
            self.storage = storage
        }

        @inlinable
        public mutating func next() -> (key: Bytes, value: Payload)? {
            guard let storage else { return nil }
            while slot < storage.capacity {
                defer { slot += 1 }
                if storage.tags[slot] != 0 {
                    let entry = storage.slots[slot]
                    return (entry.key, entry.element)
                }
            }
            return nil
        }
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(storage: storage) }

    @inlinable
    public var underestimatedCount: Int { count }

    /// The keys, in slot order.
    @inlinable
    public var keys: LazyMapSequence<KeyTable<Payload>, Bytes> {
        lazy.map { $0.key }
    }
}

/// One slot: a key and its element.
@usableFromInline
struct KeyTableSlot<Payload> {
    @usableFromInline var key: Bytes
    @usableFromInline var element: Payload

    @usableFromInline
    init(key: Bytes, element: Payload) {
        self.key = key
        self.element = element
    }
}

/// A table's memory: `capacity` slots followed by `capacity` tags, in one allocation.
@usableFromInline
final class KeyTableStorage<Payload> {
    @usableFromInline let capacity: Int
    @usableFromInline var count = 0
    @usableFromInline let slots: UnsafeMutablePointer<KeyTableSlot<Payload>>
    @usableFromInline let tags: UnsafeMutablePointer<UInt16>

    /// Storage of at least `slots` slots: as many as the allocator's block holds.
    @usableFromInline
    convenience init(slots wanted: Int) {
        self.init(capacity: KeyTableStorage.capacity(forSlots: wanted))
    }

    /// Storage of exactly `capacity` slots (a copy keeps every slot where it was).
    @usableFromInline
    init(capacity: Int) {
        let bytes = Swift.max(1, capacity) * KeyTableStorage.bytesPerSlot
        guard let block = malloc(bytes) else { KeyTableStorage.outOfMemory(bytes) }
        self.capacity = Swift.max(1, capacity)
        slots = block.bindMemory(to: KeyTableSlot<Payload>.self, capacity: capacity)
        let tagBase = block + capacity * MemoryLayout<KeyTableSlot<Payload>>.stride
        tags = tagBase.bindMemory(to: UInt16.self, capacity: capacity)
        tags.initialize(repeating: 0, count: capacity)
    }

    /// Bytes of a slot and its tag.
    @usableFromInline
    static var bytesPerSlot: Int { MemoryLayout<KeyTableSlot<Payload>>.stride + MemoryLayout<UInt16>.stride }

    /// The capacity storage asked for `slots` slots gets.
    static func capacity(forSlots slots: Int) -> Int {
        sizeClass(Swift.max(1, slots) * bytesPerSlot) / bytesPerSlot
    }

    /// `bytes` rounded up to the allocator's size class (jemalloc's: four classes per
    /// doubling), so the slots fill the block the allocator hands out anyway.
    static func sizeClass(_ bytes: Int) -> Int {
        guard bytes > 128 else { return (bytes + 15) & ~15 }
        let spacing = 1 << (Int.bitWidth - (bytes - 1).leadingZeroBitCount - 3)
        return (bytes + spacing - 1) & ~(spacing - 1)
    }

    private static func outOfMemory(_ bytes: Int) -> Never {
        fatalError("out of memory allocating a \(bytes)-byte key table")
    }

    deinit {
        if count > 0 {
            for slot in 0..<capacity where tags[slot] != 0 {
                (slots + slot).deinitialize(count: 1)
            }
        }
        free(UnsafeMutableRawPointer(slots))
    }

    /// Where the slots and tags are, for lookups that must not hold the storage.
    @inlinable
    var layout: KeyTableLayout<Payload> { KeyTableLayout(slots: slots, tags: tags, capacity: capacity) }

    /// The home slot of a tag.
    @inlinable
    func home(_ tag: UInt16) -> Int { layout.home(tag) }

    /// How far `slot` is from the home of `tag`.
    @inlinable
    func distance(_ slot: Int, _ tag: UInt16) -> Int { layout.distance(slot, tag) }

    /// Inserts an absent key; the caller ensured a free slot.
    @usableFromInline
    func insert(_ entry: consuming KeyTableSlot<Payload>, tag: UInt16) {
        // Moved, never copied: a copy retains the key's and the value's heap blocks and the
        // copy left behind releases them (a retain and a release per key per insert, and
        // per key again at every growth and shard split).
        var carried = consume entry
        var carriedTag = tag
        var slot = home(tag)
        strata_prefetch(slots + slot)
        var travelled = 0
        while true {
            let resident = tags[slot]
            if resident == 0 {
                (slots + slot).initialize(to: consume carried)
                tags[slot] = carriedTag
                count += 1
                return
            }
            let residentDistance = distance(slot, resident)
            if residentDistance < travelled {
                // Take from the rich: the carried key settles here, the resident moves on.
                swap(&carried, &slots[slot])
                tags[slot] = carriedTag
                carriedTag = resident
                travelled = residentDistance
            }
            travelled += 1
            slot += 1
            if slot == capacity { slot = 0 }
        }
    }

    /// Removes the key at an occupied slot, shifting the following cluster back.
    func remove(at slot: Int) -> KeyTableSlot<Payload> {
        let removed = (slots + slot).move()
        var hole = slot
        var next = slot + 1 == capacity ? 0 : slot + 1
        while tags[next] != 0 && distance(next, tags[next]) > 0 {
            (slots + hole).moveInitialize(from: slots + next, count: 1)
            tags[hole] = tags[next]
            hole = next
            next = next + 1 == capacity ? 0 : next + 1
        }
        tags[hole] = 0
        count -= 1
        return removed
    }

    /// A copy sharing nothing (elements are retained, keys' heap blocks shared).
    func copy() -> KeyTableStorage<Payload> {
        let fresh = KeyTableStorage<Payload>(capacity: capacity)
        for slot in 0..<capacity where tags[slot] != 0 {
            (fresh.slots + slot).initialize(to: slots[slot])
        }
        fresh.tags.update(from: tags, count: capacity)
        fresh.count = count
        return fresh
    }

    /// Calls `body` with every occupied slot and its tag.
    func forEachOccupied(_ body: (KeyTableSlot<Payload>, UInt16) -> Void) {
        for slot in 0..<capacity where tags[slot] != 0 {
            body(slots[slot], tags[slot])
        }
    }
}

extension KeyTable where Payload == Entry {
    /// The value of the entry at an occupied slot (copying the whole entry out first cost
    /// more reference counting).
    @inlinable
    func value(at slot: Int) -> Value {
        storage.unsafelyUnwrapped.slots[slot].element.value
    }

    /// The access bits (LRU clock or LFU counter) of the entry at an occupied slot, read
    /// without copying the entry (a copy would retain its value).
    @inlinable
    func accessBits(at slot: Int) -> UInt32 {
        storage.unsafelyUnwrapped.slots[slot].element.accessClock
    }

    /// Whether the entry at an occupied slot has a deadline, read without copying it.
    @inlinable
    func hasDeadline(at slot: Int) -> Bool {
        storage.unsafelyUnwrapped.slots[slot].element.hasDeadline
    }

}

/// A table's slots and tags as plain pointers. A lookup runs on this rather than on
/// ``KeyTableStorage``: a method of the storage object, reached through the table's
/// stored reference, was retained and released around every probe; the table keeps the
/// storage alive for as long as a lookup runs.
@usableFromInline
struct KeyTableLayout<Payload> {
    @usableFromInline let slots: UnsafeMutablePointer<KeyTableSlot<Payload>>
    @usableFromInline let tags: UnsafeMutablePointer<UInt16>
    @usableFromInline let capacity: Int

    @inlinable
    init(slots: UnsafeMutablePointer<KeyTableSlot<Payload>>, tags: UnsafeMutablePointer<UInt16>, capacity: Int) {
        self.slots = slots
        self.tags = tags
        self.capacity = capacity
    }

    /// The home slot of a tag.
    @inlinable
    func home(_ tag: UInt16) -> Int {
        Int(truncatingIfNeeded: (UInt64(tag & 0x7FFF) &* UInt64(capacity)) >> 15)
    }

    /// How far `slot` is from the home of `tag`.
    @inlinable
    func distance(_ slot: Int, _ tag: UInt16) -> Int {
        let home = home(tag)
        return slot >= home ? slot - home : slot + capacity - home
    }

    /// The slot holding `key` with `tag`, or nil.
    @inlinable
    func find(_ key: Bytes, tag: UInt16) -> Int? {
        var slot = home(tag)
        strata_prefetch(slots + slot)
        var travelled = 0
        while true {
            let resident = tags[slot]
            if resident == 0 { return nil }
            if resident == tag {
                if slots[slot].key == key { return slot }
            } else if distance(slot, resident) < travelled {
                // Robin Hood order: `key` would have displaced this resident.
                return nil
            }
            travelled += 1
            slot += 1
            if slot == capacity { slot = 0 }
        }
    }
}
