import Testing

@testable import StrataEngine

@Suite("Bytes")
struct BytesTests {
    @Test(arguments: [0, 1, 21, 22, 23, 64, 1000])
    func roundTripsAndComparesAtEveryLength(length: Int) {
        let raw = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
        let a = Bytes(raw)
        let b = Bytes(raw)
        #expect(a.count == length)
        #expect(a.array == raw)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.placementSeed == b.placementSeed)
        if length > 0 {
            var changed = raw
            changed[length - 1] &+= 1
            #expect(Bytes(changed) != a)
        }
    }

    /// Key pairs built to cancel a difference between two words, or a length against the
    /// first byte, collided for every seed in an earlier placement hash (hash flooding of
    /// the keyspace tables). Each pair must now hash apart.
    @Test(arguments: [8, 16, 20, 32, 64])
    func craftedCollisionsHashApart(length: Int) {
        var first = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 7) }
        var second = first
        second[7] ^= 0x80  // top bit of the first word
        if length >= 16 {
            second[15] ^= 0x80  // ... cancelled by the top bit and bit 34 of the second
            second[12] ^= 0x04
        }
        #expect(Bytes(first).placementSeed != Bytes(second).placementSeed)
        // A length difference cancelled by the first byte, the extra byte zero.
        first = [0x41]
        second = [0x41 ^ 0x01 ^ 0x02, 0x00]
        #expect(Bytes(first).placementSeed != Bytes(second).placementSeed)
    }

    @Test func isBinarySafeAndNotUnicodeNormalised() {
        let composed = Bytes("\u{E9}")  // é as one scalar
        let decomposed = Bytes("e\u{301}")  // e + combining accent
        #expect(composed != decomposed)
        let invalid = Bytes([0xFF, 0xFE, 0x00])
        #expect(invalid.count == 3 && invalid.array == [0xFF, 0xFE, 0x00])
    }

    @Test func copiesAreIndependent() {
        var a = Bytes(String(repeating: "a", count: 100))
        let b = a
        a.append(Bytes("b"))
        #expect(a.count == 101)
        #expect(b.count == 100)
        var c = Bytes("short")
        let d = c
        c.withUnsafeMutableBytes(count: 40) { $0[39] = 1 }
        #expect(d == Bytes("short"))
        #expect(c.count == 40 && c[39] == 1 && c[5] == 0)
    }

    @Test func shrinkingBackToInlineStaysCanonical() {
        var a = Bytes(String(repeating: "a", count: 30))
        a.withUnsafeMutableBytes(count: 3) { _ in }
        #expect(a == Bytes("aaa"))
        #expect(a.hashValue == Bytes("aaa").hashValue)
    }

    @Test(
        arguments: [("0", 0), ("-5", -5), ("12", 12), ("007", nil), ("+1", nil), ("", nil), ("1e3", nil)]
            as [(String, Int?)])
    func strictIntegers(text: String, value: Int?) {
        #expect(Bytes(text).strictInteger == value)
    }

    @Test func integerFormatting() {
        for n in [0, 9, -1, Int.max, Int.min, 1234567] { #expect(Bytes(n) == Bytes(String(n))) }
    }

    @Test func ordering() {
        #expect(Bytes("a") < Bytes("b"))
        #expect(Bytes("a") < Bytes("aa"))
        #expect(Bytes([0xFF]) > Bytes("z"))
    }
}
