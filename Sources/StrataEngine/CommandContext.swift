/// What a command handler sees: the engine, the arguments, the client's database and the
/// injected time. Handlers are pure functions of this context.
public struct CommandContext {
    /// The engine that owns the keyspace, not counted: the engine outlives every command.
    /// Calls on it go through ``withEngine(_:)``: a method called on an unowned reference
    /// (or on `takeUnretainedValue()`) is still retained and released around each call.
    @usableFromInline let engineReference: Unmanaged<Engine>
    /// The engine, for calls off the hot paths (see ``withEngine(_:)``).
    @inlinable
    public var engine: Engine { engineReference.takeUnretainedValue() }
    /// Where the arguments are: the caller's array, borrowed for as long as the command
    /// runs (a context never outlives the call that made it). A stored copy of the array
    /// was a retain and a release on every command.
    @usableFromInline let argumentsAddress: UnsafePointer<[Bytes]>
    /// The arguments, the command name first.
    @inlinable
    public var args: [Bytes] {
        _read { yield argumentsAddress.pointee }
    }
    /// The client's selected database; `SELECT` and `MOVE` read or change it.
    public var db: Int
    /// Unix time in milliseconds, injected by the caller.
    public let now: Int64
    /// Collections this command emptied and deleted, whose `del` events are recorded
    /// after the command's own events (as Redis orders them); only kept while generic
    /// keyspace events are enabled.
    /// (Optional rather than empty: an empty array is a shared immortal object, whose
    /// retain and release take the runtime's slow path, on every command.)
    @usableFromInline var emptiedKeys: [Bytes]?
    /// Set by a write that changed only state a WATCH does not cover (stream group state,
    /// as Redis 7.0 signals no modified key for it).
    public var leavesWatchesAlone = false
    /// What the append-only file records for this command instead of the command itself
    /// (see ``propagate(_:)``); nil to record the command as sent.
    @usableFromInline var effectReplacement: [[Bytes]]?

    /// A context for one command whose arguments are at `arguments`, which must stay there,
    /// unchanged, for as long as the context is used.
    public init(engine: Engine, arguments: UnsafePointer<[Bytes]>, db: Int, now: Int64) {
        self.engineReference = Unmanaged.passUnretained(engine)
        self.argumentsAddress = arguments
        self.db = db
        self.now = now
    }

    /// Runs `body` on the engine without counting a reference to it.
    @inlinable
    public func withEngine<R>(_ body: (Engine) -> R) -> R {
        engineReference._withUnsafeGuaranteedRef(body)
    }

    /// The access clock now (tenths of a second), for access times.
    @inlinable
    public var accessClockNow: UInt32 { Entry.clock(now: now) }

    /// Whether an absolute `deadline` has passed, so that setting it deletes the key. Never
    /// while expiry is suspended (replay), when the log's own `DEL` says when it went.
    @inlinable
    public func hasPassed(_ deadline: Int64) -> Bool { deadline <= withEngine { $0.expiryTime(now) } }

    /// The command name as Redis prints it in errors (lowercase).
    public var commandName: String { args[0].lowercased.string }

    /// Looks `key` up for reading: applies expiry, counts a hit or miss, updates access time.
    @inlinable
    public func read(_ key: Bytes) -> Value? {
        withEngine { $0.read(key, db: db, now: now) }
    }

    /// Looks `key` up for writing: applies expiry, no statistics.
    @inlinable
    public func lookup(_ key: Bytes) -> Value? {
        withEngine { $0.lookup(key, db: db, now: now) }
    }

    /// Stores a value, dropping any deadline unless `keepDeadline`.
    @inlinable
    public func store(_ key: Bytes, _ value: Value, keepDeadline: Bool = false) {
        withEngine { $0.store(key, value, db: db, now: now, keepDeadline: keepDeadline) }
    }

    /// Deletes a key (if live). Returns whether it existed.
    @inlinable
    @discardableResult
    public func delete(_ key: Bytes) -> Bool {
        withEngine { $0.delete(key, db: db, now: now) }
    }

    /// Parses argument `index` as a strict integer.
    public func integer(_ index: Int) -> Int? {
        args[index].strictInteger
    }

    /// Parses argument `index` as a C `int`, as Redis's `getIntFromObjectOrReply` does (DB
    /// indexes).
    ///
    /// - Returns: the value, or Redis's error: not an integer, or outside the 32-bit range.
    public func int32(_ index: Int) -> Result<Int, Reply> {
        guard let value = args[index].strictInteger else { return .failure(Errors.notInteger) }
        guard let narrow = Int32(exactly: value) else {
            return .failure(.error("ERR value is out of range, value must between -2147483648 and 2147483647"))
        }
        return .success(Int(narrow))
    }
}
