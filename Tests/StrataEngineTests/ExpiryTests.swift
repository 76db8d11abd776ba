import Testing

@testable import StrataEngine

@Suite("Expiry")
struct ExpiryTests {
    @Test func expiredKeysAreInvisibleToEveryCommand() {
        let h = Harness()
        h.run("SET", "k", "v", "PX", "100")
        h.advance(milliseconds: 99)
        #expect(h.run("GET", "k") == .b("v"))
        h.advance(milliseconds: 1)
        #expect(h.run("GET", "k") == .null)
        #expect(h.run("EXISTS", "k") == .integer(0))
        #expect(h.run("TTL", "k") == .integer(-2))
        #expect(h.run("TYPE", "k") == .status("none"))
        #expect(h.run("APPEND", "k", "x") == .integer(1))
        #expect(h.engine.stats.expiredKeys == 1)
    }

    @Test func deadlinesSurviveShardSplits() {
        var database = Database()
        let count = Database.keysPerShard * 40
        for i in 0..<count {
            database.set(Bytes("key:\(i)"), .integer(i), accessClock: 0)
            if i % 3 == 0 { database.setDeadline(Bytes("key:\(i)"), Int64(1_000_000 + i)) }
        }
        #expect(database.shards.count > 16)
        #expect(database.count == count)
        #expect(database.deadlineCount == (count + 2) / 3)
        for i in 0..<count {
            let key = Bytes("key:\(i)")
            #expect(database.entry(key, now: 0).entry?.value == .integer(i))
            #expect(database.deadline(key) == (i % 3 == 0 ? Int64(1_000_000 + i) : nil))
        }
    }

    @Test func keysAndScanSkipExpiredKeys() {
        let h = Harness()
        h.run("SET", "a", "1", "PX", "10")
        h.run("SET", "b", "1")
        h.advance(milliseconds: 10)
        #expect(h.run("KEYS", "*") == .array([.b("b")]))
        #expect(h.run("SCAN", "0") == .array([.b("0"), .array([.b("b")])]))
    }

    @Test func expireOptions() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", "100", "XX") == .integer(0))
        #expect(h.run("EXPIRE", "k", "100", "GT") == .integer(0))
        #expect(h.run("EXPIRE", "k", "100", "LT") == .integer(1))
        #expect(h.run("EXPIRE", "k", "50", "NX") == .integer(0))
        #expect(h.run("EXPIRE", "k", "200", "GT") == .integer(1))
        #expect(h.run("EXPIRE", "k", "300", "LT") == .integer(0))
        #expect(h.run("TTL", "k") == .integer(200))
        #expect(
            h.run("EXPIRE", "k", "1", "NX", "XX")
                == .error("ERR NX and XX, GT or LT options at the same time are not compatible"))
        #expect(
            h.run("EXPIRE", "k", "1", "GT", "LT") == .error("ERR GT and LT options at the same time are not compatible")
        )
        #expect(h.run("EXPIRE", "k", "1", "FOO") == .error("ERR Unsupported option FOO"))
        #expect(h.run("EXPIRE", "missing", "10") == .integer(0))
        #expect(h.run("EXPIRE", "k", "x") == Errors.notInteger)
        #expect(h.run("EXPIRE", "k", "9223372036854775807") == .error("ERR invalid expire time in 'expire' command"))
    }

    @Test func absoluteDeadlinesAndPersist() {
        let h = Harness()
        h.run("SET", "k", "v")
        let at = h.now + 12_345
        #expect(h.run("PEXPIREAT", "k", String(at)) == .integer(1))
        #expect(h.run("PEXPIRETIME", "k") == .integer(Int(at)))
        #expect(h.run("EXPIRETIME", "k") == .integer(Int(at / 1000)))
        #expect(h.run("PTTL", "k") == .integer(12_345))
        #expect(h.run("TTL", "k") == .integer(12))
        #expect(h.run("PERSIST", "k") == .integer(1))
        #expect(h.run("PERSIST", "k") == .integer(0))
        #expect(h.run("EXPIRETIME", "k") == .integer(-1))
        #expect(h.run("EXPIRETIME", "nokey") == .integer(-2))
        #expect(h.run("EXPIREAT", "k", String(h.now / 1000 - 10)) == .integer(1))
        #expect(h.run("EXISTS", "k") == .integer(0))
    }

    @Test func activeCycleReclaimsUntouchedKeysWithinItsBudget() {
        let engine = Engine()
        let now: Int64 = 1_000_000
        for i in 0..<20_000 {
            engine.store(Bytes("k\(i)"), .string(Bytes("v")), db: 0, now: now)
            if i % 2 == 0 { engine.databases[0].setDeadline(Bytes("k\(i)"), now + 1000) }
        }
        #expect(engine.databases[0].deadlineCount == 10_000)
        // Nothing is due yet: a cycle removes nothing.
        var result = engine.activeExpireCycle(now: now + 500, budget: 100_000)
        #expect(result.expired == 0)
        // After the deadline, bounded slices remove everything, each within its budget.
        var slices = 0
        repeat {
            result = engine.activeExpireCycle(now: now + 1000, budget: 2000)
            #expect(result.checked <= 2000 + 2 * Database.keysPerShard)
            slices += 1
        } while result.wantsFastFollowUp && slices < 1000
        while engine.databases[0].deadlineCount > 0 && slices < 1000 {
            _ = engine.activeExpireCycle(now: now + 1000, budget: 2000)
            slices += 1
        }
        #expect(engine.databases[0].count == 10_000)
        #expect(engine.databases[0].deadlineCount == 0)
        #expect(engine.stats.expiredKeys == 10_000)
        #expect(slices > 1)
    }

    @Test func activeCycleReturnsShardMemory() {
        let engine = Engine()
        for i in 0..<50_000 {
            engine.store(Bytes("k\(i)"), .string(Bytes("v")), db: 0, now: 0)
            engine.databases[0].setDeadline(Bytes("k\(i)"), 10)
        }
        while engine.databases[0].count > 0 { _ = engine.activeExpireCycle(now: 10, budget: 100_000) }
        _ = engine.activeExpireCycle(now: 10, budget: 100_000)
        let capacity = engine.databases[0].shards.reduce(0) { $0 + $1.entries.capacity + $1.deadlines.capacity }
        #expect(capacity == 0)
    }

    /// Near `maxmemory` the server asks the cycle to rebuild loose tables denser.
    @Test func activeCycleCompactsLooseTablesWhenAsked() {
        let engine = Engine()
        for i in 0..<40_000 { engine.store(Bytes("k\(i)"), .string(Bytes("v")), db: 0, now: 0) }
        // Tables grow to about 72% full; deletions leave them looser (they shrink only when sparse).
        for i in stride(from: 1, to: 40_000, by: 3) { _ = engine.databases[0].remove(Bytes("k\(i)")) }
        func slots() -> Int { engine.databases[0].shards.reduce(0) { $0 + $1.entries.capacity } }
        _ = engine.activeExpireCycle(now: 10, budget: 100_000)
        let before = slots()
        _ = engine.activeExpireCycle(now: 10, budget: 100_000, compactTables: true)
        let after = slots()
        #expect(after < before)
        #expect(engine.databases[0].count * 100 >= after * 69)
        for i in stride(from: 0, to: 40_000, by: 997) {
            #expect((engine.databases[0].rawEntry(Bytes("k\(i)")) != nil) == (i % 3 != 1))
        }
    }
}

@Suite("Expiry statistics")
struct ExpiryStatisticsTests {
    @Test func activeCycleEstimatesTheAverageTTL() {
        let engine = Engine()
        for i in 0..<100 {
            engine.store(Bytes("k\(i)"), .integer(i), db: 0, now: 0)
            engine.databases[0].setDeadline(Bytes("k\(i)"), 10_000)
        }
        _ = engine.activeExpireCycle(now: 0, budget: 1000)
        #expect(engine.databases[0].averageTTL == 10_000)
        _ = engine.activeExpireCycle(now: 10_000, budget: 1000)
        #expect(engine.databases[0].averageTTL == 0)
    }
}

@Suite("Access times during a save")
struct AccessTimeHoldTests {
    @Test func readsLeaveAccessTimesAloneWhileHeld() {
        let h = Harness()
        h.run("SET", "k", "v")
        h.advance(milliseconds: 5000)
        h.engine.holdsAccessTimes = true
        #expect(h.run("GET", "k") == .b("v"))
        #expect(h.run("OBJECT", "IDLETIME", "k") == .integer(5))
        h.engine.holdsAccessTimes = false
        #expect(h.run("GET", "k") == .b("v"))
        #expect(h.run("OBJECT", "IDLETIME", "k") == .integer(0))
    }
}
