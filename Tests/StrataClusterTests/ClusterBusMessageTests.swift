import Foundation
import Testing

@testable import StrataCluster

/// The bus codec against a MEET that redis-server 7.0.15 sent (captured by listening on a
/// bus port and asking it to `CLUSTER MEET` there), and Redis's length rules.
@Suite("Cluster bus messages")
struct ClusterBusMessageTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func redisMeet() throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent("redis70-meet.bin")))
    }

    func decode(_ bytes: [UInt8]) -> Result<ClusterBusMessage, ClusterBusMessage.DecodeError> {
        bytes.withUnsafeBytes { ClusterBusMessage.decode($0) }
    }

    @Test func decodesRedisMeetAndEncodesItBackByteForByte() throws {
        let bytes = try Self.redisMeet()
        let message = try decode(bytes).get()
        #expect(message.type == .meet)
        #expect(message.port == 7791)
        #expect(message.busPort == 17791)
        #expect(message.sender == "9d3d74b64e03297d925d644fb95eeab85034e72d")
        #expect(message.flags == [.myself, .primary])
        #expect(message.primary == nil)
        #expect(message.currentEpoch == 3)
        #expect(message.configEpoch == 1)
        #expect(message.slots.ranges == [0...5460])
        guard case .gossip(let entries, let hostname) = message.body else {
            Issue.record("not gossip")
            return
        }
        #expect(hostname == nil)
        #expect(entries.count == 1)
        #expect(entries.first?.name == "b490b4c2e094d2f0283129a9cbe5f969f4803145")
        #expect(entries.first?.port == 7792)
        #expect(entries.first?.busPort == 17792)
        #expect(entries.first?.ip == "127.0.0.1")
        #expect(message.encoded() == bytes)
    }

    @Test func everyBodyRoundTrips() {
        var slots = SlotBitmap()
        for slot in [0, 1, 7, 8, 5000, 16383] { slots.set(slot, true) }
        let bodies: [(ClusterMessageType, ClusterBusMessage.Body)] = [
            (.ping, .gossip([], hostname: "cache-1.example")),
            (.fail, .fail(node: String(repeating: "a", count: 40))),
            (.publish, .publish(channel: Array("news".utf8), message: Array("hello".utf8))),
            (.publishShard, .publish(channel: [], message: [])),
            (.update, .update(configEpoch: 9, node: String(repeating: "b", count: 40), slots: slots)),
            (.failoverAuthRequest, .empty), (.manualFailoverStart, .empty),
        ]
        for (type, body) in bodies {
            let message = ClusterBusMessage(
                type: type, port: 7000, currentEpoch: 5, configEpoch: 4, replicationOffset: 99,
                sender: String(repeating: "c", count: 40), slots: slots, primary: String(repeating: "d", count: 40),
                ip: "10.0.0.1", plaintextPort: 0, busPort: 17000, flags: [.replica], clusterState: 1,
                messageFlags: 0, body: body)
            var expected = message
            if case .gossip(_, let hostname?) = body, !hostname.isEmpty {
                expected.messageFlags |= ClusterBusMessage.extensionDataFlag
            }
            #expect((try? decode(message.encoded()).get()) == expected, "\(type)")
        }
    }

    @Test func lengthsAreCheckedAsRedisChecksThem() throws {
        var bytes = try Self.redisMeet()
        // One gossip entry announced, two present.
        bytes[15] = 2
        #expect(decode(bytes) == .failure(.lengthMismatch(type: "meet", length: 2360, expected: 2464)))
        bytes[15] = 1
        bytes[9] = 2
        #expect(decode(bytes) == .failure(.unsupportedVersion(2)))
        bytes[9] = 1
        bytes[13] = 42
        #expect(decode(bytes) == .failure(.unknownType(42)))
        bytes[13] = 2
        bytes[0] = UInt8(ascii: "X")
        #expect(decode(bytes) == .failure(.badSignatureOrLength))
        bytes[0] = UInt8(ascii: "R")
        // A truncated frame is not decoded, whatever its header says.
        #expect(decode(Array(bytes.prefix(2300))) == .failure(.badSignatureOrLength))
        // An extension flag with an extension running past the end.
        bytes[2253] = ClusterBusMessage.extensionDataFlag
        bytes[2215] = 1
        #expect(decode(bytes) == .failure(.badExtension))
    }

    @Test func frameLengthRefusesShortAndOversizedFrames() {
        var prefix: [UInt8] = Array("RCmb".utf8) + [0, 0, 0x08, 0xD0]
        #expect(prefix.withUnsafeBytes { ClusterBusMessage.frameLength($0, limit: 1 << 20) } == .success(2256))
        prefix[7] = 0xCF
        #expect(
            prefix.withUnsafeBytes { ClusterBusMessage.frameLength($0, limit: 1 << 20) }
                == .failure(.badSignatureOrLength))
        prefix[4] = 0x7F
        #expect(
            prefix.withUnsafeBytes { ClusterBusMessage.frameLength($0, limit: 1 << 20) }
                == .failure(.badSignatureOrLength))
    }

    @Test func hashSlotsFollowCRC16AndHashTags() {
        #expect(Array("123456789".utf8).withUnsafeBytes { HashSlot.crc16($0) } == 0x31C3)
        #expect(HashSlot.of(Array("{user1000}.following".utf8)) == HashSlot.of(Array("user1000".utf8)))
        #expect(
            HashSlot.of(Array("foo{}{bar}".utf8))
                == Int(Array("foo{}{bar}".utf8).withUnsafeBytes { HashSlot.crc16($0) } & 0x3FFF))
        #expect(HashSlot.of(Array("foo{{bar}}zap".utf8)) == HashSlot.of(Array("{bar".utf8)))
        #expect(HashSlot.of(Array("foo{bar}{zap}".utf8)) == HashSlot.of(Array("bar".utf8)))
        #expect(HashSlot.of(Array("foo".utf8)) == 12182)
    }
}

@Suite("Slot bitmaps")
struct SlotBitmapTests {
    @Test func rangesMatchTheSlotsOneByOne() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var bitmap = SlotBitmap()
            var expected = Set<Int>()
            let runs = Int.random(in: 0...20, using: &generator)
            for _ in 0..<runs {
                let start = Int.random(in: 0..<HashSlot.count, using: &generator)
                let length = Int.random(in: 1...300, using: &generator)
                for slot in start..<min(start + length, HashSlot.count) {
                    bitmap.set(slot, true)
                    expected.insert(slot)
                }
            }
            let ranges = bitmap.ranges
            #expect(Set(ranges.flatMap { Array($0) }) == expected)
            for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound + 1 < b.lowerBound) }
        }
        var full = SlotBitmap()
        for slot in 0..<HashSlot.count { full.set(slot, true) }
        #expect(full.ranges == [0...16383])
        #expect(SlotBitmap().ranges.isEmpty)
    }
}
