"""DUMP, RESTORE, MIGRATE, WAIT, OBJECT HELP and DEBUG DIGEST against redis-server 7.0.15:
payloads move both ways for every type, errors and replies are compared exactly (RESP2
and RESP3), MIGRATE runs between the two servers in both directions, and identical
keyspaces built in both have the same digest."""
import shutil
import threading
import time

import pytest
import redis

from conftest import free_port, wait_blocked, wait_until


def start_pair(start_server, *args):
    strata = start_server("--enable-debug-command", "yes", *args)
    real = start_server("--save", "", "--appendonly", "no", "--enable-debug-command", "yes", *args,
                        binary=shutil.which("redis-server"))
    return strata, real


def reply(client, *args):
    try:
        if args[0] == "GETKEYS":
            return client.command_getkeys(*args[1:])
        return client.execute_command(*args)
    except redis.ResponseError as error:
        return ("error", str(error))


def build_all_types(r, prefix=""):
    """Every type in its small and large encodings, a stream with groups, and deadlines."""
    p = prefix
    r.set(p + "str", "hello")
    r.set(p + "int", "12345")
    r.set(p + "bigint", "9223372036854775807")
    r.set(p + "long", "x" * 300)
    r.set(p + "bin", b"\x00\xff\r\n")
    r.rpush(p + "list", "a", "1", "-300", "bb")
    r.rpush(p + "biglist", *[("e" * (i % 40)) + str(i) for i in range(2000)])
    r.sadd(p + "intset", 3, 1, 2, -70000, 5000000000)
    r.sadd(p + "set", "a", "b", "c")
    r.sadd(p + "bigintset", *range(600))
    r.hset(p + "hash", mapping={"f": "v", "n": "7"})
    r.hset(p + "bighash", mapping={f"f{i}": f"v{i}" for i in range(600)})
    r.hset(p + "longhash", "f", "v" * 100)
    r.zadd(p + "zset", {"m": 1.5, "k": 2, "z": -0.25})
    r.zadd(p + "bigzset", {f"m{i}": i / 7 for i in range(300)})
    r.xadd(p + "stream", {"a": "1", "b": "2"}, id="1-1")
    r.xadd(p + "stream", {"a": "3", "b": "4"}, id="2-1")
    r.xadd(p + "stream", {"c": "5"}, id="3-1")
    r.xgroup_create(p + "stream", "g1", id="0")
    r.xgroup_create(p + "stream", "g2", id="$")
    r.xreadgroup("g1", "alice", {p + "stream": ">"}, count=2)
    r.xgroup_createconsumer(p + "stream", "g1", "bob")
    r.xadd(p + "emptystream", {"f": "v"}, id="5-5", maxlen=0)
    r.set(p + "ttl", "v", px=500_000)
    r.rpush(p + "ttllist", "x")
    r.pexpire(p + "ttllist", 800_000)


KEYS = ["str", "int", "bigint", "long", "bin", "list", "biglist", "intset", "set", "bigintset", "hash",
        "bighash", "longhash", "zset", "bigzset", "stream", "emptystream", "ttl", "ttllist"]


def content(r, key):
    """Everything observable about a key's value (not its access times)."""
    kind = r.type(key)
    if kind == b"string":
        return kind, r.get(key)
    if kind == b"list":
        return kind, r.lrange(key, 0, -1)
    if kind == b"set":
        return kind, sorted(r.smembers(key))
    if kind == b"hash":
        return kind, sorted(r.hgetall(key).items())
    if kind == b"zset":
        return kind, r.zrange(key, 0, -1, withscores=True)
    if kind == b"stream":
        info = r.xinfo_stream(key)
        groups = []
        for group in r.xinfo_groups(key):
            name = group["name"]
            pending = [(p["message_id"], p["consumer"], p["times_delivered"])
                       for p in r.xpending_range(key, name, "-", "+", 100)]
            consumers = sorted(c["name"] for c in r.xinfo_consumers(key, name))
            groups.append((name, group["last-delivered-id"], group["entries-read"], group["lag"], pending,
                           consumers))
        return (kind, r.xrange(key), info["last-generated-id"], info["max-deleted-entry-id"],
                info["entries-added"], info["recorded-first-entry-id"], groups)
    return kind, None


def test_small_values_dump_to_redis_bytes(start_server):
    strata, real = start_pair(start_server)
    for server in (strata, real):
        r = server.client()
        r.set("s", "hello")
        r.set("i", "12345")
        r.set("neg", "-7")
        r.set("big", "9999999999")
        r.rpush("l", "a", "1", "bb", "-300")
        r.sadd("si", 3, 1, 2)
        r.hset("h", mapping={"f": "v", "n": "7"})
        r.zadd("z", {"m": 1.5, "k": 2})
    for key in ["s", "i", "neg", "big", "l", "si", "h", "z", "nosuch"]:
        assert strata.client().dump(key) == real.client().dump(key), key


@pytest.mark.parametrize("protocol", [2, 3])
def test_payloads_cross_both_ways(start_server, protocol):
    strata, real = start_pair(start_server)
    s = strata.client(protocol=protocol)
    r = real.client(protocol=protocol)
    build_all_types(s, "s:")
    build_all_types(r, "r:")
    for key in KEYS:
        # Strata's payload restored in Redis, and Redis's in Strata.
        for source, target, name in ((s, r, "s:" + key), (r, s, "r:" + key)):
            payload = source.dump(name)
            ttl = max(source.pttl(name), 0)
            assert target.restore("x:" + name, ttl, payload) in (True, b"OK"), name
            assert content(target, "x:" + name) == content(source, name), name
            assert (target.pttl("x:" + name) > 0) == (ttl > 0), name
            assert target.object("encoding", "x:" + name) == source.object("encoding", name), name
            assert reply(target, "DEBUG", "DIGEST-VALUE", "x:" + name) == reply(source, "DEBUG", "DIGEST-VALUE", name)


RESTORE_ERRORS = [
    ["RESTORE", "k", "0", "GOOD"],
    ["RESTORE", "k", "0", "GOOD"],
    ["RESTORE", "k", "0", "GOOD", "REPLACE"],
    ["RESTORE", "k", "-1", "GOOD", "REPLACE"],
    ["RESTORE", "k", "abc", "GOOD", "REPLACE"],
    ["RESTORE", "k2", "0", "GOOD", "BOGUS"],
    ["RESTORE", "k2", "0", "GOOD", "IDLETIME"],
    ["RESTORE", "k2", "0", "GOOD", "IDLETIME", "-1"],
    ["RESTORE", "k2", "0", "GOOD", "IDLETIME", "x"],
    ["RESTORE", "k2", "0", "GOOD", "FREQ", "256"],
    ["RESTORE", "k2", "0", "GOOD", "FREQ", "-1"],
    ["RESTORE", "k2", "0", "GOOD", "FREQ", "1", "IDLETIME", "1"],
    ["RESTORE", "k2", "0", "GOOD", "IDLETIME", "1", "FREQ", "1"],
    ["RESTORE", "k3", "0", "GOOD", "IDLETIME", "100", "REPLACE"],
    ["RESTORE", "k4", "0", "GOOD", "FREQ", "100"],
    ["RESTORE", "k5", "0", "BADSUM"],
    ["RESTORE", "k5", "0", "NEWER"],
    ["RESTORE", "k5", "0", "SHORT"],
    ["RESTORE", "k5", "0", ""],
    ["RESTORE", "k5", "0", "BADTYPE"],
    ["RESTORE", "k5", "0", "EMPTYLIST"],
    ["RESTORE", "k5", "0", "TRUNCATED"],
    ["RESTORE", "k9", "0", "INTOFOOTER"],
    ["RESTORE", "k10", "0", "DUPSET"],
    ["RESTORE", "k10", "0", "DUPHASH"],
    ["RESTORE", "k10", "0", "DUPZSET"],
    ["RESTORE", "k10", "0", "DUPINTSET"],
    ["SMEMBERS", "k10"],
    ["EVAL", "return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", "1", "k11", "GOOD"],
    ["EVAL", "return redis.call('DUMP', KEYS[1])", "1", "k11"],
    ["EVAL", "return redis.call('WAIT', 0, 0)", "0"],
    ["GET", "k9"],
    ["RESTORE", "k6", "1", "GOOD", "ABSTTL"],
    ["EXISTS", "k6"],
    ["RESTORE", "k", "1", "GOOD", "ABSTTL", "REPLACE"],
    ["EXISTS", "k"],
    ["RESTORE", "k7", "100000", "GOOD"],
    ["RESTORE", "k8", "99999999999999", "GOOD", "ABSTTL"],
    ["RESTORE", "k"],
    ["DUMP"],
    ["DUMP", "a", "b"],
    ["DUMP", "nosuch"],
    ["OBJECT", "HELP"],
    ["WAIT", "0", "0"],
    ["WAIT", "x", "0"],
    ["WAIT", "0", "-1"],
    ["WAIT", "0", "1.5"],
    ["WAIT", "0"],
    ["DEBUG", "DIGEST-VALUE", "k", "k7", "nosuch"],
    ["DEBUG", "DIGEST"],
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_restore_errors_and_replies(start_server, protocol):
    strata, real = start_pair(start_server)
    payloads = {}
    r = real.client()
    r.set("tmp", "hello")
    good = r.dump("tmp")
    r.delete("tmp")
    payloads["GOOD"] = good
    payloads["BADSUM"] = good[:-1] + bytes([good[-1] ^ 1])
    payloads["NEWER"] = good[:-10] + b"\x0b\x00" + good[-8:]
    payloads["SHORT"] = good[-9:]
    # Bodies Redis cannot load, with a correct checksum (from Strata's codec, checked by
    # Redis's own "checksum are wrong" not being the reply).
    payloads["BADTYPE"] = crc_sealed(b"\x63\x01a")
    payloads["EMPTYLIST"] = crc_sealed(b"\x12\x00")
    payloads["TRUNCATED"] = crc_sealed(b"\x00\x20a")
    payloads["INTOFOOTER"] = crc_sealed(b"\x00\x05a")
    payloads["DUPSET"] = crc_sealed(b"\x02\x02\x01a\x01a")
    payloads["DUPINTSET"] = crc_sealed(b"\x02\x03\x011\x011\x01a")
    payloads["DUPHASH"] = crc_sealed(b"\x04\x02\x01a\x01b\x01a" + b"\x41\x00" + b"c" * 65)
    payloads["DUPZSET"] = crc_sealed(b"\x05\x02\x01a" + bytes(8) + b"\x01a" + bytes(8))
    for words in RESTORE_ERRORS:
        args = [payloads.get(word, word) if i >= 3 else word for i, word in enumerate(words)]
        got = reply(strata.client(protocol=protocol), *args)
        want = reply(real.client(protocol=protocol), *args)
        assert got == want, words
    for key in ["k3", "k7", "k8"]:
        assert abs(strata.client().pttl(key) - real.client().pttl(key)) < 5000, key
    assert strata.client().object("idletime", "k3") >= 100


def crc_sealed(body, version=10):
    data = body + bytes([version & 0xFF, version >> 8])
    return data + crc64_jones(data).to_bytes(8, "little")


def crc64_jones(data):
    polynomial = 0x95AC9329AC4BC9B5
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ polynomial if crc & 1 else crc >> 1
    return crc


def test_crc_matches_redis(start_server):
    """The test's own CRC-64 agrees with Redis's, so the sealed bad payloads above reach
    the decoder in both servers."""
    real = start_server("--save", "", binary=shutil.which("redis-server"))
    r = real.client()
    r.set("k", "hello")
    payload = r.dump("k")
    assert crc_sealed(payload[:-10]) == payload


def test_restore_writes_are_watched_logged_and_replayed(start_server):
    server = start_server("--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "yes")
    r = server.client()
    build_all_types(r, "src:")
    watcher = server.client()
    pipe = watcher.pipeline()
    pipe.watch("dst:stream")
    pipe.multi()
    pipe.get("x")
    for key in KEYS:
        r.restore("dst:" + key, max(r.pttl("src:" + key), 0), r.dump("src:" + key))
    with pytest.raises(redis.WatchError):
        pipe.execute()
    r.restore("dst:str", 0, r.dump("src:int"), replace=True)
    before = {key: content(r, "dst:" + key) for key in KEYS}
    digest = r.execute_command("DEBUG", "DIGEST")
    workdir = server.workdir
    server.stop()
    again = start_server("--appendonly", "yes", "--enable-debug-command", "yes", workdir=workdir)
    r2 = again.client()
    wait_until(lambda: r2.ping())
    assert {key: content(r2, "dst:" + key) for key in KEYS} == before
    assert r2.execute_command("DEBUG", "DIGEST") == digest
    assert r2.pttl("dst:ttl") > 0


@pytest.mark.parametrize("direction", ["strata-to-redis", "redis-to-strata", "strata-to-strata"])
def test_migrate(start_server, direction):
    strata, real = start_pair(start_server, "--requirepass", "secret")
    other = start_server("--requirepass", "secret") if direction == "strata-to-strata" else None
    source, target = {
        "strata-to-redis": (strata, real),
        "redis-to-strata": (real, strata),
        "strata-to-strata": (strata, other),
    }[direction]
    s = source.client(password="secret")
    t = target.client(password="secret")
    build_all_types(s)
    expected = {key: content(s, key) for key in KEYS}
    port = str(target.port)
    # One key, then the rest with KEYS; AUTH and AUTH2 both work.
    assert s.execute_command("MIGRATE", "127.0.0.1", port, "str", "3", "5000", "AUTH", "secret") == b"OK"
    assert s.exists("str") == 0
    rest = [key for key in KEYS if key != "str"] + ["nosuch"]
    assert s.execute_command("MIGRATE", "127.0.0.1", port, "", "3", "5000", "AUTH2", "default", "secret",
                             "KEYS", *rest) == b"OK"
    assert s.dbsize() == 0
    t.select(3)
    for key in KEYS:
        assert content(t, key) == expected[key], key
    assert t.pttl("ttl") > 0 and t.pttl("str") == -1
    # COPY keeps the local key; an existing target key is refused without REPLACE.
    s.set("c", "one")
    assert s.execute_command("MIGRATE", "127.0.0.1", port, "c", "3", "5000", "COPY", "AUTH", "secret") == b"OK"
    assert s.get("c") == b"one"
    s.set("c", "two")
    busy = reply(s, "MIGRATE", "127.0.0.1", port, "c", "3", "5000", "COPY", "AUTH", "secret")
    assert busy == ("error", "Target instance replied with error: BUSYKEY Target key name already exists.")
    assert s.execute_command("MIGRATE", "127.0.0.1", port, "c", "3", "5000", "REPLACE", "AUTH", "secret") == b"OK"
    assert t.get("c") == b"two" and s.exists("c") == 0
    # Nothing to move; a wrong password; nobody listening.
    assert s.execute_command("MIGRATE", "127.0.0.1", port, "nosuch", "3", "5000") == b"NOKEY"
    s.set("d", "1")
    denied = reply(s, "MIGRATE", "127.0.0.1", port, "d", "3", "5000", "AUTH", "wrong")
    assert denied[0] == "error" and denied[1].startswith("Target instance replied with error: WRONGPASS")
    assert s.exists("d") == 1
    if source is strata:
        # Redis keeps its connection to the target (authenticated above) for ten seconds;
        # Strata connects each time, so a MIGRATE without AUTH is refused.
        noauth = reply(s, "MIGRATE", "127.0.0.1", port, "d", "3", "5000")
        assert noauth == ("error", "Target instance replied with error: NOAUTH Authentication required.")
    # As Redis: a refused connection shows when writing to it.
    assert reply(s, "MIGRATE", "127.0.0.1", str(free_port()), "d", "0", "1000") == (
        "error", "IOERR error or timeout writing to target instance")


def test_migrate_errors_match_redis(start_server):
    strata, real = start_pair(start_server)
    for server in (strata, real):
        server.client().set("k", "v")
    cases = [
        ["MIGRATE", "127.0.0.1", "1", "k", "0", "1000", "BOGUS"],
        ["MIGRATE", "127.0.0.1", "1", "k", "0", "1000", "AUTH"],
        ["MIGRATE", "127.0.0.1", "1", "k", "0", "1000", "AUTH2", "u"],
        ["MIGRATE", "127.0.0.1", "1", "k", "0", "1000", "KEYS", "k"],
        ["MIGRATE", "127.0.0.1", "1", "k", "0", "x"],
        ["MIGRATE", "127.0.0.1", "1", "k", "x", "1000"],
        ["MIGRATE", "127.0.0.1", "1", "nosuch", "0", "1000"],
        ["MIGRATE", "127.0.0.1", "1", "", "0", "1000", "KEYS", "nosuch", "other"],
        ["MIGRATE", "127.0.0.1", "1", "k", "0"],
        ["MIGRATE", "127.0.0.1", "1", "k", "0", "1000"],
        ["MIGRATE", "127.0.0.1", "1x", "k", "0", "1000", "COPY"],
        ["MIGRATE", "no-such-host.invalid", "6379", "k", "0", "1000", "COPY"],
        ["GETKEYS", "MIGRATE", "h", "1", "", "0", "1000", "AUTH", "KEYS", "KEYS", "a", "b"],
        ["GETKEYS", "MIGRATE", "h", "1", "k", "0", "1000", "COPY"],
    ]
    for protocol in (2, 3):
        for words in cases:
            assert reply(strata.client(protocol=protocol), *words) == reply(real.client(protocol=protocol), *words), \
                words


def test_wait_blocks_until_its_timeout_then_answers_zero(start_server):
    strata, real = start_pair(start_server)
    for server in (strata, real):
        r = server.client()
        start = time.monotonic()
        assert r.execute_command("WAIT", "1", "200") == 0
        assert time.monotonic() - start >= 0.19
        assert r.execute_command("WAIT", "0", "0") == 0
        pipe = r.pipeline(transaction=True)
        pipe.execute_command("WAIT", "5", "0")
        assert pipe.execute() == [0]
    # WAIT for ever, released by CLIENT UNBLOCK with 0.
    for server in (strata, real):
        waiter = server.client()
        waiter_id = waiter.client_id()
        result = []
        thread = threading.Thread(target=lambda: result.append(waiter.execute_command("WAIT", "1", "0")))
        thread.start()
        wait_blocked(server.client())
        assert server.client().client_unblock(waiter_id) == 1
        thread.join(5)
        assert result == [0]


def test_digest_of_identical_keyspaces(start_server):
    strata, real = start_pair(start_server)
    assert strata.client().execute_command("DEBUG", "DIGEST") == b"0" * 40
    assert real.client().execute_command("DEBUG", "DIGEST") == b"0" * 40
    for server in (strata, real):
        r = server.client()
        build_all_types(r)
        r.select(5)
        build_all_types(r, "db5:")
        r.zadd("scores", {"a": 0.1, "b": 1e20, "c": -3, "d": float("inf"), "e": 1 / 3})
        r.hset("h", "f", "1.5")
        r.expire("scores", 1000)
    s, r = strata.client(), real.client()
    assert s.execute_command("DEBUG", "DIGEST") == r.execute_command("DEBUG", "DIGEST")
    args = ["DEBUG", "DIGEST-VALUE", *KEYS, "nosuch"]
    assert s.execute_command(*args) == r.execute_command(*args)
    s.select(5)
    r.select(5)
    assert s.execute_command("DEBUG", "DIGEST-VALUE", "scores", "h") == \
        r.execute_command("DEBUG", "DIGEST-VALUE", "scores", "h")
    # A change anywhere changes the digest.
    before = s.execute_command("DEBUG", "DIGEST")
    s.persist("scores")
    assert s.execute_command("DEBUG", "DIGEST") != before


def events_of(server, target_port, flags="KEAn"):
    """The keyspace events a pattern subscriber sees while RESTORE and MIGRATE run."""
    subscriber = server.client().pubsub()
    subscriber.psubscribe("__key*__:*")
    subscriber.subscribe("done")
    for _ in range(2):
        assert subscriber.get_message(timeout=30)["type"] in ("psubscribe", "subscribe")
    r = server.client()
    r.set("src", "hello")
    payload = r.dump("src")
    r.config_set("notify-keyspace-events", flags)
    commands = [
        ["RESTORE", "k", "0", payload], ["RESTORE", "k", "0", payload], ["RESTORE", "k", "0", payload, "REPLACE"],
        ["RESTORE", "k", "1", payload, "ABSTTL", "REPLACE"], ["RESTORE", "k2", "100000", payload],
        ["RESTORE", "k3", "1", payload, "ABSTTL"],
        ["MIGRATE", "127.0.0.1", str(target_port), "k2", "0", "5000", "REPLACE"],
        ["MIGRATE", "127.0.0.1", str(target_port), "", "0", "5000", "COPY", "REPLACE", "KEYS", "src", "nosuch"],
    ]
    replies = [reply(r, *command) for command in commands]
    r.publish("done", "x")
    events = []
    deadline = time.time() + 30  # polled until "done" arrives: the deadline only bounds a hang
    while time.time() < deadline:
        message = subscriber.get_message(timeout=1)
        if message is None:
            continue
        if message["channel"] == b"done":
            break
        events.append((message["channel"], message["data"]))
    subscriber.close()
    return replies, events


def test_restore_and_migrate_keyspace_events(start_server):
    strata, real = start_pair(start_server)
    target = start_server()
    assert events_of(strata, target.port) == events_of(real, target.port)
