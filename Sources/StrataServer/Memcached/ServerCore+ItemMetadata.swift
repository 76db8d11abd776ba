//! memcached's flags, CAS uniques and meta-protocol state of the items in `memcached-db`,
//! kept by the engine (`ItemMetadata`) so that snapshots, the log and replicas carry them.
//! A store sets them after the write that stored the value (the engine forgot the old
//! version's when the write ran); handing out a CAS unique for the first time logs it too,
//! so that after a restart or a failover `gets` answers the same unique and a `cas`
//! against it succeeds. Whether an item was fetched is tracked only once a client asked
//! (`mg h`, `me`): it costs an entry per item read.

import StrataEngine

extension ServerCore {
    /// The metadata of `key` in `memcached-db`.
    func itemMetadata(_ key: Bytes) -> ItemMetadata? {
        engine.databases[memcachedDB].itemMetadata(key)
    }

    /// The client flags of `key` (0 when it has none).
    func itemFlags(_ key: Bytes) -> UInt32 { itemMetadata(key)?.flags ?? 0 }

    /// The CAS unique of `key`'s current version, handed out (and logged) now if it has none.
    func itemCASUnique(_ key: Bytes, now: Int64) -> UInt64 {
        var metadata = itemMetadata(key) ?? ItemMetadata(flags: 0)
        if metadata.casUnique != 0 { return metadata.casUnique }
        metadata.casUnique = engine.nextCASUnique()
        // An item gone within the request (an exptime in the past) keeps no entry.
        guard engine.lookup(key, db: memcachedDB, now: now)?.stringBytes != nil else {
            return metadata.casUnique
        }
        setItemMetadata(metadata, key: key, now: now)
        return metadata.casUnique
    }

    /// Whether `unique` is the CAS unique of `key`'s current version.
    func itemCASMatches(_ key: Bytes, _ unique: UInt64) -> Bool {
        guard unique != 0, let metadata = itemMetadata(key) else { return false }
        return metadata.casUnique == unique
    }

    /// A new version of `key` was stored with `flags` (its write already committed); with
    /// `binaryKey` its key came in base64.
    func itemStored(_ key: Bytes, flags: UInt32, binaryKey: Bool = false, now: Int64) {
        guard flags != 0 || binaryKey else { return }
        setItemMetadata(ItemMetadata(flags: flags, state: binaryKey ? .binaryKey : []), key: key, now: now)
    }

    /// Changes `key`'s metadata (logged when what persistence keeps changed).
    func updateItemMetadata(_ key: Bytes, now: Int64, _ change: (inout ItemMetadata) -> Void) {
        guard engine.lookup(key, db: memcachedDB, now: now)?.stringBytes != nil else { return }
        let old = itemMetadata(key) ?? ItemMetadata(flags: 0)
        var new = old
        change(&new)
        guard new != old else { return }
        let persisted = ItemMetadata.State.persisted
        if new.flags == old.flags && new.casUnique == old.casUnique
            && new.state.intersection(persisted) == old.state.intersection(persisted)
        {
            // Only whether it was fetched changed: nothing to log.
            engine.databases[memcachedDB].setItemMetadata(new, for: key)
        } else {
            setItemMetadata(new, key: key, now: now)
        }
    }

    /// A memcached client read `key`: it counts as fetched, once fetches are tracked.
    func itemFetched(_ key: Bytes, _ memcached: MemcachedRuntime) {
        guard memcached.tracksFetches else { return }
        let db = memcachedDB
        var metadata = engine.databases[db].itemMetadata(key) ?? ItemMetadata(flags: 0)
        guard !metadata.state.contains(.fetched) else { return }
        metadata.state.insert(.fetched)
        engine.databases[db].setItemMetadata(metadata, for: key)
    }

    /// Runs `write`, a change of `key`'s deadline only (a touch): the item keeps its flags,
    /// CAS unique and state as memcached's does, though the engine forgot them with the write.
    func keepingItemMetadata(of key: Bytes, now: Int64, _ write: () -> Void) {
        let kept = itemMetadata(key)
        write()
        guard let kept, liveString(key, now: now) != nil else { return }
        setItemMetadata(kept, key: key, now: now)
    }

    /// Stores an `incr`/`decr` result over the number `old`: rewritten in place, padded
    /// with spaces, when it is no longer, keeping the item's flags and state with a new CAS
    /// unique; else a new item with the same flags (and a fresh state), as memcached does.
    func storeCounter(_ key: Bytes, result: UInt64, old: [UInt8], now: Int64) {
        var digits = Array(String(result).utf8)
        let inPlace = digits.count <= old.count
        if inPlace { digits += [UInt8](repeating: 0x20, count: old.count - digits.count) }
        let kept = itemMetadata(key)
        memcachedWrite([EngineName.set, key, Bytes(digits), EngineName.keepTTL], now: now)
        guard var kept else { return }
        if inPlace {
            kept.casUnique = 0
        } else {
            kept = ItemMetadata(flags: kept.flags)
        }
        if !kept.isEmpty { setItemMetadata(kept, key: key, now: now) }
    }

    /// Sets `key`'s metadata and logs it (on a primary: a replica's stream is its primary's),
    /// unless neither the old nor the new one holds anything persistence keeps.
    private func setItemMetadata(_ metadata: ItemMetadata, key: Bytes, now: Int64) {
        let db = memcachedDB
        let unlogged = metadata.persistsNothing && (itemMetadata(key)?.persistsNothing ?? true)
        engine.databases[db].setItemMetadata(metadata, for: key)
        guard primaryLink == nil, !unlogged else { return }
        engine.recordEffect(metadata.command(key: key), db: db)
        commitWrites(now: now)
    }
}
