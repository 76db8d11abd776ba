import Testing

@testable import StrataEngine

/// BITFIELD's arithmetic at the edges of its types and overflow modes, and BITOP. The
/// expected replies are redis-server 7.0's for the same commands.
@Suite("BitField")
struct BitFieldTests {
    static let i64Min = "-9223372036854775808"
    static let i64Max = "9223372036854775807"

    func ints(_ values: Int?...) -> Reply {
        .array(values.map { $0.map(Reply.integer) ?? .null })
    }

    /// The word-at-a-time reads and writes agree with a bit-by-bit model at every offset
    /// within a byte and every width, including fields that need a ninth byte and reads
    /// running past the end of the buffer.
    @Test func wordAccessMatchesBitByBitModel() {
        var random = SystemRandomNumberGenerator()
        for bits in 1...64 {
            for offset in 0..<24 {
                var model = [UInt8](repeating: 0, count: 12)
                for index in model.indices { model[index] = UInt8.random(in: 0...255, using: &random) }
                var buffer = model
                let value = UInt64.random(in: 0...UInt64.max, using: &random)
                for index in 0..<bits {
                    let bit = offset + index
                    let mask = UInt8(0x80) >> UInt8(bit & 7)
                    if (value >> UInt64(bits - 1 - index)) & 1 != 0 {
                        model[bit >> 3] |= mask
                    } else {
                        model[bit >> 3] &= ~mask
                    }
                }
                buffer.withUnsafeMutableBytes { BitFieldArithmetic.store(value, into: $0, offset: offset, bits: bits) }
                #expect(buffer == model, "store of \(bits) bits at \(offset)")
                let expected = bits == 64 ? value : value & ((1 << UInt64(bits)) - 1)
                let read = buffer.withUnsafeBytes {
                    BitFieldArithmetic.unsignedValue($0, offset: offset, bits: bits)
                }
                #expect(read == expected, "read of \(bits) bits at \(offset)")
                // Past the end: the missing bits read as zeros.
                let short = Array(buffer.prefix((offset + bits - 1) >> 3))
                let truncated = short.withUnsafeBytes {
                    BitFieldArithmetic.unsignedValue($0, offset: offset, bits: bits)
                }
                let missing = (offset + bits) - short.count * 8
                let kept = (expected >> UInt64(missing)) << UInt64(missing)
                #expect(truncated == kept, "short read \(bits) at \(offset)")
            }
        }
    }

    @Test func i64WrapsAtItsLimits() {
        let h = Harness()
        #expect(
            h.run("BITFIELD", "k", "SET", "i64", "0", Self.i64Max, "GET", "i64", "0", "INCRBY", "i64", "0", "1")
                == ints(0, Int.max, Int.min))
        #expect(h.run("BITFIELD", "k", "INCRBY", "i64", "0", "-1") == ints(Int.max))
    }

    @Test func i64SaturatesAndFails() {
        let h = Harness()
        #expect(h.run("BITFIELD", "k", "SET", "i64", "0", Self.i64Min) == ints(0))
        #expect(
            h.run("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "INCRBY", "i64", "0", Self.i64Min)
                == ints(Int.min, Int.min))
        #expect(
            h.run("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1", "GET", "i64", "0")
                == ints(nil, Int.min))
        #expect(
            h.run("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", "0", Self.i64Max, "INCRBY", "i64", "0", "1")
                == ints(-1, 0))
    }

    @Test func u63Limits() {
        let h = Harness()
        #expect(
            h.run(
                "BITFIELD", "k", "SET", "u63", "0", Self.i64Max, "GET", "u63", "0", "INCRBY", "u63", "0", "1",
                "OVERFLOW", "SAT", "INCRBY", "u63", "0", "-1", "INCRBY", "u63", "0", Self.i64Min, "SET", "u63", "0",
                "-1")
                == ints(0, Int.max, 0, 0, 0, 0))
        #expect(h.run("BITFIELD", "k", "GET", "u63", "0") == ints(Int.max))
        #expect(h.run("STRLEN", "k") == .integer(8))
    }

    @Test func narrowSetSaturationKeepsRedisQuirk() {
        // Far below i8's minimum, Redis's limit arithmetic wraps and saturates upwards.
        let h = Harness()
        #expect(
            h.run(
                "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", Self.i64Min, "SET", "i8", "0",
                "-9223372036854775681", "SET", "i8", "0", "-9223372036854775680", "SET", "i8", "0", "-200", "SET", "i8",
                "0", "200", "GET", "i8", "0") == ints(0, 127, 127, -128, -128, 127))
    }

    @Test func unsignedWrapAndFail() {
        let h = Harness()
        #expect(
            h.run(
                "BITFIELD", "k", "SET", "u8", "0", "-1", "SET", "u8", "0", "256", "INCRBY", "u8", "0", "-2", "OVERFLOW",
                "FAIL", "INCRBY", "u8", "0", "10", "GET", "u8", "0") == ints(0, 255, 254, nil, 254))
    }

    @Test func hashOffsetsAndOddWidths() {
        let h = Harness()
        #expect(
            h.run(
                "BITFIELD", "k", "SET", "i5", "#3", "-16", "GET", "i5", "#3", "GET", "u5", "15", "GET", "i5", "15",
                "INCRBY", "i5", "#3", "-1") == ints(0, -16, 16, -16, 15))
        #expect(h.run("GET", "k") == .bulk(Bytes([0, 0, 0xF0])))
    }

    @Test func failedWriteStillCreatesTheString() {
        let h = Harness()
        #expect(h.run("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "i8", "0", "1000") == ints(nil))
        #expect(h.run("GET", "k") == .bulk(Bytes([0])))
        #expect(h.run("OBJECT", "ENCODING", "k") == .b("raw"))
    }

    @Test func unchangedValuesWriteNothing() {
        // As Redis 7.0: no change counted, no event, nothing logged; only the encoding turns raw.
        let h = Harness()
        h.run("SET", "k", "12345")
        h.engine.recordsEffects = true
        h.engine.discardRecord()
        #expect(h.run("SETBIT", "k", "2", "1") == .integer(1))  // "1" is 0b0011_0001
        #expect(h.run("BITFIELD", "k", "SET", "u8", "0", "49", "INCRBY", "u4", "4", "16") == ints(49, 1))
        #expect(h.run("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000") == ints(nil))
        #expect(!h.engine.record.touchesKeys)
        #expect(h.engine.record.changes == 0)
        #expect(h.engine.record.effects.isEmpty)
        #expect(h.run("OBJECT", "ENCODING", "k") == .b("raw"))
        #expect(h.run("GET", "k") == .b("12345"))
        h.engine.discardRecord()
        #expect(h.run("BITFIELD", "k", "SET", "u8", "0", "50", "SET", "u8", "0", "50") == ints(49, 50))
        #expect(h.engine.record.changes == 1)
        h.engine.discardRecord()
        // A string grown by a write that failed is stored and counts one change (Redis: none).
        #expect(h.run("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "40", "1000") == ints(nil))
        #expect(h.engine.record.changes == 1)
        #expect(h.run("STRLEN", "k") == .integer(6))
    }

    @Test func readsDoNotCreate() {
        let h = Harness()
        #expect(h.run("BITFIELD", "k", "GET", "i8", "0") == ints(0))
        #expect(h.run("BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u8", "0") == ints(0))
        #expect(h.run("BITFIELD", "k") == .array([]))
        #expect(h.run("EXISTS", "k") == .integer(0))
    }

    @Test func errors() {
        let h = Harness()
        let invalidType = BitFieldCommands.invalidType
        for type in ["u64", "x8", "I8", "i0", "i65", "i08", "i", ""] {
            #expect(h.run("BITFIELD", "k", "GET", type, "0") == invalidType)
        }
        for offset in ["-1", "#-1", "#", "##1", "x", "4294967296", "#1000000000000000000", "#1152921504606846976"] {
            #expect(h.run("BITFIELD", "k", "GET", "u8", offset) == Errors.bitOffset)
        }
        #expect(h.run("BITFIELD", "k", "GET", "u1", "4294967295") == ints(0))
        // Redis's #n product wraps in 64 bits: 2^61 + 1 u8 fields is bit 8.
        h.run("SET", "w", "ab")
        #expect(h.run("BITFIELD", "w", "GET", "u8", "#2305843009213693953") == ints(0x62))
        #expect(h.run("BITFIELD", "k", "OVERFLOW", "foo") == .error("ERR Invalid OVERFLOW type specified"))
        #expect(h.run("BITFIELD", "k", "OVERFLOW") == Errors.syntax)
        #expect(h.run("BITFIELD", "k", "GET", "i8") == Errors.syntax)
        #expect(h.run("BITFIELD", "k", "SET", "i8", "0") == Errors.syntax)
        #expect(h.run("BITFIELD", "k", "SET", "i8", "0", "x") == Errors.notInteger)
        #expect(
            h.run("BITFIELD_RO", "k", "SET", "i8", "0", "1")
                == .error("ERR BITFIELD_RO only supports the GET subcommand"))
        #expect(h.run("BITFIELD_RO", "k", "GET", "i8", "0", "INCRBY", "i8", "0", "x") == Errors.notInteger)
        #expect(h.run("EXISTS", "k") == .integer(0))
        h.run("LPUSH", "l", "a")
        #expect(h.run("BITFIELD", "l", "GET", "i8", "0") == Errors.wrongType)
        #expect(h.run("BITFIELD", "l", "SET", "i8", "0", "1") == Errors.wrongType)
        #expect(h.run("BITFIELD", "l", "GET", "i8", "x") == Errors.bitOffset)
    }

    @Test func arithmeticHelpers() {
        #expect(BitFieldArithmetic.signedOverflow(Int64.max, 1, bits: 64, .saturate) == Int64.max)
        #expect(BitFieldArithmetic.signedOverflow(Int64.max, 1, bits: 64, .wrap) == Int64.min)
        #expect(BitFieldArithmetic.signedOverflow(Int64.min, -1, bits: 64, .wrap) == Int64.max)
        #expect(BitFieldArithmetic.signedOverflow(Int64.min, Int64.max, bits: 64, .wrap) == nil)
        #expect(BitFieldArithmetic.signedOverflow(-8, -1, bits: 4, .saturate) == -8)
        #expect(BitFieldArithmetic.signedOverflow(7, 1, bits: 4, .wrap) == -8)
        #expect(BitFieldArithmetic.signedOverflow(0, 0, bits: 1, .wrap) == nil)
        #expect(BitFieldArithmetic.signedOverflow(-1, 1, bits: 1, .wrap) == nil)
        #expect(BitFieldArithmetic.signedOverflow(0, 1, bits: 1, .saturate) == 0)
        #expect(BitFieldArithmetic.unsignedOverflow(UInt64(Int64.max), 1, bits: 63, .wrap) == 0)
        #expect(BitFieldArithmetic.unsignedOverflow(0, Int64.min, bits: 63, .saturate) == 0)
        #expect(BitFieldArithmetic.unsignedOverflow(0, Int64.min, bits: 63, .wrap) == 0)
        #expect(BitFieldArithmetic.unsignedOverflow(5, -5, bits: 3, .wrap) == nil)
        #expect(BitFieldArithmetic.unsignedOverflow(5, -6, bits: 3, .wrap) == 7)
        #expect(BitFieldArithmetic.unsignedOverflow(1, 0, bits: 1, .fail) == nil)
        #expect(BitFieldArithmetic.unsignedOverflow(UInt64.max, 0, bits: 8, .saturate) == 255)
        let bytes: [UInt8] = [0b1010_1100, 0xFF]
        bytes.withUnsafeBytes { raw in
            #expect(BitFieldArithmetic.unsignedValue(raw, offset: 2, bits: 4) == 0b1011)
            #expect(BitFieldArithmetic.signedValue(raw, offset: 0, bits: 3) == -3)
            #expect(BitFieldArithmetic.unsignedValue(raw, offset: 12, bits: 8) == 0xF0)
        }
        var buffer = [UInt8](repeating: 0, count: 9)
        buffer.withUnsafeMutableBytes { raw in
            BitFieldArithmetic.store(UInt64(bitPattern: -1), into: raw, offset: 4, bits: 64)
            #expect(BitFieldArithmetic.signedValue(UnsafeRawBufferPointer(raw), offset: 4, bits: 64) == -1)
        }
        #expect(buffer == [0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0])
    }

    @Test func bitop() {
        let h = Harness()
        h.run("SET", "a", "abc")
        h.run("SET", "b", "A")
        #expect(h.run("BITOP", "AND", "d", "a", "b") == .integer(3))
        #expect(h.run("GET", "d") == .bulk(Bytes([0x41, 0, 0])))
        #expect(h.run("BITOP", "or", "d", "a", "b", "missing") == .integer(3))
        #expect(h.run("GET", "d") == .b("abc"))
        #expect(h.run("BITOP", "XOR", "d", "a", "a") == .integer(3))
        #expect(h.run("GET", "d") == .bulk(Bytes([0, 0, 0])))
        #expect(h.run("BITOP", "NOT", "d", "b") == .integer(1))
        #expect(h.run("GET", "d") == .bulk(Bytes([0xBE])))
        #expect(h.run("OBJECT", "ENCODING", "d") == .b("raw"))
        h.run("EXPIRE", "d", "100")
        #expect(h.run("BITOP", "NOT", "d", "b") == .integer(1))
        #expect(h.run("TTL", "d") == .integer(-1))
        h.run("EXPIRE", "d", "100")
        #expect(h.run("BITOP", "AND", "d", "missing", "other") == .integer(0))
        #expect(h.run("EXISTS", "d") == .integer(0))
        #expect(
            h.run("BITOP", "NOT", "d", "a", "b") == .error("ERR BITOP NOT must be called with a single source key."))
        #expect(h.run("BITOP", "NAND", "d", "a") == Errors.syntax)
        h.run("LPUSH", "l", "x")
        #expect(h.run("BITOP", "OR", "d", "a", "l") == Errors.wrongType)
        #expect(h.run("BITOP", "OR", "l", "a") == .integer(3))
        #expect(h.run("TYPE", "l") == .status("string"))
    }
}
