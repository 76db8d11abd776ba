import Foundation
import NIOCore
import StrataEngine
import TestSupport
import Testing

@testable import StrataPersistence

/// Random write commands over a few keys, including every command whose logged form
/// differs from what was sent: relative expiries, random pops, float increments,
/// blocking pops, and stream group deliveries and claims.
struct RandomCommands {
    var random: SeededRandom
    var keys = ["k1", "k2", "k3", "k4", "k5", "k6"]
    /// The next stream id's milliseconds (ids are `ms-*`).
    var streamMs = 1

    mutating func streamID() -> String { "\(Int.random(in: max(1, streamMs - 8)...streamMs, using: &random))-0" }
    /// Stream keys, apart from the others so that streams live long enough to have groups
    /// (one in five stream commands goes to any key).
    mutating func streamKey() -> String { pick(["s1", "s2", "s1", "s2", key()]) }
    mutating func group() -> String { pick(["g1", "g2"]) }
    mutating func consumer() -> String { pick(["c1", "c2", "c3"]) }

    mutating func pick(_ items: [String]) -> String { items[Int.random(in: 0..<items.count, using: &random)] }
    mutating func key() -> String { pick(keys) }
    mutating func small() -> String { String(Int.random(in: -5...30, using: &random)) }
    mutating func member() -> String { pick(["a", "b", "c", "d", "e", "1", "2", "300"]) }
    mutating func score() -> String { pick(["1", "2.5", "-3", "0.1", "1e3", "inf", "-inf", "7"]) }

    mutating func next() -> [String] {
        switch Int.random(in: 0..<60, using: &random) {
        case 0: return ["SET", key(), small()]
        case 1: return ["SET", key(), member(), "EX", pick(["1", "100"])]
        case 2: return ["SET", key(), member(), "PX", pick(["5", "50", "5000"]), pick(["NX", "XX", "GET"])]
        case 3: return ["SETEX", key(), pick(["1", "50"]), member()]
        case 4: return ["PSETEX", key(), pick(["10", "2000"]), member()]
        case 5: return ["GETEX", key(), pick(["EX", "PX"]), pick(["1", "30"])]
        case 6: return ["GETEX", key(), "PERSIST"]
        case 7: return ["EXPIRE", key(), pick(["1", "100", "-1", "0"])]
        case 8: return ["PEXPIRE", key(), pick(["20", "3000"]), pick(["NX", "XX", "GT", "LT"])]
        case 9: return ["EXPIREAT", key(), pick(["1", "4000000000"])]
        case 10: return ["PERSIST", key()]
        case 11: return ["INCRBYFLOAT", key(), pick(["0.1", "1.5", "-2.25", "1e2"])]
        case 12: return ["HINCRBYFLOAT", key(), member(), pick(["0.1", "3.3"])]
        case 13: return ["HSET", key(), member(), small(), member(), small()]
        case 14: return ["HDEL", key(), member()]
        case 15: return ["SADD", key(), member(), member(), member()]
        case 16: return ["SPOP", key()]
        case 17: return ["SPOP", key(), pick(["1", "2", "10"])]
        case 18: return ["SREM", key(), member()]
        case 19: return ["SMOVE", key(), key(), member()]
        case 20: return ["LPUSH", key(), member(), member()]
        case 21: return ["RPOP", key()]
        case 22: return ["LMOVE", key(), key(), pick(["LEFT", "RIGHT"]), pick(["LEFT", "RIGHT"])]
        case 23: return ["BLPOP", key(), key(), "0.01"]
        case 24: return ["BRPOPLPUSH", key(), key(), "0.01"]
        case 25: return ["BLMPOP", "0.01", "2", key(), key(), "RIGHT", "COUNT", "2"]
        case 26: return ["ZADD", key(), score(), member(), score(), member()]
        case 27: return ["ZINCRBY", key(), score(), member()]
        case 28: return ["ZPOPMIN", key()]
        case 29: return ["BZPOPMAX", key(), "0.01"]
        case 30: return ["BZMPOP", "0.01", "1", key(), "MIN", "COUNT", "2"]
        case 31: return ["ZUNIONSTORE", key(), "2", key(), key(), "WEIGHTS", "1.5", "2"]
        case 32: return ["SINTERSTORE", key(), key(), key()]
        case 33: return ["DEL", key()]
        case 34: return ["RENAME", key(), key()]
        case 35: return ["COPY", key(), key(), "REPLACE"]
        case 36: return ["SELECT", pick(["0", "1", "2"])]
        case 37: return ["MOVE", key(), pick(["0", "1"])]
        case 38: return ["APPEND", key(), member()]
        case 39: return ["SETRANGE", key(), pick(["0", "3"]), member()]
        case 40: return ["INCR", key()]
        case 41: return ["GETDEL", key()]
        case 42: return ["SORT", key(), "ALPHA", "STORE", key()]
        case 43: return ["SWAPDB", "0", pick(["1", "2"])]
        case 44: return ["LTRIM", key(), "0", pick(["0", "2"])]
        case 45, 46:
            streamMs += 1
            return ["XADD", streamKey(), "\(streamMs)-*", member(), small()]
        case 47: return ["XGROUP", "CREATE", streamKey(), group(), pick(["$", "0"]), "MKSTREAM"]
        case 48, 49: return ["XREADGROUP", "GROUP", group(), consumer(), "COUNT", "2", "STREAMS", streamKey(), ">"]
        case 50: return ["XREADGROUP", "GROUP", group(), consumer(), "STREAMS", streamKey(), "0"]
        case 51: return ["XREADGROUP", "GROUP", group(), consumer(), "NOACK", "STREAMS", streamKey(), ">"]
        case 52: return ["XACK", streamKey(), group(), streamID(), streamID()]
        case 53: return ["XCLAIM", streamKey(), group(), consumer(), pick(["0", "20"]), streamID(), streamID()]
        case 54: return ["XAUTOCLAIM", streamKey(), group(), consumer(), pick(["0", "30"]), "0", "COUNT", "3"]
        case 55: return ["XDEL", streamKey(), streamID()]
        case 56: return ["XTRIM", streamKey(), "MAXLEN", pick(["2", "5"])]
        case 57: return ["XGROUP", pick(["DELCONSUMER", "CREATECONSUMER"]), streamKey(), group(), consumer()]
        case 58: return ["XGROUP", "SETID", streamKey(), group(), pick(["0", "$"])]
        default: return ["SRANDMEMBER", key(), "2"]
        }
    }
}

@Suite("AOF replay")
struct AOFReplayPropertyTests {
    /// Replays the logged effects of random command sequences (with time passing, lazy
    /// and active expiry, and transactions) and compares the rebuilt keyspace with the
    /// live one.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func replayRebuildsTheLiveKeyspace(seed: UInt64) throws {
        let directory = TempDirectory()
        let live = Engine()
        live.recordsEffects = true
        live.random = FastRandom()
        var commands = RandomCommands(random: SeededRandom(seed: seed))
        var now: Int64 = 1_800_000_000_000
        var db = 0
        var selected = -1
        var log = ByteBufferAllocator().buffer(capacity: 1 << 16)
        var transaction: [Effect] = []
        var inTransaction = false
        for step in 0..<3000 {
            now += Int64.random(in: 0...40, using: &commands.random)
            if step % 97 == 0 { _ = live.activeExpireCycle(now: now, budget: 50) }
            if step % 50 == 0 { inTransaction = true }
            let args = commands.next().map { Bytes($0) }
            _ = live.execute(args, db: &db, now: now)
            let effects = live.takeEffects()
            if inTransaction {
                transaction += effects
                if step % 50 == 4 {
                    AOFEncoding.append(transaction, selectedDb: &selected, to: &log)
                    transaction = []
                    inTransaction = false
                }
            } else {
                AOFEncoding.append(effects, selectedDb: &selected, to: &log)
            }
        }
        AOFEncoding.append(transaction, selectedDb: &selected, to: &log)
        let incr = "appendonly.aof.1.incr.aof"
        try Data(log.readableBytesView).write(to: URL(fileURLWithPath: directory.file(incr)))
        let manifest = AOFManifest(incrementals: [.init(name: incr, sequence: 1, type: .incremental)])
        let rebuilt = Engine()
        let report = try AOFLoader.load(
            directory: directory.path, manifest: manifest, into: rebuilt, now: now, allowTruncatedTail: false)
        #expect(report.truncatedTail == nil)
        let expected = contents(live.databases, now: now)
        let actual = contents(rebuilt.databases, now: now)
        #expect(expected.count > 0)
        expectSameContents(expected, actual)
        // The stream commands left some stream with pending entries, so claims were replayed.
        let pending = expected.values.reduce(0) { total, item in
            guard case .stream(let storage) = item.0 else { return total }
            return total + storage.stream.groups.values.reduce(0) { $0 + $1.pending.count }
        }
        #expect(pending > 0)
    }
}

@Suite("AOF partitioned replay")
struct AOFPartitionedReplayTests {
    /// A base snapshot and a log of random commands over 36 keys (multi-key commands
    /// included) replayed whole, and replayed group by group of hash partitions: the
    /// groups hold disjoint keys whose union is the whole keyspace.
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func partitionsTogetherRebuildTheWholeKeyspace(seed: UInt64) throws {
        let directory = TempDirectory()
        var now: Int64 = 1_800_000_000_000
        let base = "appendonly.aof.1.base.rdb"
        var options = SnapshotOptions()
        options.aofBase = true
        _ = try SnapshotWriter.write(
            sampleDatabases(now: now), to: directory.file(base), tempPath: directory.file("temp"), options: options,
            now: now)
        let live = Engine()
        live.databases = try SnapshotReader.load(
            path: directory.file(base), databaseCount: 16, settings: EngineSettings(), now: now, keepExpired: true
        ).databases
        live.recordsEffects = true
        var commands = RandomCommands(random: SeededRandom(seed: seed))
        commands.keys = (1...30).map { "k\($0)" } + ["string", "list", "set", "hash", "zset", "intset"]
        var db = 0
        var selected = -1
        var log = ByteBufferAllocator().buffer(capacity: 1 << 16)
        let table = CommandTable.standard
        for _ in 0..<1500 {
            now += Int64.random(in: 0...40, using: &commands.random)
            var args = commands.next().map { Bytes($0) }
            // Mostly single-key commands, so that partitions stay apart; a few link them.
            while case .success(let spec) = table.resolve(args),
                Set(spec.keys(in: args)?.map(\.string) ?? ["", "*"]).count > 1,
                Int.random(in: 0..<100, using: &commands.random) < 97
            {
                args = commands.next().map { Bytes($0) }
            }
            _ = live.execute(args, db: &db, now: now)
            AOFEncoding.append(live.takeEffects(), selectedDb: &selected, to: &log)
        }
        let manifest = try writeIncrement(log.readableBytesView, after: base, in: directory)
        let incr = manifest.incrementals[0].name
        let whole = Engine()
        _ = try AOFLoader.load(
            directory: directory.path, manifest: manifest, into: whole, now: now, allowTruncatedTail: false)
        let expected = contents(whole.databases, now: now)
        #expect(expected.count > 20)

        var plan = AOFPartitionPlan(count: 32)
        _ = try AOFCommandReader.read(path: directory.file(incr)) { plan.note($0) }
        let groups = plan.groups()
        #expect(groups.count > 1, "some partitions stay apart")
        var union: [String: (Value, Int64?)] = [:]
        for group in groups {
            let part = Engine()
            _ = try AOFLoader.load(
                directory: directory.path, manifest: manifest, into: part, now: now, allowTruncatedTail: false,
                partition: group)
            for (key, entry) in contents(part.databases, now: now) {
                #expect(union[key] == nil, "\(key) in two groups")
                union[key] = entry
            }
        }
        expectSameContents(expected, union)
    }

    @Test func keysOfMovableKeyCommandsAreAllFound() throws {
        let table = CommandTable.standard
        func keys(_ words: [String]) throws -> [String]? {
            let args = words.map { Bytes($0) }
            guard case .success(let spec) = table.resolve(args) else { throw CancellationError() }
            return spec.keys(in: args)?.map(\.string)
        }
        #expect(try keys(["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]) == ["d", "a", "b"])
        #expect(try keys(["SORT", "s", "ALPHA", "LIMIT", "0", "5", "STORE", "d"]) == ["s", "d"])
        #expect(try keys(["SORT", "s", "BY", "w_*", "STORE", "d"]) == nil)
        #expect(try keys(["RENAME", "a", "b"]) == ["a", "b"])
        #expect(try keys(["MSET", "a", "1", "b", "2"]) == ["a", "b"])
        #expect(try keys(["FLUSHALL"]) == [])
    }
}
