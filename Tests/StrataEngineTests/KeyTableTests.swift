import TestSupport
import Testing

@testable import StrataEngine

/// The keyspace's hash table against `Dictionary` as the model: random operation streams,
/// copy-on-write isolation, splitting, shrinking and sampling.
@Suite("KeyTable")
struct KeyTableTests {
    /// Keys short enough to stay inline and long enough to live on the heap.
    static func key(_ n: Int) -> Bytes {
        n % 3 == 0 ? Bytes("a-long-key-that-lives-on-the-heap:\(n)") : Bytes("k\(n)")
    }

    static func expectEqual(_ table: KeyTable<Int>, _ model: [Bytes: Int]) {
        #expect(table.count == model.count)
        var seen: [Bytes: Int] = [:]
        for (key, value) in table { seen[key] = value }
        #expect(seen == model)
        for (key, value) in model { #expect(table[key] == value) }
    }

    @Test(arguments: [1, 2, 3, 4])
    func matchesADictionary(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var table = KeyTable<Int>()
        var model: [Bytes: Int] = [:]
        // Key ranges that grow and shrink, so tables grow, shrink and see deletion chains.
        for round in 0..<6 {
            let range = round % 2 == 0 ? 5_000 : 300
            for _ in 0..<20_000 {
                let key = Self.key(Int.random(in: 0..<range, using: &random))
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<5:
                    let value = Int.random(in: 0..<1_000_000, using: &random)
                    #expect(table.updateValue(value, forKey: key, hash: Database.placementHash(key)) == model[key])
                    model[key] = value
                case 5..<8:
                    #expect(table.removeValue(forKey: key, hash: Database.placementHash(key)) == model[key])
                    model[key] = nil
                default:
                    #expect(table[key] == model[key])
                }
            }
            Self.expectEqual(table, model)
            table.shrinkIfSparse()
            #expect(table.capacity <= max(16, model.count * 3 + 16))
            Self.expectEqual(table, model)
        }
    }

    @Test func copiesAreIsolated() {
        var original = KeyTable<Int>()
        for n in 0..<2_000 { original[Self.key(n)] = n }
        let frozen = original
        for n in 0..<1_000 { original[Self.key(n)] = nil }
        for n in 2_000..<4_000 { original[Self.key(n)] = n }
        if let slot = original.slot(of: Self.key(1_500), hash: Database.placementHash(Self.key(1_500))) {
            original.withElement(at: slot) { $0 = -1 }
        }
        #expect(frozen.count == 2_000)
        for n in 0..<2_000 { #expect(frozen[Self.key(n)] == n) }
        #expect(original.count == 3_000)
        #expect(original[Self.key(1_500)] == -1)
        #expect(frozen.storageIdentity != original.storageIdentity)
    }

    @Test func splitMovesEveryKeyOnceAndLeavesCopiesAlone() {
        for shared in [true, false] {
            var table = KeyTable<Int>(minimumCapacity: 100)
            for n in 0..<3_000 { table[Self.key(n)] = n }
            let copy = shared ? table : KeyTable<Int>()
            var even = KeyTable<Int>()
            var odd = KeyTable<Int>()
            table.split(into: &even, &odd) { key in (Self.number(key) ?? 0) % 2 == 1 }
            #expect(table.isEmpty)
            #expect(even.count == 1_500 && odd.count == 1_500)
            for n in 0..<3_000 {
                #expect((n % 2 == 0 ? even : odd)[Self.key(n)] == n)
                if shared { #expect(copy[Self.key(n)] == n) }
            }
        }
    }

    static func number(_ key: Bytes) -> Int? {
        key.withUnsafeBytes { raw in
            let text = String(decoding: raw, as: UTF8.self)
            return Int(text.split(whereSeparator: { $0 == ":" || $0 == "k" }).last ?? "")
        }
    }

    @Test func tablesStayDenseAndFillTheirBlock() {
        var table = KeyTable<Int>()
        for n in 0..<100_000 {
            table[Self.key(n)] = n
            #expect(table.count * 10 <= table.capacity * 9)
        }
        // Growth by half as much again: never under 55% full after it grew.
        #expect(table.count * 100 >= table.capacity * 55)
        #expect(KeyTableStorage<Int>.sizeClass(1000) == 1024)
        #expect(KeyTableStorage<Int>.sizeClass(1025) == 1280)
        #expect(KeyTableStorage<Int>.sizeClass(100) == 112)
    }

    @Test func reservationsAndCompactionAreDense() {
        var table = KeyTable<Int>(minimumCapacity: 1_000)
        let reserved = table.capacity
        #expect(reserved >= 1_167 && reserved <= 1_459)  // 7/6 of the keys, up to a size class
        for n in 0..<1_000 { table[Self.key(n)] = n }
        #expect(table.capacity == reserved)
        var compacted = table.compactIfLoose()
        #expect(!compacted)  // as dense as a rebuild would make it
        for n in 1_000..<3_000 { table[Self.key(n)] = n }
        for n in 1_500..<3_000 { table[Self.key(n)] = nil }  // about 45% full now
        let loose = table.capacity
        compacted = table.compactIfLoose()
        #expect(compacted)
        #expect(table.capacity < loose)
        #expect(table.count * 100 >= table.capacity * 69)
        compacted = table.compactIfLoose()
        #expect(!compacted)
        for n in 0..<1_500 { #expect(table[Self.key(n)] == n) }
    }

    /// Keys that all share one tag (what a flood of colliding keys would do) form one long
    /// cluster that wraps around the table's end: every lookup, insertion and deletion
    /// still works.
    @Test func collidingTagsStayCorrect() {
        var table = KeyTable<Int>()
        let shared: UInt16 = 0xFFFF  // home at the very end: the cluster wraps
        var random = SeededRandom(seed: 3)
        var model: [Bytes: UInt16] = [:]
        for n in 0..<600 {
            let tag = n % 2 == 0 ? shared : 0x8000 | UInt16.random(in: 0..<0x8000, using: &random)
            table.insertNew(Self.key(n), n, tag: tag)
            model[Self.key(n)] = tag
        }
        for n in stride(from: 0, to: 600, by: 3) {
            let key = Self.key(n)
            guard let tag = model[key], let slot = table.storage?.layout.find(key, tag: tag) else {
                Issue.record("lost \(key.string)")
                continue
            }
            table.remove(at: slot)
            model[key] = nil
        }
        #expect(table.count == model.count)
        for (key, tag) in model {
            guard let slot = table.storage?.layout.find(key, tag: tag) else {
                Issue.record("lost \(key.string)")
                continue
            }
            #expect(table.key(at: slot) == key)
        }
        #expect(table.storage?.layout.find(Self.key(0), tag: shared) == nil)
    }

    @Test func randomSlotsAreAboutUniform() {
        var table = KeyTable<Int>()
        for n in 0..<100 { table[Self.key(n)] = n }
        var random = SeededRandom(seed: 9)
        var hits = [Int](repeating: 0, count: 100)
        for _ in 0..<100_000 {
            guard let slot = table.randomSlot(using: &random) else { continue }
            hits[table.element(at: slot)] += 1
        }
        // 1,000 expected per key; a walk from random slots would give some keys several times that.
        #expect(hits.min() ?? 0 > 800)
        #expect(hits.max() ?? 0 < 1_200)
    }
}
