import TestSupport
import Testing

@testable import StrataEngine

/// How well the sampled policies approximate exact LRU and LFU at Redis's default of five
/// samples, against a model of Redis's own algorithm (`evictionPoolPopulate`: sample five
/// keys, keep the sixteen best candidates in a pool, evict the best) run on the same
/// access pattern.
@Suite("Eviction quality")
struct EvictionQualityTests {
    static let keys = 10_000

    /// Redis's sampling with an eviction pool, over keys whose idle times are known.
    struct RedisPoolModel {
        var lastAccess: [Int: Int64]
        var pool: [(key: Int, idle: Int64)] = []
        var random: SeededRandom

        mutating func evict(now: Int64) -> Int? {
            let live = Array(lastAccess.keys)
            guard !live.isEmpty else { return nil }
            for _ in 0..<5 {
                let key = live[Int.random(in: 0..<live.count, using: &random)]
                guard let access = lastAccess[key], !pool.contains(where: { $0.key == key }) else { continue }
                pool.append((key, now - access))
            }
            pool.sort { $0.idle > $1.idle }
            if pool.count > 16 { pool.removeLast(pool.count - 16) }
            while !pool.isEmpty {
                let best = pool.removeFirst()
                if lastAccess.removeValue(forKey: best.key) != nil { return best.key }
            }
            return nil
        }
    }

    /// Fill to N keys, touch a known half, then add N/2 new keys evicting one per insert:
    /// the fraction of the touched half that survives.
    @Test func lruKeepsTheTouchedHalfAtLeastAsWellAsRedisSampling() {
        let h = Harness()
        h.engine.settings.evictionPolicy = .allKeysLRU
        var model = RedisPoolModel(lastAccess: [:], random: SeededRandom(seed: 42))
        for n in 0..<Self.keys {
            h.run("SET", "k\(n)", "v")
            model.lastAccess[n] = h.now
            h.advance(milliseconds: 1)
        }
        h.advance(milliseconds: 60_000)
        for n in 0..<(Self.keys / 2) {
            h.run("GET", "k\(n)")
            model.lastAccess[n] = h.now
            h.advance(milliseconds: 1)
        }
        h.advance(milliseconds: 60_000)
        for n in Self.keys..<(Self.keys + Self.keys / 2) {
            _ = h.engine.evictOne(now: h.now)
            _ = model.evict(now: h.now)
            h.run("SET", "k\(n)", "v")
            model.lastAccess[n] = h.now
            h.advance(milliseconds: 1)
        }
        var touched = 0
        for n in 0..<(Self.keys / 2) where h.run("EXISTS", "k\(n)") == .integer(1) { touched += 1 }
        let ours = Double(touched) / Double(Self.keys / 2)
        let redis = Double((0..<(Self.keys / 2)).filter { model.lastAccess[$0] != nil }.count) / Double(Self.keys / 2)
        print(
            "LRU, 5 samples: touched half kept \(Int(ours * 1000)) per mille (Redis's sampling model: \(Int(redis * 1000)))"
        )
        // The sweep examines every key once per lap; Redis's random positions leave some
        // unexamined for long (measured: ~915 per mille kept against the model's ~855).
        #expect(ours >= redis)
    }

    /// LFU: keys read often, but longer ago than a wave of keys written once after them,
    /// survive evictions that LRU would aim at them first (they are the least recent).
    @Test func lfuKeepsFrequentKeysOverRecentlyInsertedOnes() {
        let h = Harness()
        h.engine.settings.evictionPolicy = .allKeysLFU
        for n in 0..<1000 { h.run("SET", "hot\(n)", "v") }
        for _ in 0..<20 { for n in 0..<1000 { h.run("GET", "hot\(n)") } }
        h.advance(milliseconds: 10_000)
        for n in 0..<4000 { h.run("SET", "recent\(n)", "v") }
        h.advance(milliseconds: 10_000)
        for n in 0..<3000 {
            _ = h.engine.evictOne(now: h.now)
            h.run("SET", "new\(n)", "v")
        }
        var hot = 0
        for n in 0..<1000 where h.run("EXISTS", "hot\(n)") == .integer(1) { hot += 1 }
        print("LFU, 5 samples: \(hot) of 1000 frequently read (least recent) keys kept through 3000 evictions")
        #expect(hot >= 990)
    }

    /// volatile-* policies never evict a key without a TTL, even when only such keys remain.
    @Test func volatilePoliciesNeverTouchPersistentKeys() {
        for policy in [EvictionPolicy.volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL] {
            let h = Harness()
            h.engine.settings.evictionPolicy = policy
            for n in 0..<200 { h.run("SET", "p\(n)", "v") }
            for n in 0..<200 { h.run("SET", "t\(n)", "v", "EX", String(100 + n)) }
            var evicted: [String] = []
            while let victim = h.engine.evictOne(now: h.now) { evicted.append(victim.key.string) }
            #expect(evicted.count == 200, "\(policy)")
            #expect(evicted.allSatisfy { $0.hasPrefix("t") }, "\(policy)")
            if policy == .volatileTTL {
                // Nearest deadlines first, as sampled: the first twenty evictions come from
                // the early deadlines on average (all 200 average 99.5; measured 15–35). One
                // eviction can be a later key: its five samples may all be late ones.
                let firstTwenty = evicted.prefix(20).compactMap { Int($0.dropFirst()) }
                #expect(firstTwenty.reduce(0, +) / max(1, firstTwenty.count) < 60, "\(firstTwenty)")
            }
        }
    }
}
