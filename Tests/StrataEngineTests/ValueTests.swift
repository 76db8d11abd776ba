import Testing

@testable import StrataEngine

@Suite("Value")
struct ValueTests {
    @Test func layoutKeepsAKeyspaceSlotAt48Bytes() {
        #expect(MemoryLayout<Bytes>.size == 24)
        #expect(MemoryLayout<Value>.size == 20)
        #expect(MemoryLayout<Entry>.stride == 24)
    }

    @Test(arguments: 0...40)
    func stringsRoundTripAtEveryLength(length: Int) {
        let bytes = Bytes((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 7) })
        let value = Value.string(bytes)
        #expect(value.stringBytes == bytes)
        #expect(value.stringBytes?.hashValue == bytes.hashValue)
        #expect(value == Value.string(bytes))
    }

    @Test func entryPacksTheDeadlineFlagWithTheAccessClock() {
        var entry = Entry(value: .integer(1), accessClock: 12345)
        #expect(!entry.hasDeadline && entry.accessClock == 12345)
        entry.hasDeadline = true
        #expect(entry.hasDeadline && entry.accessClock == 12345)
        entry.accessClock = 99
        #expect(entry.hasDeadline && entry.accessClock == 99)
        #expect(Entry.clock(now: 12_345) == 123)
        #expect(Entry.ticks(from: 0x7FFF_FFFE, to: 3) == 5)  // across the wrap
    }
}
