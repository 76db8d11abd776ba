import Testing

@testable import StrataEngine

/// Numbers from clients at the edges of their range: each command must reply as Redis 7.0.15
/// does, never trap on overflow or an out-of-range index.
@Suite("ClientNumberBoundaries")
struct ClientNumberBoundaryTests {
    let max = "9223372036854775807"
    let min = "-9223372036854775808"
    static let outOfRange = Reply.error(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")

    @Test func sortLimitWithHugeCountsAndOffsets() {
        let h = Harness()
        h.run("LPUSH", "L", "2", "1", "0")
        #expect(h.run("SORT_RO", "L", "BY", "a", "LIMIT", "2", max) == .array([.b("2")]))
        #expect(h.run("SORT_RO", "L", "LIMIT", "1", max) == .array([.b("1"), .b("2")]))
        #expect(h.run("SORT_RO", "L", "LIMIT", max, max) == .array([]))
        #expect(h.run("SORT_RO", "L", "LIMIT", min, min) == .array([.b("0"), .b("1"), .b("2")]))
        #expect(h.run("SORT_RO", "L", "LIMIT", "-5", "2") == .array([.b("0"), .b("1")]))
        #expect(h.run("SORT", "L", "LIMIT", "1", max, "STORE", "dst") == .integer(2))
        h.run("ZADD", "z", "1", "a", "2", "b", "3", "c")
        #expect(h.run("SORT_RO", "z", "BY", "nosort", "DESC", "LIMIT", "1", max) == .array([.b("b"), .b("a")]))
    }

    @Test func lposOptionsAndRanks() {
        let h = Harness()
        h.run("RPUSH", "l", "a", "b", "a", "c")
        // Redis 7.0.15 negates LONG_MIN into itself: the first match from the tail.
        #expect(h.run("LPOS", "l", "a", "RANK", min) == .integer(2))
        #expect(h.run("LPOS", "l", "a", "RANK", max) == .null)
        #expect(h.run("LPOS", "l", "a", "RANK", "-" + max) == .null)
        #expect(h.run("LPOS", "l", "a", "COUNT", "abc") == .error("ERR COUNT can't be negative"))
        #expect(h.run("LPOS", "l", "a", "MAXLEN", "abc") == .error("ERR MAXLEN can't be negative"))
        #expect(h.run("LPOS", "l", "a", "RANK", "abc") == Errors.notInteger)
        #expect(h.run("LPOS", "l", "a", "FOO", "bar") == Errors.syntax)
        #expect(h.run("LPOS", "l", "a", "COUNT", max, "MAXLEN", max) == .array([.integer(0), .integer(2)]))
    }

    @Test func randomCountsAtTheLimits() {
        let h = Harness()
        h.run("HSET", "h", "a", "1", "b", "2")
        h.run("ZADD", "z", "1", "a")
        h.run("SADD", "s", "a")
        #expect(h.run("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES") == .error("ERR value is out of range"))
        #expect(h.run("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES") == .error("ERR value is out of range"))
        #expect(h.run("HRANDFIELD", "h", min, "foo") == Self.outOfRange)
        #expect(h.run("HRANDFIELD", "nokey", min) == Self.outOfRange)
        #expect(h.run("HRANDFIELD", "h", max) == .array([.b("a"), .b("b")]))
        #expect(h.run("ZRANDMEMBER", "z", min) == Self.outOfRange)
        #expect(h.run("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES") == .error("ERR value is out of range"))
        #expect(h.run("SRANDMEMBER", "s", min) == Self.outOfRange)
        #expect(h.run("SRANDMEMBER", "s", max) == .array([.b("a")]))
        #expect(h.run("SPOP", "s", min) == .error("ERR value is out of range, must be positive"))
    }

    @Test func bitCountAndPositionRanges() {
        let h = Harness()
        h.run(bytes: [Bytes("SET"), Bytes("bk"), Bytes([0xFF, 0xFF])])
        #expect(h.run("BITCOUNT", "bk", "-100", "-200") == .integer(0))
        #expect(h.run("BITCOUNT", "bk", min, min) == .integer(8))
        #expect(h.run("BITCOUNT", "bk", min, max, "BIT") == .integer(16))
        #expect(h.run("BITCOUNT", "nokey", "a", "b") == .integer(0))
        #expect(h.run("BITCOUNT", "nokey", "1") == .integer(0))
        #expect(h.run("BITPOS", "nokey", "1", "a") == .integer(-1))
        #expect(h.run("BITPOS", "bk", "1", "0", "abc", "FOO") == Errors.syntax)
        #expect(h.run("BITPOS", "bk", "1", "abc", "0", "BIT", "x") == Errors.syntax)
        #expect(h.run("BITPOS", "bk", "1", min, max, "BIT") == .integer(0))
        #expect(h.run("BITPOS", "bk", "0", max) == .integer(-1))
        #expect(h.run("SETBIT", "bk", max, "1") == Errors.bitOffset)
        #expect(h.run("GETBIT", "bk", "4294967296") == Errors.bitOffset)
    }

    @Test func stringRanges() {
        let h = Harness()
        h.run("SET", "s", "hello")
        #expect(h.run("GETRANGE", "s", min, max) == .b("hello"))
        #expect(h.run("GETRANGE", "s", max, min) == .b(""))
        #expect(h.run("GETRANGE", "s", min, min) == .b("h"))
        #expect(h.run("SUBSTR", "s", "-1", min) == .b(""))
        #expect(h.run("SETRANGE", "s", max, "x") == Errors.stringTooLong)
        #expect(h.run("SETRANGE", "s", "536870911", "xx") == Errors.stringTooLong)
        #expect(h.run("SETRANGE", "s", min, "x") == .error("ERR offset is out of range"))
        #expect(h.run("SETRANGE", "nokey", max, "") == .integer(0))
    }

    @Test func blockingTimeouts() {
        let h = Harness()
        let negative = Reply.error("ERR timeout is negative")
        let notFloat = Reply.error("ERR timeout is not a float or out of range")
        // Milliseconds beyond 64 bits convert to LLONG_MIN in Redis: "negative".
        for timeout in ["inf", "-inf", "1e300", "1e400", "9.3e15"] {
            #expect(h.run("BLPOP", "k", timeout) == negative)
            #expect(h.run("BZPOPMIN", "k", timeout) == negative)
            #expect(h.run("BLMOVE", "a", "b", "LEFT", "LEFT", timeout) == negative)
            #expect(h.run("BLMPOP", timeout, "1", "k", "LEFT") == negative)
        }
        #expect(h.run("BLPOP", "k", "nan") == notFloat)
        #expect(h.run("BLPOP", "k", "1e-5000") == notFloat)
        #expect(h.run("BLPOP", "k", "-1") == negative)
        // A tiny negative timeout rounds up to 0 (for ever); a tiny positive one to 1 ms.
        #expect(h.run("BLPOP", "k", "-0.0009") == .blockedOn(keys: [Bytes("k")], timeoutMilliseconds: 0))
        #expect(h.run("BLPOP", "k", "0.0009") == .blockedOn(keys: [Bytes("k")], timeoutMilliseconds: 1))
        #expect(
            h.run("BLPOP", "k", "9e15")
                == .blockedOn(keys: [Bytes("k")], timeoutMilliseconds: 9_000_000_000_000_000_000))
        #expect(h.run("XREAD", "BLOCK", "-1", "STREAMS", "s", "$") == negative)
    }

    @Test func databaseIndexes() {
        let h = Harness()
        let intRange = Reply.error("ERR value is out of range, value must between -2147483648 and 2147483647")
        h.run("SET", "k", "v")
        #expect(h.run("SELECT", "4294967296") == intRange)
        #expect(h.run("SELECT", "-2147483649") == intRange)
        #expect(h.run("SELECT", "16") == Errors.dbIndexOutOfRange)
        #expect(h.run("MOVE", "k", "4294967296") == intRange)
        #expect(h.run("MOVE", "k", "-1") == Errors.dbIndexOutOfRange)
        #expect(h.run("COPY", "k", "k2", "DB", "4294967296") == intRange)
        #expect(h.run("SWAPDB", "0", "4294967296") == .error("ERR invalid second DB index"))
        #expect(h.run("SWAPDB", "4294967296", "0") == .error("ERR invalid first DB index"))
        #expect(h.run("SWAPDB", "0", "16") == Errors.dbIndexOutOfRange)
    }

    @Test func memoryUsageSamples() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("MEMORY", "USAGE", "k", "SAMPLES", "-1") == Errors.syntax)
        #expect(h.run("MEMORY", "USAGE", "k", "SAMPLES", "abc") == Errors.notInteger)
        #expect(h.run("MEMORY", "USAGE", "k", "SAMPLES", "5", "SAMPLES") == Errors.syntax)
        guard case .integer = h.run("MEMORY", "USAGE", "k", "SAMPLES", "5", "SAMPLES", max) else {
            Issue.record("repeated SAMPLES should be accepted")
            return
        }
    }

    @Test func intersectionCardinalityLimits() {
        let h = Harness()
        h.run("SADD", "s", "a")
        #expect(h.run("SINTERCARD", "1", "s", "LIMIT", "abc") == .error("ERR LIMIT can't be negative"))
        #expect(h.run("SINTERCARD", "1", "s", "LIMIT", min) == .error("ERR LIMIT can't be negative"))
        #expect(h.run("SINTERCARD", "1", "s", "LIMIT", max) == .integer(1))
        #expect(h.run("SINTERCARD", max, "s") == .error("ERR Number of keys can't be greater than number of args"))
        #expect(h.run("ZINTERCARD", max, "s") == Errors.syntax)
        #expect(h.run("LMPOP", max, "l", "LEFT") == Errors.syntax)
        #expect(h.run("LMPOP", "1", "l", "LEFT", "COUNT", min) == .error("ERR count should be greater than 0"))
    }

    @Test func expireTimesNearTheLimit() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", max) == Errors.invalidExpireTime("expire"))
        #expect(h.run("EXPIREAT", "k", max) == Errors.invalidExpireTime("expireat"))
        #expect(h.run("PEXPIRE", "k", max) == Errors.invalidExpireTime("pexpire"))
        #expect(h.run("SET", "k", "v", "EX", max) == Errors.invalidExpireTime("set"))
        #expect(h.run("SET", "k", "v", "PX", max) == Errors.invalidExpireTime("set"))
        #expect(h.run("SET", "k", "v", "EX", min) == Errors.invalidExpireTime("set"))
        #expect(h.run("PSETEX", "k", max, "v") == Errors.invalidExpireTime("psetex"))
        #expect(h.run("GETEX", "k", "EX", max) == Errors.invalidExpireTime("getex"))
        #expect(h.run("PEXPIREAT", "k", max) == .integer(1))
        // Seconds round to nearest, as Redis's `(ms+500)/1000`, even at the limit.
        #expect(h.run("EXPIRETIME", "k") == .integer(9_223_372_036_854_776))
        #expect(h.run("PEXPIRETIME", "k") == .integer(Int.max))
        #expect(h.run("PTTL", "k") == .integer(Int.max - Int(h.now)))
        #expect(h.run("TTL", "k") == .integer((Int.max - Int(h.now)) / 1000 + 1))
        h.run("PEXPIREAT", "k", "99999999999500")
        #expect(h.run("EXPIRETIME", "k") == .integer(100_000_000_000))
        #expect(h.run("EXPIRE", "k", min) == Errors.invalidExpireTime("expire"))
        #expect(h.run("EXPIRE", "k", "-9223372036854775") == .integer(1))
        #expect(h.run("EXISTS", "k") == .integer(0))
    }

    @Test func countersAtTheLimits() {
        let h = Harness()
        h.run("SET", "n", "1")
        #expect(h.run("INCRBY", "n", max) == Errors.overflow)
        #expect(h.run("DECRBY", "n", min) == .error("ERR decrement would overflow"))
        h.run("SET", "n", "-2")
        #expect(h.run("DECRBY", "n", max) == Errors.overflow)
        h.run("HSET", "h", "f", max)
        #expect(h.run("HINCRBY", "h", "f", "1") == Errors.overflow)
        #expect(h.run("HINCRBY", "h", "g", min) == .integer(Int.min))
        #expect(h.run("HINCRBY", "h", "g", "-1") == Errors.overflow)
        #expect(h.run("HINCRBYFLOAT", "h", "x", "inf") == .error("ERR value is NaN or Infinity"))
        h.run("SET", "f", "1")
        #expect(h.run("INCRBYFLOAT", "f", "inf") == .error("ERR increment would produce NaN or Infinity"))
    }

    @Test func longFloatArguments() {
        let h = Harness()
        let number = { (length: Int) in "1." + String(repeating: "0", count: length - 2) }
        #expect(h.run("INCRBYFLOAT", "f", number(5119)) == .b("1"))
        #expect(h.run("INCRBYFLOAT", "f", number(5120)) == Errors.notFloat)
        #expect(h.run("ZADD", "z", number(6000), "m") == .integer(1))
    }

    @Test func sortedSetRangesAtTheLimits() {
        let h = Harness()
        h.run("ZADD", "z", "1", "a", "2", "b", "3", "c")
        #expect(h.run("ZRANGE", "z", min, max) == .array([.b("a"), .b("b"), .b("c")]))
        #expect(h.run("ZRANGE", "z", max, min) == .array([]))
        #expect(h.run("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", max) == .array([.b("b"), .b("c")]))
        #expect(
            h.run("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", max) == .array([.b("b"), .b("a")]))
        #expect(h.run("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", min, min) == .array([]))
        #expect(h.run("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", max, "1") == .array([]))
        #expect(h.run("ZRANGESTORE", "d", "z", min, max) == .integer(3))
        #expect(h.run("ZREMRANGEBYRANK", "z", max, min) == .integer(0))
        #expect(
            h.run("ZPOPMIN", "z", max) == .pairs([(.b("a"), .double(1)), (.b("b"), .double(2)), (.b("c"), .double(3))]))
    }

    @Test func listIndexesAtTheLimits() {
        let h = Harness()
        h.run("RPUSH", "l", "a", "b", "c")
        #expect(h.run("LRANGE", "l", min, max) == .array([.b("a"), .b("b"), .b("c")]))
        #expect(h.run("LINDEX", "l", min) == .null)
        #expect(h.run("LSET", "l", max, "x") == .error("ERR index out of range"))
        #expect(h.run("LREM", "l", min, "a") == .integer(1))
        #expect(h.run("LTRIM", "l", min, max) == .ok)
        #expect(h.run("LPOP", "l", max) == .array([.b("b"), .b("c")]))
    }

    @Test func repeatedRandomRepliesAreBounded() {
        let h = Harness()
        h.run("SADD", "s", "a", "b")
        h.run("HSET", "h", "f", "v")
        h.run("ZADD", "z", "1", "m")
        let tooMany = String(-RandomReplyLimit.maximumRepeated - 1)
        for command in [["SRANDMEMBER", "s"], ["HRANDFIELD", "h"], ["ZRANDMEMBER", "z"]] {
            // Redis 7.0 tries to build these and is killed for want of memory; Strata refuses.
            let run = { (count: String) in h.run(bytes: (command + [count]).map { Bytes($0) }) }
            #expect(run("-" + max) == RandomReplyLimit.tooLarge)
            #expect(run(tooMany) == RandomReplyLimit.tooLarge)
            guard case .array(let five) = run("-5") else {
                Issue.record("\(command) -5 is not an array")
                continue
            }
            #expect(five.count == 5)
        }
        #expect(h.run("SRANDMEMBER", "missing", "-" + max) == .array([]))
    }

    @Test func streamIdsAreReadAsRedisReadsThem() {
        // Redis's string2ull: strict integers, or else C's strtoull (spaces, `+`, zeros, wrap).
        #expect(StreamID.parse(Bytes(" 1")) == StreamID(ms: 1, seq: 0))
        #expect(StreamID.parse(Bytes("+2-007")) == StreamID(ms: 2, seq: 7))
        #expect(StreamID.parse(Bytes("1--05")) == StreamID(ms: 1, seq: UInt64.max - 4))
        #expect(StreamID.parse(Bytes("-0")) == nil)  // the first `-` splits: an empty ms
        #expect(StreamID.parse(Bytes("1--5")) == nil)  // a strict negative is refused
        #expect(StreamID.parse(Bytes("18446744073709551615-18446744073709551615")) == .max)
        #expect(StreamID.parse(Bytes("18446744073709551616")) == nil)
        #expect(StreamID.parse(Bytes("3\u{0}junk")) == StreamID(ms: 3, seq: 0))  // C strings end at NUL
        #expect(StreamID.parse(Bytes(String(repeating: "0", count: 128))) == nil)
        let h = Harness()
        #expect(h.run("XADD", "s", " 1", "f", "v") == .b("1-0"))
        #expect(h.run("XDEL", "nosuch", "bad") == .integer(0))
    }
}
