"""Differential test for HyperLogLogs: the same PFADD/PFCOUNT/PFMERGE/PFDEBUG sequences
against Redis 7 and Strata, replies compared exactly (errors included, RESP2 and RESP3),
and the raw values (GET) compared byte for byte, sparse and dense, small and 100k-element
sets, corrupted values set by a client. Values cross between the servers both ways, and a
HyperLogLog survives SAVE and an append-only restart."""
import glob
import os
import random

import pytest
import redis

from conftest import wait_loaded
from test_differential import raw_client

HEADER = b"HYLL"


def header(encoding, card=b"\x00" * 7 + b"\x80"):
    return HEADER + bytes([encoding]) + b"\x00\x00\x00" + card


def call(client, *args):
    try:
        reply = client.execute_command(*args)
        return ("ok", reply)
    except redis.ResponseError as e:
        return ("error", str(e))


def same(ours, theirs, *args):
    a = call(ours, *args)
    b = call(theirs, *args)
    assert a == b, f"{args[:4]}: strata {a!r} != redis {b!r}"
    return a


def same_value(ours, theirs, key):
    assert ours.get(key) == theirs.get(key), f"GET {key} differs"


def add_many(client, key, elements, batch=5000):
    replies = []
    for i in range(0, len(elements), batch):
        replies.append(client.execute_command("PFADD", key, *elements[i:i + batch]))
    return replies


CORPUS = [
    ["PFADD", "h"], ["GET", "h"], ["PFADD", "h"], ["PFCOUNT", "h"], ["PFADD", "h", "a", "b", "c"], ["GET", "h"],
    ["PFADD", "h", "a"], ["PFCOUNT", "h"], ["GET", "h"], ["PFCOUNT", "h"], ["PFCOUNT", "h", "nosuch"],
    ["PFCOUNT", "nosuch"], ["PFCOUNT", "nosuch", "nosuch2"], ["PFADD", "g", "c", "d", "e", "\xff\x00", ""],
    ["PFMERGE", "m", "h", "g"], ["GET", "m"], ["PFCOUNT", "m"], ["PFMERGE", "m"], ["PFMERGE", "fresh"],
    ["GET", "fresh"], ["PFMERGE", "m2", "nosuch"], ["GET", "m2"], ["PFDEBUG", "ENCODING", "h"],
    ["PFDEBUG", "encoding", "h"], ["PFDEBUG", "DECODE", "h"], ["PFDEBUG", "GETREG", "nosuch"],
    ["PFDEBUG", "BOGUS", "h"], ["PFDEBUG", "BOGUS", "nosuch"], ["PFDEBUG", "TODENSE", "g"], ["GET", "g"],
    ["PFDEBUG", "TODENSE", "g"], ["PFDEBUG", "DECODE", "g"], ["PFDEBUG", "ENCODING", "g"], ["PFCOUNT", "g"],
    ["PFMERGE", "m3", "h", "g"], ["PFDEBUG", "ENCODING", "m3"], ["GET", "m3"], ["PFCOUNT", "m3", "h", "g"],
    ["PFADD", "g", "z1", "z2"], ["GET", "g"], ["PFDEBUG", "GETREG", "h"], ["GET", "h"],
    ["SET", "str", "hello"], ["PFADD", "str", "a"], ["PFCOUNT", "str"], ["PFCOUNT", "h", "str"],
    ["PFMERGE", "str", "h"], ["PFMERGE", "m", "str"], ["PFDEBUG", "GETREG", "str"], ["RPUSH", "list", "x"],
    ["PFADD", "list", "a"], ["PFCOUNT", "list"], ["PFCOUNT", "h", "list"], ["PFMERGE", "list", "h"],
    ["PFMERGE", "m", "list"], ["PFDEBUG", "ENCODING", "list"], ["SET", "num", "1234567890123456"],
    ["PFADD", "num", "a"], ["PFADD"], ["PFCOUNT"], ["PFMERGE"], ["PFDEBUG", "ENCODING"],
    ["PFDEBUG", "ENCODING", "h", "extra"], ["PFSELFTEST", "x"], ["SET", "ttl", "x"], ["DEL", "ttl"],
    ["PFADD", "ttl", "a"], ["EXPIRE", "ttl", "1000"], ["PFADD", "ttl", "b", "c"], ["TTL", "ttl"],
    ["PFCOUNT", "ttl"], ["TTL", "ttl"], ["PFMERGE", "ttl", "h"], ["TTL", "ttl"], ["OBJECT", "ENCODING", "h"],
    ["TYPE", "h"],
]

# Values a client may SET: headers that are not HyperLogLogs, and sparse runs that do not
# cover 16384 registers (too many, too few, none, an XZERO cut short).
HOSTILE = {
    "short": b"HYLL", "magic": b"HYLX\x01" + b"\x00" * 11 + b"\x7f\xff", "enc2": header(2) + b"\x7f\xff",
    "denselen": header(0) + b"\x00" * 100, "over": header(1) + b"\x7f\xff\x80", "under": header(1) + b"\x40\x10",
    "empty": header(1), "cut": header(1) + b"\x7f", "cutmid": header(1) + b"\x40\x00\x7f",
    "val": header(1) + b"\xff" * 10, "manyzero": header(1) + b"\x3f" * 300,
    "dense63": header(0) + b"\xff" * 12288, "dense0": header(0) + b"\x00" * 12288,
    "cached": header(1, b"\x05" + b"\x00" * 7) + b"\x7f\xff",
    "xzero1": header(1) + b"\x40\x00" + b"\x7f\xfe",
    # Half the registers: elements in them are added before one outside is refused.
    "half": header(1) + b"\x5f\xff",
}


def run_corpus(ours, theirs):
    for args in CORPUS:
        same(ours, theirs, *args)


def test_command_sequences_match_redis_resp2(server, redis_server):
    run_corpus(raw_client(server), raw_client(redis_server))


def test_command_sequences_match_redis_resp3(server, redis_server):
    run_corpus(raw_client(server, protocol=3), raw_client(redis_server, protocol=3))


def test_large_sets_are_byte_identical_sparse_and_dense(server, redis_server):
    ours, theirs = raw_client(server), raw_client(redis_server)
    rng = random.Random(7)
    for n in (1, 10, 100, 300, 1000, 1500, 2000, 5000, 100_000):
        key = f"n{n}"
        elements = [f"e{i}:{rng.random()}" for i in range(n)]
        assert add_many(ours, key, elements) == add_many(theirs, key, elements)
        same_value(ours, theirs, key)
        same(ours, theirs, "PFDEBUG", "ENCODING", key)
        same(ours, theirs, "PFCOUNT", key)
        same_value(ours, theirs, key)  # with the cached cardinality
        # Re-adding changes nothing.
        assert add_many(ours, key, elements[:2000]) == add_many(theirs, key, elements[:2000])
        same_value(ours, theirs, key)
    # Unions on the fly and stored, sparse into sparse, sparse and dense.
    for keys in (["n10", "n100"], ["n1000", "n1500"], ["n100", "n100000"], ["n5000", "n100000", "nosuch"]):
        same(ours, theirs, "PFCOUNT", *keys)
        same(ours, theirs, "PFMERGE", "dst:" + keys[0], *keys)
        same_value(ours, theirs, "dst:" + keys[0])
        same(ours, theirs, "PFCOUNT", "dst:" + keys[0])
    # One element at a time, each reply compared (sparse growth, promotion).
    for i in range(3000):
        element = f"one{i}"
        same(ours, theirs, "PFADD", "single", element)
        if i % 250 == 0:
            same_value(ours, theirs, "single")
    same_value(ours, theirs, "single")
    same(ours, theirs, "PFDEBUG", "GETREG", "n1000")
    same_value(ours, theirs, "n1000")


def test_sparse_limit_is_configurable(server, redis_server):
    ours, theirs = raw_client(server), raw_client(redis_server)
    for value in ("3000", "0", "100", "-1", "abc", "1k", "20000"):
        same(ours, theirs, "CONFIG", "SET", "hll-sparse-max-bytes", value)
        same(ours, theirs, "CONFIG", "GET", "hll-sparse-max-bytes")
        key = f"limit{value}"
        for i in range(0, 3000, 100):
            same(ours, theirs, "PFADD", key, *[f"x{j}" for j in range(i, i + 100)])
            same_value(ours, theirs, key)
        same(ours, theirs, "PFDEBUG", "ENCODING", key)


@pytest.mark.parametrize("protocol", [2, 3])
def test_hostile_values_give_redis_errors(server, redis_server, protocol):
    ours, theirs = raw_client(server, protocol=protocol), raw_client(redis_server, protocol=protocol)
    for name, value in HOSTILE.items():
        for client in (ours, theirs):
            client.set(name, value)
        for args in (["PFCOUNT", name], ["PFCOUNT", name, "nosuch"], ["PFDEBUG", "DECODE", name],
                     ["PFDEBUG", "ENCODING", name], ["PFADD", name, "a", "b", "c", "d"], ["PFADD", name],
                     ["PFADD", name, *[f"p0-{i}" for i in range(10)]],  # "half": two added, then refused
                     ["PFMERGE", "dst", name], ["PFCOUNT", name], ["PFDEBUG", "TODENSE", name],
                     ["PFDEBUG", "GETREG", name], ["PFMERGE", name, name]):
            same(ours, theirs, *args)
            same_value(ours, theirs, name)
            same_value(ours, theirs, "dst")


def ends_in_a_cut_xzero(payload):
    """Whether the last opcode is an XZERO missing its second byte. Splitting such an
    opcode makes Redis write one byte past the end of its string and read it back in later
    commands (out of bounds); Strata reads zero there, as Redis does on a freshly set value.
    The random values below avoid that one case (the HOSTILE set covers cut XZEROs)."""
    p = 0
    while p < len(payload):
        p += 2 if payload[p] & 0xc0 == 0x40 else 1
    return p > len(payload)


def test_watch_sees_what_redis_signals(server, redis_server):
    """PFCOUNT caching a cardinality signals the key (a WATCH fails), PFDEBUG's conversion
    does not (the transaction runs), as in Redis."""
    outcomes = []
    for target in (server, redis_server):
        r = raw_client(target)
        r.execute_command("PFADD", "w", "a", "b")
        results = []
        for command in (["PFCOUNT", "w"], ["PFCOUNT", "w"], ["PFDEBUG", "TODENSE", "w"], ["PFADD", "w", "a"],
                        ["PFADD", "w", "zz", "yy"]):
            pipe = r.pipeline(transaction=True)
            pipe.watch("w")
            r.execute_command(*command)
            pipe.multi()
            pipe.execute_command("GET", "w")
            try:
                results.append(pipe.execute())
            except redis.WatchError:
                results.append("aborted")
        outcomes.append(results)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == "aborted" and outcomes[0][1] != "aborted"


def test_random_garbage_never_crashes_and_matches_redis(server, redis_server):
    ours, theirs = raw_client(server), raw_client(redis_server)
    rng = random.Random(11)
    for round in range(300):
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        if round % 2:
            payload = b"\x7f" + bytes([rng.randrange(256)]) + bytes(b | 0x80 for b in payload)
        if ends_in_a_cut_xzero(payload):
            payload += bytes([rng.randrange(256)])
        value = header(1 if round % 7 else 0) + payload
        for client in (ours, theirs):
            client.set("g", value)
        for args in (["PFADD", "g", f"x{round}", "y"], ["PFCOUNT", "g"], ["PFCOUNT", "g", "n"], ["PFMERGE", "d", "g"],
                     ["PFDEBUG", "DECODE", "g"], ["PFDEBUG", "TODENSE", "g"]):
            same(ours, theirs, *args)
        same_value(ours, theirs, "g")
        same_value(ours, theirs, "d")
    assert ours.ping()


def test_values_cross_between_redis_and_strata(server, redis_server):
    ours, theirs = raw_client(server), raw_client(redis_server)
    rng = random.Random(3)
    for n in (5, 700, 4000, 50_000):
        elements = [f"c{i}:{rng.random()}" for i in range(n)]
        add_many(theirs, f"r{n}", elements)
        add_many(ours, f"s{n}", elements)
        # Redis's value into Strata and Strata's into Redis.
        ours.set(f"r{n}", theirs.get(f"r{n}"))
        theirs.set(f"s{n}", ours.get(f"s{n}"))
        same(ours, theirs, "PFCOUNT", f"r{n}")
        same(ours, theirs, "PFCOUNT", f"s{n}")
        assert ours.execute_command("PFCOUNT", f"r{n}") == ours.execute_command("PFCOUNT", f"s{n}")
        # Growing them on the other side stays identical.
        more = [f"more{i}" for i in range(300)]
        assert add_many(ours, f"r{n}", more) == add_many(theirs, f"r{n}", more)
        same_value(ours, theirs, f"r{n}")
        same(ours, theirs, "PFMERGE", f"u{n}", f"r{n}", f"s{n}")
        same_value(ours, theirs, f"u{n}")


def test_self_test_passes(server, redis_server):
    ours, theirs = raw_client(server), raw_client(redis_server)
    assert call(theirs, "PFSELFTEST") == ("ok", b"OK")
    assert call(ours, "PFSELFTEST") == ("ok", b"OK")


def populate(client):
    add_many(client, "small", [f"s{i}" for i in range(50)])
    add_many(client, "big", [f"b{i}" for i in range(20_000)])
    client.execute_command("PFMERGE", "both", "small", "big")
    client.execute_command("PFCOUNT", "small")  # caches the cardinality in the value
    client.execute_command("PFDEBUG", "TODENSE", "small")
    client.execute_command("PFADD", "small", "late")
    client.execute_command("PFCOUNT", "both")  # a read that writes: must reach the AOF
    return {key: client.get(key) for key in ("small", "big", "both")}


def test_survives_save_and_restart(start_server):
    strata = start_server()
    r = raw_client(strata)
    before = populate(r)
    counts = [r.execute_command("PFCOUNT", key) for key in ("small", "big", "both")]
    before = {key: r.get(key) for key in before}  # with the cardinalities just cached
    assert r.save() in (True, b"OK")
    assert strata.stop() == 0
    again = start_server(workdir=strata.workdir)
    r2 = raw_client(again)
    wait_loaded(again.client())
    assert {key: r2.get(key) for key in before} == before
    assert [r2.execute_command("PFCOUNT", key) for key in ("small", "big", "both")] == counts


def test_survives_an_append_only_restart(start_server, redis_server):
    strata = start_server("--appendonly", "yes", "--save", "")
    r = raw_client(strata)
    before = populate(r)
    expected = populate(raw_client(redis_server))
    assert before == expected
    assert strata.stop() == 0
    logged = b"".join(open(path, "rb").read()
                      for path in glob.glob(os.path.join(strata.workdir, "appendonlydir", "*.incr.aof")))
    assert b"PFCOUNT" in logged and b"PFDEBUG" in logged
    again = start_server("--appendonly", "yes", "--save", "", workdir=strata.workdir)
    r2 = raw_client(again)
    wait_loaded(again.client())
    assert {key: r2.get(key) for key in before} == before
