//! The write record: the one account of what commands did to the keyspace. Handlers never
//! tell the server what they wrote; the engine's mutating primitives (`store`, `delete`,
//! `modify`, `update`, deadlines, flushes) note the keys they touch as they touch them,
//! lazy expiry and eviction note the keys they remove, `notify` adds keyspace events,
//! `changed(_:)` counts changes for save points, and at the end of each command the engine
//! adds the command's deterministic effect (the command as sent, or what it chose to
//! `propagate`). The server consumes the record in one place after each command (see
//! `ServerCore.commitWrites`): `dirty`, the append-only file, WATCH, wake-ups of parked
//! clients and keyspace notifications all follow from it, and a replication stream or
//! client-tracking invalidation is one more consumer of the same record.

/// A key in one database.
public struct KeyRef: Hashable, Sendable {
    /// The database index.
    public let db: Int
    /// The key.
    public let key: Bytes

    /// A key in `db`.
    @inlinable
    public init(db: Int, key: Bytes) {
        self.db = db
        self.key = key
    }
}

/// A key that left the keyspace without a command deleting it.
public struct RemovedKey: Sendable, Equatable {
    /// Why it went.
    public enum Reason: Sendable, Equatable {
        /// Its deadline passed (lazily on access, or by the active expiry cycle).
        case expired
        /// `maxmemory` evicted it.
        case evicted
    }

    /// The key.
    public let key: KeyRef
    /// Why it went.
    public let reason: Reason

    /// A removal.
    @inlinable
    public init(key: KeyRef, reason: Reason) {
        self.key = key
        self.reason = reason
    }
}

/// What the commands run since the record was last consumed did.
public struct WriteRecord {
    /// Keys whose value or deadline changed, in the order written (a key may repeat).
    public var writtenKeys: [KeyRef] = []
    /// How many of ``writtenKeys`` have had their memcached metadata forgotten.
    public var itemMetadataSettled = 0
    /// Keys whose only change is state that WATCH does not cover (stream consumer groups, as
    /// Redis 7.0 signals no modified key for them): they still wake parked clients.
    public var stateOnlyKeys: [KeyRef] = []
    /// Databases changed as a whole (FLUSHDB, FLUSHALL, SWAPDB).
    public var wholeDatabases: [Int] = []
    /// Keys that expired or were evicted.
    public var removedKeys: [RemovedKey] = []
    /// Whether FLUSHDB or FLUSHALL ran (client-side caches then drop every key; SWAPDB,
    /// also in ``wholeDatabases``, does not set it, as Redis sends no invalidation for it).
    public var flushed = false
    /// Changes counted for save points (`rdb_changes_since_last_save`).
    public var changes = 0
    /// Keys and databases that a primitive certainly changed (a store, a delete, a deadline,
    /// a flush), beside ``changes``: a command that made one is logged even if it counted
    /// nothing.
    @usableFromInline var certainWrites = 0
    /// The deterministic effects to log, in order; only kept while the engine records
    /// effects (``Engine/recordsEffects``).
    public var effects: [Effect] = []
    /// Keyspace events, in order; only those of enabled classes.
    public var events: [KeyspaceEvent] = []

    /// An empty record.
    public init() {}

    /// Whether nothing at all was recorded.
    @inlinable
    public var isEmpty: Bool {
        changes == 0 && certainWrites == 0 && writtenKeys.isEmpty && stateOnlyKeys.isEmpty
            && wholeDatabases.isEmpty && removedKeys.isEmpty && effects.isEmpty && events.isEmpty
    }

    /// Whether a key or database changed in a way WATCH or a parked client must hear of.
    @inlinable
    public var touchesKeys: Bool {
        !writtenKeys.isEmpty || !stateOnlyKeys.isEmpty || !wholeDatabases.isEmpty || !removedKeys.isEmpty
    }

    /// Empties the record, keeping its storage; with `keepingEffects` the effects stay (a
    /// transaction or script logs them together once it completes).
    @inlinable
    mutating func clear(keepingEffects: Bool) {
        if !writtenKeys.isEmpty { writtenKeys.removeAll(keepingCapacity: true) }
        if !stateOnlyKeys.isEmpty { stateOnlyKeys.removeAll(keepingCapacity: true) }
        if !wholeDatabases.isEmpty { wholeDatabases.removeAll(keepingCapacity: true) }
        if !removedKeys.isEmpty { removedKeys.removeAll(keepingCapacity: true) }
        if !events.isEmpty { events.removeAll(keepingCapacity: true) }
        changes = 0
        certainWrites = 0
        itemMetadataSettled = 0
        flushed = false
        if !keepingEffects && !effects.isEmpty { effects.removeAll(keepingCapacity: true) }
    }
}

extension Engine {
    /// Empties the record, keeping its storage (and the effects when `keepingEffects`).
    @inlinable
    public func clearRecord(keepingEffects: Bool) {
        record.clear(keepingEffects: keepingEffects)
    }

    /// Takes the effects recorded so far.
    public func takeEffects() -> [Effect] {
        defer { record.effects.removeAll(keepingCapacity: true) }
        return record.effects
    }

    /// Drops effects recorded after the first `count` (a script that asked not to
    /// replicate its commands).
    public func dropEffects(after count: Int) {
        if record.effects.count > count { record.effects.removeSubrange(count...) }
    }

    /// Takes the events recorded so far.
    public func takeEvents() -> [KeyspaceEvent] {
        defer { record.events.removeAll(keepingCapacity: true) }
        return record.events
    }

    /// Notes that `key` in `db` changed.
    @inlinable
    public func noteWritten(_ key: Bytes, db: Int) {
        record.writtenKeys.append(KeyRef(db: db, key: key))
        record.certainWrites &+= 1
    }

    /// Notes that `key` in `db` may have changed (a collection opened for writing: whether
    /// it changed is counted by the command through ``CommandContext/changed(_:)``).
    @inlinable
    func noteOpenedForWriting(_ key: Bytes, db: Int) {
        record.writtenKeys.append(KeyRef(db: db, key: key))
    }

    /// Notes that database `db` changed as a whole.
    @inlinable
    public func noteWholeDatabase(_ db: Int) {
        record.wholeDatabases.append(db)
        record.certainWrites &+= 1
    }

    /// Notes that FLUSHDB or FLUSHALL emptied databases (noted one by one with
    /// ``noteWholeDatabase(_:)``).
    @inlinable
    public func noteFlush() {
        record.flushed = true
    }

    /// Notes a key gone without a command deleting it.
    @inlinable
    func noteRemoved(_ key: Bytes, db: Int, _ reason: RemovedKey.Reason) {
        databases[db].forgetItemMetadata(key)
        record.removedKeys.append(RemovedKey(key: KeyRef(db: db, key: key), reason: reason))
    }

    /// Counts `count` changes for save points (outside a command: eviction, loading).
    @inlinable
    public func countChanges(_ count: Int) {
        record.changes &+= count
    }
}

extension CommandContext {
    /// Notes that `key` in the client's database changed.
    @inlinable
    public func noteWritten(_ key: Bytes) {
        let db = self.db
        withEngine { $0.noteWritten(key, db: db) }
    }

    /// Counts `count` changes for save points; a command that counts none and writes no key
    /// is not logged.
    @inlinable
    public func changed(_ count: Int = 1) {
        withEngine { $0.record.changes &+= count }
    }
}
