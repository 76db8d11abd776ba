//! The engine: the 16 (configurable) databases, the statistics Redis reports, and command
//! execution through the command table. It is owned by one thread (the server's event
//! loop) and takes the time from its caller, so tests drive it with a fake clock.

/// Counters `INFO stats` reports.
public struct EngineStats: Sendable {
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    public var expiredKeys = 0
    public var evictedKeys = 0
    public var commandsProcessed = 0
    /// Writes since the last save (`rdb_changes_since_last_save`).
    public var dirty = 0

    public init() {}
}

/// Settings the engine's commands consult.
public struct EngineSettings: Sendable {
    /// Cluster mode: only database 0 (SELECT, MOVE, SWAPDB and COPY ... DB refuse others).
    public var clusterMode = false
    /// Largest string a command may build (`proto-max-bulk-len`).
    public var maxStringLength = 512 * 1024 * 1024
    /// Compact-encoding limits of hashes.
    public var hashLimits = HashLimits()
    /// Compact-encoding limit of sets.
    public var setLimits = SetLimits()
    /// Compact-encoding limits of sorted sets.
    public var sortedSetLimits = SortedSetLimits()
    /// Block sizes of streams.
    public var streamLimits = StreamLimits()
    /// `maxmemory-policy`.
    public var evictionPolicy = EvictionPolicy.noEviction
    /// `maxmemory-samples`: keys sampled per database for each eviction.
    public var evictionSamples = 5
    /// `lfu-log-factor`: how slowly LFU counters saturate.
    public var lfuLogFactor = 10
    /// `lfu-decay-time`: minutes for an LFU counter to lose one step (0: never).
    public var lfuDecayMinutes = 1
    /// `hll-sparse-max-bytes`: largest sparse HyperLogLog (header included) before it
    /// turns dense.
    public var hllSparseMaxBytes = 3000

    public init() {}
}

/// The keyspace and the command executor.
public final class Engine {
    /// The logical databases.
    public var databases: [Database]
    /// Statistics.
    public var stats = EngineStats()
    /// Settings.
    public var settings = EngineSettings()
    /// The command table.
    public let commands: CommandTable
    /// The last memcached CAS unique handed out (see ``nextCASUnique()``); the server seeds
    /// it from the clock.
    public var lastCASUnique: UInt64 = 0
    /// Where the active expiry cycle resumes: (database, shard).
    var expiryCursor = (db: 0, shard: 0)
    /// Where `FLUSHALL ASYNC` / `FLUSHDB ASYNC` send the data they drop, so that freeing
    /// millions of values does not stall the event loop. The server sets it to a
    /// background queue; by default the data is freed inline. The engine itself starts
    /// no threads.
    public var releaseInBackground: ((Sendable) -> Void)?
    /// Which keyspace events commands record (`notify-keyspace-events`); only kept when
    /// they can be published (K or E plus a class).
    public var keyspaceEvents: KeyspaceEventTypes = [] {
        didSet { if !keyspaceEvents.publishes { keyspaceEvents = [] } }
    }
    /// While a snapshot is being written from a frozen copy, reads leave access times
    /// alone: updating one would make the live keyspace copy the whole shard (~1,000
    /// entries) just to record an access. LRU data pauses for the length of the save.
    public var holdsAccessTimes = false
    /// While an append-only file or snapshot is replayed, nothing expires: the log records
    /// each expiry as the `DEL` that happened, so commands must see keys as they were.
    public var suspendsExpiry = false
    /// On a replica: keys past their deadline read as missing and stay until the primary
    /// deletes them (see ``Database/keepsExpiredKeys``); set on every database.
    public var keepsExpiredKeys: Bool {
        get { databases.first?.keepsExpiredKeys ?? false }
        set {
            for index in databases.indices where databases[index].keepsExpiredKeys != newValue {
                databases[index].keepsExpiredKeys = newValue
            }
        }
    }
    /// Whether commands record their effects (for the append-only file, and any other
    /// consumer of the log of writes).
    public var recordsEffects = false
    /// What the commands run since the server last consumed it did (``WriteRecord``).
    public var record = WriteRecord()
    /// The best eviction candidates seen so far (Redis's eviction pool), lowest score first.
    var evictionPool: [EvictionCandidate] = []
    /// Set by a blocking command that returns `Reply.blockedOn` when the command to run
    /// again differs from the one sent (XREAD's `$` resolved to the id it stood for); the
    /// server takes it when it parks the client.
    public var blockedArguments: [Bytes]?
    /// Set by the server while it runs a parked client's command again, so a command can
    /// answer as Redis does when what it waited on went away.
    public var retryingBlockedCommand = false
    /// Set by the server while a Lua script or function runs: commands that Redis refuses
    /// from scripts (XREAD/XREADGROUP with BLOCK) read it.
    public var runningScript = false
    /// Set by the server while SORT runs for a user who may not read every key: its BY and
    /// GET patterns are refused (Redis's ACL rule for SORT).
    public var sortPatternsRefused = false
    /// Random source for RANDOMKEY and sampling; replaceable for tests.
    public var random = FastRandom()

    /// An engine with `databaseCount` empty databases.
    public init(databaseCount: Int = 16) {
        databases = Array(repeating: Database(), count: max(1, databaseCount))
        commands = CommandTable.standard
    }

    // MARK: Keyspace access (with lazy expiry)

    /// Looks up `key` for writing: expired keys are deleted and not returned.
    @inlinable
    public func lookup(_ key: Bytes, db: Int, now: Int64) -> Value? {
        let (entry, expired) = databases[db].entry(key, now: expiryTime(now))
        if expired { noteExpired(key, db: db) }
        return entry?.value
    }

    /// Looks up `key` for reading: as ``lookup(_:db:now:)``, plus hit/miss statistics and
    /// the access time.
    @inlinable
    public func read(_ key: Bytes, db: Int, now: Int64) -> Value? {
        let (value, expired): (Value?, Bool)
        if holdsAccessTimes {
            let (entry, gone) = databases[db].entry(key, now: expiryTime(now))
            (value, expired) = (entry?.value, gone)
        } else if settings.evictionPolicy.usesLFU {
            let (factor, decay) = (settings.lfuLogFactor, settings.lfuDecayMinutes)
            let draw = Double.random(in: 0..<1, using: &random)
            (value, expired) = databases[db].read(key, now: expiryTime(now)) {
                LFU.touched($0, now: now, logFactor: factor, decayMinutes: decay, random: draw)
            }
        } else {
            (value, expired) = databases[db].read(key, now: expiryTime(now), clock: Entry.clock(now: now))
        }
        if expired { noteExpired(key, db: db) }
        guard let value else {
            stats.keyspaceMisses += 1
            notify(.keyMiss, "keymiss", key: key, db: db)
            return nil
        }
        stats.keyspaceHits += 1
        return value
    }

    /// Stores `value`, dropping any deadline unless `keepDeadline`.
    @inlinable
    public func store(_ key: Bytes, _ value: Value, db: Int, now: Int64, keepDeadline: Bool = false) {
        let created = databases[db].set(
            key, value, keepDeadline: keepDeadline, accessClock: accessBits(now: now))
        noteWritten(key, db: db)
        if created { notify(.newKey, "new", key: key, db: db) }
    }

    /// Deletes `key` if it is live. Returns whether it was.
    @inlinable
    @discardableResult
    public func delete(_ key: Bytes, db: Int, now: Int64) -> Bool {
        let (entry, expired) = databases[db].entry(key, now: expiryTime(now))
        if expired { noteExpired(key, db: db) }
        guard entry != nil else { return false }
        databases[db].remove(key)
        noteWritten(key, db: db)
        return true
    }

    /// The time expiry compares deadlines with: `now`, or the distant past while expiry is
    /// suspended.
    @inlinable
    public func expiryTime(_ now: Int64) -> Int64 { suspendsExpiry ? .min : now }

    /// The number of keys in `db` (expired keys not yet reclaimed included, as Redis).
    public func keyCount(db: Int) -> Int { databases[db].count }

    // MARK: Execution

    /// Executes an engine command. Arity and name are checked; server-handled commands
    /// return an error here (the server intercepts them first).
    ///
    /// - Parameters:
    ///   - args: the command and its arguments.
    ///   - db: the client's database, updated by `SELECT`/`SWAPDB` style commands.
    ///   - now: Unix time in milliseconds.
    public func execute(_ args: [Bytes], db: inout Int, now: Int64) -> Reply {
        switch commands.resolve(args) {
        case .failure(let error):
            return error
        case .success(let spec):
            guard case .engine(let handler) = spec.handler else {
                return .error("ERR command '\(spec.name)' is not available here")
            }
            return run(handler, args: args, db: &db, now: now)
        }
    }

    /// Runs a resolved handler and counts it; what it did is added to ``record``.
    @inlinable
    public func run(
        _ handler: (inout CommandContext) -> Reply, args: [Bytes], db: inout Int, now: Int64
    ) -> Reply {
        // The context borrows the arguments where they are.
        withUnsafePointer(to: args) { run(handler, argumentsAt: $0, db: &db, now: now) }
    }

    @usableFromInline
    func run(
        _ handler: (inout CommandContext) -> Reply, argumentsAt arguments: UnsafePointer<[Bytes]>, db: inout Int,
        now: Int64
    ) -> Reply {
        let startDb = db
        let before = (record.changes, record.certainWrites, record.writtenKeys.count)
        var context = CommandContext(engine: self, arguments: arguments, db: db, now: now)
        let reply = handler(&context)
        if record.writtenKeys.count > before.2, record.changes == before.0, record.certainWrites == before.1,
            case .error = reply
        {
            // Refused after opening a value for writing (WRONGTYPE, not an integer): nothing
            // was written.
            record.writtenKeys.removeSubrange(before.2...)
        }
        forgetItemMetadataOfRecordedWrites()
        if context.leavesWatchesAlone && record.writtenKeys.count > before.2 {
            record.stateOnlyKeys.append(contentsOf: record.writtenKeys[before.2...])
            record.writtenKeys.removeSubrange(before.2...)
            record.itemMetadataSettled = record.writtenKeys.count
        }
        if recordsEffects {
            if let replacement = context.effectReplacement {
                for args in replacement { record.effects.append(Effect(db: startDb, args: args)) }
            } else if record.changes != before.0 || record.certainWrites != before.1 {
                record.effects.append(Effect(db: startDb, args: arguments.pointee))
            }
        }
        if let emptied = context.emptiedKeys {
            for key in emptied { notify(.generic, "del", key: key, db: context.db) }
        }
        db = context.db
        stats.commandsProcessed += 1
        return reply
    }

    /// Forgets what was recorded, for callers that replay commands without consuming the
    /// record (loading an append-only file).
    public func discardRecord() {
        record.clear(keepingEffects: false)
    }

    // MARK: Recorded mutations

    /// Runs `body` on the value at `key` in place (see ``Database/modify(_:now:_:)``),
    /// noting the key as opened for writing when it exists.
    @inlinable
    public func modify<R>(_ key: Bytes, db: Int, now: Int64, _ body: (inout Value) -> R) -> R? {
        let (outcome, expired) = databases[db].modify(key, now: expiryTime(now), body)
        if expired { noteExpired(key, db: db) }
        if outcome != nil { noteOpenedForWriting(key, db: db) }
        return outcome
    }

    /// Replaces the value of a live `key` keeping its deadline; returns whether it existed.
    @inlinable
    @discardableResult
    public func update(_ key: Bytes, db: Int, _ body: (inout Value) -> Void) -> Bool {
        guard databases[db].update(key, body) else { return false }
        noteWritten(key, db: db)
        return true
    }

    /// Sets the deadline of `key`.
    @inlinable
    public func setDeadline(_ key: Bytes, _ deadline: Int64, db: Int) {
        databases[db].setDeadline(key, deadline)
        noteWritten(key, db: db)
    }

    /// Removes the deadline of `key`; returns whether it had one.
    @inlinable
    @discardableResult
    public func removeDeadline(_ key: Bytes, db: Int) -> Bool {
        guard databases[db].removeDeadline(key) else { return false }
        noteWritten(key, db: db)
        return true
    }

    /// Removes `key` unconditionally (a collection left empty).
    @inlinable
    public func remove(_ key: Bytes, db: Int) {
        databases[db].remove(key)
        noteWritten(key, db: db)
    }
}
