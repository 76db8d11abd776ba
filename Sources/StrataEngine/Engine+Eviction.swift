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
        case .allKeysRandom, .volatileRandom: victim = randomVictim(volatileOnly: policy.volatileOnly)
        default: victim = pooledVictim(now: now)
        }
        guard let victim else { return nil }
        databases[victim.db].remove(victim.key)
        stats.evictedKeys += 1
        notify(.evicted, "evicted", key: victim.key, db: victim.db)
        recordEffect([Bytes("DEL"), victim.key], db: victim.db)
        return victim
    }

    private func randomVictim(volatileOnly: Bool) -> (db: Int, key: Bytes)? {
        let start = Int.random(in: 0..<databases.count, using: &random)
        for step in 0..<databases.count {
            let db = (start + step) % databases.count
            if volatileOnly {
                if let key = databases[db].sampleKeys(1, volatileOnly: true, using: &random).first { return (db, key) }
            } else if let key = databases[db].randomKey(using: &random) {
                return (db, key)
            }
        }
        return nil
    }

    private func pooledVictim(now: Int64) -> (db: Int, key: Bytes)? {
        let policy = settings.evictionPolicy
        for db in databases.indices
        where policy.volatileOnly ? databases[db].deadlineCount > 0 : databases[db].count > 0 {
            for key in databases[db].sampleKeys(
                settings.evictionSamples, volatileOnly: policy.volatileOnly, using: &random)
            {
                guard let score = evictionScore(db: db, key: key, now: now) else { continue }
                addToPool(EvictionCandidate(db: db, key: key, score: score))
            }
        }
        while let best = evictionPool.popLast() {
            // The pool may hold keys deleted (or persisted) since they were sampled.
            guard databases[best.db].rawEntry(best.key) != nil else { continue }
            if policy.volatileOnly && databases[best.db].deadline(best.key) == nil { continue }
            return (best.db, best.key)
        }
        return nil
    }

    /// Higher is evicted first: idle time (LRU), 255 minus the decayed counter (LFU),
    /// or how soon the deadline comes (volatile-ttl).
    private func evictionScore(db: Int, key: Bytes, now: Int64) -> UInt64? {
        guard let entry = databases[db].rawEntry(key) else { return nil }
        switch settings.evictionPolicy {
        case .allKeysLFU, .volatileLFU:
            let counter = LFU.decayedCounter(entry.accessClock, now: now, decayMinutes: settings.lfuDecayMinutes)
            return UInt64(255 - counter)
        case .volatileTTL:
            guard let deadline = databases[db].deadline(key) else { return nil }
            return UInt64(bitPattern: Int64.max - deadline)
        default:
            return UInt64(Entry.ticks(from: entry.accessClock, to: Entry.clock(now: now)))
        }
    }

    private func addToPool(_ candidate: EvictionCandidate) {
        if evictionPool.contains(where: { $0.db == candidate.db && $0.key == candidate.key }) { return }
        if evictionPool.count >= Engine.evictionPoolSize {
            guard let worst = evictionPool.first, candidate.score > worst.score else { return }
            evictionPool.removeFirst()
        }
        let position = evictionPool.firstIndex { $0.score > candidate.score } ?? evictionPool.count
        evictionPool.insert(candidate, at: position)
    }

    /// Forgets pooled candidates (after FLUSHALL, a policy change, or in tests).
    public func clearEvictionPool() {
        evictionPool.removeAll()
    }
}

extension Database {
    /// Up to `count` keys, consecutive from a random position of a random shard and on
    /// through the following shards (as Redis's `dictGetSomeKeys` walks buckets): keys
    /// with a deadline only, when `volatileOnly`.
    func sampleKeys<G: RandomNumberGenerator>(_ count: Int, volatileOnly: Bool, using generator: inout G) -> [Bytes] {
        guard volatileOnly ? deadlineCount > 0 : self.count > 0 else { return [] }
        var keys: [Bytes] = []
        let first = Int.random(in: 0..<shards.count, using: &generator)
        for step in 0..<shards.count where keys.count < count {
            let shard = shards[(first + step) % shards.count]
            let wanted = count - keys.count
            if volatileOnly {
                keys += Self.consecutive(shard.deadlines.keys, wanted, using: &generator)
            } else {
                keys += Self.consecutive(shard.entries.keys, wanted, using: &generator)
            }
        }
        return keys
    }

    private static func consecutive<C: Collection, G: RandomNumberGenerator>(
        _ keys: C, _ count: Int, using generator: inout G
    ) -> [Bytes] where C.Element == Bytes {
        guard !keys.isEmpty else { return [] }
        let total = keys.count
        let start = Int.random(in: 0..<total, using: &generator)
        var out: [Bytes] = []
        var index = keys.index(keys.startIndex, offsetBy: start)
        for _ in 0..<Swift.min(count, total) {
            out.append(keys[index])
            keys.formIndex(after: &index)
            if index == keys.endIndex { index = keys.startIndex }
        }
        return out
    }
}
