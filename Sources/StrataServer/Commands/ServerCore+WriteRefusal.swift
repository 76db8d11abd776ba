//! The conditions that stop writes whoever sends them, RESP or memcached clients: checked
//! in the order Redis 7.0's `processCommand` checks them (memory, evicting first, then disk
//! errors, then too few good replicas), so both protocols refuse the same writes for the
//! same reason.

extension ServerCore {
    /// Why a write cannot run now.
    enum WriteRefusal {
        /// A failed save or AOF write (`stop-writes-on-bgsave-error`, the AOF's errors).
        case diskError
        /// Fewer good replicas than `min-replicas-to-write`.
        case noReplicas
        /// Over `maxmemory` with nothing left to evict.
        case outOfMemory
    }

    /// The refusal of a command that `writes` (or is refused on disk errors, or is denied
    /// when memory is out), evicting first when over `maxmemory`; nil when it may run.
    func writeRefusal(writes: Bool, refusedOnDiskError: Bool, deniedOnOOM: Bool, now: Int64) -> WriteRefusal? {
        if config.maxMemory > 0 && !performEvictions(now: now) && deniedOnOOM { return .outOfMemory }
        if writesDeniedByDiskError || aofWriteFailing, writes || refusedOnDiskError { return .diskError }
        if minimumReplicas.count > 0, writes, lacksGoodReplicas { return .noReplicas }
        return nil
    }
}
