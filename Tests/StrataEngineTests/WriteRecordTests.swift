import Testing

@testable import StrataEngine

/// The write record is the one account of what a command did: every write command in the
/// table is run on a keyspace holding every type, and each one that changed the keyspace
/// must have produced a record (keys written, an effect to log, a change counted), and its
/// logged effects, replayed on a copy of the keyspace before, must rebuild the keyspace
/// after.
@Suite("Write record")
struct WriteRecordTests {
    static let now: Int64 = 1_800_000_000_000

    /// One invocation (or more) of every write command, on the keys `seed` creates.
    static let examples: [String: [[String]]] = [
        "set": [["set", "s", "v"], ["set", "fresh", "v", "ex", "100"]],
        "setnx": [["setnx", "fresh", "v"]],
        "setex": [["setex", "s", "100", "v"]],
        "psetex": [["psetex", "s", "100000", "v"]],
        "getset": [["getset", "s", "v"]],
        "getdel": [["getdel", "s"]],
        "getex": [["getex", "s", "ex", "100"], ["getex", "t", "persist"]],
        "append": [["append", "s", "!"]],
        "incr": [["incr", "n"]],
        "decr": [["decr", "n"]],
        "incrby": [["incrby", "n", "5"]],
        "decrby": [["decrby", "n", "5"]],
        "incrbyfloat": [["incrbyfloat", "n", "1.5"]],
        "mset": [["mset", "a1", "1", "a2", "2"]],
        "msetnx": [["msetnx", "b1", "1", "b2", "2"]],
        "setrange": [["setrange", "s", "2", "XY"]],
        "setbit": [["setbit", "s", "3", "1"]],
        "bitop": [["bitop", "xor", "d", "s", "n", "missing"], ["bitop", "and", "s", "missing"]],
        "bitfield": [
            ["bitfield", "s", "overflow", "sat", "incrby", "i8", "#1", "200", "get", "u4", "0"],
            ["bitfield", "fresh", "overflow", "fail", "set", "u8", "100", "999"],
        ],
        "del": [["del", "s", "l"]],
        "unlink": [["unlink", "h"]],
        "expire": [["expire", "s", "100"]],
        "pexpire": [["pexpire", "s", "100000"]],
        "expireat": [["expireat", "s", "1900000000"]],
        "pexpireat": [["pexpireat", "s", "1900000000000"]],
        "persist": [["persist", "t"]],
        "rename": [["rename", "s", "s2"]],
        "renamenx": [["renamenx", "s", "s3"]],
        "move": [["move", "s", "3"]],
        "copy": [["copy", "l", "l2"], ["copy", "h", "h2", "db", "2"]],
        "flushdb": [["flushdb"]],
        "flushall": [["flushall"]],
        "swapdb": [["swapdb", "0", "1"]],
        "sort": [["sort", "l", "alpha", "store", "sorted"]],
        "lpush": [["lpush", "l", "x"]],
        "rpush": [["rpush", "l", "x"]],
        "lpushx": [["lpushx", "l", "x"]],
        "rpushx": [["rpushx", "l", "x"]],
        "lpop": [["lpop", "l"]],
        "rpop": [["rpop", "l"]],
        "lset": [["lset", "l", "0", "x"]],
        "lrem": [["lrem", "l", "0", "a"]],
        "ltrim": [["ltrim", "l", "1", "-1"]],
        "linsert": [["linsert", "l", "before", "b", "x"]],
        "lmove": [["lmove", "l", "l9", "left", "right"]],
        "rpoplpush": [["rpoplpush", "l", "l9"]],
        "lmpop": [["lmpop", "1", "l", "left"]],
        "blpop": [["blpop", "l", "0"]],
        "brpop": [["brpop", "l", "0"]],
        "blmove": [["blmove", "l", "l9", "left", "left", "0"]],
        "brpoplpush": [["brpoplpush", "l", "l9", "0"]],
        "blmpop": [["blmpop", "0", "1", "l", "right"]],
        "sadd": [["sadd", "set", "m9"]],
        "srem": [["srem", "set", "m1"]],
        "spop": [["spop", "set"]],
        "smove": [["smove", "set", "set9", "m1"], ["smove", "set", "set", "m1"]],
        "sinterstore": [["sinterstore", "d", "set", "set"]],
        "sunionstore": [["sunionstore", "d", "set"]],
        "sdiffstore": [["sdiffstore", "d", "set"]],
        "hset": [["hset", "h", "f9", "v"]],
        "hmset": [["hmset", "h", "f1", "x"]],
        "hsetnx": [["hsetnx", "h", "f9", "v"]],
        "hdel": [["hdel", "h", "f1"]],
        "hincrby": [["hincrby", "h", "c", "2"]],
        "hincrbyfloat": [["hincrbyfloat", "h", "c", "2.5"]],
        "zadd": [["zadd", "z", "4", "d"]],
        "zincrby": [["zincrby", "z", "2", "a"]],
        "zrem": [["zrem", "z", "a"]],
        "zremrangebyrank": [["zremrangebyrank", "z", "0", "0"]],
        "zremrangebyscore": [["zremrangebyscore", "z", "1", "1"]],
        "zremrangebylex": [["zremrangebylex", "lex", "[a", "[b"]],
        "zpopmin": [["zpopmin", "z"]],
        "zpopmax": [["zpopmax", "z"]],
        "zmpop": [["zmpop", "1", "z", "min"]],
        "bzpopmin": [["bzpopmin", "z", "0"]],
        "bzpopmax": [["bzpopmax", "z", "0"]],
        "bzmpop": [["bzmpop", "0", "1", "z", "max"]],
        "zrangestore": [["zrangestore", "d", "z", "0", "1"]],
        "geoadd": [["geoadd", "g", "13.361389", "38.115556", "palermo"], ["geoadd", "z", "xx", "ch", "1", "2", "a"]],
        "georadius": [["georadius", "z", "-180", "-85", "500", "km", "store", "gr"]],
        "georadiusbymember": [["georadiusbymember", "z", "a", "100", "km", "storedist", "gd"]],
        "geosearchstore": [["geosearchstore", "gs", "z", "frommember", "b", "bybox", "100", "100", "km"]],
        "zunionstore": [["zunionstore", "d", "1", "z"]],
        "zinterstore": [["zinterstore", "d", "1", "z"]],
        "zdiffstore": [["zdiffstore", "d", "1", "z"]],
        "xadd": [["xadd", "x", "*", "f", "v"]],
        "xdel": [["xdel", "x", "1-1"]],
        "xtrim": [["xtrim", "x", "maxlen", "1"]],
        "xsetid": [["xsetid", "x", "9-9"]],
        "xack": [["xack", "x", "g", "1-1"]],
        "xclaim": [["xclaim", "x", "g", "bob", "0", "1-1"]],
        "xautoclaim": [["xautoclaim", "x", "g", "bob", "0", "0"]],
        "xreadgroup": [["xreadgroup", "group", "g", "carol", "streams", "x", ">"]],
        "xgroup|create": [["xgroup", "create", "x", "g2", "0"], ["xgroup", "create", "y", "g", "$", "mkstream"]],
        "xgroup|setid": [["xgroup", "setid", "x", "g", "0"]],
        "xgroup|createconsumer": [["xgroup", "createconsumer", "x", "g", "dave"]],
        "xgroup|delconsumer": [["xgroup", "delconsumer", "x", "g", "alice"]],
        "xgroup|destroy": [["xgroup", "destroy", "x", "g"]],
        "pfadd": [["pfadd", "hll", "a", "b"], ["pfadd", "hll2", "z"]],
        "pfmerge": [["pfmerge", "hll3", "hll", "hll9"]],
        "pfdebug": [["pfdebug", "todense", "hll"]],
    ]

    /// A key's value and deadline.
    struct Stored: Equatable {
        let value: Value
        let deadline: Int64?
    }

    /// Every live key of every database with its value and deadline.
    static func digest(_ engine: Engine) -> [String: Stored] {
        var out: [String: Stored] = [:]
        for (index, database) in engine.databases.enumerated() {
            for shard in database.shards {
                for (key, entry) in shard.entries {
                    let deadline = entry.hasDeadline ? shard.deadlines[key] : nil
                    out["\(index)/\(key.string)"] = Stored(value: entry.value, deadline: deadline)
                }
            }
        }
        return out
    }

    /// An engine holding every type, a deadline, and a stream group with a pending entry.
    static func seeded() -> Engine {
        let engine = Engine()
        var db = 0
        for words in [
            ["set", "s", "hello"], ["set", "n", "10"], ["set", "t", "v", "ex", "1000"],
            ["rpush", "l", "c", "b", "a"], ["hset", "h", "f1", "v1", "f2", "v2", "c", "1"],
            ["sadd", "set", "m1", "m2", "m3"], ["zadd", "z", "1", "a", "2", "b", "3", "c"],
            ["zadd", "lex", "0", "a", "0", "b", "0", "c"], ["xadd", "x", "1-1", "f", "v"],
            ["xadd", "x", "2-1", "f", "w"], ["xgroup", "create", "x", "g", "0"],
            ["xreadgroup", "group", "g", "alice", "count", "1", "streams", "x", ">"], ["pfadd", "hll", "x", "y"],
        ] {
            _ = engine.execute(words.map { Bytes($0) }, db: &db, now: now)
        }
        engine.discardRecord()
        return engine
    }

    /// Every write command the engine executes, subcommands included.
    static var writeCommands: [CommandSpec] {
        CommandTable.standard.allSpecs.filter {
            guard case .engine = $0.handler else { return false }
            return $0.flags.contains(.write)
        }
    }

    @Test func everyWriteCommandHasAnExample() {
        let missing = Self.writeCommands.map(\.name).filter { Self.examples[$0] == nil }.sorted()
        #expect(missing.isEmpty, "write commands without an example: \(missing)")
    }

    @Test func everyWriteThatChangesTheKeyspaceLeavesARecordThatReplays() {
        var changedSome = 0
        for spec in Self.writeCommands {
            for words in Self.examples[spec.name] ?? [] {
                let engine = Self.seeded()
                engine.recordsEffects = true
                let before = Self.digest(engine)
                var db = 0
                let reply = engine.execute(words.map { Bytes($0) }, db: &db, now: Self.now)
                let record = engine.record
                if case .error(let message) = reply { Issue.record("\(words): \(message)") }
                let after = Self.digest(engine)
                guard after != before else { continue }
                changedSome += 1
                #expect(record.touchesKeys, "\(words) changed the keyspace without noting a key")
                #expect(record.changes > 0, "\(words) changed the keyspace without counting a change")
                #expect(!record.effects.isEmpty, "\(words) changed the keyspace without an effect to log")
                // Replaying the logged effects on the keyspace before rebuilds the one after.
                let replica = Self.seeded()
                replica.suspendsExpiry = true
                for effect in record.effects {
                    var replayDb = effect.db
                    _ = replica.execute(effect.args, db: &replayDb, now: Self.now + 5_000)
                }
                #expect(Self.digest(replica) == after, "\(words): replaying \(record.effects) differs")
            }
        }
        #expect(changedSome > 80)
    }

    @Test func readsLeaveNoWrites() {
        let engine = Self.seeded()
        engine.recordsEffects = true
        var db = 0
        for words in [["get", "s"], ["lrange", "l", "0", "-1"], ["hgetall", "h"], ["zrange", "z", "0", "-1"]] {
            _ = engine.execute(words.map { Bytes($0) }, db: &db, now: Self.now)
        }
        #expect(engine.record.isEmpty)
    }

    @Test func refusedWritesLeaveNoWrites() {
        let engine = Self.seeded()
        engine.recordsEffects = true
        var db = 0
        for words in [["incr", "l"], ["sadd", "s", "m"], ["lpush", "h", "x"], ["hincrby", "h", "f1", "1"]] {
            _ = engine.execute(words.map { Bytes($0) }, db: &db, now: Self.now)
        }
        #expect(engine.record.writtenKeys.isEmpty)
        #expect(engine.record.effects.isEmpty)
        #expect(engine.record.changes == 0)
    }

    @Test func groupStateWakesButLeavesWatchesAlone() {
        let engine = Self.seeded()
        var db = 0
        _ = engine.execute(["xack", "x", "g", "1-1"].map { Bytes($0) }, db: &db, now: Self.now)
        #expect(engine.record.writtenKeys.isEmpty)
        #expect(engine.record.stateOnlyKeys == [KeyRef(db: 0, key: Bytes("x"))])
    }

    @Test func expiryAndWholeDatabasesAreRecorded() {
        let engine = Self.seeded()
        engine.recordsEffects = true
        var db = 0
        _ = engine.execute(["get", "t"].map { Bytes($0) }, db: &db, now: Self.now + 2_000_000)
        #expect(engine.record.removedKeys == [RemovedKey(key: KeyRef(db: 0, key: Bytes("t")), reason: .expired)])
        #expect(engine.record.effects.map(\.args) == [[Bytes("DEL"), Bytes("t")]])
        engine.discardRecord()
        _ = engine.execute(["swapdb", "0", "3"].map { Bytes($0) }, db: &db, now: Self.now)
        #expect(engine.record.wholeDatabases == [0, 3])
    }
}
