//! Iteration over a database: SCAN cursors, KEYS, RANDOMKEY.
//!
//! SCAN's guarantee ("every key present for the whole iteration is returned") rests on a
//! cursor that names a shard and a position in that shard's hash order: the high 32 bits
//! of a key's placement hash. Keys never move to a lower shard (linear hashing only splits
//! shard `s` into `s` and a new, higher shard), and their hash order never changes, so
//! a cursor that only moves forward cannot miss a key that stays; it may return one twice.

extension Database {
    /// One SCAN step: up to about `count` keys from `cursor`, and the next cursor (0 at end).
    ///
    /// - Parameters:
    ///   - cursor: 0 to start, or a cursor this function returned.
    ///   - count: the COUNT hint.
    ///   - now: Unix ms; expired keys are skipped.
    public func scan(cursor: UInt64, count: Int) -> (next: UInt64, keys: [Bytes]) {
        var shard = Int(truncatingIfNeeded: cursor >> 32)
        var threshold = UInt32(truncatingIfNeeded: cursor)
        var result: [Bytes] = []
        let wanted = max(1, count)
        while shard < shards.count && result.count < wanted {
            var candidates: [(UInt32, Bytes)] = []
            for key in shards[shard].entries.keys {
                let position = UInt32(truncatingIfNeeded: Database.placementHash(key) >> 32)
                if position >= threshold { candidates.append((position, key)) }
            }
            let room = wanted - result.count
            if candidates.count <= room {
                result.append(contentsOf: candidates.map { $0.1 })
                shard += 1
                threshold = 0
                continue
            }
            candidates.sort { $0.0 < $1.0 }
            var taken = room
            // Keep keys that share a position together so the cursor can step past them.
            while taken < candidates.count && candidates[taken].0 == candidates[taken - 1].0 { taken += 1 }
            result.append(contentsOf: candidates[0..<taken].map { $0.1 })
            if taken == candidates.count {
                shard += 1
                threshold = 0
            } else {
                threshold = candidates[taken].0
            }
            break
        }
        if shard >= shards.count { return (0, result) }
        return (UInt64(shard) << 32 | UInt64(threshold), result)
    }

    /// Calls `body` with every key whose deadline (if any) is after `now`, its value and
    /// deadline, shard by shard: what snapshots and AOF rewrites write out.
    @inlinable
    public func forEachLive(now: Int64, _ body: (Bytes, Value, Int64?) throws -> Void) rethrows {
        for shard in shards { try Database.forEachLive(in: shard, now: now, body) }
    }

    /// The keys of `shard` whose deadline (if any) is after `now`, with value and deadline.
    @inlinable
    static func forEachLive(in shard: Shard, now: Int64, _ body: (Bytes, Value, Int64?) throws -> Void) rethrows {
        for (key, entry) in shard.entries {
            var deadline: Int64?
            if entry.hasDeadline, let d = shard.deadlines[key] {
                if d <= now { continue }
                deadline = d
            }
            try body(key, entry.value, deadline)
        }
    }

    /// Every key, including ones past their deadline (callers filter).
    public func allKeys() -> [Bytes] {
        var keys: [Bytes] = []
        keys.reserveCapacity(count)
        for shard in shards { keys.append(contentsOf: shard.entries.keys) }
        return keys
    }

    /// A random key, or nil when empty; with `volatileOnly`, a random key with a deadline.
    /// May return a key past its deadline.
    public func randomKey<G: RandomNumberGenerator>(volatileOnly: Bool = false, using generator: inout G) -> Bytes? {
        let total = volatileOnly ? deadlineCount : count
        guard total > 0 else { return nil }
        // Pick a shard weighted by size: choose a random key ordinal and walk shard sizes.
        var ordinal = Int.random(in: 0..<total, using: &generator)
        for shard in shards {
            let size = volatileOnly ? shard.deadlines.count : shard.entries.count
            if ordinal < size {
                return volatileOnly
                    ? shard.deadlines.randomKey(using: &generator) : shard.entries.randomKey(using: &generator)
            }
            ordinal -= size
        }
        return nil
    }
}
