//! Consumer groups of a stream: each group has its last delivered id, its logical read
//! counter, its consumers, and the pending entries list (PEL) of entries delivered and not
//! yet acknowledged. All are value types held by `StreamValue`, so a stream copied into a
//! snapshot keeps its groups as they were.

/// An entry delivered to a consumer and not yet acknowledged.
public struct StreamPendingEntry: Sendable, Equatable {
    /// The consumer that owns it.
    public var consumer: Bytes
    /// Unix time in milliseconds of its last delivery.
    public var deliveryTime: Int64
    /// How many times it was delivered.
    public var deliveryCount: UInt64

    /// A pending entry.
    public init(consumer: Bytes, deliveryTime: Int64, deliveryCount: UInt64) {
        self.consumer = consumer
        self.deliveryTime = deliveryTime
        self.deliveryCount = deliveryCount
    }
}

/// Milliseconds from `since` to `now`, saturating: times come from clients (`XCLAIM TIME`)
/// and files, so the difference must not trap.
func elapsed(from since: Int64, to now: Int64) -> Int64 {
    let (difference, overflow) = now.subtractingReportingOverflow(since)
    return overflow ? (since < 0 ? .max : .min) : difference
}

/// A consumer of a group.
public struct StreamConsumer: Sendable, Equatable {
    /// Unix time in milliseconds it was last seen (XREADGROUP, XCLAIM).
    public var seenTime: Int64
    /// How many pending entries it owns.
    public var pending = 0

    /// A consumer seen at `seenTime`.
    public init(seenTime: Int64) {
        self.seenTime = seenTime
    }

    /// Equal when they own as many entries: the seen time is activity, not content (the
    /// AOF does not carry it, as in Redis, so a replayed stream differs only there).
    public static func == (lhs: StreamConsumer, rhs: StreamConsumer) -> Bool { lhs.pending == rhs.pending }
}

/// The pending entries of a group, by id: a dictionary for lookups and a sorted id array
/// for ordered scans. Removals leave the id in the array (skipped, since the dictionary no
/// longer has it) until stale ids outnumber live ones, so acknowledging the oldest entry
/// is O(1) amortised; new deliveries have the greatest ids and append.
public struct PendingEntries: Sendable, Equatable {
    private var entries: [StreamID: StreamPendingEntry] = [:]
    /// Sorted and unique; a superset of the dictionary's keys.
    private var order: [StreamID] = []

    /// No pending entries.
    public init() {}

    public static func == (lhs: PendingEntries, rhs: PendingEntries) -> Bool { lhs.entries == rhs.entries }

    /// How many entries are pending.
    public var count: Int { entries.count }

    /// The pending entry for `id`; setting nil removes it.
    public subscript(id: StreamID) -> StreamPendingEntry? {
        get { entries[id] }
        set {
            guard let newValue else {
                remove(id)
                return
            }
            if entries.updateValue(newValue, forKey: id) == nil {
                if let last = order.last, last >= id {
                    let position = lowerBound(id)
                    if position == order.count || order[position] != id { order.insert(id, at: position) }
                } else {
                    order.append(id)
                }
            }
        }
    }

    /// Removes the entry for `id` (one table probe) and returns it.
    @discardableResult
    public mutating func remove(_ id: StreamID) -> StreamPendingEntry? {
        guard let removed = entries.removeValue(forKey: id) else { return nil }
        if order.count > 2 * entries.count + 64 { order = order.filter { entries[$0] != nil } }
        return removed
    }

    private func lowerBound(_ id: StreamID) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let middle = (low + high) / 2
            if order[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Calls `body` for each pending entry with `from <= id <= to`, in id order, until it
    /// returns false.
    public func forEach(
        from: StreamID = .zero, to: StreamID = .max, _ body: (StreamID, StreamPendingEntry) -> Bool
    ) {
        var index = lowerBound(from)
        while index < order.count {
            let id = order[index]
            if id > to { return }
            if let entry = entries[id], !body(id, entry) { return }
            index += 1
        }
    }

    /// The first and last pending ids.
    public var bounds: (first: StreamID, last: StreamID)? {
        var first: StreamID?
        forEach { id, _ in
            first = id
            return false
        }
        guard let first else { return nil }
        let last = order.last { entries[$0] != nil } ?? first
        return (first, last)
    }
}

/// A consumer group.
public struct StreamGroup: Sendable, Equatable {
    /// `entries-read` when it cannot be known.
    public static let unknownEntriesRead: Int64 = -1

    /// The last id delivered to the group.
    public var lastID: StreamID
    /// Logical entries read (`entries-read`), or ``unknownEntriesRead``.
    public var entriesRead: Int64
    /// Its consumers by name.
    public var consumers: [Bytes: StreamConsumer] = [:]
    /// Its pending entries.
    public var pending = PendingEntries()

    /// A group positioned at `lastID`.
    public init(lastID: StreamID, entriesRead: Int64) {
        self.lastID = lastID
        self.entriesRead = entriesRead
    }

    /// Runs `body` on this group (for in-place updates through optional chaining).
    mutating func update<R>(_ body: (inout StreamGroup) -> R) -> R { body(&self) }

    /// Consumer names in Redis's (byte) order.
    public var consumerNames: [Bytes] { consumers.keys.sorted() }

    /// Records `id` as delivered to `consumer` at `time`, taking it from its previous owner.
    public mutating func deliver(_ id: StreamID, to consumer: Bytes, time: Int64, count: UInt64) {
        if let previous = pending[id] { consumers[previous.consumer]?.pending -= 1 }
        pending[id] = StreamPendingEntry(consumer: consumer, deliveryTime: time, deliveryCount: count)
        consumers[consumer, default: StreamConsumer(seenTime: time)].pending += 1
    }

    /// Acknowledges `id`; returns whether it was pending.
    @discardableResult
    public mutating func acknowledge(_ id: StreamID) -> Bool {
        guard let entry = pending.remove(id) else { return false }
        consumers[entry.consumer]?.pending -= 1
        return true
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    public mutating func deleteConsumer(_ name: Bytes) -> Int {
        guard let consumer = consumers.removeValue(forKey: name) else { return 0 }
        if consumer.pending > 0 {
            var owned: [StreamID] = []
            pending.forEach { id, entry in
                if entry.consumer == name { owned.append(id) }
                return true
            }
            for id in owned { pending[id] = nil }
        }
        return consumer.pending
    }
}

extension StreamValue {
    /// The first live id as Redis records it (`0-0` when empty).
    public var recordedFirstID: StreamID { firstID ?? .zero }

    /// Whether a deleted entry may lie in `start...end` (Redis's `streamRangeHasTombstones`).
    public func rangeMayHaveTombstones(from start: StreamID, to end: StreamID = .max) -> Bool {
        guard length > 0, maxDeletedID != .zero, recordedFirstID <= maxDeletedID else { return false }
        return start <= maxDeletedID && maxDeletedID <= end
    }

    /// The logical position of `id` counted from the first entry ever added, or
    /// ``StreamGroup/unknownEntriesRead`` (Redis's `streamEstimateDistanceFromFirstEverEntry`).
    public func estimatedEntriesRead(upTo id: StreamID) -> Int64 {
        let added = Int64(clamping: entriesAdded)
        if added == 0 { return 0 }
        if length == 0 && id <= lastID { return added }
        if id == lastID { return added }
        if id > lastID { return StreamGroup.unknownEntriesRead }
        let first = recordedFirstID
        if maxDeletedID == .zero || maxDeletedID < first {
            if id < first { return added - Int64(length) }
            if id == first { return added - Int64(length) + 1 }
        }
        return StreamGroup.unknownEntriesRead
    }

    /// A group's lag (entries not yet delivered), nil when it cannot be known.
    public func lag(of group: StreamGroup) -> Int64? {
        let added = Int64(clamping: entriesAdded)
        if added == 0 { return 0 }
        if group.entriesRead != StreamGroup.unknownEntriesRead
            && !rangeMayHaveTombstones(from: group.lastID)
        {
            return added &- group.entriesRead  // wraps as Redis's C arithmetic does for absurd counters
        }
        let estimate = estimatedEntriesRead(upTo: group.lastID)
        return estimate == StreamGroup.unknownEntriesRead ? nil : added &- estimate
    }

    /// A group's `entries-read` after delivering `id` (greater than its last id), from its
    /// value before (Redis's counter rules: counted while no deletion lies ahead,
    /// estimated otherwise).
    public func entriesRead(after read: Int64, delivering id: StreamID) -> Int64 {
        if read != StreamGroup.unknownEntriesRead && !rangeMayHaveTombstones(from: id) { return read &+ 1 }
        return entriesAdded > 0 ? estimatedEntriesRead(upTo: id) : read
    }

    /// Runs `body` on the group `name` in place; nil when there is no such group. The
    /// dictionary's modify accessor lends the group out without copying its tables.
    @discardableResult
    public mutating func withGroup<R>(_ name: Bytes, _ body: (inout StreamGroup) -> R) -> R? {
        groups[name]?.update(body)  // the dictionary's in-place accessor: one lookup, no copy
    }

    /// Whether an entry with `id` is live.
    public func contains(_ id: StreamID) -> Bool {
        guard !nodes.isEmpty else { return false }
        let node = nodes[nodeIndex(for: id)]
        guard node.base <= id, node.lastID >= id else { return false }
        var found = false
        node.forEachID { _, live in
            found = live == id
            return live < id
        }
        return found
    }

    /// Group names in Redis's (byte) order.
    public var groupNames: [Bytes] { groups.keys.sorted() }
}
