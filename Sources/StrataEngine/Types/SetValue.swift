//! The set type, with Redis 7.0's two encodings: `intset` — a sorted array of integers,
//! used while every member is the canonical form of an integer and there are at most
//! `set-max-intset-entries` of them — and `hashtable` (a Swift `Set`), converted to once
//! and never back. Both are copy-on-write values.

/// Limits of the compact encoding (Redis's `set-max-intset-entries`).
public struct SetLimits: Sendable, Equatable {
    /// Most members kept as an intset (default 512).
    public var maxIntsetEntries = 512

    public init() {}
}

/// An unordered collection of distinct byte strings.
public struct SetValue: Sendable, Equatable {
    @usableFromInline
    enum Storage: Sendable, Equatable {
        case intset([Int])
        case table(Set<Bytes>)
    }

    @usableFromInline var storage: Storage

    /// An empty set in the compact encoding.
    public init() {
        storage = .intset([])
    }

    /// A set holding `members`.
    public init<S: Sequence>(_ members: S, limits: SetLimits) where S.Element == Bytes {
        self.init()
        for member in members { insert(member, limits: limits) }
    }

    /// Number of members.
    public var count: Int {
        switch storage {
        case .intset(let values): return values.count
        case .table(let set): return set.count
        }
    }

    /// `intset` or `hashtable`, as `OBJECT ENCODING` reports.
    public var encodingName: String {
        if case .intset = storage { return "intset" }
        return "hashtable"
    }

    /// Whether `member` is in the set.
    public func contains(_ member: Bytes) -> Bool {
        switch storage {
        case .intset(let values):
            guard let n = member.strictInteger else { return false }
            return SetValue.search(values, n).found
        case .table(let set):
            return set.contains(member)
        }
    }

    /// Adds `member`.
    ///
    /// - Returns: true when it was not already present.
    @discardableResult
    public mutating func insert(_ member: Bytes, limits: SetLimits) -> Bool {
        if case .intset(var values) = storage {
            if let n = member.strictInteger {
                let (found, index) = SetValue.search(values, n)
                if found { return false }
                storage = .table([])  // release our reference so `values` is unique
                values.insert(n, at: index)
                storage = .intset(values)
                if values.count > limits.maxIntsetEntries { convertToTable() }
                return true
            }
            convertToTable()
        }
        guard case .table(var set) = storage else { return false }
        storage = .intset([])
        let inserted = set.insert(member).inserted
        storage = .table(set)
        return inserted
    }

    /// Removes `member`.
    ///
    /// - Returns: whether it was present.
    @discardableResult
    public mutating func remove(_ member: Bytes) -> Bool {
        switch storage {
        case .intset(var values):
            guard let n = member.strictInteger else { return false }
            let (found, index) = SetValue.search(values, n)
            guard found else { return false }
            storage = .table([])
            values.remove(at: index)
            storage = .intset(values)
            return true
        case .table(var set):
            storage = .intset([])
            let removed = set.remove(member) != nil
            storage = .table(set)
            return removed
        }
    }

    /// Every member: ascending for an intset.
    public var members: [Bytes] {
        switch storage {
        case .intset(let values): return values.map { Bytes($0) }
        case .table(let set): return Array(set)
        }
    }

    /// One SSCAN step: an intset returns everything with cursor 0, as Redis; a hashtable
    /// walks its members in hash order from the cursor.
    public func scan(cursor: UInt64, count: Int) -> (next: UInt64, members: [Bytes]) {
        guard case .table(let set) = storage else { return (0, members) }
        let step = HashOrderScan.step(set.map { ($0, $0) }, cursor: cursor, count: count)
        return (step.next, step.items)
    }

    private mutating func convertToTable() {
        guard case .intset(let values) = storage else { return }
        storage = .table(Set(values.map { Bytes($0) }))
    }

    /// Binary search in a sorted array: whether `n` is present and where it goes.
    static func search(_ values: [Int], _ n: Int) -> (found: Bool, index: Int) {
        var low = 0
        var high = values.count
        while low < high {
            let mid = (low + high) / 2
            if values[mid] < n {
                low = mid + 1
            } else if values[mid] > n {
                high = mid
            } else {
                return (true, mid)
            }
        }
        return (false, low)
    }
}
