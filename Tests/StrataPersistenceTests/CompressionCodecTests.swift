import Foundation
import Testing

@testable import StrataPersistence

@Suite("CompressionCodec")
struct CompressionCodecTests {
    static let sample: [UInt8] = Array((0..<200_000).map { UInt8(truncatingIfNeeded: ($0 * 7) % 251) })

    @Test(arguments: CompressionCodec.allCases)
    func roundTripsABuffer(codec: CompressionCodec) throws {
        let compressed = try codec.compress(Self.sample)
        if codec != .none { #expect(compressed.count < Self.sample.count) }
        #expect(try codec.decompress(compressed) == Self.sample)
    }

    @Test(arguments: CompressionCodec.allCases)
    func roundTripsAnEmptyBuffer(codec: CompressionCodec) throws {
        #expect(try codec.decompress(try codec.compress([])) == [])
    }

    @Test func lz4FramesAreStandard() throws {
        let frame = try CompressionCodec.lz4.compress(Self.sample)
        // LZ4 frame magic number, little endian.
        #expect(Array(frame.prefix(4)) == [0x04, 0x22, 0x4D, 0x18])
    }

    @Test func gzipMembersAreStandard() throws {
        let member = try CompressionCodec.zlib.compress(Self.sample)
        #expect(Array(member.prefix(2)) == [0x1F, 0x8B])
    }

    @Test(arguments: [CompressionCodec.lz4, .zlib])
    func detectsDamage(codec: CompressionCodec) throws {
        var damaged = try codec.compress(Self.sample)
        damaged[damaged.count / 2] ^= 0xFF
        #expect(throws: CompressionError.self) { try codec.decompress(damaged) }
        let truncated = Array(try codec.compress(Self.sample).dropLast(10))
        #expect(throws: CompressionError.self) { try codec.decompress(truncated) }
    }

    @Test(arguments: [CompressionCodec.lz4, .zlib])
    func refusesOutputOverTheLimit(codec: CompressionCodec) throws {
        let frame = try codec.compress(Self.sample)
        #expect(throws: CompressionError.self) { try codec.decompress(frame, limit: 1000) }
    }
}
