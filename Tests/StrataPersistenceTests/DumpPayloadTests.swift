import StrataEngine
import TestSupport
import Testing

@testable import StrataPersistence

/// `DUMP` payloads: bytes as redis-server 7.0.15 writes them for small values, every type
/// read back, and damaged or hostile payloads refused without crashing.
@Suite struct DumpPayloadTests {
    static func bytes(_ hex: String) -> Bytes {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return Bytes(out)
    }

    static func engine(_ commands: [[String]]) -> Engine {
        let engine = Engine()
        var db = 0
        for words in commands { _ = engine.execute(words.map { Bytes($0) }, db: &db, now: 1_000_000) }
        return engine
    }

    static func value(_ engine: Engine, _ key: String) -> Value? {
        engine.lookup(Bytes(key), db: 0, now: 1_000_000)
    }

    /// Payloads taken from redis-server 7.0.15's DUMP of the same values.
    @Test func smallValuesDumpAsRedisDoes() throws {
        let engine = Self.engine([
            ["set", "s", "hello"], ["set", "i", "12345"], ["set", "big", "9999999999"],
            ["rpush", "l", "a", "1", "bb", "-300"], ["sadd", "si", "3", "1", "2"],
            ["hset", "h", "f", "v", "n", "7"], ["zadd", "z", "1.5", "m", "2", "k"],
        ])
        let expected = [
            "s": "000568656c6c6f0a006372df766534200a",
            "i": "00c139300a009d94ea2793fc08b9",
            "big": "000a393939393939393939390a00d26ac299df53efd2",
            "l": "12010213130000000400816102010182626203ded402ff0a004eb6fdc54d9182d8",
            "si": "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b",
            "h": "1012120000000400816602817602816e020701ff0a00b82adea8407ffaa8",
            "z": "1114140000000400816d0283312e3504816b020201ff0a00a073a45a76533cfb",
        ]
        for (key, hex) in expected {
            let value = try #require(Self.value(engine, key))
            #expect(DumpPayload.encode(value) == Self.bytes(hex), "\(key)")
            #expect(try DumpPayload.decode(Self.bytes(hex), settings: EngineSettings()) == value, "\(key)")
        }
    }

    /// An LZF-compressed listpack, as Redis writes blobs over 20 bytes that compress.
    @Test func readsRedisCompressedPayloads() throws {
        let payload = Self.bytes("11c3161f0d1f000000020081610293302e3130e00500023114ff0a00ee8c3d63b3c99b5a")
        guard case .sortedSet(let zset) = try DumpPayload.decode(payload, settings: EngineSettings()) else {
            Issue.record("not a sorted set")
            return
        }
        #expect(zset.all.map(\.member) == [Bytes("a")])
        #expect(zset.all.map(\.score) == [0.1])
    }

    @Test func everyTypeRoundTrips() throws {
        var commands: [[String]] = [
            ["set", "raw", String(repeating: "x", count: 100)],
            ["set", "negative", "-2147483649"],
            ["sadd", "wide", "1", "70000", "-5000000000"],
            ["sadd", "words", "a", "b", "c"],
            ["xadd", "x", "1-1", "a", "1", "b", "2"], ["xadd", "x", "2-1", "c", "3"],
            ["xgroup", "create", "x", "g", "0"],
            ["xreadgroup", "group", "g", "alice", "count", "1", "streams", "x", ">"],
            ["xgroup", "createconsumer", "x", "g", "bob"],
            ["xadd", "empty", "MAXLEN", "0", "5-5", "f", "v"],
        ]
        for i in 0..<3000 {
            commands.append(["rpush", "biglist", String(repeating: "e", count: i % 50) + String(i)])
            if i < 600 {
                commands.append(["hset", "bighash", "f\(i)", "v\(i)"])
                commands.append(["zadd", "bigzset", String(Double(i) / 7), "m\(i)"])
                commands.append(["sadd", "bigset", "\(i)"])
            }
        }
        let engine = Self.engine(commands)
        for key in ["raw", "negative", "wide", "words", "x", "empty", "biglist", "bighash", "bigzset", "bigset"] {
            let value = try #require(Self.value(engine, key), "\(key)")
            let decoded = try DumpPayload.decode(DumpPayload.encode(value), settings: EngineSettings())
            #expect(decoded == value, "\(key)")
            #expect(decoded.encodingName == value.encodingName, "\(key)")
        }
        // A large list takes several listpack nodes, each within Redis's 8 KiB default.
        let list = try #require(Self.value(engine, "biglist"))
        guard case .list(let elements) = list else { return }
        let nodes = RDBEncoder.listNodes(elements.elements)
        #expect(nodes.count > 1)
        #expect(nodes.allSatisfy { $0.count <= RDBEncoder.listNodeBytes })
    }

    @Test func checksumVersionAndFormatErrors() throws {
        let good = Self.bytes("000568656c6c6f0a006372df766534200a").array
        var flipped = good
        flipped[2] ^= 1
        #expect(throws: DumpPayload.Failure.versionOrChecksum) {
            try DumpPayload.decode(Bytes(flipped), settings: EngineSettings())
        }
        #expect(throws: DumpPayload.Failure.versionOrChecksum) {
            try DumpPayload.decode(Bytes(Array(good.suffix(9))), settings: EngineSettings())
        }
        // Version 11 (Redis 7.2) with a correct checksum is still refused.
        #expect(throws: DumpPayload.Failure.versionOrChecksum) {
            try DumpPayload.decode(Self.sealed([0, 1, 0x61], version: 11), settings: EngineSettings())
        }
        // An older version is read.
        #expect(
            try DumpPayload.decode(Self.sealed([0, 1, 0x61], version: 9), settings: EngineSettings())
                == .string(Bytes("a")))
        // As Redis reads the value from the whole payload, a string running 4 bytes into
        // the footer is read with them.
        #expect(
            try DumpPayload.decode(Self.sealed([0, 5, 0x61]), settings: EngineSettings())
                == .string(Bytes([0x61, 10, 0] + Self.sealed([0, 5, 0x61]).array.suffix(8).prefix(2))))
        // Repeats merged while Redis keeps the value compact: a hash of short fields and
        // values.
        #expect(
            try DumpPayload.decode(Self.sealed([4, 2, 1, 0x61, 1, 0x62, 1, 0x61, 1, 0x63]), settings: EngineSettings())
                == .hash(
                    {
                        var hash = HashValue()
                        hash.set(Bytes("a"), Bytes("c"), limits: HashLimits())
                        return hash
                    }()))
        // An unknown type, an empty list, a body longer than the payload, repeated members
        // of a hash table: bad format.
        let duplicates: [[UInt8]] = [
            [2, 2, 1, 0x61, 1, 0x61],  // set {a, a}
            [2, 3, 1, 0x31, 1, 0x31, 1, 0x61],  // set {1, 1, a}
            // hash: field a repeated, its second value too long for a listpack
            [4, 2, 1, 0x61, 1, 0x62, 1, 0x61, 0x41, 0x00] + [UInt8](repeating: 0x63, count: 65),
            [5, 2, 1, 0x61] + [UInt8](repeating: 0, count: 8) + [1, 0x61] + [UInt8](repeating: 0, count: 8),
        ]
        for body: [UInt8] in [[0x63, 1, 0x61], [1, 0], [0x12, 0], [0, 0x20, 0x61], []] + duplicates {
            #expect(throws: DumpPayload.Failure.badFormat) {
                try DumpPayload.decode(Self.sealed(body), settings: EngineSettings())
            }
        }
    }

    /// `body`, the version and a valid checksum.
    static func sealed(_ body: [UInt8], version: Int = 10) -> Bytes {
        var bytes = body
        bytes += [UInt8(version & 0xFF), UInt8(version >> 8)]
        var checksum = CRC64()
        checksum.update(bytes)
        withUnsafeBytes(of: checksum.value.littleEndian) { bytes += $0 }
        return Bytes(bytes)
    }

    /// Lengths far beyond the payload, in every place a length is read: errors, without
    /// allocating for them.
    @Test func hugeLengthsAreRefused() {
        let huge: [UInt8] = [0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        let bodies: [[UInt8]] = [
            [0] + huge,  // string
            [1] + huge,  // list
            [2] + huge, [4] + huge, [5] + huge,
            [0x12] + huge,  // quicklist nodes
            [0x12, 1, 2] + huge,  // a node's listpack
            [0x13] + huge,  // stream blocks
            [0, 0xC3, 0x05, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5],  // LZF: 4 GiB from 5 bytes
            [0, 0xC3, 0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            [0x0B, 0x0C, 8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0],  // intset claiming 4G values
        ]
        for body in bodies {
            #expect(throws: DumpPayload.Failure.badFormat) {
                try DumpPayload.decode(Self.sealed(body), settings: EngineSettings())
            }
        }
    }

    /// Random bodies and valid payloads with bytes changed, resealed with a valid checksum:
    /// each is decoded or refused, never a crash.
    @Test func randomAndMutatedPayloadsNeverCrash() throws {
        var random = SeededRandom(seed: 23)
        var commands: [[String]] = [
            ["set", "s", "hello"], ["rpush", "l", "a", "1", "bb"], ["sadd", "si", "1", "2"],
            ["sadd", "sw", "a", "b"], ["hset", "h", "f", "v"], ["zadd", "z", "1", "m", "2", "n"],
            ["xadd", "x", "1-1", "a", "1"], ["xgroup", "create", "x", "g", "0"],
            ["xreadgroup", "group", "g", "c", "streams", "x", ">"],
        ]
        for i in 0..<200 { commands.append(["hset", "bh", "f\(i)", "v\(i)"]) }
        let engine = Self.engine(commands)
        let seeds = ["s", "l", "si", "sw", "h", "z", "x", "bh"].compactMap { Self.value(engine, $0) }
            .map { DumpPayload.encode($0).array.dropLast(10) }
        var decoded = 0
        for round in 0..<20_000 {
            var body: [UInt8]
            if round % 4 == 0 {
                body = (0..<Int.random(in: 0..<64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random)
                }
                if !body.isEmpty { body[0] = UInt8.random(in: 0...21, using: &random) }
            } else {
                body = Array(seeds[round % seeds.count])
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let at = Int.random(in: 0..<body.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: body[at] = UInt8.random(in: 0...255, using: &random)
                    case 1: body.removeSubrange(at...)
                    default: body.insert(UInt8.random(in: 0...255, using: &random), at: at)
                    }
                    if body.isEmpty { break }
                }
            }
            if (try? DumpPayload.decode(Self.sealed(body), settings: EngineSettings())) != nil { decoded += 1 }
        }
        #expect(decoded > 0)
        #expect(decoded < 20_000)
    }
}
