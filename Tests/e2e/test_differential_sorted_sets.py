"""Differential test for sorted sets: the same commands against Redis 7 and Strata, replies
compared exactly (values, score formatting, error texts), in RESP2 and RESP3."""
from test_differential import raw_client, run

CORPUS = [
    # ZADD flags, errors and replies
    "ZADD z 1 a 2 b 3 c", "ZADD z 1 a", "ZADD z CH 5 a 2 b", "ZADD z NX 9 a 4 d", "ZADD z XX 9 a 4 e",
    "ZADD z XX CH 10 a", "ZADD z GT 1 a", "ZADD z GT CH 11 a", "ZADD z LT 20 a", "ZADD z LT CH 0.5 a",
    "ZADD z INCR 2 a", "ZADD z INCR NX 2 a", "ZADD z INCR XX 2 zz", "ZADD z INCR GT -100 a",
    "ZADD z NX XX 1 a", "ZADD z GT LT 1 a", "ZADD z GT NX 1 a", "ZADD z INCR 1 a 2 b", "ZADD z 1",
    "ZADD z", "ZADD z x a", "ZADD z nan a", "ZADD z 1e400 a", "ZADD z ' 1' a", "ZADD z 1 a 2",
    "ZADD z BOGUS 1 a", "ZADD z inf pinf -inf ninf +inf pinf2", "ZADD z 1.1 f1 0.1 f2 -0.5 f3 1e10 f4 1e-5 f5",
    "ZADD zx XX 1 a", "EXISTS zx", "ZADD zx XX INCR 1 a", "ZADD s 1 a", "SET s v", "ZADD s 1 a",
    "ZINCRBY z 5 b", "ZINCRBY z 1.5 new", "ZINCRBY z x b", "ZINCRBY z inf pinf", "ZINCRBY z -inf pinf",
    "ZINCRBY s 1 a", "ZRANDMEMBER s", "ZINCRBY nz 3 m", "ZSCORE nz m", "ZINCRBY z 1e308 f4", "ZINCRBY z 1e308 f4",
    # reads
    "ZSCORE z a", "ZSCORE z nosuch", "ZSCORE nosuch a", "ZSCORE s a", "ZSCORE z f1", "ZSCORE z f2",
    "ZMSCORE z a nosuch b", "ZMSCORE nosuch a b", "ZMSCORE z", "ZCARD z", "ZCARD nosuch", "ZCARD s",
    "ZCOUNT z -inf +inf", "ZCOUNT z 1 3", "ZCOUNT z (1 3", "ZCOUNT z (1 (3", "ZCOUNT z 3 1", "ZCOUNT z x 1",
    "ZCOUNT z '' 5", "ZCOUNT z ' 1' 5", "ZCOUNT z ( 5", "ZCOUNT z (nan 5", "ZCOUNT nosuch 0 1", "ZCOUNT s 0 1",
    "ZCOUNT s x 1", "ZRANK z a", "ZRANK z nosuch", "ZRANK nosuch a", "ZREVRANK z a", "ZREVRANK z pinf",
    "ZRANK z ninf", "ZRANK s a",
    # ZRANGE family
    "ZRANGE z 0 -1", "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z 2 4", "ZRANGE z -3 -1 WITHSCORES", "ZRANGE z 5 2",
    "ZRANGE z 100 200", "ZRANGE z -100 1", "ZRANGE z 0 -1 REV", "ZRANGE z 0 1 REV WITHSCORES",
    "ZRANGE z x 1", "ZRANGE z 0 1 LIMIT 0 1", "ZRANGE z 0 1 BOGUS", "ZRANGE z 0 1 REV REV",
    "ZRANGE z (1 5 BYSCORE", "ZRANGE z -inf +inf BYSCORE WITHSCORES", "ZRANGE z 5 (1 BYSCORE REV",
    "ZRANGE z -inf +inf BYSCORE LIMIT 1 2", "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES",
    "ZRANGE z -inf +inf BYSCORE LIMIT -1 2", "ZRANGE z -inf +inf BYSCORE LIMIT 1 -1", "ZRANGE z -inf +inf BYSCORE LIMIT 100 1",
    "ZRANGE z -inf +inf BYSCORE LIMIT 0 0", "ZRANGE z x 1 BYSCORE", "ZRANGE z 0 1 BYSCORE BYLEX",
    "ZRANGE z - + BYLEX WITHSCORES", "ZRANGE z a b BYLEX", "ZRANGE z 0 1 LIMIT x 1", "ZRANGE z 0 1 LIMIT 1",
    "ZRANGE nosuch 0 -1", "ZRANGE s 0 -1", "ZRANGE nosuch x 1", "ZRANGE z 0 -1 BYSCORE WITHSCORES",
    "ZREVRANGE z 0 -1", "ZREVRANGE z 0 2 WITHSCORES", "ZREVRANGE z 0 1 REV", "ZREVRANGE z 0 1 LIMIT 0 1",
    "ZRANGEBYSCORE z -inf +inf", "ZRANGEBYSCORE z (1 +inf WITHSCORES LIMIT 1 3", "ZRANGEBYSCORE z 1 2 BYSCORE",
    "ZRANGEBYSCORE z 1 2 REV", "ZREVRANGEBYSCORE z +inf -inf", "ZREVRANGEBYSCORE z 5 (1 WITHSCORES",
    "ZREVRANGEBYSCORE z +inf -inf LIMIT 2 2", "ZRANGEBYSCORE z a b", "ZRANGEBYSCORE nosuch 0 1",
    "ZADD lex 0 a 0 b 0 c 0 d 0 e 0 ab 0 '' 0 zz", "ZRANGEBYLEX lex - +", "ZRANGEBYLEX lex [b [d",
    "ZRANGEBYLEX lex (a (d", "ZRANGEBYLEX lex [a +", "ZRANGEBYLEX lex - (c LIMIT 1 2", "ZRANGEBYLEX lex + -",
    "ZRANGEBYLEX lex a b", "ZRANGEBYLEX lex [a", "ZRANGEBYLEX lex - + WITHSCORES", "ZRANGEBYLEX lex ++ -",
    "ZREVRANGEBYLEX lex + -", "ZREVRANGEBYLEX lex [d (a", "ZREVRANGEBYLEX lex + - LIMIT 1 3",
    "ZRANGE lex [b [d BYLEX REV", "ZRANGE lex [d [b BYLEX REV", "ZRANGE lex - + BYLEX LIMIT 2 3",
    "ZLEXCOUNT lex - +", "ZLEXCOUNT lex [b (d", "ZLEXCOUNT lex x y", "ZLEXCOUNT nosuch - +", "ZLEXCOUNT s - +",
    "ZRANGESTORE zd z 0 2", "ZRANGE zd 0 -1 WITHSCORES", "ZRANGESTORE zd z (1 +inf BYSCORE LIMIT 0 2",
    "ZRANGE zd 0 -1 WITHSCORES", "ZRANGESTORE zd z 10 20", "EXISTS zd", "ZRANGESTORE zd nosuch 0 -1",
    "ZRANGESTORE zd z 0 -1 WITHSCORES", "ZRANGESTORE zd s 0 -1", "ZRANGESTORE zd lex [b [d BYLEX REV",
    "ZRANGESTORE zd lex [d [b BYLEX REV", "ZRANGE zd 0 -1", "OBJECT ENCODING zd",
    # removal
    "ZREM z a nosuch", "ZREM z a", "ZREM nosuch a", "ZREM s a", "ZREM z", "ZADD zr 1 a 2 b 3 c 4 d 5 e",
    "ZREMRANGEBYRANK zr 0 1", "ZRANGE zr 0 -1", "ZREMRANGEBYRANK zr -1 -1", "ZREMRANGEBYRANK zr 5 10",
    "ZREMRANGEBYRANK zr x 1", "ZREMRANGEBYRANK nosuch 0 1", "ZREMRANGEBYRANK s 0 1", "ZREMRANGEBYRANK nosuch x 1",
    "ZADD zr 10 x 20 y", "ZREMRANGEBYSCORE zr (3 10", "ZRANGE zr 0 -1 WITHSCORES", "ZREMRANGEBYSCORE zr x 1",
    "ZREMRANGEBYSCORE nosuch x 1", "ZREMRANGEBYSCORE zr -inf +inf", "EXISTS zr", "ZADD zl 0 a 0 b 0 c 0 d",
    "ZREMRANGEBYLEX zl [b (d", "ZRANGE zl 0 -1", "ZREMRANGEBYLEX zl x y", "ZREMRANGEBYLEX zl - +", "EXISTS zl",
    # pops
    "ZADD zp 1 a 2 b 3 c 4 d 5 e", "ZPOPMIN zp", "ZPOPMAX zp", "ZPOPMIN zp 2", "ZPOPMAX zp 0", "ZPOPMIN zp -1",
    "ZPOPMIN zp x", "ZPOPMIN zp 1 2", "ZPOPMIN nosuch", "ZPOPMIN nosuch 2", "ZPOPMAX zp 10", "EXISTS zp",
    "ZPOPMIN s", "ZPOPMIN s 0", "ZADD zm 1 a 2 b 3 c", "ZMPOP 2 nosuch zm MIN", "ZMPOP 1 zm MAX COUNT 5",
    "ZMPOP 1 zm MIN", "ZMPOP 0 zm MIN", "ZMPOP x zm MIN", "ZMPOP 3 zm MIN", "ZMPOP 1 zm MIDDLE",
    "ZMPOP 1 zm MIN COUNT 0", "ZMPOP 1 zm MIN COUNT x", "ZMPOP 1 zm MIN COUNT", "ZMPOP 1 zm MIN COUNT 1 COUNT 1",
    "ZMPOP 1 s MIN", "ZADD zb 1 a 2 b", "BZPOPMIN nosuch zb 0", "BZPOPMAX zb 0.1", "BZPOPMIN zb x", "BZPOPMIN zb -1",
    "BZPOPMIN s 0.1", "ZADD zb 1 a 2 b 3 c", "BZMPOP 0.1 2 nosuch zb MAX COUNT 2", "BZMPOP 0.1 0 zb MIN",
    "BZMPOP x 1 zb MIN", "BZMPOP 0.1 1 zb BAD", "MULTI", "BZPOPMIN emptyz 0", "BZMPOP 0 1 emptyz MIN", "EXEC",
    # algebra
    "ZADD za 1 a 2 b 3 c", "ZADD zc 10 b 20 c 30 d", "SADD sz b d x", "ZUNION 2 za zc", "ZUNION 2 za zc WITHSCORES",
    "ZUNION 2 za zc WEIGHTS 2 0.5 WITHSCORES", "ZUNION 2 za zc AGGREGATE MIN WITHSCORES",
    "ZUNION 2 za zc AGGREGATE MAX WITHSCORES", "ZUNION 3 za zc sz WITHSCORES", "ZUNION 2 za nosuch WITHSCORES",
    "ZUNION 0 za", "ZUNION -1 za", "ZUNION x za", "ZUNION 3 za zc", "ZUNION 2 za s", "ZUNION 2 za zc WEIGHTS 1",
    "ZUNION 2 za zc WEIGHTS 1 x", "ZUNION 2 za zc AGGREGATE AVG", "ZUNION 2 za zc BOGUS",
    "ZUNION 1 za WEIGHTS inf WITHSCORES", "ZUNION 2 za za WEIGHTS inf -inf WITHSCORES",
    "ZINTER 2 za zc", "ZINTER 2 za zc WITHSCORES", "ZINTER 2 za zc WEIGHTS 1 -1 AGGREGATE MAX WITHSCORES",
    "ZINTER 3 za zc sz WITHSCORES", "ZINTER 2 za nosuch", "ZINTER 1 s", "ZDIFF 2 za zc", "ZDIFF 2 zc za WITHSCORES",
    "ZDIFF 2 zc sz WITHSCORES", "ZDIFF 1 nosuch", "ZDIFF 2 za zc WEIGHTS 1 1", "ZDIFF 2 za zc AGGREGATE SUM",
    "ZINTERCARD 2 za zc", "ZINTERCARD 2 za zc LIMIT 1", "ZINTERCARD 2 za zc LIMIT -1", "ZINTERCARD 0 za",
    "ZINTERCARD 2 za zc WITHSCORES", "ZINTERCARD 2 za zc LIMIT x", "ZINTERCARD 1 nosuch",
    "ZUNIONSTORE zu 2 za zc", "ZRANGE zu 0 -1 WITHSCORES", "ZUNIONSTORE zu 2 za zc WITHSCORES",
    "ZINTERSTORE zu 2 za zc AGGREGATE MIN", "ZRANGE zu 0 -1 WITHSCORES", "ZINTERSTORE zu 2 za nosuch", "EXISTS zu",
    "ZDIFFSTORE zu 2 zc za", "ZRANGE zu 0 -1 WITHSCORES", "ZDIFFSTORE zu 1 nosuch", "EXISTS zu",
    "ZUNIONSTORE s 1 za", "TYPE s", "ZUNIONSTORE zu 0 za", "ZINTERSTORE zu 1 sz", "ZRANGE zu 0 -1 WITHSCORES",
    "OBJECT ENCODING zu",
    # random members, scanning, encodings, generic commands
    "ZRANDMEMBER nosuch", "ZRANDMEMBER nosuch 3", "ZRANDMEMBER za 0", "ZRANDMEMBER za x", "ZRANDMEMBER za 1 2",
    "ZRANDMEMBER za 1 WITHSCORES x", "ZRANDMEMBER za -9223372036854775808", "ZRANDMEMBER za -9223372036854775807 WITHSCORES",
    "ZRANDMEMBER za 10 WITHSCORES", "ZSCAN za 0", "ZSCAN za 0 MATCH a*", "ZSCAN nosuch 0",
    "ZSCAN za x", "ZSCAN s 0", "OBJECT ENCODING za", "TYPE za", "ZADD zbig 1 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "OBJECT ENCODING zbig", "CONFIG SET zset-max-listpack-entries 2", "ZADD zsm 1 a 2 b", "OBJECT ENCODING zsm",
    "ZADD zsm 3 c", "OBJECT ENCODING zsm", "ZREM zsm a b", "OBJECT ENCODING zsm", "ZADD zh 1 a 1 a 1 a",
    "OBJECT ENCODING zh", "CONFIG GET zset-max-*", "CONFIG SET zset-max-ziplist-entries 128",
    "CONFIG GET zset-max-listpack-entries", "CONFIG SET list-max-listpack-size -3", "CONFIG GET list-max-*",
    "CONFIG SET list-max-listpack-size -2", "RENAME za za2", "ZRANGE za2 0 -1", "COPY za2 za3", "ZRANGE za3 0 -1 WITHSCORES",
    "SCAN 0 TYPE zset COUNT 1000", "SORT za3", "SORT za3 DESC", "SORT za3 ALPHA", "SORT za3 BY nosort",
    "SORT za3 BY nosort DESC", "SORT za3 BY nosort LIMIT 1 1", "ZADD zn 3 x 1 y 2 z", "SORT zn BY nosort",
    "SORT zn BY nosort DESC LIMIT 0 2", "SORT zn ALPHA STORE zsorted", "LRANGE zsorted 0 -1",
]

RESP3_CORPUS = [
    "ZADD z 1 a 2.5 b 3 c", "ZSCORE z b", "ZMSCORE z a nosuch", "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z 0 -1",
    "ZADD z INCR 1 a", "ZINCRBY z 0.5 a", "ZPOPMIN z", "ZPOPMAX z 2", "ZPOPMIN nosuch", "ZADD z 1 a 2 b",
    "ZMPOP 1 z MIN COUNT 2", "ZADD z 1 a 2 b", "BZPOPMAX z 0", "ZUNION 1 z WITHSCORES", "ZRANDMEMBER z 5 WITHSCORES",
    "ZADD zi 1 a", "ZADD zi INCR 1e400 a", "ZADD zi 1 inf", "ZSCORE zi inf", "ZRANK zi a", "ZSCAN zi 0",
]


def compare(theirs, ours, corpus):
    mismatches = []
    for command in corpus:
        expected = run(theirs, command)
        actual = run(ours, command)
        head = command.split()[0].upper()
        if head in ("ZRANDMEMBER", "ZSCAN") and expected[0] == "ok" and actual[0] == "ok":
            expected, actual = (expected[0], sort_deep(expected[1])), (actual[0], sort_deep(actual[1]))
        if expected != actual:
            mismatches.append(f"{command!r}: redis={expected!r} strata={actual!r}")
    return mismatches


def sort_deep(reply):
    """Random and scan replies compare as multisets."""
    if isinstance(reply, list):
        return sorted((sort_deep(item) for item in reply), key=repr)
    return reply


def test_sorted_set_replies_match_redis_7(server, redis_server):
    mismatches = compare(raw_client(redis_server), raw_client(server), CORPUS)
    assert not mismatches, "\n".join(mismatches)


def test_sorted_set_resp3_replies_match_redis_7(server, redis_server):
    mismatches = compare(raw_client(redis_server, protocol=3), raw_client(server, protocol=3), RESP3_CORPUS)
    assert not mismatches, "\n".join(mismatches)
