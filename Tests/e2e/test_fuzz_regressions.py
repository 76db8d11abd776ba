"""Cases the differential command fuzzer (Tools/command_fuzz.py) found, kept as regression
tests: each line runs on redis-server 7.0 and on Strata from the same state and the replies
must be equal (values, types, error texts). The first group crashed Strata; the rest
answered differently from Redis (most often: an argument checked before the key, where
Redis looks the key up first)."""
from test_differential import raw_client, run

SETUP = [
    "LPUSH L 2 1 0", "SET str hello", "HSET h f v g w", "SADD s a b", "ZADD z 1 a 2 b", "XADD st 1-1 f v",
    "XGROUP CREATE st g 0", "RPUSH list a b c",
]

CORPUS = [
    # Crashed the server (arithmetic overflow).
    "SORT_RO L BY a LIMIT 2 9223372036854775807", "SORT L LIMIT 1 9223372036854775807",
    "SORT L LIMIT -9223372036854775808 -9223372036854775808", "SORT L BY nosort DESC LIMIT 1 9223372036854775807",
    "SORT L LIMIT 9223372036854775807 9223372036854775807 STORE dst", "LRANGE dst 0 -1",
    # The key before the arguments.
    "BITCOUNT nosuch 2 +inf", "BITCOUNT h x y", "BITPOS nosuch 1 10 1e308 BIT", "LINDEX nosuch x", "LINDEX str nan",
    "LSET str x y", "LSET nosuch x y", "LSET list nan y", "SMOVE nosuch str m", "SMOVE s str a", "XDEL str bad",
    "XDEL nosuch bad", "XDEL st bad", "HSCAN nosuch 9 MATCH [a 10 (-inf", "HSCAN str 0 COUNT x", "SSCAN str 0 COUNT g",
    "SSCAN nosuch 0 COUNT g", "ZSCAN h 10 COUNT", "ZSCAN nosuch 0 COUNT 0", "SSCAN s 0 COUNT 0",
    "ZRANGE h 0 1 LIMIT 3 -1", "ZRANGE z 0 -1 REV LIMIT 5 -1", "ZRANGESTORE zd z 0 1 LIMIT 0 -1", "ZRANGE z 0 1 LIMIT 0 1",
    "XRANGE nosuch 12 11 COUNT 0", "XRANGE st - + COUNT 0", "XREVRANGE nosuch + - COUNT -2",
    # Numbers read as Redis reads them.
    "CONFIG SET zset-max-listpack-value +1", "CONFIG SET hz +5", "CONFIG SET hz ' 5'", "CONFIG SET hz 05",
    "CONFIG SET maxmemory-samples 00", "CONFIG SET hash-max-listpack-value ''", "CONFIG GET hash-max-listpack-value",
    "CONFIG SET hash-max-listpack-value 64", "CONFIG SET maxmemory 18446744073709551615",
    "CONFIG SET maxmemory 18446744073709551616", "CONFIG SET hash-max-listpack-value 18446744073709551615",
    "CONFIG SET maxmemory 0", "HRANDFIELD h 4611686018427387904 WITHVALUES",
    "HRANDFIELD h -4611686018427387905 WITHVALUES", "SELECT 4294967296", "SELECT -1", "MOVE str 2147483648",
    "SWAPDB 0 4294967296", "BLPOP list -0.0009", "BLPOP list inf", "BLPOP list nan",
    "MEMORY USAGE str SAMPLES -1", "SINTERCARD 1 s LIMIT abc", "LPOS list a COUNT abc", "LPOS list a FOO bar",
    # Stream ids as Redis's string2ull reads them.
    "XADD sid ' 1' f v", "XADD sid +2 f v", "XADD sid 003-07 f v", "XADD sid -0 f v", "XADD sid 4-+1 f v",
    "XSETID z +1", "XRANGE sid ' 1' +", "XRANGE sid '(+2' +", "XADD sid 18446744073709551616 f v",
    # Argument counts and shapes.
    "CLIENT LIST ID -2147483648", "CLIENT LIST TYPE NORMAL ID 5", "CLIENT LIST ID", "COMMAND INFO nosuchcommand",
    "COMMAND HELP x", "PUBSUB CHANNELS a b", "EVALSHA -3 10 set", "EVALSHA_RO ASC 1e3",
    "EVALSHA ffffffffffffffffffffffffffffffffffffffff x",
    # Scripts may not block.
    "EVAL \"return redis.pcall('xreadgroup','GROUP','g','c','BLOCK','10','STREAMS','st','>')\" 0",
    "EVAL \"return redis.pcall('XREAD','BLOCK','x','STREAMS','st','0')\" 0",
    # Counts read as Redis's C types read them; extra arguments refused.
    "WAIT 4294967296 2147483647", "WAIT -1 0", "SLOWLOG GET -2147483648 ABSTTL", "SLOWLOG GET 1 2",
]


def test_fuzzer_findings_answer_as_redis(server, redis_server):
    ours, theirs = raw_client(server), raw_client(redis_server)
    for command in SETUP:
        assert run(ours, command) == run(theirs, command), command
    mismatches = []
    for command in CORPUS:
        expected, actual = run(theirs, command), run(ours, command)
        if expected != actual:
            mismatches.append(f"{command}\n    redis:  {expected}\n    strata: {actual}")
    assert not mismatches, "\n".join(mismatches)
