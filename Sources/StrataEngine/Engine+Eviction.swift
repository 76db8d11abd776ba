//! Eviction under `maxmemory` (Redis's `evict.c`, approximated the same way): each round
//! samples `maxmemory-samples` keys per database into a small pool of the best candidates
//! seen so far — longest idle (LRU), least frequently used (LFU) or nearest deadline
//! (volatile-ttl) — and evicts the best one that still exists. The random policies pick
//! a random key. The server decides when memory is over the limit and calls
//! ``Engine/evictOne(now:)`` until it is not.

/// A key considered for eviction, with a score that grows with its eligibility.
struct EvictionCandidate {
    var db: Int
    var key: Bytes
    var score: UInt64
}

extension Engine {
    /// Entries kept in the eviction pool (Redis's `EVPOOL_SIZE`).
    static let evictionPoolSize = 16

    /// Access bits for a key written now: the access clock, or a fresh LFU counter.
    @inlinable
    public func accessBits(now: Int64) -> UInt32 {
        settings.evictionPolicy.usesLFU ? LFU.initialBits(now: now) : Entry.clock(now: now)
    }

    /// Evicts one key chosen by the policy, records the `evicted` event and counts it.
    ///
    /// - Returns: the database and key evicted, or nil when no key may be evicted
    ///   (`noeviction`, or no candidates: a volatile policy with no deadlines).
    public func evictOne(now: Int64) -> (db: Int, key: Bytes)? {
        let policy = settings.evictionPolicy
        let victim: (db: Int, key: Bytes)?
        switch policy {
        case .noEviction: return nil
        case .allKeysRandom, .volatileRandom:
            victim = randomVictim(volatileOnly: policy.volatileOnly)
            if let victim { _ = databases[victim.db].delete(victim.key) }
        default: victim = evictPooled(now: now)
        }
        guard let victim else { return nil }
        stats.evictedKeys += 1
        countChanges(1)
        noteRemoved(victim.key, db: victim.db, .evicted)
        notify(.evicted, "evicted", key: victim.key, db: victim.db)
        recordEffect([Bytes("DEL"), victim.key], db: victim.db)
        return victim
    }

    private func randomVictim(volatileOnly: Bool) -> (db: Int, key: Bytes)? {
        let start = Int.random(in: 0..<databases.count, using: &random)
        for step in 0..<databases.count {
            let db = (start + step) % databases.count
            if let key = databases[db].randomKey(volatileOnly: volatileOnly, using: &random) { return (db, key) }
        }
        return nil
    }

    /// Refills the pool from samples and removes its best candidate that still exists.
    private func evictPooled(now: Int64) -> (db: Int, key: Bytes)? {
        let policy = settings.evictionPolicy
        let samples = settings.evictionSamples
        for db in databases.indices
        where policy.volatileOnly ? databases[db].deadlineCount > 0 : databases[db].count > 0 {
            databases[db].forEachSample(samples, volatileOnly: policy.volatileOnly) {
                key, accessBits, deadline in
                addToPool(
                    EvictionCandidate(db: db, key: key, score: evictionScore(accessBits, deadline: deadline, now: now)))
            }
        }
        while let best = evictionPool.popLast() {
            // The pool may hold keys deleted (or persisted) since they were sampled...
            guard let state = databases[best.db].accessState(best.key) else { continue }
            if policy.volatileOnly && !state.hasDeadline { continue }
            // ... or used since: Redis evicts those on their stale score; here a candidate
            // read since it was sampled goes back in the pool with its current score, so a
            // key that just turned hot is not the one thrown out.
            if policy != .volatileTTL {
                let current = evictionScore(state.accessBits, deadline: nil, now: now)
                if current < best.score {
                    addToPool(EvictionCandidate(db: best.db, key: best.key, score: current))
                    continue
                }
            }
            if databases[best.db].delete(best.key) { return (best.db, best.key) }
        }
        return nil
    }

    /// Higher is evicted first: idle time (LRU), 255 minus the decayed counter then idle
    /// time (LFU), or how soon the deadline comes (volatile-ttl).
    private func evictionScore(_ accessBits: UInt32, deadline: Int64?, now: Int64) -> UInt64 {
        switch settings.evictionPolicy {
        case .allKeysLFU, .volatileLFU:
            let counter = LFU.decayedCounter(accessBits, now: now, decayMinutes: settings.lfuDecayMinutes)
            return UInt64(255 - counter) << 32 | UInt64(LFU.idleHalfSeconds(accessBits, now: now))
        case .volatileTTL:
            return UInt64(bitPattern: Int64.max - (deadline ?? Int64.max))
        default:
            return UInt64(Entry.ticks(from: accessBits, to: Entry.clock(now: now)))
        }
    }

    private func addToPool(_ candidate: EvictionCandidate) {
        let full = evictionPool.count >= Engine.evictionPoolSize
        // Cheapest test first: a full pool turns away anything not better than its worst.
        if full, let worst = evictionPool.first, candidate.score <= worst.score { return }
        if evictionPool.contains(where: {
            $0.score == candidate.score && $0.db == candidate.db && $0.key == candidate.key
        }) {
            return
        }
        if full { evictionPool.removeFirst() }
        let position = evictionPool.firstIndex { $0.score > candidate.score } ?? evictionPool.count
        evictionPool.insert(candidate, at: position)
    }

    /// Forgets pooled candidates (after FLUSHALL, a policy change, or in tests).
    public func clearEvictionPool() {
        evictionPool.removeAll()
    }
}

/// Where a database's eviction sampling continues: a shard and a slot in its table.
struct SamplingCursor {
    var shard = 0
    var slot = 0
}

extension Database {
    /// Calls `body` with up to `count` keys, their access bits and (for `volatileOnly`,
    /// which samples only keys with a deadline) deadlines: the next occupied slots after
    /// ``samplingCursor``, which moves on through the shards and wraps around.
    ///
    /// Redis samples consecutive buckets from a random position each time
    /// (`dictGetSomeKeys`); this sweep takes consecutive slots from where the last sample
    /// ended. Keys sit in hash order, unrelated to their use, so each sample is as random
    /// as Redis's with respect to idle times and counters — but every key is examined once
    /// per sweep (random positions leave some keys unexamined for long), and the memory
    /// read is sequential, so sampling costs next to no cache misses. Only the bytes
    /// sampled are read: no value is touched or retained.
    mutating func forEachSample(_ count: Int, volatileOnly: Bool, _ body: (Bytes, UInt32, Int64?) -> Void) {
        guard volatileOnly ? deadlineCount > 0 : self.count > 0 else { return }
        var remaining = count
        var tablesEnded = 0
        var cursor = samplingCursor
        defer { samplingCursor = cursor }
        // Tables are read in place (a local copy would retain each one: a cache miss).
        while remaining > 0 && tablesEnded <= shards.count {
            if cursor.shard >= shards.count { cursor = SamplingCursor() }
            let index = cursor.shard
            let step: (next: Int, found: Int)
            if volatileOnly {
                step = shards[index].deadlines.forEachOccupiedSlot(from: cursor.slot, upTo: remaining) { slot in
                    let key = shards[index].deadlines.key(at: slot)
                    let hash = Database.placementHash(key)
                    guard let entry = shards[index].entries.slot(of: key, hash: hash) else { return }
                    body(key, shards[index].entries.accessBits(at: entry), shards[index].deadlines.element(at: slot))
                }
            } else {
                step = shards[index].entries.forEachOccupiedSlot(from: cursor.slot, upTo: remaining) { slot in
                    body(shards[index].entries.key(at: slot), shards[index].entries.accessBits(at: slot), nil)
                }
            }
            remaining -= step.found
            if remaining > 0 {
                cursor = SamplingCursor(shard: index + 1, slot: 0)
                tablesEnded += 1
            } else {
                cursor.slot = step.next
            }
        }
    }
}
