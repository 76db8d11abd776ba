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
//! Persistence: a snapshot writes an AUX field `strata-item` (`<flags> <cas>`) right
//! before the key it describes (Redis ignores AUX fields it does not know), and the log
//! and the replication stream carry `STRATA.ITEMMETA key flags cas`, a command only
//! loaders and replicas accept.

/// A memcached item's client flags and CAS unique (0: none handed out yet).
public struct ItemMetadata: Sendable, Equatable {
    /// The client flags memcached stores with the item.
    public var flags: UInt32
    /// The CAS unique of the item's current version, 0 when none was handed out.
    public var casUnique: UInt64

    /// Metadata with `flags` and `casUnique`.
    @inlinable
    public init(flags: UInt32, casUnique: UInt64 = 0) {
        self.flags = flags
        self.casUnique = casUnique
    }

    /// The AUX field name a snapshot writes before a key with metadata.
    public static let snapshotAuxField = "strata-item"

    /// The command that restores metadata from the log or the replication stream.
    public static let commandName = "strata.itemmeta"

    /// The text of the snapshot AUX field: `<flags> <cas>`.
    public var auxText: String { "\(flags) \(casUnique)" }

    /// Metadata from its AUX text, nil when the text is not two numbers in range.
    public init?(auxText: Bytes) {
        let parts = auxText.string.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, let flags = UInt32(parts[0]), let cas = UInt64(parts[1]) else { return nil }
        self.init(flags: flags, casUnique: cas)
    }

    /// The arguments of the command that restores `self` on `key`.
    public func command(key: Bytes) -> [Bytes] {
        [Bytes("STRATA.ITEMMETA"), key, Bytes(String(flags)), Bytes(String(casUnique))]
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
        if let metadata, metadata.flags != 0 || metadata.casUnique != 0 {
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
        "strata.itemmeta", arity: 4, flags: [.write], keys: (1, 1, 1), group: "string",
        summary: "Restores a memcached item's client flags and CAS unique.", synopsis: "key flags cas",
        categories: ["write", "string", "fast"],
        handler: .engine { c in
            guard let flags = UInt32(c.args[2].string), let cas = UInt64(c.args[3].string) else {
                return .error("ERR invalid item metadata")
            }
            let key = c.args[1]
            let db = c.db
            guard c.engine.databases[db].rawEntry(key)?.value.stringBytes != nil else { return .integer(0) }
            c.engine.databases[db].setItemMetadata(ItemMetadata(flags: flags, casUnique: cas), for: key)
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
