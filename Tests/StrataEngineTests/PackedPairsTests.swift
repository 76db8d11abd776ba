import TestSupport
import Testing

@testable import StrataEngine

@Suite("PackedPairs model")
struct PackedPairsModelTests {
    /// Random sets and removals against an ordered reference list, with fields and values
    /// from empty to 300 bytes (one- and two-byte length prefixes).
    @Test(arguments: [21, 22, 23])
    func matchesAnOrderedReference(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var packed = PackedPairs()
        var model: [(Bytes, Bytes)] = []
        for _ in 0..<3000 {
            let n = Int.random(in: 0..<40, using: &rng)
            let field = Bytes(String(repeating: "f", count: n % 7 == 0 ? 130 + n : n))
            let value = Bytes(
                (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let index = model.firstIndex { $0.0 == field }
            if Int.random(in: 0..<3, using: &rng) > 0 {
                #expect(packed.set(field, value) == (index == nil))
                if let index { model[index].1 = value } else { model.append((field, value)) }
            } else {
                #expect(packed.remove(field) == (index != nil))
                if let index { model.remove(at: index) }
            }
            #expect(packed.count == model.count)
            #expect(packed.get(field) == model.first { $0.0 == field }?.1)
        }
        #expect(packed.entries.map { $0.field } == model.map { $0.0 })
        #expect(packed.entries.map { $0.value } == model.map { $0.1 })
    }

    @Test func copiesDoNotShareWrites() {
        var a = PackedPairs()
        _ = a.set(Bytes("f"), Bytes("1"))
        let b = a
        _ = a.set(Bytes("f"), Bytes("2"))
        _ = a.set(Bytes("g"), Bytes("3"))
        #expect(b.get(Bytes("f")) == Bytes("1"))
        #expect(b.count == 1)
        #expect(a.get(Bytes("f")) == Bytes("2"))
    }

    /// Ten short pairs take their packed bytes and the allocator's rounding, nothing more:
    /// no array header and no growth slack (an array-backed form took 256 bytes).
    @Test func tenShortPairsTakeTheirPackedBytes() {
        var packed = PackedPairs()
        for field in 0..<10 {
            _ = packed.set(Bytes("field\(field)"), Bytes("value-123-\(field)"))
        }
        #expect(packed.byteCount == 10 * (1 + 6 + 1 + 11))
        // One block: a 16-byte object header, then the bytes, in the allocator's size
        // class for 206 bytes (224 in jemalloc, 208 or 224 elsewhere).
        #expect(packed.blockHeaderBytes == 16)
        #expect(packed.blockCapacity >= packed.byteCount && packed.blockCapacity + 16 <= 224)
        #expect(MemoryLayout<PackedPairs>.size == 16)
    }

    /// A value replaced by one of the same size in an unshared block is written in place;
    /// the other pairs and the order stay.
    @Test func sameSizeReplacementKeepsTheOtherPairs() {
        var packed = PackedPairs()
        _ = packed.set(Bytes("a"), Bytes("one"))
        _ = packed.set(Bytes("b"), Bytes("two"))
        _ = packed.set(Bytes("c"), Bytes("six"))
        #expect(packed.set(Bytes("b"), Bytes("TWO")) == false)
        #expect(packed.entries.map { $0.value } == [Bytes("one"), Bytes("TWO"), Bytes("six")])
        #expect(packed.set(Bytes("a"), Bytes("longer")) == false)
        #expect(packed.entries.map { $0.field } == [Bytes("a"), Bytes("b"), Bytes("c")])
        #expect(packed.get(Bytes("a")) == Bytes("longer"))
        #expect(packed.remove(Bytes("a")) && packed.remove(Bytes("b")) && packed.remove(Bytes("c")))
        #expect(packed.count == 0 && packed.byteCount == 0 && packed.blockCapacity == 0)
        #expect(packed == PackedPairs())
    }
}
