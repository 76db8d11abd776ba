import Testing

@testable import StrataEngine

@Suite("Eviction")
struct EvictionTests {
    /// A harness whose samples cover every key, so the approximate policies are exact.
    private func harness(_ policy: EvictionPolicy) -> Harness {
        let h = Harness()
        h.engine.settings.evictionPolicy = policy
        h.engine.settings.evictionSamples = 1000
        return h
    }

    @Test func lruEvictsTheLongestIdleKeysFirst() {
        let h = harness(.allKeysLRU)
        for n in 0..<40 { h.run("SET", "old\(n)", "v") }
        h.advance(milliseconds: 60_000)
        for n in 0..<40 { h.run("SET", "new\(n)", "v") }
        h.advance(milliseconds: 60_000)
        for n in 0..<10 { h.run("GET", "old\(n)") }  // recently read: no longer idle
        var evicted: [String] = []
        for _ in 0..<30 { evicted.append(h.engine.evictOne(now: h.now)?.key.string ?? "none") }
        #expect(Set(evicted) == Set((10..<40).map { "old\($0)" }))
        #expect(h.engine.stats.evictedKeys == 30)
        #expect(h.run("DBSIZE") == .integer(50))
    }

    @Test func volatileTTLEvictsTheNearestDeadlineAndNeverPersistentKeys() {
        let h = harness(.volatileTTL)
        h.run("SET", "forever", "v")
        h.run("SET", "soon", "v", "EX", "10")
        h.run("SET", "later", "v", "EX", "1000")
        #expect(h.engine.evictOne(now: h.now)?.key == Bytes("soon"))
        #expect(h.engine.evictOne(now: h.now)?.key == Bytes("later"))
        #expect(h.engine.evictOne(now: h.now) == nil)
        #expect(h.run("EXISTS", "forever") == .integer(1))
    }

    @Test func randomPoliciesRespectTheirKeySets() {
        let h = harness(.volatileRandom)
        for n in 0..<20 { h.run("SET", "p\(n)", "v") }
        for n in 0..<5 { h.run("SET", "v\(n)", "v", "EX", "100") }
        var evicted = Set<String>()
        while let victim = h.engine.evictOne(now: h.now) { evicted.insert(victim.key.string) }
        #expect(evicted == Set((0..<5).map { "v\($0)" }))
        h.engine.settings.evictionPolicy = .allKeysRandom
        var count = 0
        while h.engine.evictOne(now: h.now) != nil { count += 1 }
        #expect(count == 20)
        h.engine.settings.evictionPolicy = .noEviction
        h.run("SET", "k", "v")
        #expect(h.engine.evictOne(now: h.now) == nil)
    }

    @Test func lfuKeepsFrequentlyUsedKeys() {
        let h = harness(.allKeysLFU)
        for n in 0..<20 { h.run("SET", "k\(n)", "v") }
        for _ in 0..<300 { h.run("GET", "k0") }
        for _ in 0..<300 { h.run("GET", "k1") }
        guard case .integer(let hot) = h.run("OBJECT", "FREQ", "k0") else {
            Issue.record("OBJECT FREQ did not answer an integer")
            return
        }
        #expect(hot > 5)
        #expect(h.run("OBJECT", "FREQ", "k5") == .integer(5))
        #expect(
            h.run("OBJECT", "IDLETIME", "k5")
                == .error(
                    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
                ))
        for _ in 0..<18 { _ = h.engine.evictOne(now: h.now) }
        #expect(h.run("EXISTS", "k0", "k1") == .integer(2))
    }

    /// Among keys with the same LFU counter, the longest idle goes first (Redis picks
    /// arbitrarily among them).
    @Test func lfuBreaksCounterTiesByIdleTime() {
        let h = harness(.allKeysLFU)
        for n in 0..<20 {
            h.run("SET", "k\(n)", "v")
            h.advance(milliseconds: 1_000)
        }
        var evicted: [String] = []
        for _ in 0..<10 { evicted.append(h.engine.evictOne(now: h.now)?.key.string ?? "none") }
        #expect(evicted == (0..<10).map { "k\($0)" })
        #expect(LFU.idleHalfSeconds(LFU.initialBits(now: 59_900), now: 60_400) == 1)
        #expect(LFU.idleHalfSeconds(LFU.initialBits(now: 0), now: 90_000) == 180)
    }

    /// A pooled candidate read after it was sampled is scored again before eviction
    /// (Redis would evict it on its stale idle time).
    @Test func candidatesUsedSinceSamplingAreNotEvictedOnStaleScores() {
        let h = Harness()
        h.engine.settings.evictionPolicy = .allKeysLRU
        h.engine.settings.evictionSamples = 1000
        for n in 0..<20 { h.run("SET", "k\(n)", "v") }
        h.advance(milliseconds: 60_000)
        for n in 0..<20 where n != 3 { h.run("GET", "k\(n)") }  // k3 is the idlest
        h.advance(milliseconds: 60_000)
        // Fill the pool: the first eviction samples every key and takes k3.
        #expect(h.engine.evictOne(now: h.now)?.key == Bytes("k3"))
        // The pool now holds the other keys with scores from that sampling; read the one
        // it would evict next, and evict from the pool alone (no new samples): on its
        // stale score it would go first.
        let pooled = h.engine.evictionPool.last?.key ?? Bytes("none")
        #expect(h.engine.evictionPool.count == 15)
        h.advance(milliseconds: 30_000)
        h.run("GET", pooled.string)
        h.engine.settings.evictionSamples = 0
        for _ in 0..<5 { #expect(h.engine.evictOne(now: h.now)?.key != pooled) }
        #expect(h.run("EXISTS", pooled.string) == .integer(1))
    }

    @Test func lfuCountersDecayWithTime() {
        #expect(LFU.decayedCounter(LFU.initialBits(now: 0), now: 3 * 60_000, decayMinutes: 1) == 2)
        #expect(LFU.decayedCounter(LFU.initialBits(now: 0), now: 3 * 60_000, decayMinutes: 0) == 5)
        #expect(LFU.touched(LFU.initialBits(now: 0), now: 0, logFactor: 10, decayMinutes: 1, random: 0) & 0xFF == 6)
    }

    @Test func evictionIsAnnounced() {
        let h = harness(.allKeysLRU)
        h.engine.keyspaceEvents = KeyspaceEventTypes(flags: "Ee") ?? []
        h.run("SET", "gone", "v")
        _ = h.engine.evictOne(now: h.now)
        #expect(h.engine.takeEvents() == [KeyspaceEvent(type: .evicted, name: "evicted", key: Bytes("gone"), db: 0)])
    }
}
