import Testing

@testable import StrataEngine

/// The HyperLogLog representation and commands. Expected bytes, opcodes and counts were
/// taken from Redis 7.0.15 running the same commands.
@Suite("HyperLogLog")
struct HyperLogLogTests {
    static func hex(_ reply: Reply) -> String {
        guard case .bulk(let bytes) = reply else { return "" }
        return bytes.array.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

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

    /// A header with `encoding` and a stale cache, then `payload`.
    static func hll(encoding: UInt8, _ payload: [UInt8]) -> Bytes {
        Bytes(Array("HYLL".utf8) + [encoding, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80] + payload)
    }

    static func add(_ h: Harness, _ key: String, _ range: Range<Int>) {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = Swift.min(range.upperBound, start + 10_000)
            h.run(bytes: [Bytes("PFADD"), Bytes(key)] + (start..<end).map { Bytes("e\($0)") })
            start = end
        }
    }

    @Test func addingWritesRedisBytes() {
        let h = Harness()
        #expect(h.run("PFADD", "a", "a") == .integer(1))
        #expect(Self.hex(h.run("GET", "a")) == "48594c4c01000000000000000000008071a6844e57")
        #expect(h.run("PFADD", "a", "a") == .integer(0))
        #expect(h.run("PFADD", "new") == .integer(1))
        #expect(Self.hex(h.run("GET", "new")) == "48594c4c010000000000000000000080" + "7fff")
        #expect(h.run("PFADD", "new") == .integer(0))
        #expect(h.run("PFCOUNT", "new") == .integer(0))
    }

    @Test func sparseOpcodesMatchRedis() {
        let h = Harness()
        Self.add(h, "s", 0..<10)
        #expect(
            h.run("PFDEBUG", "DECODE", "s")
                == .b(
                    "Z:1318 v:1,1 Z:1839 v:2,1 Z:4042 v:1,1 Z:1043 v:2,1 Z:2642 v:2,1 Z:782 v:2,1 Z:260 v:2,1 Z:3770 v:2,1 Z:137 v:1,1 Z:107 v:2,1 Z:434"
                ))
        #expect(h.run("PFCOUNT", "s") == .integer(10))
        #expect(h.run("PFDEBUG", "ENCODING", "s") == .status("sparse"))
    }

    @Test func countsMatchRedisSparseAndDense() {
        let h = Harness()
        for (n, count, encoding, length) in [
            (100, 100, "sparse", 285), (1000, 1008, "sparse", 1906), (5000, 4968, "dense", 12304),
            (100_000, 100_853, "dense", 12304),
        ] {
            Self.add(h, "n\(n)", 0..<n)
            #expect(h.run("PFCOUNT", "n\(n)") == .integer(count))
            #expect(h.run("PFDEBUG", "ENCODING", "n\(n)") == .status(encoding))
            #expect(h.run("STRLEN", "n\(n)") == .integer(length))
        }
        #expect(h.run("PFCOUNT", "n1000", "n100000") == .integer(100_853))
        guard case .array(let registers) = h.run("PFDEBUG", "GETREG", "n100000") else {
            Issue.record("GETREG is not an array")
            return
        }
        let sum = registers.reduce(0) { total, reply in
            if case .integer(let n) = reply { return total + n }
            return total
        }
        #expect(registers.count == 16384 && sum == 64707)
    }

    @Test func denseRegistersKeepTheirNeighbours() {
        var hll = HyperLogLog(unchecked: [UInt8](repeating: 0, count: HyperLogLog.denseSize))
        for index in 0..<HyperLogLog.registerCount { hll.setDenseRegister(index, UInt8(index % 64)) }
        for index in 0..<HyperLogLog.registerCount { #expect(hll.denseRegister(index) == UInt8(index % 64)) }
        hll.setDenseRegister(16383, 63)
        hll.setDenseRegister(5, 0)
        #expect(hll.denseRegister(16383) == 63 && hll.denseRegister(16382) == UInt8(16382 % 64))
        #expect(hll.denseRegister(4) == 4 && hll.denseRegister(5) == 0 && hll.denseRegister(6) == 6)
        let expected = (0..<HyperLogLog.registerCount).map { index in
            index == 5 ? 0 : index == 16383 ? 63 : UInt8(index % 64)
        }
        #expect(hll.denseRegisters() == expected)
    }

    @Test func sparseToDenseKeepsRegistersAndCount() {
        let h = Harness()
        Self.add(h, "s", 0..<300)
        let before = h.run("PFCOUNT", "s")
        guard case .bulk(let raw) = h.run("GET", "s"), var sparse = HyperLogLog(validating: raw) else {
            Issue.record("no HyperLogLog at s")
            return
        }
        #expect(sparse.encoding == .sparse)
        var mine = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        #expect(sparse.merge(into: &mine))
        #expect(h.run("PFDEBUG", "TODENSE", "s") == .integer(1))
        #expect(h.run("PFDEBUG", "TODENSE", "s") == .integer(0))
        #expect(h.run("PFDEBUG", "ENCODING", "s") == .status("dense"))
        #expect(h.run("PFDEBUG", "DECODE", "s") == .error("ERR HLL encoding is not sparse"))
        #expect(h.run("PFCOUNT", "s") == before)
        let converted = sparse.toDense()
        #expect(converted)
        #expect(sparse.denseRegisters() == mine)
    }

    @Test func promotionFollowsTheConfiguredLimit() {
        let h = Harness()
        h.engine.settings.hllSparseMaxBytes = 0
        h.run("PFADD", "k", "a")
        #expect(h.run("PFDEBUG", "ENCODING", "k") == .status("dense"))
        h.engine.settings.hllSparseMaxBytes = 100
        Self.add(h, "j", 0..<20)
        #expect(h.run("PFDEBUG", "ENCODING", "j") == .status("sparse"))
        Self.add(h, "j", 20..<100)
        #expect(h.run("PFDEBUG", "ENCODING", "j") == .status("dense"))
    }

    @Test func estimatorEdges() {
        var empty = [Int](repeating: 0, count: 64)
        empty[0] = HyperLogLog.registerCount
        #expect(HyperLogLog.estimate(empty) == 0)
        // Registers no hash produces (Redis answers LLONG_MIN, the stale-cache bit).
        for value in [50, 51, 52, 63] {
            var full = [Int](repeating: 0, count: 64)
            full[value] = HyperLogLog.registerCount
            #expect(HyperLogLog.estimate(full) == 1 << 63)
        }
        let h = Harness()
        h.run(bytes: [Bytes("SET"), Bytes("d"), Self.hll(encoding: 0, [UInt8](repeating: 0xff, count: 12288))])
        #expect(h.run("PFCOUNT", "d") == .integer(Int.min))
        #expect(h.run("PFCOUNT", "d", "nosuch") == .integer(Int.min))
    }

    @Test func cachedCardinalityIsReusedAndWritten() {
        let h = Harness()
        h.engine.recordsEffects = true
        h.run("PFADD", "k", "a", "b", "c")
        h.engine.discardRecord()
        #expect(h.run("PFCOUNT", "k") == .integer(3))
        #expect(h.engine.record.changes == 1 && h.engine.record.effects.count == 1)
        h.engine.discardRecord()
        #expect(h.run("PFCOUNT", "k") == .integer(3))
        #expect(h.engine.record.isEmpty)
        #expect(Self.hex(h.run("GETRANGE", "k", "8", "15")) == "0300000000000000")
        // A cache set by a client is believed, as Redis does.
        h.run(bytes: [Bytes("SET"), Bytes("c"), Self.bytes("48594c4c0100000005000000000000007fff")])
        #expect(h.run("PFCOUNT", "c") == .integer(5))
        #expect(h.run("PFCOUNT", "c", "nosuch") == .integer(0))
    }

    @Test func mergeUnitesAndAnnouncesAPFADD() {
        let h = Harness()
        Self.add(h, "a", 0..<500)
        Self.add(h, "b", 250..<750)
        Self.add(h, "all", 0..<750)
        #expect(h.run("PFMERGE", "m", "a", "b") == .ok)
        #expect(h.run("PFCOUNT", "m") == h.run("PFCOUNT", "all"))
        #expect(h.run("PFCOUNT", "a", "b") == h.run("PFCOUNT", "all"))
        #expect(h.run("PFMERGE", "empty") == .ok)
        #expect(h.run("PFCOUNT", "empty") == .integer(0))
        h.run("SET", "str", "hello")
        h.run("RPUSH", "list", "x")
        #expect(h.run("PFMERGE", "m", "str") == HyperLogLogCommands.notHyperLogLog)
        #expect(h.run("PFMERGE", "m", "list") == Errors.wrongType)
        #expect(h.run("PFCOUNT", "m", "str") == HyperLogLogCommands.notHyperLogLog)
    }

    @Test func headersThatAreNotHyperLogLogs() {
        let h = Harness()
        let notHLL = HyperLogLogCommands.notHyperLogLog
        for value in [
            Bytes("HYLL"), Bytes("1234567890123456"), Self.hll(encoding: 2, [0x7f, 0xff]),
            Self.hll(encoding: 0, [UInt8](repeating: 0, count: 100)), Bytes("HYLX\u{1}000000000000000"),
        ] {
            h.run(bytes: [Bytes("SET"), Bytes("k"), value])
            #expect(h.run("PFADD", "k", "a") == notHLL)
            #expect(h.run("PFCOUNT", "k") == notHLL)
            #expect(h.run("PFDEBUG", "ENCODING", "k") == notHLL)
        }
        #expect(h.run("PFDEBUG", "GETREG", "nosuch") == .error("ERR The specified key does not exist"))
        h.run("PFADD", "k2", "a")
        #expect(h.run("PFDEBUG", "foo", "k2") == .error("ERR Unknown PFDEBUG subcommand 'foo'"))
    }

    @Test func corruptedRunsGiveRedisErrors() {
        let h = Harness()
        let corrupted = HyperLogLogCommands.corrupted
        // 16384 zeros and one more register: adding still works, counting does not.
        h.run(bytes: [Bytes("SET"), Bytes("over"), Self.hll(encoding: 1, [0x7f, 0xff, 0x80])])
        #expect(h.run("PFADD", "over", "a", "b", "c") == .integer(1))
        #expect(h.run("PFDEBUG", "DECODE", "over") == .b("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603 v:1,1"))
        #expect(h.run("PFCOUNT", "over") == corrupted)
        #expect(h.run("PFCOUNT", "over", "x") == corrupted)
        #expect(h.run("PFMERGE", "m", "over") == corrupted)
        #expect(h.run("EXISTS", "m") == .integer(0))
        #expect(h.run("PFDEBUG", "TODENSE", "over") == corrupted)
        // 17 registers only.
        h.run(bytes: [Bytes("SET"), Bytes("under"), Self.hll(encoding: 1, [0x40, 0x10])])
        #expect(h.run("PFADD", "under", "a", "b", "c") == corrupted)
        #expect(h.run("PFCOUNT", "under") == corrupted)
        #expect(h.run("PFDEBUG", "DECODE", "under") == .b("Z:17"))
        #expect(h.run("PFDEBUG", "GETREG", "under") == corrupted)
        // Half the registers: the elements added before the refused one stay added.
        h.engine.recordsEffects = true
        h.run(bytes: [Bytes("SET"), Bytes("half"), Self.hll(encoding: 1, [0x5f, 0xff])])
        h.engine.discardRecord()
        #expect(h.run(bytes: [Bytes("PFADD"), Bytes("half")] + (0..<10).map { Bytes("p0-\($0)") }) == corrupted)
        // Written (so logged and replayed alike), but not counted as a change, as in Redis.
        #expect(h.engine.record.changes == 0 && !h.engine.record.writtenKeys.isEmpty)
        #expect(h.run("PFDEBUG", "DECODE", "half") == .b("Z:1134 v:1,1 Z:2080 v:2,1 Z:4976"))
        // No runs at all.
        h.run(bytes: [Bytes("SET"), Bytes("none"), Self.hll(encoding: 1, [])])
        #expect(h.run("PFCOUNT", "none") == corrupted)
        #expect(h.run("PFADD", "none", "a") == corrupted)
        #expect(h.run("PFADD", "none") == .integer(0))
        #expect(h.run("PFDEBUG", "DECODE", "none") == .b(""))
        // An XZERO cut short by the end of the string.
        h.run(bytes: [Bytes("SET"), Bytes("cut"), Self.hll(encoding: 1, [0x7f])])
        #expect(h.run("PFDEBUG", "DECODE", "cut") == .b("Z:16129"))
        _ = h.run("PFADD", "cut", "a", "b")
        _ = h.run("PFCOUNT", "cut")
    }

    @Test func randomGarbageNeverTraps() {
        var random = FastRandom(seed: 42)
        let h = Harness()
        let keys = ["g0", "g1", "g2"]
        for round in 0..<400 {
            let length = Int(random.next() % 64)
            var payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if round % 3 == 0 {
                // Mostly well-formed runs around 16384 registers.
                payload = [0x7f, UInt8(truncatingIfNeeded: random.next() % 256)] + payload.map { $0 | 0x80 }
            }
            let encoding: UInt8 = round % 10 == 0 ? 0 : 1
            let key = keys[round % 3]
            h.run(bytes: [Bytes("SET"), Bytes(key), Self.hll(encoding: encoding, payload)])
            let element = Bytes("x\(random.next() % 1000)")
            for command in [
                [Bytes("PFADD"), Bytes(key), element, Bytes("y"), Bytes("z")], [Bytes("PFCOUNT"), Bytes(key)],
                [Bytes("PFCOUNT"), Bytes("g0"), Bytes("g1"), Bytes("g2")],
                [Bytes("PFMERGE"), Bytes("dst"), Bytes("g0"), Bytes(key)],
                [Bytes("PFDEBUG"), Bytes("DECODE"), Bytes(key)],
                [Bytes("PFDEBUG"), Bytes("GETREG"), Bytes(key)], [Bytes("PFDEBUG"), Bytes("TODENSE"), Bytes(key)],
            ] {
                switch h.run(bytes: command) {
                case .error(let text):
                    #expect(text.hasPrefix("INVALIDOBJ") || text.hasPrefix("WRONGTYPE") || text.hasPrefix("ERR HLL"))
                default: break
                }
            }
        }
    }

    @Test func selfTestPasses() {
        var random = FastRandom(seed: 7)
        var test = HyperLogLogSelfTest(maxSparseBytes: 3000)
        test.registerRounds = 3
        test.elements = 100_000
        #expect(test.run(random: &random) == .ok)
    }
}
