import Testing

@testable import StrataEngine

private func bulks(_ words: String...) -> Reply {
    .array(words.map { .b($0) })
}

@Suite("SortedSetCommands")
struct SortedSetCommandsTests {
    /// ZADD's flags, one row each: the command and its reply, run in order on one key.
    @Test func zaddFlags() {
        let h = Harness()
        let rows: [([String], Reply)] = [
            (["ZADD", "z", "1", "a", "2", "b"], .integer(2)),
            (["ZADD", "z", "NX", "5", "a", "3", "c"], .integer(1)),
            (["ZADD", "z", "XX", "CH", "5", "a", "4", "d"], .integer(1)),
            (["ZADD", "z", "GT", "CH", "1", "a"], .integer(0)),
            (["ZADD", "z", "LT", "CH", "1", "a"], .integer(1)),
            (["ZADD", "z", "INCR", "2.5", "a"], .double(3.5)),
            (["ZADD", "z", "NX", "INCR", "1", "a"], .null),
            (["ZADD", "z", "GT", "INCR", "-1", "a"], .null),
            (["ZINCRBY", "z", "inf", "a"], .double(.infinity)),
            (["ZINCRBY", "z", "-inf", "a"], .error("ERR resulting score is not a number (NaN)")),
            (["ZADD", "z", "NX", "XX", "1", "a"], .error("ERR XX and NX options at the same time are not compatible")),
            (
                ["ZADD", "z", "GT", "LT", "1", "a"],
                .error("ERR GT, LT, and/or NX options at the same time are not compatible")
            ),
            (
                ["ZADD", "z", "INCR", "1", "a", "1", "b"],
                .error("ERR INCR option supports a single increment-element pair")
            ),
            (["ZADD", "z", "nan", "a"], .error("ERR value is not a valid float")),
            (["ZADD", "z", "1", "a", "2"], .error("ERR syntax error")),
            (["ZSCORE", "z", "a"], .double(.infinity)),
            (["ZCARD", "z"], .integer(3)),
        ]
        for (words, expected) in rows {
            #expect(h.run(bytes: words.map { Bytes($0) }) == expected, "\(words)")
        }
    }

    @Test func rangesByRankScoreAndLex() {
        let h = Harness()
        h.run("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
        #expect(h.run("ZRANGE", "z", "1", "-2") == bulks("b", "c", "d"))
        #expect(h.run("ZRANGE", "z", "0", "1", "REV") == bulks("e", "d"))
        #expect(h.run("ZRANGE", "z", "(1", "3", "BYSCORE") == bulks("b", "c"))
        #expect(h.run("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2") == bulks("d", "c"))
        #expect(h.run("ZRANGEBYSCORE", "z", "-inf", "(2", "WITHSCORES") == .pairs([(.b("a"), .double(1))]))
        #expect(h.run("ZREVRANGEBYSCORE", "z", "4", "2", "LIMIT", "0", "2") == bulks("d", "c"))
        #expect(h.run("ZCOUNT", "z", "(1", "(5") == .integer(3))
        #expect(h.run("ZRANK", "z", "c") == .integer(2))
        #expect(h.run("ZREVRANK", "z", "c", "WITHSCORE") == .array([.integer(2), .double(3)]))
        #expect(h.run("ZRANK", "z", "nosuch", "WITHSCORE") == .nullArray)
        h.run("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d")
        #expect(h.run("ZRANGEBYLEX", "l", "[b", "(d") == bulks("b", "c"))
        #expect(h.run("ZREVRANGEBYLEX", "l", "+", "(b") == bulks("d", "c"))
        #expect(h.run("ZLEXCOUNT", "l", "-", "+") == .integer(4))
        #expect(h.run("ZRANGEBYLEX", "l", "b", "d") == .error("ERR min or max not valid string range item"))
        #expect(h.run("ZRANGESTORE", "dst", "z", "0", "1") == .integer(2))
        #expect(
            h.run("ZRANGE", "dst", "0", "-1", "WITHSCORES") == .pairs([(.b("a"), .double(1)), (.b("b"), .double(2))]))
    }

    @Test func removalAndPops() {
        let h = Harness()
        h.run("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f")
        #expect(h.run("ZREMRANGEBYRANK", "z", "0", "0") == .integer(1))
        #expect(h.run("ZREMRANGEBYSCORE", "z", "(5", "+inf") == .integer(1))
        #expect(h.run("ZPOPMIN", "z") == .array([.b("b"), .double(2)]))
        #expect(h.run("ZPOPMAX", "z", "2") == .pairs([(.b("e"), .double(5)), (.b("d"), .double(4))]))
        #expect(
            h.run("ZMPOP", "2", "nosuch", "z", "MIN", "COUNT", "5")
                == .array([.b("z"), .array([.array([.b("c"), .double(3)])])]))
        #expect(h.run("EXISTS", "z") == .integer(0))
        #expect(h.run("ZMPOP", "1", "z", "MIN") == .nullArray)
        h.run("ZADD", "q", "1", "x")
        #expect(h.run("BZPOPMIN", "empty", "q", "0") == .array([.b("q"), .b("x"), .double(1)]))
        #expect(h.run("BZPOPMIN", "q", "0.5") == .blockedOn(keys: [Bytes("q")], timeoutMilliseconds: 500))
    }

    @Test func algebraWithWeightsAndSets() {
        let h = Harness()
        h.run("ZADD", "a", "1", "x", "2", "y")
        h.run("ZADD", "b", "10", "y", "20", "z")
        h.run("SADD", "s", "y", "w")
        #expect(
            h.run("ZUNION", "2", "a", "b", "WEIGHTS", "2", "1", "WITHSCORES")
                == .pairs([(.b("x"), .double(2)), (.b("y"), .double(14)), (.b("z"), .double(20))]))
        #expect(
            h.run("ZINTER", "3", "a", "b", "s", "AGGREGATE", "MAX", "WITHSCORES") == .pairs([(.b("y"), .double(10))]))
        #expect(h.run("ZDIFF", "2", "b", "a") == bulks("z"))
        #expect(h.run("ZINTERCARD", "2", "a", "b") == .integer(1))
        #expect(h.run("ZUNIONSTORE", "u", "2", "a", "s") == .integer(3))
        #expect(h.run("ZSCORE", "u", "y") == .double(3))
        #expect(h.run("ZINTERSTORE", "u", "2", "a", "nosuch") == .integer(0))
        #expect(h.run("EXISTS", "u") == .integer(0))
        h.run("SET", "str", "v")
        #expect(h.run("ZUNION", "2", "a", "str") == Errors.wrongType)
    }

    @Test func genericCommandsSeeTheType() {
        let h = Harness()
        h.run("ZADD", "z", "2", "b", "1", "a")
        #expect(h.run("TYPE", "z") == .status("zset"))
        #expect(h.run("OBJECT", "ENCODING", "z") == .b("listpack"))
        #expect(h.run("SORT", "z", "BY", "nosort", "DESC") == bulks("b", "a"))
        #expect(h.run("COPY", "z", "y") == .integer(1))
        h.run("ZADD", "z", "3", "c")
        #expect(h.run("ZCARD", "y") == .integer(2))
        #expect(h.run("GET", "z") == Errors.wrongType)
        #expect(h.run("ZADD", "z", "1", String(repeating: "x", count: 65)) == .integer(1))
        #expect(h.run("OBJECT", "ENCODING", "z") == .b("skiplist"))
    }
}
