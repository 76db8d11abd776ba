import Testing

@testable import StrataEngine

/// Writing into stored strings in place (HyperLogLog registers, BITFIELD) and the command
/// name index on every command's path.
@Suite("In-place string writes and the command name index")
struct InPlaceWriteTests {
    @Test func aSharedStringIsCopiedBeforeItIsWritten() {
        let original = Value.string(Bytes(Array(repeating: UInt8(7), count: 100)))
        var written = original
        let ran: Void? = written.withMutableStringBytes { string, grown in
            #expect(!grown)
            string[0] = 1
        }
        #expect(ran != nil)
        // The frozen copy (a snapshot's, a reply's) still holds the old bytes.
        #expect(original.stringBytes?.array == Array(repeating: 7, count: 100))
        #expect(written.stringBytes?.array.first == 1)
        #expect(written.encodingName == "raw")
    }

    @Test(arguments: [0, 5, 18, 30, 100])
    func growingFillsWithZerosAndKeepsTheBytes(length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ 1) }
        var value = Value.fromString(Bytes(bytes))
        let grown = value.withMutableStringBytes(minimumCount: length + 40) { string, grown in
            #expect(string.count == length + 40)
            return grown
        }
        #expect(grown == true)
        #expect(value.stringBytes?.array == bytes + Array(repeating: 0, count: 40))
    }

    /// A string grown a few bytes at a time must not be copied on every write: growth
    /// leaves room, as `Bytes` does for APPEND.
    @Test func growthLeavesRoomForTheNextWrites() {
        var value = Value.raw(Bytes(Array(repeating: UInt8(1), count: 1000)))
        // Past the allocator's slack after the 1,000 bytes (a write within it stays in place).
        _ = value.withMutableStringBytes(minimumCount: 1100) { _, _ in }
        guard case .rawString(let storage, let count) = value else {
            Issue.record("not a raw string")
            return
        }
        #expect(count == 1100)
        #expect(storage.capacity >= 1500)
        let (created, old) = Value.newRawString(zeroes: 3) { string -> UInt8 in
            defer { string[2] = 7 }
            return string[2]
        }
        #expect(old == 0)
        #expect(created.stringBytes?.array == [0, 0, 7])
    }

    @Test func integersBecomeTheirDigitsAndOtherTypesAreRefused() {
        var number = Value.integer(-42)
        _ = number.withMutableStringBytes { _, _ in }
        #expect(number.stringBytes == Bytes("-42"))
        var set = Value.set(SetValue())
        let ran: Void? = set.withMutableStringBytes { _, _ in Issue.record("ran on a set") }
        #expect(ran == nil)
        #expect(set.withStringBytes { _ in 1 } == nil)
    }

    @Test func aRefusedConditionLeavesTheValueAsItWas() {
        var value = Value.string(Bytes(Array(repeating: UInt8(9), count: 40)))
        let ran: Void? = value.withMutableStringBytes(if: { $0.count == 41 }) { _, _ in
            Issue.record("ran although refused")
        }
        #expect(ran == nil)
        #expect(value.encodingName == "embstr")
        let accepted: Void? = value.withMutableStringBytes(if: { $0.count == 40 }) { string, _ in string[0] = 1 }
        #expect(accepted != nil)
        #expect(value.encodingName == "raw")
    }

    @Test func commandNamesResolveInAnyCaseAndOnlyExactly() {
        let table = CommandTable.standard
        for spelling in ["get", "GET", "gEt", "Get"] {
            #expect(table.spec(named: Bytes(spelling))?.name == "get")
        }
        #expect(table.spec(named: Bytes("zrangebyscore"))?.name == "zrangebyscore")
        #expect(table.spec(named: Bytes("ge")) == nil)
        #expect(table.spec(named: Bytes("gett")) == nil)
        #expect(table.spec(named: Bytes("")) == nil)
        // Bytes that fold like letters but are not ASCII letters.
        #expect(table.spec(named: Bytes([0x47 ^ 0x80, 0x45, 0x54])) == nil)
        #expect(table.spec(named: Bytes("g\u{0}t")) == nil)
        #expect(table.spec(named: Bytes(Array(repeating: UInt8(ascii: "a"), count: 300))) == nil)
        // Every command of the table is found by its own name.
        for spec in table.specs.values {
            #expect(table.spec(named: Bytes(spec.name.uppercased())) === spec)
        }
    }

    @Test func everySpecHasItsOwnOrdinal() {
        let specs = CommandTable.standard.allSpecs + CommandTable.standard.specs.values
        var seen: [Int: ObjectIdentifier] = [:]
        for spec in specs {
            if let other = seen[spec.ordinal] { #expect(other == ObjectIdentifier(spec)) }
            seen[spec.ordinal] = ObjectIdentifier(spec)
        }
        #expect(seen.count > 300)
    }
}
