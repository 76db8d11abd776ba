import TestSupport
import Testing

@testable import StrataEngine

/// A plain reference: a dictionary and a sorted array rebuilt on demand.
private struct SortedSetModel {
    var scores: [Bytes: Double] = [:]

    var ordered: [ScoredMember] {
        scores.map { ScoredMember(score: $0.value, member: $0.key) }.sorted { $0.precedes($1) }
    }
}

@Suite("SortedSetValue model")
struct SortedSetValueModelTests {
    /// Random adds, score changes and removals on sets large enough for a three-level
    /// tree, checked against the model after every step and in full every 500 steps.
    @Test(arguments: [11, 12, 13])
    func matchesAReferenceModel(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var limits = SortedSetLimits()
        limits.maxListpackEntries = 16
        var zset = SortedSetValue()
        var model = SortedSetModel()
        for step in 0..<12_000 {
            // Grow past 4,095 members (a three-level tree), then shrink with half removals.
            let growing = step < 6000
            let member = Bytes("m\(Int.random(in: 0..<(growing ? 40_000 : 3000), using: &rng))")
            let score = Double(Int.random(in: -50...50, using: &rng)) / 4
            if step == 6000 { #expect(zset.count > 4095) }
            if Int.random(in: 0..<(growing ? 10 : 2), using: &rng) > 0 {
                #expect(
                    zset.set(member, score: score, limits: limits)
                        == (model.scores.updateValue(score, forKey: member) == nil))
            } else {
                #expect(zset.remove(member) == (model.scores.removeValue(forKey: member) != nil))
            }
            #expect(zset.count == model.scores.count)
            #expect(zset.score(of: member) == model.scores[member])
            if step % 500 == 499 { checkEverything(zset, model, &rng) }
        }
        #expect(zset.encodingName == "skiplist")
        checkEverything(zset, model, &rng)
    }

    private func checkEverything(_ zset: SortedSetValue, _ model: SortedSetModel, _ rng: inout SeededRandom) {
        let ordered = model.ordered
        #expect(zset.isValid())
        #expect(zset.all == ordered)
        for _ in 0..<50 where !ordered.isEmpty {
            let rank = Int.random(in: 0..<ordered.count, using: &rng)
            #expect(zset.member(atRank: rank) == ordered[rank])
            #expect(zset.rank(of: ordered[rank].member) == rank)
            let low = Int.random(in: 0..<ordered.count, using: &rng)
            let high = Int.random(in: low...ordered.count, using: &rng)
            #expect(zset.members(inRanks: low..<high) == Array(ordered[low..<high]))
            let bound = Double(Int.random(in: -60...60, using: &rng)) / 4
            #expect(zset.countBelow { $0.score < bound } == ordered.filter { $0.score < bound }.count)
        }
        #expect(zset.rank(of: Bytes("absent")) == nil)
    }

    /// A copy (what a snapshot holds) never sees later writes, and the original stays
    /// valid while it copies shared nodes on its way.
    @Test func copiesAreIsolatedFromLaterWrites() {
        var zset = SortedSetValue()
        let limits = SortedSetLimits()
        for n in 0..<10_000 { zset.set(Bytes("k\(n)"), score: Double(n % 97), limits: limits) }
        let frozen = zset
        let frozenItems = frozen.all
        for n in stride(from: 0, to: 10_000, by: 3) { zset.remove(Bytes("k\(n)")) }
        for n in 0..<2000 { zset.set(Bytes("k\(n)"), score: -Double(n), limits: limits) }
        #expect(frozen.all == frozenItems)
        #expect(frozen.count == 10_000)
        #expect(frozen.isValid())
        #expect(zset.isValid())
        #expect(zset.count == 10_000 - 3334 + 667)  // k0..k1999 re-adds the 667 removed there
        #expect(zset.score(of: Bytes("k1")) == -1)
        #expect(frozen.score(of: Bytes("k1")) == 1)
    }

    @Test func encodingFollowsTheLimits() {
        var limits = SortedSetLimits()
        limits.maxListpackEntries = 3
        limits.maxListpackValue = 5
        var zset = SortedSetValue()
        for (i, m) in ["a", "b", "c"].enumerated() { zset.set(Bytes(m), score: Double(i), limits: limits) }
        #expect(zset.encodingName == "listpack")
        zset.set(Bytes("d"), score: 3, limits: limits)
        #expect(zset.encodingName == "skiplist")
        var long = SortedSetValue()
        long.set(Bytes("toolong"), score: 1, limits: limits)
        #expect(long.encodingName == "skiplist")
        let built = SortedSetValue(
            [ScoredMember(score: 2, member: Bytes("x")), ScoredMember(score: 1, member: Bytes("y"))], limits: limits)
        #expect(built.encodingName == "listpack")
        #expect(built.all.map { $0.member } == [Bytes("y"), Bytes("x")])
    }

    @Test func equalScoresOrderByMemberBytes() {
        var zset = SortedSetValue()
        let limits = SortedSetLimits()
        for m in ["b", "a", "ab", "", "B"] { zset.set(Bytes(m), score: 0, limits: limits) }
        #expect(zset.all.map { $0.member.string } == ["", "B", "a", "ab", "b"])
    }
}
