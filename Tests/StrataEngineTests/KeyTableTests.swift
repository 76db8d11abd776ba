import TestSupport
import Testing

@testable import StrataEngine

/// The keyspace's hash table against `Dictionary` as the model: random operation streams,
/// copy-on-write isolation, draining, shrinking and sampling.
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

    @Test func drainMovesEverythingOutOnceAndKeepsCopies() {
        var table = KeyTable<Int>(minimumCapacity: 100)
        for n in 0..<3_000 { table[Self.key(n)] = n }
        let copy = table
        var rebuilt = KeyTable<Int>()
        var drained = 0
        table.drain { key, value, tag in
            drained += 1
            rebuilt.insert(key, value, tag: tag)
        }
        #expect(drained == 3_000)
        #expect(table.isEmpty)
        for n in 0..<3_000 {
            #expect(rebuilt[Self.key(n)] == n)
            #expect(copy[Self.key(n)] == n)
        }
        // The unshared case moves without copying: the values still read back.
        var unique = rebuilt
        rebuilt = KeyTable()
        var moved: [Bytes: Int] = [:]
        unique.drain { key, value, _ in moved[key] = value }
        #expect(moved.count == 3_000 && moved[Self.key(2_999)] == 2_999)
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
