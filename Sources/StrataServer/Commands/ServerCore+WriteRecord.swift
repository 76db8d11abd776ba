//! The one consumer of the engine's write record (`WriteRecord` in the engine). After every
//! command, EXEC, script, expiry slice or eviction, `commitWrites` turns what the record
//! says into everything that follows from a write: the `dirty` counter for save points,
//! keyspace notifications, WATCH invalidation, the keys that wake parked clients, and the
//! effects appended to the AOF. Nothing else in the server reads what a command wrote, so
//! a new write command needs no server code, and a new consumer (a replication stream,
//! client-tracking invalidation) is one more step here.

import StrataEngine

extension ServerCore {
    /// Applies and empties the engine's write record. Inside a transaction or script the
    /// effects stay in the record, to be logged together when it completes.
    @inline(__always)
    func commitWrites(now: Int64) {
        if engine.record.isEmpty { return }
        commitRecord(now: now)
    }

    private func commitRecord(now: Int64) {
        // Read in place, not copied: a copy of the record retains each of its arrays, which
        // is measurable at a million commands a second.
        engine.stats.dirty &+= engine.record.changes
        if !engine.record.events.isEmpty { publishKeyspaceEvents(engine.record.events) }
        if engine.record.touchesKeys {
            // Writes made outside the engine's commands (RESTORE, MIGRATE) drop memcached
            // metadata here; the engine's own commands did already.
            engine.forgetItemMetadataOfRecordedWrites()
            if !watches.isEmpty { markWatchesDirty(watches.clientsInvalidated(by: engine.record)) }
            if !waitQueues.isEmpty { waitQueues.noteReady(engine.record) }
            if trackingActive { invalidateTrackedKeys() }
        }
        // The effects stay until the AOF takes them (at once, or when the transaction or
        // script completes).
        engine.clearRecord(keepingEffects: true)
        if !executingTransaction && engine.hasEffects { feedAppendOnlyFile(now: now) }
    }
}
