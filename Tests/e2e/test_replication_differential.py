"""Differential replication: a seeded random write workload (every data type, expiries
short enough to fire during the run, MULTI/EXEC, EVAL and FCALL, other databases,
nondeterministic commands such as SPOP, XADD * and XREADGROUP, evictions under maxmemory)
runs on a primary followed by a Strata replica and a Redis 7.0 replica. Halfway through,
the primary cuts both links (`CLIENT KILL TYPE replica`) while the writes go on; the
replicas come back with `+CONTINUE` (the primary counts partial syncs, no new full sync).
Afterwards each replica holds exactly the primary's keyspace: DEBUG DIGEST, and per key
its type, DEBUG DIGEST-VALUE and PEXPIRETIME, the state of stream consumer groups (which
the digest leaves out) and the function libraries. The primary is Strata, then Redis 7.0
(the migration path: a Strata replica of a Redis primary; there the Redis replica is the
control that shows the comparison itself is sound). Rerun a failure with its seed:
STRATA_REPLICATION_SEED=<seed>."""
import os
import random
import time

import pytest

from conftest import RawError, RawReplies, hang_up, info_field, raw_connection, send_command, wait_until
from test_replication import REDIS, replica_of, wait_caught_up

PRELUDE, HALF = 500, 2500  # steps before the replicas attach, and on each side of the cut
EVICTION_BUDGET = 3 * 1024 * 1024  # maxmemory: the primary's memory once synced, plus this
SHORT_TTL_MS = 100_000  # every expiry the workload sets is far below or far above this
KEYS = {"s": 40, "n": 10, "h": 20, "l": 15, "set": 15, "z": 15, "g": 4, "x": 6, "hll": 6, "bm": 8, "t": 30,
        "blob": 200}
VALUES = ["a", "b", "hello", "", "42", "-7", "3.5", "x" * 100, b"\x00\xff\r\n", "\u00e9t\u00e9"]
# Errors the workload provokes on purpose (wrong types, missing groups, out-of-range
# values...); anything else means a malformed command that tests nothing.
EXPECTED_ERRORS = ("WRONGTYPE", "NOGROUP", "BUSYGROUP", "EXECABORT", "ERR no such key", "ERR index out of range",
                   "ERR value is not", "ERR hash value is not", "ERR increment or decrement would overflow",
                   "ERR increment would produce NaN or Infinity", "ERR wrong number of arguments for 'set'",
                   "ERR source and destination objects are the same", "ERR The ID specified",
                   "ERR Error running script", "ERR bit offset is not an integer or out of range",
                   "ERR resulting score is not a number", "ERR The XGROUP subcommand requires the key to exist")

LIBRARY = """#!lua name=replib
redis.register_function('bump', function(keys, args)
  redis.call('HINCRBY', keys[1], args[1], 1)
  return redis.call('ZINCRBY', keys[2], 1, args[1])
end)
redis.register_function('capped_push', function(keys, args)
  redis.call('RPUSH', keys[1], args[1])
  return redis.call('LTRIM', keys[1], -10, -1)
end)
"""
LIBRARY_2 = """#!lua name=replib2
redis.register_function('stamp', function(keys, args)
  return redis.call('SET', keys[1], args[1] .. ':VERSION', 'PX', 3000000)
end)
"""

SCRIPTS = [
    # A write, then an error when the counter holds a float: the first write stays.
    "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
    "local v = redis.call('RPOP', KEYS[1]); if v then redis.call('LPUSH', KEYS[2], v) end; return v",
    "local e = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1); "
    "if e[1] then return redis.call('XDEL', KEYS[1], e[1][1]) end; return 0",
    # Another database from inside a script: the effects carry their own SELECT.
    "redis.call('SELECT', ARGV[1]); redis.call('HSET', KEYS[1], 'from-script', ARGV[2]); "
    "return redis.call('HLEN', KEYS[1])",
    # RESTORE from a DUMP taken on the primary: the replicas load the primary's payload.
    "local d = redis.call('DUMP', KEYS[1]); if not d then return 0 end; "
    "return redis.call('RESTORE', KEYS[2], 0, d, 'REPLACE')",
    "redis.call('HINCRBYFLOAT', KEYS[1], 'f', ARGV[1]); return redis.call('ZINCRBY', KEYS[2], ARGV[1], 'm')",
    "return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])",
]


class Workload:
    """Random commands, reproducible from a seed. `step()` returns a list of commands: one,
    a transaction, or a detour to another database. XADD replies are fed back (`learn`) so
    that XDEL, XACK, XCLAIM and XTRIM MINID name entries that exist."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.ids = {}
        self.library_2 = False
        self.kinds = [(14, self.strings), (4, self.counters), (8, self.hashes), (9, self.lists), (7, self.sets),
                      (8, self.sorted_sets), (2, self.geo), (10, self.streams), (3, self.hyperloglogs),
                      (4, self.bitmaps), (8, self.generic), (6, self.short_lived), (3, self.lazy_expiry),
                      (5, self.ballast), (5, self.scripts), (3, self.functions), (1, self.blocking)]
        self.weights = [w for w, _ in self.kinds]

    def key(self, family):
        return f"{family}:{self.rng.randrange(KEYS[family])}"

    def any_key(self):
        return self.key(self.rng.choice(list(KEYS)))

    def value(self):
        return self.rng.choice(VALUES)

    def long_ttl(self):
        return self.rng.randint(1000, 5000)

    def step(self):
        roll = self.rng.random()
        if roll < 0.06:
            return self.transaction()
        if roll < 0.09:
            db = self.rng.randint(1, 5)
            detour = [self.command() for _ in range(self.rng.randint(1, 4))]
            if self.rng.random() < 0.01:
                detour.append(["FLUSHDB"])
            return [["SELECT", db], *detour, ["SELECT", 0]]
        if roll < 0.092:
            return [["SWAPDB", self.rng.randint(0, 3), self.rng.randint(0, 3)]]
        return [self.command()]

    def transaction(self):
        body = [self.command() for _ in range(self.rng.randint(2, 5))]
        if self.rng.random() < 0.1:
            body.insert(1, ["SET", self.key("s")])  # refused when queued: EXECABORT
        return [["MULTI"], *body, ["DISCARD"] if self.rng.random() < 0.1 else ["EXEC"]]

    def command(self):
        return self.rng.choices(self.kinds, self.weights)[0][1]()

    def learn(self, command, reply):
        if command[0] == "XADD" and isinstance(reply, bytes) and reply != b"QUEUED":
            self.ids.setdefault(command[1], []).append(reply)
            del self.ids[command[1]][:-30]

    def known_ids(self, key, most=3):
        ids = self.ids.get(key) or [b"0-1"]
        return self.rng.sample(ids, min(len(ids), self.rng.randint(1, most)))

    def strings(self):
        r, k, v = self.rng, self.key("s"), self.value()
        return r.choice([
            ["SET", k, v], ["SET", k, v, "EX", self.long_ttl()], ["SET", k, v, "PX", self.long_ttl() * 1000],
            ["SET", k, v, "KEEPTTL"], ["SET", k, v, "NX"], ["SET", k, v, "XX", "GET"],
            ["SET", k, v, "EXAT", int(time.time()) + self.long_ttl()], ["SETEX", k, self.long_ttl(), v],
            ["APPEND", k, v], ["SETRANGE", k, r.randrange(40), v], ["GETDEL", k], ["GETSET", k, v],
            ["GETEX", k, "EX", self.long_ttl()], ["GETEX", k, "PX", self.long_ttl() * 1000], ["GETEX", k, "PERSIST"],
            ["GETEX", k, "PXAT", int(time.time() * 1000) + self.long_ttl() * 1000],
            ["MSET", k, v, self.key("s"), self.value()], ["MSETNX", k, v, self.key("s"), v],
        ])

    def counters(self):
        r, k = self.rng, self.key("n")
        return r.choice([["INCRBYFLOAT", k, r.choice(["1.5", "-0.25", "3e2", "0.1", "10"])],
                         ["INCRBY", k, r.randint(-100, 100)], ["INCR", k], ["DECRBY", k, r.randint(1, 9)]])

    def hashes(self):
        r, k = self.rng, self.key("h")
        field = lambda: f"f{r.randrange(10)}"
        return r.choice([
            ["HSET", k, field(), self.value(), field(), self.value()], ["HSETNX", k, field(), self.value()],
            ["HDEL", k, field(), field()], ["HINCRBY", k, field(), r.randint(-5, 5)],
            ["HINCRBYFLOAT", k, field(), r.choice(["0.1", "-1.5", "2.25e1"])],
        ])

    def lists(self):
        r, k, other = self.rng, self.key("l"), self.key("l")
        side = lambda: r.choice(["LEFT", "RIGHT"])
        return r.choice([
            ["LPUSH", k, self.value(), self.value()], ["RPUSH", k, *(self.value() for _ in range(r.randint(1, 6)))],
            ["LPOP", k], ["RPOP", k, r.randint(1, 3)], ["LMOVE", k, other, side(), side()], ["RPOPLPUSH", k, other],
            ["LTRIM", k, r.randint(0, 2), r.randint(5, 30)], ["LINSERT", k, r.choice(["BEFORE", "AFTER"]),
                                                             self.value(), self.value()],
            ["LSET", k, r.randint(-3, 3), self.value()], ["LREM", k, r.randint(-2, 2), self.value()],
            ["LMPOP", 2, k, other, side(), "COUNT", r.randint(1, 3)], ["SORT", k, "ALPHA", "STORE", other],
            ["SORT", self.key("set"), "ALPHA", "DESC", "LIMIT", 0, 5, "STORE", other],
        ])

    def sets(self):
        r, k = self.rng, self.key("set")
        numbers = int(k[4:]) % 2  # sets of integers, and of strings
        member = lambda: str(r.randrange(60)) if numbers else f"m{r.randrange(30)}"
        return r.choice([
            ["SADD", k, *(member() for _ in range(r.randint(1, 8)))], ["SREM", k, member(), member()],
            ["SPOP", k, r.randint(1, 4)], ["SPOP", k], ["SMOVE", k, self.key("set"), member()],
            [r.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k, self.key("set"), self.key("set")],
        ])

    def sorted_sets(self):
        r, k = self.rng, self.key("z")
        score = lambda: r.choice([str(r.randint(-20, 20)), f"{r.uniform(-10, 10):.3f}", "inf", "-inf", "1e-5"])
        member = lambda: f"m{r.randrange(25)}"
        return r.choice([
            ["ZADD", k, score(), member(), score(), member()], ["ZADD", k, r.choice(["NX", "XX", "GT", "LT"]), "CH",
                                                                 score(), member()],
            ["ZADD", k, "INCR", score(), member()], ["ZINCRBY", k, score(), member()], ["ZREM", k, member()],
            ["ZPOPMIN", k, r.randint(1, 3)], ["ZPOPMAX", k], ["ZREMRANGEBYSCORE", k, "-inf", r.randint(-15, 0)],
            ["ZREMRANGEBYRANK", k, 0, r.randint(0, 2)], ["ZMPOP", 2, k, self.key("z"), "MAX", "COUNT", 2],
            ["ZUNIONSTORE", k, 2, self.key("z"), self.key("z"), "WEIGHTS", 2, 0.5, "AGGREGATE",
             r.choice(["SUM", "MIN", "MAX"])],
            ["ZINTERSTORE", k, 2, self.key("z"), self.key("z")], ["ZRANGESTORE", k, self.key("z"), 0, r.randint(1, 6)],
        ])

    def geo(self):
        r, k = self.rng, self.key("g")
        return r.choice([
            ["GEOADD", k, f"{r.uniform(-20, 20):.6f}", f"{r.uniform(-20, 20):.6f}", f"p{r.randrange(20)}"],
            ["GEOSEARCHSTORE", self.key("g"), k, "FROMLONLAT", 0, 0, "BYRADIUS", 2000, "km", "ASC", "COUNT", 5]
            + r.choice([[], ["STOREDIST"]]),
        ])

    def streams(self):
        r, k = self.rng, self.key("x")
        group, consumer = f"g{r.randint(1, 2)}", f"c{r.randint(1, 3)}"
        return r.choice([
            ["XADD", k, "*", "f", self.value()], ["XADD", k, "*", "a", self.value(), "b", self.value()],
            ["XADD", k, "MAXLEN", "~", 40, "*", "f", self.value()], ["XADD", k, "NOMKSTREAM", "*", "f", self.value()],
            ["XTRIM", k, "MAXLEN", r.randint(10, 30)], ["XTRIM", k, "MINID", *self.known_ids(k, 1)],
            ["XDEL", k, *self.known_ids(k)], ["XGROUP", "CREATE", k, group, r.choice(["$", "0"]), "MKSTREAM"],
            ["XGROUP", "SETID", k, group, r.choice(["0", "$"])], ["XGROUP", "CREATECONSUMER", k, group, consumer],
            ["XGROUP", "DELCONSUMER", k, group, consumer],
            ["XREADGROUP", "GROUP", group, consumer, "COUNT", r.randint(1, 5), "STREAMS", k, ">"],
            ["XREADGROUP", "GROUP", group, consumer, "COUNT", 2, "NOACK", "STREAMS", k, ">"],
            ["XACK", k, group, *self.known_ids(k)], ["XCLAIM", k, group, consumer, 0, *self.known_ids(k)],
            ["XCLAIM", k, group, consumer, 0, *self.known_ids(k), "JUSTID"],
            ["XAUTOCLAIM", k, group, consumer, 0, "0-0", "COUNT", 3], ["XGROUP", "DESTROY", k, group],
        ])

    def hyperloglogs(self):
        r, k = self.rng, self.key("hll")
        return r.choice([["PFADD", k, *(f"e{r.randrange(4000)}" for _ in range(r.randint(1, 60)))],
                         ["PFMERGE", k, self.key("hll"), self.key("hll")],
                         ["PFCOUNT", k]])  # PFCOUNT caches the cardinality: a write that replicates

    def bitmaps(self):
        r, k = self.rng, self.key("bm")
        return r.choice([
            ["SETBIT", k, r.randrange(2000), r.randint(0, 1)],
            ["BITFIELD", k, "OVERFLOW", r.choice(["WRAP", "SAT", "FAIL"]), "INCRBY", "i5", r.randrange(200),
             r.randint(-40, 40), "SET", "u8", f"#{r.randrange(30)}", r.randrange(256)],
            ["BITOP", r.choice(["AND", "OR", "XOR"]), k, self.key("bm"), self.key("bm")],
            ["BITOP", "NOT", k, self.key("bm")],
        ])

    def generic(self):
        r, family = self.rng, self.rng.choice(list(KEYS))
        k, other = self.key(family), self.key(family)
        return r.choice([
            ["EXPIRE", k, self.long_ttl(), *r.choice([[], ["NX"], ["XX"], ["GT"], ["LT"]])],
            ["PEXPIRE", k, self.long_ttl() * 1000], ["EXPIREAT", k, int(time.time()) + self.long_ttl()],
            ["PERSIST", k], ["RENAME", k, other], ["RENAMENX", k, other], ["COPY", k, other, "REPLACE"],
            ["COPY", k, other, "DB", r.randint(1, 5)], ["MOVE", k, r.randint(1, 5)], ["DEL", k, self.any_key()],
            ["UNLINK", k],
        ])

    def short_lived(self):
        r, k = self.rng, self.key("t")
        return r.choice([
            ["SET", k, self.value(), "PX", r.randint(1, 50)], ["SET", k, self.value(), "PX", r.randint(100, 1500)],
            ["PSETEX", k, r.randint(1, 20), self.value()], ["GETEX", k, "PX", r.randint(1, 30)],
            ["COPY", k, self.key("t"), "REPLACE"], ["PEXPIRE", self.any_key(), r.randint(1, 30)],
        ])

    def lazy_expiry(self):
        # Reads that find an expired key delete it on the primary, which sends the DEL.
        return self.rng.choice([["GET", self.key("t")], ["EXISTS", self.key("t"), self.key("t")],
                                ["TYPE", self.any_key()]])

    def ballast(self):
        # Few bytes of command, tens of kilobytes of memory: maxmemory evicts.
        return ["SETRANGE", self.key("blob"), self.rng.randint(10_000, 50_000), self.value() or "x"]

    def scripts(self):
        r = self.rng
        script = r.randrange(len(SCRIPTS))
        keys, args = [
            ([self.key("s"), self.key("n")], [self.value()]), ([self.key("l"), self.key("l")], []),
            ([self.key("x")], []), ([self.key("h")], [r.randint(1, 5), self.value()]),
            ([self.any_key(), self.key("s")], []), ([self.key("h"), self.key("z")], [r.choice(["0.5", "-2", "1e1"])]),
            ([self.key("t")], [self.value(), r.randint(1, 40)]),
        ][script]
        return ["EVAL", SCRIPTS[script], len(keys), *keys, *args]

    def functions(self):
        r = self.rng
        calls = [["FCALL", "bump", 2, self.key("h"), self.key("z"), f"m{r.randrange(25)}"],
                 ["FCALL", "capped_push", 1, self.key("l"), self.value()]]
        if self.library_2:
            calls.append(["FCALL", "stamp", 1, self.key("s"), self.value()])
        return r.choice(calls)

    def blocking(self):
        # Data present: served at once and replicated as the non-blocking command.
        r = self.rng
        return r.choice([["BLMOVE", self.key("l"), self.key("l"), "LEFT", "RIGHT", "0.01"],
                         ["BZPOPMIN", self.key("z"), "0.01"], ["BLMPOP", "0.01", 1, self.key("l"), "LEFT"]])


def drive(server, workload, steps, seed):
    """Runs `steps` workload steps on `server`, pipelined on a raw connection; fails on an
    error reply the workload does not expect."""
    sock = raw_connection(server.port)
    replies = RawReplies(sock)
    unexpected = []
    try:
        for _ in range(steps // 20):
            commands = [command for _ in range(20) for command in workload.step()]
            for command in commands:
                send_command(sock, *command)
            for command in commands:
                reply = replies.read()
                workload.learn(command, reply)
                results = reply if command[0] == "EXEC" and isinstance(reply, list) else [reply]
                unexpected += [(command, r) for r in results
                               if isinstance(r, RawError) and not r.startswith(EXPECTED_ERRORS)]
    finally:
        hang_up(sock)
    assert not unexpected, f"seed {seed}: unexpected errors: {unexpected[:10]}"


def settle_expiries(server):
    """Waits until no key has a short time to live left. PTTL on a key that is due deletes
    it on the primary (a DEL for the replicas), so from then on the keyspace stays put."""
    def settled():
        for db in server.client().info("keyspace"):
            c = server.client(db=int(db[2:]))
            ttls = c.pipeline(transaction=False)
            for key in c.keys():
                ttls.pttl(key)
            if any(0 <= ttl < SHORT_TTL_MS for ttl in ttls.execute()):
                return False
        return True

    wait_until(settled, timeout=30, message="the short-lived keys to expire")


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


def stream_state(c, key):
    """What XINFO STREAM FULL says that the digest leaves out: the stream's counters and
    its groups' positions and pending entries (owner, delivery time and count). Not a
    group's entries-read and lag: Redis 7.0's own replicas do not keep them in step."""
    info = pairs(c.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", 0))
    fields = (b"length", b"last-generated-id", b"max-deleted-entry-id", b"entries-added", b"recorded-first-entry-id")
    groups = sorted((g[b"name"], g[b"last-delivered-id"], g[b"pel-count"], [tuple(p) for p in g[b"pending"]])
                    for g in map(pairs, info[b"groups"]))
    return [info[f] for f in fields], groups


def keyspace(server):
    """Every key of every database: {(db, key): (type, DEBUG DIGEST-VALUE, PEXPIRETIME,
    stream state)}."""
    state = {}
    for db in range(16):
        c = server.client(db=db)
        keys = c.keys()
        pipe = c.pipeline(transaction=False)
        for key in keys:
            pipe.type(key).execute_command("DEBUG", "DIGEST-VALUE", key).pexpiretime(key)
        replies = pipe.execute()
        for i, key in enumerate(keys):
            kind, digest, deadline = replies[3 * i:3 * i + 3]
            state[db, key] = (kind, digest, deadline, stream_state(c, key) if kind == b"stream" else None)
    return state


def readable(server, db, key):
    """A key's value for a failure message."""
    c = server.client(db=db)
    kind = c.type(key).decode()
    value = {"none": lambda: None, "string": lambda: c.get(key), "hash": lambda: sorted(c.hgetall(key).items()),
             "list": lambda: c.lrange(key, 0, -1), "set": lambda: sorted(c.smembers(key)),
             "zset": lambda: c.zrange(key, 0, -1, withscores=True),
             "stream": lambda: (c.xrange(key), stream_state(c, key))}[kind]()
    text = repr(value)
    return f"{kind} {text[:400]}{'...' if len(text) > 400 else ''} pexpiretime={c.pexpiretime(key)}"


def libraries(server):
    return {pairs(lib)[b"library_name"]: pairs(lib)[b"library_code"]
            for lib in server.client().execute_command("FUNCTION", "LIST", "WITHCODE")}


def keyspace_differences(primary, replica, name):
    """What `replica` holds differently from `primary`, for a failure message ('' if nothing)."""
    ours, theirs = keyspace(primary), keyspace(replica)
    diff = [f"db {db} {key!r}:\n  primary {readable(primary, db, key)}\n  {name} {readable(replica, db, key)}"
            for db, key in sorted(ours.keys() | theirs.keys()) if ours.get((db, key)) != theirs.get((db, key))]
    digests = [s.client().execute_command("DEBUG", "DIGEST") for s in (primary, replica)]
    if libraries(primary) != libraries(replica):
        diff.append(f"functions: primary {libraries(primary)}\n  {name} {libraries(replica)}")
    if not diff and digests[0] == digests[1]:
        return ""
    return (f"the {name} replica differs from the primary ({len(diff)} of {len(ours)} keys, DEBUG DIGEST "
            f"{digests[0].decode()} / {digests[1].decode()}):\n" + "\n".join(diff[:25]))


@pytest.mark.parametrize("primary_kind", ["strata", "redis"])
def test_replicas_hold_the_primarys_keyspace_after_a_random_workload_and_a_cut_link(start_server, primary_kind):
    seed = int(os.environ.get("STRATA_REPLICATION_SEED", random.randrange(2 ** 32)))
    print(f"seed {seed}")
    options = ("--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")
    primary = start_server(*options, **({"binary": REDIS} if primary_kind == "redis" else {}))
    p = primary.client()
    workload = Workload(seed)
    # Before the replicas attach: their snapshot carries every type, expiries, groups, a library.
    p.function_load(LIBRARY)
    drive(primary, workload, PRELUDE, seed)
    replicas = {"strata": start_server("--enable-debug-command", "yes", "--replicaof", f"127.0.0.1 {primary.port}"),
                "redis": replica_of(start_server, primary)}
    for replica in replicas.values():
        wait_caught_up(primary, replica)
    assert info_field(p, "stats", "sync_full") == 2
    p.config_set("maxmemory", info_field(p, "memory", "used_memory") + EVICTION_BUDGET)
    p.config_set("maxmemory-policy", "allkeys-lru")
    p.function_load(LIBRARY_2)
    workload.library_2 = True
    drive(primary, workload, HALF, seed)

    partial_syncs = info_field(p, "stats", "sync_partial_ok")
    assert p.execute_command("CLIENT", "KILL", "TYPE", "replica") == 2
    p.function_load(LIBRARY_2.replace("VERSION", "v2"), replace=True)  # a new version, links down
    drive(primary, workload, HALF, seed)

    assert info_field(p, "stats", "evicted_keys") > 0, f"seed {seed}: nothing was evicted"
    p.config_set("maxmemory", 0)  # no eviction while the keyspaces are compared
    settle_expiries(primary)
    for replica in replicas.values():
        wait_caught_up(primary, replica)
    stats = p.info("stats")
    assert stats["sync_full"] == 2 and stats["sync_partial_ok"] >= partial_syncs + 2, (
        f"seed {seed}: the replicas did not continue: {stats['sync_full']} full syncs, "
        f"{stats['sync_partial_ok'] - partial_syncs} partial ones after the cut")
    keys = sum(db["keys"] for db in p.info("keyspace").values())
    assert keys > 200, f"seed {seed}: only {keys} keys left to compare"
    differences = [keyspace_differences(primary, replica, name) for name, replica in replicas.items()]
    assert not any(differences), f"seed {seed}: " + "\n".join(filter(None, differences))
