//! The hash type. Small hashes use a compact encoding — insertion-ordered field/value
//! pairs packed into one byte array (``PackedPairs``), Redis's `listpack` — scanned
//! linearly, which beats hashing for a few dozen short entries and costs no table
//! overhead. Past `hash-max-listpack-entries`
//! fields, or with a field or value longer than `hash-max-listpack-value` bytes, it
//! converts once to a dictionary (`hashtable`), never back, as Redis does. Both forms are
//! copy-on-write values, so a frozen snapshot copy never sees later writes.

/// Limits of the compact encoding (Redis's `hash-max-listpack-*` directives).
public struct HashLimits: Sendable, Equatable {
    /// Most fields kept in the compact encoding (default 128).
    public var maxListpackEntries = 128
    /// Longest field or value kept in the compact encoding, in bytes (default 64).
    public var maxListpackValue = 64

    public init() {}
}

/// A field → value map with Redis's two encodings.
public struct HashValue: Sendable, Equatable {
    @usableFromInline
    enum Storage: Sendable, Equatable {
        case listpack(PackedPairs)
        case table([Bytes: Bytes])
    }

    @usableFromInline var storage: Storage

    /// An empty hash in the compact encoding.
    public init() {
        storage = .listpack(PackedPairs())
    }

    /// Number of fields.
    public var count: Int {
        switch storage {
        case .listpack(let pairs): return pairs.count
        case .table(let table): return table.count
        }
    }

    /// `listpack` or `hashtable`, as `OBJECT ENCODING` reports.
    public var encodingName: String {
        if case .listpack = storage { return "listpack" }
        return "hashtable"
    }

    /// Bytes of the packed compact encoding, or nil for a hashtable (MEMORY USAGE).
    public var packedByteCount: Int? {
        if case .listpack(let pairs) = storage { return pairs.byteCount }
        return nil
    }

    /// The value of `field`.
    public func get(_ field: Bytes) -> Bytes? {
        switch storage {
        case .listpack(let pairs): return pairs.get(field)
        case .table(let table): return table[field]
        }
    }

    /// Sets `field` to `value`.
    ///
    /// - Returns: true when the field is new.
    @discardableResult
    public mutating func set(_ field: Bytes, _ value: Bytes, limits: HashLimits) -> Bool {
        if case .listpack(var pairs) = storage,
            field.count <= limits.maxListpackValue && value.count <= limits.maxListpackValue
        {
            storage = .table([:])  // release our reference so `pairs` is unique
            let isNew = pairs.set(field, value)
            storage = .listpack(pairs)
            if let isNew {
                if pairs.count > limits.maxListpackEntries { convertToTable() }
                return isNew
            }
        }
        convertToTable()
        guard case .table(var table) = storage else { return false }
        storage = .listpack(PackedPairs())
        let isNew = table.updateValue(value, forKey: field) == nil
        storage = .table(table)
        return isNew
    }

    /// Removes `field`.
    ///
    /// - Returns: whether it was present.
    @discardableResult
    public mutating func remove(_ field: Bytes) -> Bool {
        switch storage {
        case .listpack(var pairs):
            storage = .table([:])
            let removed = pairs.remove(field)
            storage = .listpack(pairs)
            return removed
        case .table(var table):
            storage = .listpack(PackedPairs())
            let removed = table.removeValue(forKey: field) != nil
            storage = .table(table)
            return removed
        }
    }

    /// Every field and value: insertion order in the compact encoding.
    public var entries: [HashEntry] {
        switch storage {
        case .listpack(let pairs): return pairs.entries
        case .table(let table): return table.map { HashEntry(field: $0.key, value: $0.value) }
        }
    }

    private mutating func convertToTable() {
        guard case .listpack(let pairs) = storage else { return }
        let entries = pairs.entries
        var table = [Bytes: Bytes](minimumCapacity: entries.count)
        for entry in entries { table[entry.field] = entry.value }
        storage = .table(table)
    }

    /// One HSCAN step over the hashtable encoding (the compact one returns everything at
    /// once with cursor 0, as Redis). Positions are the fields' hash order, so fields
    /// present for the whole iteration are all returned.
    public func scan(cursor: UInt64, count: Int) -> (next: UInt64, entries: [HashEntry]) {
        guard case .table(let table) = storage else { return (0, entries) }
        let step = HashOrderScan.step(
            table.map { ($0.key, HashEntry(field: $0.key, value: $0.value)) }, cursor: cursor, count: count)
        return (step.next, step.items)
    }
}

/// One field and its value.
public struct HashEntry: Sendable, Equatable {
    /// The field.
    public var field: Bytes
    /// The value.
    public var value: Bytes
}
