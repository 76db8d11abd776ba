//! Active expiry: reclaims keys past their deadline that no command touches.
//!
//! Redis samples its expires table from a periodic `hz` task and repeats while many samples
//! were stale. Here each database shard keeps its own deadline table, so the cycle walks
//! shards from a resumable cursor and checks every deadline in a visited shard; the work of
//! one call is bounded by a budget of checked keys so the event loop never stalls. The
//! caller (the server) reschedules sooner when a call found many stale keys — the adaptive
//! part — and at `hz` otherwise. A shard left sparse by deletions is shrunk on the way, so
//! memory is returned, not just keys.

/// What one active-expiry call did.
public struct ExpiryCycleResult: Sendable, Equatable {
    /// Deadlines examined.
    public var checked = 0
    /// Keys removed.
    public var expired = 0
    /// Whether the call stopped on its budget rather than finishing a full pass.
    public var budgetExhausted = false

    public init() {}

    /// Whether the next cycle should run soon (a tenth or more of checked keys were stale).
    public var wantsFastFollowUp: Bool {
        budgetExhausted && expired * 10 >= checked && expired > 0
    }
}

extension Database {
    /// Removes expired keys from shard `index`.
    ///
    /// - Returns: the number of deadlines checked and the keys removed.
    mutating func expireShard(_ index: Int, now: Int64, compact: Bool = false) -> (checked: Int, expired: [Bytes]) {
        var stale: [Bytes] = []
        let checked = shards[index].deadlines.count
        var remainingSum: Int64 = 0
        for (key, deadline) in shards[index].deadlines {
            if deadline <= now {
                stale.append(key)
            } else {
                remainingSum &+= deadline - now
            }
        }
        let live = checked - stale.count
        if live > 0 {
            // Redis's estimate: a slow moving average of sampled remaining TTLs.
            let sample = remainingSum / Int64(live)
            averageTTL = averageTTL == 0 ? sample : (averageTTL / 50) * 49 + sample / 50
        }
        if !stale.isEmpty {
            withShard(index) { shard in
                for key in stale {
                    let hash = Database.placementHash(key)
                    shard.entries.removeValue(forKey: key, hash: hash)
                    shard.deadlines.removeValue(forKey: key, hash: hash)
                }
            }
            if slotIndex != nil { for key in stale { slotIndex?.remove(key) } }
            noteRemoved(keys: stale.count, deadlines: stale.count)
        }
        withShard(index) { shard in
            shard.shrinkIfSparse()
            if compact { shard.entries.compactIfLoose() }
        }
        if deadlineCount == 0 { averageTTL = 0 }
        return (checked, stale)
    }
}

extension Engine {
    /// Runs one bounded slice of active expiry across all databases.
    ///
    /// - Parameters:
    ///   - now: Unix time in milliseconds.
    ///   - budget: the most deadlines to examine in this call.
    ///   - compactTables: also rebuild loose keyspace tables denser on the way
    ///     (``KeyTable/compactIfLoose()``): the server asks near `maxmemory`.
    /// - Returns: what was done; see ``ExpiryCycleResult/wantsFastFollowUp``.
    public func activeExpireCycle(now: Int64, budget: Int, compactTables: Bool = false) -> ExpiryCycleResult {
        var result = ExpiryCycleResult()
        var visitedShards = 0
        let totalShards = databases.reduce(0) { $0 + $1.shards.count }
        while visitedShards < totalShards {
            if result.checked >= budget {
                result.budgetExhausted = true
                break
            }
            var (db, shard) = expiryCursor
            if db >= databases.count { db = 0 }
            if shard >= databases[db].shards.count {
                db = (db + 1) % databases.count
                shard = 0
                expiryCursor = (db, shard)
                continue
            }
            let (checked, expired) = databases[db].expireShard(shard, now: now, compact: compactTables)
            result.checked += checked
            result.expired += expired.count
            for key in expired { noteExpired(key, db: db) }
            visitedShards += 1
            expiryCursor = (db, shard + 1)
        }
        return result
    }
}
