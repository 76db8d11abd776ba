//! The stream type: entries in id order, packed into blocks (`StreamNode`) held in an array
//! sorted by first id, so appends are O(1), a range starts with a binary search, and trims
//! drop whole blocks. A copy shares the blocks; the first write to a shared block copies
//! just that block (copy-on-write, as every value type here), so a frozen snapshot never
//! sees later writes.

/// A stream.
public struct StreamValue: Sendable, Equatable {
    /// The blocks, in id order.
    var nodes: [StreamNode] = []
    /// Live entries.
    public private(set) var length = 0
    /// The greatest id ever added (or set by XSETID).
    public var lastID = StreamID.zero
    /// Entries ever added (`entries-added`).
    public var entriesAdded: UInt64 = 0
    /// The greatest id ever deleted (`max-deleted-entry-id`).
    public var maxDeletedID = StreamID.zero
    /// Consumer groups by name.
    public var groups: [Bytes: StreamGroup] = [:]

    /// An empty stream.
    public init() {}

    public static func == (lhs: StreamValue, rhs: StreamValue) -> Bool {
        lhs.length == rhs.length && lhs.lastID == rhs.lastID && lhs.entriesAdded == rhs.entriesAdded
            && lhs.maxDeletedID == rhs.maxDeletedID && lhs.groups == rhs.groups
            && lhs.range(from: .zero, to: .max) == rhs.range(from: .zero, to: .max)
    }

    /// The encoding name Redis reports.
    public var encodingName: String { "stream" }

    /// The first live entry.
    public var firstEntry: StreamEntry? { range(from: .zero, to: .max, count: 1).first }

    /// The last live entry.
    public var lastEntry: StreamEntry? { range(from: .zero, to: .max, count: 1, reverse: true).first }

    /// The first live id (blocks that lose their last entry are dropped, so the first
    /// block has one).
    public var firstID: StreamID? { nodes.first?.firstLiveID }

    /// The last live id.
    public var lastLiveID: StreamID? { nodes.last?.lastLiveID }

    /// Appends an entry, in a new block when the last one is full under `limits`; its id
    /// must be greater than ``lastID``.
    public mutating func append(_ entry: StreamEntry, limits: StreamLimits = StreamLimits()) {
        precondition(entry.id > lastID || (length == 0 && entriesAdded == 0 && entry.id > .zero))
        if let last = nodes.indices.last, !nodes[last].isFull(limits) {
            uniqueNode(last).append(entry)
        } else {
            if let last = nodes.indices.last, isKnownUniquelyReferenced(&nodes[last]) { nodes[last].shrink() }
            nodes.append(StreamNode(first: entry))
        }
        length += 1
        entriesAdded &+= 1
        lastID = entry.id
    }

    /// The node at `index`, copied first if another stream shares it.
    private mutating func uniqueNode(_ index: Int) -> StreamNode {
        if !isKnownUniquelyReferenced(&nodes[index]) { nodes[index] = nodes[index].copy() }
        return nodes[index]
    }

    /// Index of the last node whose first id is at most `id` (0 when none is).
    func nodeIndex(for id: StreamID) -> Int {
        var low = 0
        var high = nodes.count
        while low < high {
            let middle = (low + high) / 2
            if nodes[middle].base <= id { low = middle + 1 } else { high = middle }
        }
        return Swift.max(0, low - 1)
    }

    /// Live entries with `from <= id <= to`, at most `count` (nil: all), ascending or, with
    /// `reverse`, descending.
    public func range(from: StreamID, to: StreamID, count: Int? = nil, reverse: Bool = false) -> [StreamEntry] {
        guard from <= to, !nodes.isEmpty, count != 0 else { return [] }
        var result: [StreamEntry] = []
        let limit = count ?? Int.max
        if !reverse {
            var index = nodeIndex(for: from)
            while index < nodes.count && result.count < limit {
                let node = nodes[index]
                if node.base > to { break }
                if node.lastID >= from {
                    node.forEachID { offset, id in
                        if id > to { return false }
                        if id >= from { result.append(node.entry(at: offset)) }
                        return result.count < limit
                    }
                }
                index += 1
            }
        } else {
            var index = nodeIndex(for: to)
            while index >= 0 && result.count < limit {
                let node = nodes[index]
                if node.lastID < from { break }
                let inRange = node.entries.filter { $0.id >= from && $0.id <= to }
                for entry in inRange.reversed() where result.count < limit { result.append(entry) }
                index -= 1
            }
        }
        return result
    }

    /// Deletes the entries with these ids; returns how many existed.
    @discardableResult
    public mutating func delete(_ ids: [StreamID]) -> Int {
        var deleted = 0
        for id in ids where !nodes.isEmpty {
            let index = nodeIndex(for: id)
            guard nodes[index].base <= id, nodes[index].lastID >= id else { continue }
            var offset: Int?
            nodes[index].forEachID { position, found in
                if found == id { offset = position }
                return found < id
            }
            guard let offset else { continue }
            let node = uniqueNode(index)
            node.markDeleted(at: offset)
            if node.live == 0 { nodes.remove(at: index) }
            length -= 1
            deleted += 1
            if id > maxDeletedID { maxDeletedID = id }
        }
        return deleted
    }

    /// How XTRIM / XADD trim: to a length, or below a minimum id.
    public enum TrimStrategy: Sendable {
        case maxLength(Int)
        case minID(StreamID)
    }

    /// Trims as Redis: with `approximate`, only whole blocks go (and at most `limit`
    /// entries, 0 for no limit); exactly, whole blocks then single entries. Returns how
    /// many entries were removed.
    @discardableResult
    public mutating func trim(_ strategy: TrimStrategy, approximate: Bool, limit: Int = 0) -> Int {
        var removed = 0
        func done(_ extra: Int = 0) -> Bool {
            switch strategy {
            case .maxLength(let maximum): return length - extra <= maximum
            case .minID(let minimum): return nodes.isEmpty || (extra == 0 && nodes[0].base >= minimum)
            }
        }
        while let first = nodes.first, !done() {
            let wholeNodeGoes: Bool
            switch strategy {
            case .maxLength(let maximum): wholeNodeGoes = length - first.live >= maximum
            case .minID(let minimum): wholeNodeGoes = first.lastID < minimum
            }
            if wholeNodeGoes {
                if limit > 0 && removed + first.live > limit { break }
                removed += first.live
                length -= first.live
                nodes.removeFirst()
                continue
            }
            if approximate { break }
            var victims: [StreamID] = []
            var remaining = length
            first.forEachID { _, id in
                let goes: Bool
                switch strategy {
                case .maxLength(let maximum): goes = remaining > maximum
                case .minID(let minimum): goes = id < minimum
                }
                if goes {
                    victims.append(id)
                    remaining -= 1
                }
                return goes
            }
            // Trimming does not move `max-deleted-entry-id` (Redis only moves it on XDEL).
            let maxDeletedBefore = maxDeletedID
            removed += delete(victims)
            maxDeletedID = maxDeletedBefore
            break
        }
        return removed
    }

    /// Bytes held, for MEMORY USAGE and eviction.
    public var footprint: Int {
        var groupBytes = 0
        for (name, group) in groups {
            groupBytes += 96 + name.count + group.pending.count * 72
            for consumer in group.consumers.keys { groupBytes += 48 + consumer.count }
        }
        return 64 + nodes.count * 8 + nodes.reduce(0) { $0 + $1.footprint } + groupBytes
    }
}
