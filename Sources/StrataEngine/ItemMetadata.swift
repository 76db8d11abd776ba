//! What a memcached item carries beside its value: the 32-bit client flags and the CAS
//! unique. They belong to the keyspace, not to the memcached listener, so that snapshots,
//! the append-only file and replicas carry them (a replica that is promoted, or a server
//! restarted, hands out the same flags and CAS uniques). Most items have flags 0 and
//! nobody asks for their CAS, so a database holds metadata only for the others: an entry
//! appears when an item is stored with flags or a CAS unique is handed out, and goes
//! whenever a command writes or removes the key (by either protocol), when it expires or
//! is evicted, and with its database (a flush). A CAS unique is therefore handed out once
//! per version of an item and never reused.
//!
//! The meta protocol adds state bits: an item marked stale (`md I`), whether its "win"
//! token was handed out (`mg N`/`R`), whether its key was sent in base64, and whether it
//! was fetched (`mg h`, `me`).
//!
//! Persistence: a snapshot writes an AUX field `strata-item` (`<flags> <cas>`, then the
//! state bits when there are some) right before the key it describes (Redis ignores AUX
//! fields it does not know), and the log and the replication stream carry
//! `STRATA.ITEMMETA key flags cas [state]`, a command only loaders and replicas accept.
//! Whether an item was fetched is this process's only.

/// A memcached item's client flags, CAS unique (0: none handed out yet) and state.
public struct ItemMetadata: Sendable, Equatable {
    /// The meta protocol's item state.
    public struct State: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Invalidated by `md I` (or stored by `ms I` with an older CAS): readers see `X`.
        public static let stale = State(rawValue: 1)
        /// A reader was handed the win token (`W`); later readers see `Z`.
        public static let winTokenSent = State(rawValue: 2)
        /// The key was sent in base64: `k` echoes it so.
        public static let binaryKey = State(rawValue: 4)
        /// Read since it was stored (`mg h`, `me fetch=`); not persisted.
        public static let fetched = State(rawValue: 8)
        /// The bits that persistence and replicas carry.
        public static let persisted: State = [.stale, .winTokenSent, .binaryKey]
    }

    /// The client flags memcached stores with the item.
    public var flags: UInt32
    /// The CAS unique of the item's current version, 0 when none was handed out.
    public var casUnique: UInt64
    /// The meta protocol's state bits.
    public var state: State

    /// Metadata with `flags`, `casUnique` and `state`.
    @inlinable
    public init(flags: UInt32, casUnique: UInt64 = 0, state: State = []) {
        self.flags = flags
        self.casUnique = casUnique
        self.state = state
    }

    /// Whether nothing sets this item apart from a plain string.
    public var isEmpty: Bool { flags == 0 && casUnique == 0 && state.isEmpty }

    /// Whether nothing of it is persisted (no flags, no CAS unique, at most whether it was
    /// fetched): snapshots and the log leave such entries out.
    public var persistsNothing: Bool { flags == 0 && casUnique == 0 && state.isDisjoint(with: .persisted) }

    /// The AUX field name a snapshot writes before a key with metadata.
    public static let snapshotAuxField = "strata-item"

    /// The persisted state bits.
    var persistedState: UInt8 { state.intersection(.persisted).rawValue }

    /// The text of the snapshot AUX field: `<flags> <cas>`, then the state bits if any.
    public var auxText: String {
        persistedState == 0 ? "\(flags) \(casUnique)" : "\(flags) \(casUnique) \(persistedState)"
    }

    /// Metadata from its AUX text, nil when the text does not start with two or three
    /// numbers in range (fields after the third, a later writer's, are ignored).
    public init?(auxText: Bytes) {
        let parts = auxText.string.split(separator: " ", omittingEmptySubsequences: false).map { Bytes(String($0)) }
        guard parts.count >= 2 else { return nil }
        self.init(fields: Array(parts.prefix(3)))
    }

    /// Metadata from its fields: flags, CAS unique and optionally the state bits.
    init?(fields: [Bytes]) {
        guard fields.count == 2 || fields.count == 3, let flags = UInt32(fields[0].string),
            let cas = UInt64(fields[1].string)
        else { return nil }
        var state = State()
        if fields.count == 3 {
            guard let bits = UInt8(fields[2].string) else { return nil }
            state = State(rawValue: bits).intersection(.persisted)
        }
        self.init(flags: flags, casUnique: cas, state: state)
    }

    /// The arguments of the command that restores `self` on `key`.
    public func command(key: Bytes) -> [Bytes] {
        var args = [Bytes("STRATA.ITEMMETA"), key, Bytes(String(flags)), Bytes(String(casUnique))]
        if persistedState != 0 { args.append(Bytes(String(persistedState))) }
        return args
    }
}

extension Database {
    /// The metadata of `key`, if it has any.
    @inlinable
    public func itemMetadata(_ key: Bytes) -> ItemMetadata? {
        itemMetadataByKey.isEmpty ? nil : itemMetadataByKey[key]
    }

    /// Sets (or with nil removes) the metadata of `key`, which must hold a string.
    public mutating func setItemMetadata(_ metadata: ItemMetadata?, for key: Bytes) {
        if let metadata, !metadata.isEmpty {
            itemMetadataByKey[key] = metadata
            largestCASUnique = max(largestCASUnique, metadata.casUnique)
        } else if !itemMetadataByKey.isEmpty {
            itemMetadataByKey[key] = nil
        }
    }

    /// Forgets the metadata of `key` (it was written or removed).
    @inlinable
    public mutating func forgetItemMetadata(_ key: Bytes) {
        if !itemMetadataByKey.isEmpty { itemMetadataByKey[key] = nil }
    }

    /// Keys with metadata.
    public var itemMetadataCount: Int { itemMetadataByKey.count }

    /// Every key's metadata (a copy-on-write snapshot of the table, for writers).
    public var allItemMetadata: [Bytes: ItemMetadata] { itemMetadataByKey }
}

extension Engine {
    /// A CAS unique never handed out before: past the last one, and past every unique the
    /// loaded or replicated data holds.
    public func nextCASUnique() -> UInt64 {
        for database in databases where database.largestCASUnique > lastCASUnique {
            lastCASUnique = database.largestCASUnique
        }
        lastCASUnique &+= 1
        return lastCASUnique
    }

    /// Forgets the metadata of the keys written since the last call (written keys are
    /// settled once: the engine calls this after each command it runs, the server before
    /// it consumes the record, so metadata set after a command, as memcached's store does,
    /// stays).
    @inlinable
    public func forgetItemMetadataOfRecordedWrites() {
        var index = record.itemMetadataSettled
        while index < record.writtenKeys.count {
            let written = record.writtenKeys[index]
            if !databases[written.db].itemMetadataByKey.isEmpty {
                databases[written.db].itemMetadataByKey[written.key] = nil
            }
            index += 1
        }
        record.itemMetadataSettled = index
    }
}

extension CommandTable {
    /// `STRATA.ITEMMETA key flags cas`: restores an item's metadata from the log or the
    /// replication stream. Resolved only by ``resolveLogged(_:)``.
    static let itemMetadataSpec = CommandSpec(
        "strata.itemmeta", arity: -4, flags: [.write], keys: (1, 1, 1), group: "string",
        summary: "Restores a memcached item's client flags, CAS unique and state.", synopsis: "key flags cas [state]",
        categories: ["write", "string", "fast"],
        handler: .engine { c in
            guard c.args.count <= 5, let metadata = ItemMetadata(fields: Array(c.args[2...])) else {
                return .error("ERR invalid item metadata")
            }
            let key = c.args[1]
            let db = c.db
            guard c.engine.databases[db].rawEntry(key)?.value.stringBytes != nil else { return .integer(0) }
            c.engine.databases[db].setItemMetadata(metadata, for: key)
            c.changed()
            return .integer(1)
        })

    /// The table of commands only logs and replication streams may hold.
    static let loggedOnly = CommandTable([itemMetadataSpec])

    /// Resolves a command read from the append-only file or a primary's stream: every
    /// client command, and the commands only such streams carry (clients cannot send
    /// them: they are not in the table clients' commands resolve from).
    public func resolveLogged(_ args: [Bytes]) -> Result<CommandSpec, Reply> {
        let resolved = resolve(args)
        if case .failure = resolved, let first = args.first, CommandTable.loggedOnly.spec(named: first) != nil {
            return CommandTable.loggedOnly.resolve(args)
        }
        return resolved
    }
}

extension Engine {
    /// Resolves a command read from the append-only file or a primary's stream (see
    /// ``CommandTable/resolveLogged(_:)``).
    public func resolveLogged(_ args: [Bytes]) -> Result<CommandSpec, Reply> {
        commands.resolveLogged(args)
    }
}
