//! The sorted-set type, with Redis 7.0's two encodings: `listpack` — one sorted array,
//! searched by binary search for ranks and ranges and linearly for a member, while there
//! are at most `zset-max-listpack-entries` members of at most `zset-max-listpack-value`
//! bytes — and `skiplist`, converted to once and never back: an order-statistic B-tree
//! (``RankedTree``, O(log n) insert, delete, rank and rank range) beside a member → score
//! dictionary (O(1) ZSCORE). Both are copy-on-write values.

/// Limits of the compact encoding (Redis's `zset-max-listpack-*` directives).
public struct SortedSetLimits: Sendable, Equatable {
    /// Most members kept in the compact encoding (default 128).
    public var maxListpackEntries = 128
    /// Longest member kept in the compact encoding, in bytes (default 64).
    public var maxListpackValue = 64

    public init() {}

    /// Whether a set created for `count` members up to `longest` bytes starts compact
    /// (Redis's `zsetTypeCreate` size hints).
    func fitsListpack(count: Int, longest: Int) -> Bool {
        count <= maxListpackEntries && longest <= maxListpackValue
    }
}

/// Members ordered by score with Redis's two encodings.
public struct SortedSetValue: Sendable, Equatable {
    @usableFromInline
    struct Index: Sendable {
        var tree = RankedTree()
        var scores: [Bytes: Double] = [:]

        init() {}

        /// The skiplist encoding of distinct `items`.
        init(_ items: [ScoredMember]) {
            scores.reserveCapacity(items.count)
            for item in items {
                tree.insert(item)
                scores[item.member] = item.score
            }
        }
    }

    @usableFromInline
    enum Storage: Sendable {
        case listpack([ScoredMember])
        case skiplist(Index)
    }

    @usableFromInline var storage: Storage

    /// An empty sorted set in the compact encoding.
    public init() {
        storage = .listpack([])
    }

    /// An empty sorted set in the encoding Redis picks for `count` members of up to
    /// `longest` bytes.
    public init(expecting count: Int, longest: Int, limits: SortedSetLimits) {
        storage = limits.fitsListpack(count: count, longest: longest) ? .listpack([]) : .skiplist(Index())
    }

    /// A sorted set of `members` (distinct), in the encoding their number and lengths call for.
    public init(_ members: [ScoredMember], limits: SortedSetLimits) {
        let longest = members.reduce(0) { Swift.max($0, $1.member.count) }
        self.init(expecting: members.count, longest: longest, limits: limits)
        let sorted = members.sorted { $0.precedes($1) }
        if case .listpack = storage {
            storage = .listpack(sorted)
            return
        }
        storage = .skiplist(Index(sorted))
    }

    /// A sorted set of `members`, where a member listed twice keeps its last score (for
    /// loading data that may be damaged).
    public init(deduplicating members: [ScoredMember], limits: SortedSetLimits) {
        var position: [Bytes: Int] = [:]
        position.reserveCapacity(members.count)
        var unique: [ScoredMember] = []
        unique.reserveCapacity(members.count)
        for item in members {
            if let index = position[item.member] {
                unique[index] = item
            } else {
                position[item.member] = unique.count
                unique.append(item)
            }
        }
        self.init(unique, limits: limits)
    }

    /// Number of members.
    public var count: Int {
        switch storage {
        case .listpack(let items): return items.count
        case .skiplist(let index): return index.tree.count
        }
    }

    /// `listpack` or `skiplist`, as `OBJECT ENCODING` reports.
    public var encodingName: String {
        if case .listpack = storage { return "listpack" }
        return "skiplist"
    }

    /// The score of `member`.
    public func score(of member: Bytes) -> Double? {
        switch storage {
        case .listpack(let items): return items.first { $0.member == member }?.score
        case .skiplist(let index): return index.scores[member]
        }
    }

    /// Sets the score of `member`, adding it when absent.
    ///
    /// - Returns: true when the member is new.
    @discardableResult
    public mutating func set(_ member: Bytes, score: Double, limits: SortedSetLimits) -> Bool {
        if case .listpack(var items) = storage {
            storage = .listpack([])  // release our reference so `items` is unique
            var isNew = true
            if let old = items.firstIndex(where: { $0.member == member }) {
                isNew = false
                if items[old].score == score {
                    storage = .listpack(items)
                    return false
                }
                items.remove(at: old)
            }
            let item = ScoredMember(score: score, member: member)
            items.insert(item, at: items.insertionIndex(of: item))
            storage = .listpack(items)
            if items.count > limits.maxListpackEntries || member.count > limits.maxListpackValue {
                convertToSkiplist()
            }
            return isNew
        }
        guard case .skiplist(var index) = storage else { return false }
        storage = .listpack([])
        let old = index.scores.updateValue(score, forKey: member)
        if let old, old != score { index.tree.remove(ScoredMember(score: old, member: member)) }
        if old != score { index.tree.insert(ScoredMember(score: score, member: member)) }
        storage = .skiplist(index)
        return old == nil
    }

    /// Removes `member`.
    ///
    /// - Returns: whether it was present.
    @discardableResult
    public mutating func remove(_ member: Bytes) -> Bool {
        switch storage {
        case .listpack(var items):
            guard let position = items.firstIndex(where: { $0.member == member }) else { return false }
            storage = .listpack([])
            items.remove(at: position)
            storage = .listpack(items)
            return true
        case .skiplist(var index):
            guard let score = index.scores[member] else { return false }
            storage = .listpack([])
            index.scores.removeValue(forKey: member)
            index.tree.remove(ScoredMember(score: score, member: member))
            storage = .skiplist(index)
            return true
        }
    }

    /// The 0-based ascending rank of `member`.
    public func rank(of member: Bytes) -> Int? {
        switch storage {
        case .listpack(let items): return items.firstIndex { $0.member == member }
        case .skiplist(let index):
            guard let score = index.scores[member] else { return nil }
            return index.tree.rank(of: ScoredMember(score: score, member: member))
        }
    }

    /// The number of members for which `isBelow` holds; it must hold for a prefix of the
    /// order. Score and lexicographic range bounds become ranks this way.
    public func countBelow(_ isBelow: (ScoredMember) -> Bool) -> Int {
        switch storage {
        case .listpack(let items): return items.partitionIndex(isBelow)
        case .skiplist(let index): return index.tree.countBelow(isBelow)
        }
    }

    /// The members with ascending ranks in `ranks` (clamped), in ascending order.
    public func members(inRanks ranks: Range<Int>) -> [ScoredMember] {
        switch storage {
        case .listpack(let items): return Array(items[ranks.clamped(to: 0..<items.count)])
        case .skiplist(let index): return index.tree.elements(inRanks: ranks)
        }
    }

    /// The member at ascending rank `rank`.
    public func member(atRank rank: Int) -> ScoredMember? {
        switch storage {
        case .listpack(let items): return rank >= 0 && rank < items.count ? items[rank] : nil
        case .skiplist(let index): return index.tree.element(atRank: rank)
        }
    }

    /// Every member in ascending order.
    public var all: [ScoredMember] { members(inRanks: 0..<count) }

    /// One ZSCAN step: the compact encoding returns everything with cursor 0, as Redis;
    /// the skiplist encoding walks its dictionary in hash order from the cursor.
    public func scan(cursor: UInt64, count: Int) -> (next: UInt64, members: [ScoredMember]) {
        guard case .skiplist(let index) = storage else { return (0, all) }
        let step = HashOrderScan.step(
            index.scores.map { ($0.key, ScoredMember(score: $0.value, member: $0.key)) }, cursor: cursor,
            count: count)
        return (step.next, step.items)
    }

    /// Checks the internal invariants (order, tree shape, index agreement); for tests.
    func isValid() -> Bool {
        switch storage {
        case .listpack(let items):
            return zip(items, items.dropFirst()).allSatisfy { $0.precedes($1) }
        case .skiplist(let index):
            guard index.tree.isValid(), index.tree.count == index.scores.count else { return false }
            var agree = true
            index.tree.forEach { if index.scores[$0.member] != $0.score { agree = false } }
            return agree
        }
    }

    private mutating func convertToSkiplist() {
        guard case .listpack(let items) = storage else { return }
        storage = .skiplist(Index(items))
    }

    public static func == (lhs: SortedSetValue, rhs: SortedSetValue) -> Bool {
        lhs.count == rhs.count && zip(lhs.all, rhs.all).allSatisfy { $0.matches($1) }
    }
}
