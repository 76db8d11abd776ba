//! memcached's flags and CAS uniques of the items in `memcached-db`, kept by the engine
//! (`ItemMetadata`) so that snapshots, the log and replicas carry them. A store sets them
//! after the write that stored the value (the engine forgot the old version's when the
//! write ran); handing out a CAS unique for the first time logs it too, so that after a
//! restart or a failover `gets` answers the same unique and a `cas` against it succeeds.

import StrataEngine

extension ServerCore {
    /// The client flags of `key` (0 when it has none).
    func itemFlags(_ key: Bytes) -> UInt32 {
        engine.databases[config.memcachedDatabase].itemMetadata(key)?.flags ?? 0
    }

    /// The CAS unique of `key`'s current version, handed out (and logged) now if it has none.
    func itemCASUnique(_ key: Bytes, now: Int64) -> UInt64 {
        let db = config.memcachedDatabase
        var metadata = engine.databases[db].itemMetadata(key) ?? ItemMetadata(flags: 0)
        if metadata.casUnique != 0 { return metadata.casUnique }
        metadata.casUnique = engine.nextCASUnique()
        setItemMetadata(metadata, key: key, now: now)
        return metadata.casUnique
    }

    /// Whether `unique` is the CAS unique of `key`'s current version.
    func itemCASMatches(_ key: Bytes, _ unique: UInt64) -> Bool {
        guard unique != 0, let metadata = engine.databases[config.memcachedDatabase].itemMetadata(key) else {
            return false
        }
        return metadata.casUnique == unique
    }

    /// A new version of `key` was stored with `flags` (its write already committed).
    func itemStored(_ key: Bytes, flags: UInt32, now: Int64) {
        guard flags != 0 else { return }
        setItemMetadata(ItemMetadata(flags: flags), key: key, now: now)
    }

    /// Runs `write`, a change of `key`'s deadline only (a touch): the item keeps its flags
    /// and CAS unique as memcached's does, though the engine forgot them with the write.
    func keepingItemMetadata(of key: Bytes, now: Int64, _ write: () -> Void) {
        let kept = engine.databases[config.memcachedDatabase].itemMetadata(key)
        write()
        guard let kept, liveString(key, now: now) != nil else { return }
        setItemMetadata(kept, key: key, now: now)
    }

    /// Sets `key`'s metadata and logs it (on a primary: a replica's stream is its primary's).
    private func setItemMetadata(_ metadata: ItemMetadata, key: Bytes, now: Int64) {
        let db = config.memcachedDatabase
        engine.databases[db].setItemMetadata(metadata, for: key)
        guard primaryLink == nil else { return }
        engine.recordEffect(metadata.command(key: key), db: db)
        commitWrites(now: now)
    }
}
