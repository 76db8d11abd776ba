//! The `maxmemory-policy` choices and the LFU bookkeeping they need.
//!
//! Under an LFU policy the 31 access bits of an ``Entry`` hold Redis's LFU data instead of
//! the last access time: bits 0–7 a logarithmic access counter, bits 8–23 the minute
//! (mod 2^16) of the last access, from which decay is counted, as Redis keeps them; and,
//! beyond Redis, bits 24–30 the half-second within that minute. Eviction ranks by counter
//! first and, among equal counters (common: a new key starts at 5 and a counter moves
//! logarithmically), evicts the longest idle, where Redis picks arbitrarily. Like Redis,
//! switching between LRU and LFU at run time reuses the same bits, so the old data takes
//! a while to become meaningful.

/// What the server evicts when `maxmemory` is reached.
public enum EvictionPolicy: String, CaseIterable, Sendable {
    // In Redis's order, which its error messages list.
    case volatileLRU = "volatile-lru"
    case volatileLFU = "volatile-lfu"
    case volatileRandom = "volatile-random"
    case volatileTTL = "volatile-ttl"
    case allKeysLRU = "allkeys-lru"
    case allKeysLFU = "allkeys-lfu"
    case allKeysRandom = "allkeys-random"
    case noEviction = "noeviction"

    /// Whether only keys with a deadline may be evicted.
    public var volatileOnly: Bool {
        switch self {
        case .volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL: return true
        default: return false
        }
    }

    /// Whether entries keep LFU counters instead of access times.
    public var usesLFU: Bool { self == .allKeysLFU || self == .volatileLFU }
}

/// Redis's LFU counter arithmetic (`evict.c`).
public enum LFU {
    /// A new key's counter, so it is not evicted before it had a chance to be used.
    public static let initialCounter: UInt32 = 5

    /// Minutes on the 16-bit LFU clock.
    @inlinable
    public static func minutes(now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: now / 60_000) & 0xFFFF
    }

    /// Half-seconds into the current minute (0–119).
    @inlinable
    public static func halfSeconds(now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: (now % 60_000) / 500)
    }

    /// The time bits (minute and half-second) of an access at `now`, counter left zero.
    @inlinable
    static func accessTime(now: Int64) -> UInt32 {
        halfSeconds(now: now) << 24 | minutes(now: now) << 8
    }

    /// Access bits of a new key.
    @inlinable
    public static func initialBits(now: Int64) -> UInt32 {
        accessTime(now: now) | initialCounter
    }

    /// Half-seconds since the last access recorded in `bits` (modulo the 16-bit minute clock).
    public static func idleHalfSeconds(_ bits: UInt32, now: Int64) -> UInt32 {
        let period: UInt32 = 0x1_0000 * 120
        let last = ((bits >> 8) & 0xFFFF) * 120 + min((bits >> 24) & 0x7F, 119)
        let current = minutes(now: now) * 120 + halfSeconds(now: now)
        return current >= last ? current - last : period - last + current
    }

    /// The counter in `bits` after decay: one step per `decayMinutes` elapsed.
    public static func decayedCounter(_ bits: UInt32, now: Int64, decayMinutes: Int) -> UInt32 {
        let counter = bits & 0xFF
        let last = (bits >> 8) & 0xFFFF
        let current = minutes(now: now)
        let elapsed = current >= last ? current - last : 0xFFFF - last + current
        guard decayMinutes > 0 else { return counter }
        let periods = Int(elapsed) / decayMinutes
        return periods >= Int(counter) ? 0 : counter - UInt32(periods)
    }

    /// `bits` after one access: decayed, then incremented with probability
    /// 1 / ((counter - initial) * logFactor + 1), saturating at 255.
    public static func touched(
        _ bits: UInt32, now: Int64, logFactor: Int, decayMinutes: Int, random: Double
    ) -> UInt32 {
        var counter = decayedCounter(bits, now: now, decayMinutes: decayMinutes)
        if counter < 255 {
            let base = Double(counter > initialCounter ? counter - initialCounter : 0)
            if random < 1.0 / (base * Double(logFactor) + 1) { counter += 1 }
        }
        return accessTime(now: now) | counter
    }
}
