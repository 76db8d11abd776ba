import Testing

@testable import StrataEngine

/// Draining a frozen copy walks what forEachLive walks, empties the copy, and leaves a
/// database that shared its shards untouched.
@Suite struct DatabaseDrainTests {
    static func filled(_ count: Int) -> Database {
        var database = Database()
        for n in 0..<count {
            database.set(
                Bytes("k\(n)"), .string(Bytes("v\(n)")), deadline: n % 4 == 0 ? 1_000 + Int64(n) : nil, accessClock: 0)
        }
        return database
    }

    @Test func visitsTheLiveKeysAndLeavesTheCopyEmptyAndTheOriginalWhole() {
        let live = Self.filled(5_000)
        var walked: [Bytes: Int64?] = [:]
        live.forEachLive(now: 2_000) { key, _, deadline in walked[key] = deadline }
        var frozen = live
        var drained: [Bytes: Int64?] = [:]
        frozen.drainLive(now: 2_000) { key, _, deadline in drained[key] = deadline }
        #expect(drained == walked && drained.count < 5_000)  // keys past 2,000 ms left out
        #expect(frozen.count == 0 && frozen.shards.allSatisfy { $0.entries.count == 0 })
        var after: [Bytes: Int64?] = [:]
        live.forEachLive(now: 2_000) { key, _, deadline in after[key] = deadline }
        #expect(after == walked && live.count == 5_000)
    }
}
