import Testing

@testable import StrataEngine

@Suite("Value")
struct ValueTests {
    @Test func layoutKeepsAKeyspaceSlotAt48Bytes() {
        #expect(MemoryLayout<Bytes>.size == 24)
        #expect(MemoryLayout<Value>.size == 20)
        #expect(MemoryLayout<Entry>.stride == 24)
    }

    /// A long string's bytes start right after the 16-byte object header (its length is
    /// kept beside the reference), so a 32-byte value is one 48-byte allocation.
    @Test func longStringBytesFollowTheObjectHeader() {
        let value = Value.string(Bytes(Array(repeating: UInt8(ascii: "x"), count: 32)))
        guard case .longString(let storage, let count) = value else {
            Issue.record("not a long string")
            return
        }
        #expect(count == 32)
        let object = UnsafeRawPointer(Unmanaged.passUnretained(storage).toOpaque())
        let offset = storage.withUnsafeMutablePointerToElements { UnsafeRawPointer($0) - object }
        #expect(offset == 16)
        #expect(value.memoryUsage(keyBytes: 16, hasDeadline: false) == Value.keyspaceBytesPerKey + 48)
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
