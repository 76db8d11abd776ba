import StrataEngine
import Testing

@testable import StrataPersistence

@Suite("Compact encodings")
struct CompactEncodingsTests {
    /// A ziplist as Redis 6.2 writes it: "a", 5 (immediate), 1000 (int16), -70000 (int24),
    /// a 70-byte string (14-bit length).
    @Test func ziplistEntriesDecode() throws {
        let long = [UInt8](repeating: 0x6C, count: 70)
        var body: [UInt8] = []
        body += [0x00, 0x01, 0x61]  // prevlen 0, 6-bit string of 1
        body += [0x03, 0xF6]  // prevlen 3, immediate 5 (0xF1 + 5)
        body += [0x02, 0xC0, 0xE8, 0x03]  // int16 1000
        body += [0x04, 0xF0, 0x90, 0xEE, 0xFE]  // int24 -70000
        body += [0x05, 0x40, 70] + long  // 14-bit string of 70
        body += [0xFF]
        let total = UInt32(10 + body.count)
        var blob: [UInt8] = []
        withUnsafeBytes(of: total.littleEndian) { blob += $0 }
        blob += [0, 0, 0, 0, 5, 0] + body
        let entries = try blob.withUnsafeBytes { try CompactEncodings.ziplist($0) }
        #expect(entries == [Bytes("a"), Bytes("5"), Bytes("1000"), Bytes("-70000"), Bytes(long)])
    }

    /// A listpack: 7-bit uint 100, 13-bit int -300, 6-bit string "hi", int16 -2, end.
    @Test func listpackEntriesDecode() throws {
        var body: [UInt8] = []
        body += [100, 1]
        let minus300 = UInt16(bitPattern: Int16(-300)) & 0x1FFF
        body += [0xC0 | UInt8(minus300 >> 8), UInt8(minus300 & 0xFF), 2]
        body += [0x82, 0x68, 0x69, 3]
        body += [0xF1, 0xFE, 0xFF, 3]
        body += [0xFF]
        var blob: [UInt8] = []
        withUnsafeBytes(of: UInt32(6 + body.count).littleEndian) { blob += $0 }
        blob += [4, 0] + body
        let entries = try blob.withUnsafeBytes { try CompactEncodings.listpack($0) }
        #expect(entries == [Bytes("100"), Bytes("-300"), Bytes("hi"), Bytes("-2")])
    }

    @Test func intsetDecodes() throws {
        var blob: [UInt8] = [4, 0, 0, 0, 2, 0, 0, 0]
        withUnsafeBytes(of: Int32(-5).littleEndian) { blob += $0 }
        withUnsafeBytes(of: Int32(70000).littleEndian) { blob += $0 }
        #expect(try blob.withUnsafeBytes { try CompactEncodings.intset($0) } == [Bytes("-5"), Bytes("70000")])
    }

    @Test(arguments: [[UInt8]([1, 2]), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5], [20, 0, 0, 0, 2, 0, 0x8F]])
    func damagedBlobsAreErrorsNotCrashes(blob: [UInt8]) {
        #expect(throws: CompactEncodings.Damaged.self) { try blob.withUnsafeBytes { try CompactEncodings.ziplist($0) } }
        #expect(throws: CompactEncodings.Damaged.self) {
            try blob.withUnsafeBytes { try CompactEncodings.listpack($0) }
        }
    }

    @Test func lzfDecompresses() {
        // "aaaaaaaaaa": literal "a", then a back reference of length 9 at distance 1.
        let compressed: [UInt8] = [0x00, 0x61, 0xE0, 0x00, 0x00]
        let out = compressed.withUnsafeBytes { LZF.decompress($0, expected: 10) }
        #expect(out == Array(repeating: 0x61, count: 10))
        #expect(compressed.withUnsafeBytes { LZF.decompress($0, expected: 11) } == nil)
    }
}
