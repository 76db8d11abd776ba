#!/usr/bin/env python3
"""Differential command fuzzer: Strata against redis-server 7.0, side by side.

Why: in Swift an arithmetic overflow or a bad index is a trap that kills the server, so
"no client can crash it" has to be searched for, not assumed. This fuzzer builds commands
from the argument specs Strata itself publishes (`COMMAND DOCS`: every command and
subcommand, tokens, optional and repeated blocks, one-of choices) and from mutations of
valid commands, fills numbers and strings from a boundary set (0, ±1, the Int32/Int64
limits and their neighbours, 2^53, inf, nan, -0, 1e308, lengths past the 512 MB limits,
non-UTF-8 bytes) and keys from a seeded keyspace holding every type. Each command runs on
both servers from the same state, over raw sockets (RESP2, or RESP3 after HELLO 3). It
stops at once when Strata stops answering or exits (the finding, with the commands that
led to it), and counts as divergences: a reply whose type or error class differs from
Redis's, or a keyspace that differs afterwards (a digest of every key's type, content and
whether it has a TTL). Reply contents are not compared (random members, times and encoding
names differ legitimately); the keyspace digest is what catches a wrong write.

Script mode wraps the same commands in `EVAL "return redis.pcall(...)"` (or `redis.call`),
so the Lua path is searched too.

    Tools/command_fuzz.py --strata .build/release/strata-server --seconds 600 --seed 7

Only loopback addresses, only the processes it starts (stopped by PID). The short run in
`make test` is Tests/e2e/test_command_fuzz.py; known, kept differences are in KNOWN below
and docs/DECISIONS.md.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Commands never generated, with the reason.
EXCLUDED = {
    "shutdown": "stops the process", "debug": "not part of the client surface (enable-debug-command)",
    "monitor": "turns the connection into a feed", "sync": "replication stream", "psync": "replication stream",
    "replconf": "replication handshake", "replicaof": "connects out", "slaveof": "connects out",
    "failover": "replication", "quit": "closes the connection", "subscribe": "several replies per command",
    "psubscribe": "several replies", "ssubscribe": "several replies", "unsubscribe": "several replies",
    "punsubscribe": "several replies", "sunsubscribe": "several replies", "client|kill": "kills our own connection",
    "client|pause": "pauses every client", "client|reply": "turns replies off", "save": "slow file I/O",
    "bgsave": "slow file I/O", "bgrewriteaof": "slow file I/O", "cluster": "not served",
    "module": "loads code", "acl|save": "writes files", "acl|load": "reads files", "config|rewrite": "writes files",
    "acl|setuser": "can lock the fuzzer's own connections out (covered by the ACL differential corpus)",
    "acl|deluser": "covered by the ACL differential corpus",
    "sentinel": "not served", "migrate": "connects out", "latency|doctor": "free text",
    "memory|doctor": "free text", "lolwut": "free text", "readonly": "cluster only", "readwrite": "cluster only",
    "asking": "cluster only", "function|restore": "covered by unit tests with real payloads",
    "swapdb": "swaps the database our digest connection reads; covered by the differential corpus",
    "pfselftest": "ten million additions a call; run by test_differential_hyperloglog.py",
}
# CONFIG SET parameters fuzzed with numbers (others could lock the fuzzer out or touch files).
CONFIG_NUMERIC = [
    "hz", "maxmemory-samples", "lfu-log-factor", "lfu-decay-time", "maxmemory-eviction-tenacity",
    "list-max-listpack-size", "list-compress-depth", "hash-max-listpack-entries", "hash-max-listpack-value",
    "set-max-intset-entries", "set-max-listpack-entries", "zset-max-listpack-entries", "zset-max-listpack-value",
    "stream-node-max-entries", "stream-node-max-bytes", "slowlog-log-slower-than", "slowlog-max-len",
    "busy-reply-threshold", "lua-time-limit", "active-expire-effort",
    "notify-keyspace-events", "maxmemory",
]
# Writes whose outcome is random or time-based: the keyspace is re-seeded after them.
NONDETERMINISTIC_WRITES = {"spop", "xadd", "xautoclaim", "xclaim", "xreadgroup", "restore", "eval", "evalsha",
                           "fcall", "eval_ro", "evalsha_ro", "fcall_ro", "sort", "zrangestore", "srandmember"}
# Kept differences that docs/DECISIONS.md explains: (command, kind).
KNOWN = {
    # A cursor is each server's own encoding of its table position: an arbitrary number
    # lands somewhere else in each, so one may return keys where the other returns none.
    ("scan", "reply"), ("sscan", "reply"), ("hscan", "reply"), ("zscan", "reply"),
    # Redis 7.2's WITHSCORE is served; Redis 7.0 counts it as one argument too many.
    ("zrank", "reply"), ("zrevrank", "reply"),
}

NUMBERS = [
    "0", "1", "-1", "2", "-2", "3", "5", "10", "100", "-100", "2147483647", "2147483648", "-2147483648",
    "-2147483649", "4294967295", "4294967296", "9223372036854775807", "-9223372036854775807",
    "-9223372036854775808", "9223372036854775806", "9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "9007199254740992", "9007199254740993", "-9007199254740993",
    "inf", "-inf", "+inf", "nan", "-nan", "-0", "0.0", "0.5", "-0.5", "1.5", "1e308", "-1e308", "1e309",
    "4.9e-324", "1.7976931348623157e308", "1e3", "0x10", " 1", "1 ", "+1", "00", "536870911", "536870912",
    "536870913", "4294967295000", "9223372036854775", "9223372036854776", "-1000000000000000", "922337203685477580",
    "1099511627776", "35184372088832", "(1", "(-inf", "(inf", "[a", "(a", "-", "+",
]
STRINGS = [
    "", "a", "b", "field", "f", "v", "member", "m1", "*", "?", "[a-", "\\", "g", "c1", "alice", "$", ">", "0-0",
    "0-1", "1-1", "1-*", "5-0", "18446744073709551615-18446744073709551615", "9223372036854775807-0",
    "18446744073709551615-18446744073709551614", "-0-1", "1-18446744073709551616", "ms-*", "~", "=",
    "LIMIT", "COUNT", "WITHSCORES", "BYSCORE", "BYLEX", "REV", "NX", "XX", "GT", "LT", "EX", "PX", "KEEPTTL",
    "FULL", "IDLE", "TIME", "JUSTID", "ENTRIESREAD", "MATCH", "TYPE", "STORE", "ASC", "DESC", "ALPHA", "BY",
    "GET", "#", "nosort", "hash_*->f", "weight_*", "LEFT", "RIGHT", "BEFORE", "AFTER", "RANK", "MAXLEN", "MINID",
    "SUM", "MIN", "MAX", "WEIGHTS", "AGGREGATE", "SCHEDULE", "ABSTTL", "FREQ", "IDLETIME", "REPLACE", "DB",
    "\xff\xfe\x00", "x" * 70, "\u00e9t\u00e9",
]
# The numbers that trap careless arithmetic, drawn most often.
EXTREMES = ["9223372036854775807", "-9223372036854775808", "-9223372036854775807", "9223372036854775806",
            "2147483647", "-2147483648", "4294967296", "-1", "0", "inf", "-inf", "nan", "1e308",
            "9223372036854775808", "4611686018427387904", "-4611686018427387904"]
KEYS = ["str", "int", "float", "list", "hash", "bighash", "set", "intset", "zset", "bigzset", "stream", "bits",
        "ttl", "missing", "{t}dst", "{t}src"]


def seed_commands():
    """Commands that build the seeded keyspace (the same on both servers)."""
    out = [["FLUSHALL"], ["SELECT", "0"], ["SET", "str", "hello world"], ["SET", "int", "42"], ["SET", "float", "3.5"],
           ["RPUSH", "list", "a", "b", "c", "1", "2", "a"], ["HSET", "hash", "f", "v", "n", "7", "x", "1.5"],
           ["SADD", "set", "a", "b", "c"], ["SADD", "intset", "1", "2", "3", "-5"],
           ["ZADD", "zset", "1", "a", "2", "b", "2", "c", "-inf", "lo", "inf", "hi"],
           ["SET", "bits", "\xff\xf0\x00"], ["SET", "ttl", "t", "EX", "100000"], ["SET", "{t}src", "s"]]
    out.append(["HSET", "bighash"] + [x for i in range(200) for x in (f"f{i}", str(i))])
    out.append(["ZADD", "bigzset"] + [x for i in range(200) for x in (str(i), f"m{i}")])
    for i in range(1, 6):
        out.append(["XADD", "stream", f"{i}-1", "f", str(i)])
    out += [["XGROUP", "CREATE", "stream", "g", "0"], ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS",
                                                        "stream", ">"]]
    return out


class Peer:
    """One server over one raw socket, with a RESP2/RESP3 reader."""

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.connect()

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.sock.settimeout(self.timeout)
        self.buffer = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, args):
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8", "surrogateescape")
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buffer) < n + 2:
            chunk = self.sock.recv(max(65536, n + 2 - len(self.buffer)))
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n + 2:]
        return data

    def read(self):
        """A reply as (kind, value): kinds are RESP type names; errors keep their text."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return ("status", rest)
        if kind == b"-":
            return ("error", rest.decode("utf-8", "replace"))
        if kind == b":":
            return ("int", int(rest))
        if kind in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return ("nil", None)
            data = self._exact(n)
            return ("error" if kind == b"!" else "bulk", data)
        if kind in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return ("nil-array", None)
            return ({b"*": "array", b"~": "set", b">": "push"}[kind], [self.read() for _ in range(n)])
        if kind == b"%":
            n = int(rest)
            return ("map", [(self.read(), self.read()) for _ in range(n)])
        if kind == b"|":
            for _ in range(int(rest)):
                self.read(), self.read()
            return self.read()
        if kind == b"_":
            return ("null", None)
        if kind == b",":
            return ("double", rest)
        if kind == b"#":
            return ("bool", rest)
        if kind == b"(":
            return ("bignum", rest)
        raise ValueError(f"bad reply line {line!r}")

    def call(self, args):
        self.send(args)
        return self.read()


def shape(reply, depth=0):
    """What is compared of a reply: its type, an error's class (first word), and for
    aggregates the set of their elements' shapes (not their count or values)."""
    kind, value = reply
    if kind == "error":
        word = value.split(" ", 1)[0]
        return ("error", word if word.isupper() else "ERR")
    if kind in ("array", "set", "push") and depth < 2:
        return (kind, tuple(sorted({shape(item, depth + 1) for item in value}, key=repr)))
    if kind == "map" and depth < 2:
        return (kind, tuple(sorted({(shape(k, depth + 1), shape(v, depth + 1)) for k, v in value}, key=repr)))
    return (kind,)


def plain(reply):
    kind, value = reply
    if kind in ("array", "set", "push"):
        return [plain(item) for item in value]
    if kind == "map":
        return [[plain(k), plain(v)] for k, v in value]
    return value


def digest(peer):
    """Every key of every database: type, content (order-free where the type is), and
    whether it has a TTL. Stream ids are left out (`*` ids come from each server's clock).
    Also returns the shortest TTL seen (ms), since a key about to expire may be gone on one
    server and not yet on the other."""
    out = []
    soonest = None
    info = plain(peer.call(["INFO", "keyspace"])) or b""
    dbs = [int(line.split(b":")[0][2:]) for line in info.split(b"\r\n") if line.startswith(b"db")]
    for db in dbs:
        peer.call(["SELECT", str(db)])
        cursor = b"0"
        keys = []
        while True:
            cursor, batch = plain(peer.call(["SCAN", cursor, "COUNT", "1000"]))
            keys += batch
            if cursor == b"0":
                break
        for key in sorted(set(keys)):
            kind = plain(peer.call(["TYPE", key]))
            if kind == b"string":
                content = plain(peer.call(["GET", key]))
            elif kind == b"list":
                content = plain(peer.call(["LRANGE", key, "0", "-1"]))
            elif kind == b"hash":
                content = sorted(map(tuple, zip(*[iter(flatten(plain(peer.call(["HGETALL", key]))))] * 2)))
            elif kind == b"set":
                content = sorted(plain(peer.call(["SMEMBERS", key])))
            elif kind == b"zset":
                content = plain(peer.call(["ZRANGE", key, "0", "-1", "WITHSCORES"]))
            elif kind == b"none":
                soonest = 0  # expired between SCAN and TYPE: the digest is not stable yet
                continue
            elif kind == b"stream":
                content = [entry[1] for entry in plain(peer.call(["XRANGE", key, "-", "+"]))]
            else:
                content = None
            ttl = plain(peer.call(["PTTL", key]))
            if ttl == -2:
                soonest = 0  # expired while being read
                continue
            if ttl >= 0:
                soonest = ttl if soonest is None else min(soonest, ttl)
            out.append((db, key, kind, repr(content), ttl != -1))
    peer.call(["SELECT", "0"])
    return out, soonest


def flatten(value):
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [x for pair in value for x in pair]
    return value or []


class Generator:
    """Commands from COMMAND DOCS argument specs, and mutations of valid commands."""

    def __init__(self, docs, rng, config_numeric):
        self.rng = rng
        self.config_numeric = config_numeric
        self.specs = {}
        for name, doc in docs.items():
            subs = doc.get("subcommands") or {}
            if subs:
                for sub, subdoc in subs.items():
                    self.specs[sub] = subdoc.get("arguments") or []
            else:
                self.specs[name] = doc.get("arguments") or []
        self.names = sorted(n for n in self.specs if n not in EXCLUDED and n.split("|")[0] not in EXCLUDED)
        # Commands that take more values are drawn more often: that is where numbers are parsed.
        self.weights = [1 + count_values(self.specs[n]) for n in self.names]

    def value(self, arg):
        rng = self.rng
        kind = arg.get("type")
        if kind == "key":
            return rng.choice(KEYS) if rng.random() < 0.9 else rng.choice(STRINGS)
        roll = rng.random()
        if roll < 0.25:
            return rng.choice(EXTREMES)
        if roll < 0.45:
            return rng.choice(NUMBERS)
        if roll < 0.8:
            return str(rng.randint(-3, 12))
        return rng.choice(STRINGS)

    def expand(self, arg, out):
        rng = self.rng
        flags = arg.get("flags") or []
        if "optional" in flags and rng.random() < 0.5:
            return
        repeat = rng.randint(1, 3) if "multiple" in flags else 1
        for _ in range(repeat):
            if arg.get("token"):
                out.append(arg["token"] if rng.random() < 0.95 else arg["token"].lower())
            kind = arg.get("type")
            if kind == "pure-token":
                continue
            if kind == "oneof":
                children = arg.get("arguments") or []
                if children:
                    self.expand(dict(rng.choice(children), flags=[]), out)
            elif kind == "block":
                for child in arg.get("arguments") or []:
                    self.expand(child, out)
            else:
                out.append(self.value(arg))

    def from_docs(self):
        name = self.rng.choices(self.names, weights=self.weights)[0]
        words = name.split("|")
        out = [w.upper() for w in words]
        for arg in self.specs[name]:
            self.expand(arg, out)
        if name == "config|set":
            out = ["CONFIG", "SET", self.rng.choice(self.config_numeric), self.rng.choice(NUMBERS)]
        roll = self.rng.random()
        if roll < 0.05 and len(out) > len(words):
            out.pop()  # one argument short
        elif roll < 0.1:
            out.append(self.rng.choice(NUMBERS + STRINGS))  # one too many
        return out

    def sweep(self, command):
        """A valid command with one of its numbers replaced by an extreme."""
        out = list(command)
        numeric = [i for i, a in enumerate(out) if i > 0 and looks_numeric(a)]
        if numeric:
            out[self.rng.choice(numeric)] = self.rng.choice(EXTREMES)
        return out

    def mutate(self, command):
        out = list(command)
        for _ in range(self.rng.randint(1, 2)):
            if len(out) < 2:
                break
            index = self.rng.randrange(1, len(out))
            out[index] = self.rng.choice(NUMBERS) if self.rng.random() < 0.7 else self.rng.choice(STRINGS)
        return out


def count_values(arguments):
    total = 0
    for arg in arguments or []:
        if arg.get("type") in ("block", "oneof"):
            total += count_values(arg.get("arguments"))
        elif arg.get("type") not in ("pure-token", "key"):
            total += 1
    return total


def huge_negative(arg):
    try:
        return int(arg) < -10_000_000
    except ValueError:
        return False


def looks_numeric(arg):
    text = arg if isinstance(arg, str) else arg.decode("latin-1")
    try:
        float(text)
        return True
    except ValueError:
        return False


def command_name(args, specs):
    first = str(args[0]).lower()
    if len(args) > 1 and f"{first}|{str(args[1]).lower()}" in specs:
        return f"{first}|{str(args[1]).lower()}"
    return first


class Campaign:
    """One fuzzing run against two live servers."""

    def __init__(self, strata_port, redis_port, seed, strata_alive, reply_timeout=2.5):
        self.rng = random.Random(seed)
        self.seed = seed
        self.strata_port, self.redis_port = strata_port, redis_port
        self.strata_alive = strata_alive
        self.reply_timeout = reply_timeout
        self.ours = Peer(strata_port, reply_timeout)
        self.theirs = Peer(redis_port, reply_timeout)
        self.ours_digest = Peer(strata_port, 30)
        self.theirs_digest = Peer(redis_port, 30)
        docs = self.docs(self.ours_digest)
        self.flags = self.command_flags(self.ours_digest)
        self.config_defaults = {
            p: (self.config_get(self.ours_digest, p), self.config_get(self.theirs_digest, p)) for p in CONFIG_NUMERIC}
        # Parameters Strata does not serve yet are left out (their absence is not a crash).
        config_numeric = [p for p in CONFIG_NUMERIC if self.config_defaults[p][0] is not None]
        self.generator = Generator(docs, self.rng, config_numeric)
        self.history = []
        self.commands = 0
        self.covered = set()
        self.divergences = {}
        self.samples = {}
        self.valid = []  # commands both servers accepted, for mutation

    @staticmethod
    def docs(peer):
        def native(reply):
            kind, value = reply
            if kind == "map":
                return {native(k): native(v) for k, v in value}
            if kind in ("array", "set", "push"):
                return [native(v) for v in value]
            if isinstance(value, bytes):
                return value.decode("utf-8", "replace")
            return value

        peer.call(["HELLO", "3"])
        docs = native(peer.call(["COMMAND", "DOCS"]))
        peer.call(["HELLO", "2"])
        return docs

    @staticmethod
    def command_flags(peer):
        flags = {}
        for entry in plain(peer.call(["COMMAND"])):
            flags[entry[0].decode()] = {f.decode() for f in entry[2]}
            for sub in (entry[9] if len(entry) > 9 else []) or []:
                flags[sub[0].decode()] = {f.decode() for f in sub[2]}
        return flags

    @staticmethod
    def config_get(peer, name):
        value = plain(peer.call(["CONFIG", "GET", name]))
        return value[1] if value and len(value) == 2 else None

    def reseed(self):
        for peer in (self.ours, self.theirs):
            for command in seed_commands():
                peer.call(command)
            peer.call(["HELLO", "2"])

    def restore_config(self, name):
        ours, theirs = self.config_defaults.get(name, (None, None))
        if ours is not None:
            self.ours_digest.call(["CONFIG", "SET", name, ours])
        if theirs is not None:
            self.theirs_digest.call(["CONFIG", "SET", name, theirs])

    def exchange(self, peer, args, port):
        """The reply, or "blocked" when none came within the reply timeout (the connection
        is then replaced: a blocked client is released by closing it), or "closed"."""
        try:
            peer.send(args)
            return peer.read()
        except (socket.timeout, TimeoutError):
            outcome = ("blocked",)
        except (ConnectionError, OSError):
            outcome = ("closed",)
        peer.close()
        try:
            peer.connect()
        except OSError as error:
            who = "strata-server" if port == self.strata_port else "redis-server (the reference)"
            raise Finding(f"{who} refused a new connection ({error})", args, self.history[-30:], self.seed)
        return outcome

    def check_alive(self, args):
        """Fails the campaign when Strata exited or stopped answering a new connection."""
        reason = None
        if not self.strata_alive():
            reason = "strata-server exited"
        else:
            try:
                probe = Peer(self.strata_port, 10)
                if probe.call(["PING"]) != ("status", b"PONG"):
                    reason = "strata-server answered PING wrongly"
                probe.close()
            except (OSError, ConnectionError, ValueError) as error:
                reason = f"strata-server stopped answering ({error})"
        if reason:
            raise Finding(reason, args, self.history[-30:], self.seed)

    def record(self, name, kind, detail):
        key = (name, kind)
        self.divergences[key] = self.divergences.get(key, 0) + 1
        self.samples.setdefault(key, detail)

    def step(self, args, script_mode=False):
        name = command_name(args, self.generator.specs)
        if name in ("srandmember", "zrandmember", "hrandfield") and len(args) > 2 and huge_negative(args[2]):
            # Redis 7.0 builds such a reply until the kernel kills it; Strata refuses it
            # (docs/DECISIONS.md). Only Strata is asked.
            self.history.append(args)
            self.commands += 1
            reply = self.exchange(self.ours, args, self.strata_port)
            if reply[0] != "error" and plain(reply):
                self.record(name, "reply", {"command": printable(args), "strata": describe(reply),
                                            "redis": "(dies for want of memory; Strata must refuse)"})
            return
        sent = args
        if script_mode:
            call = "pcall" if self.rng.random() < 0.7 else "call"
            sent = ["EVAL", f"return redis.{call}(unpack(ARGV))", "0", *args]
        self.history.append(sent)
        self.commands += 1
        if name in self.generator.specs:
            self.covered.add(name)
        ours = self.exchange(self.ours, sent, self.strata_port)
        theirs = self.exchange(self.theirs, sent, self.redis_port)
        if ours[0] in ("blocked", "closed"):
            self.check_alive(sent)
        a = shape(ours) if len(ours) == 2 else ours
        b = shape(theirs) if len(theirs) == 2 else theirs
        if a != b and (name, "reply") not in KNOWN:
            self.record(name, "reply", {"command": printable(sent), "strata": describe(ours),
                                        "redis": describe(theirs)})
        elif ours[0] != "error" and theirs[0] != "error" and not script_mode:
            self.valid.append(args)
            if len(self.valid) > 500:
                self.valid.pop(self.rng.randrange(len(self.valid)))
        if name.startswith("config|set") and len(args) > 2:
            self.restore_config(str(args[2]))
        if name in ("hello", "reset", "select", "multi", "exec", "discard", "watch") or ours[0] != theirs[0]:
            # Keep the two connections in the same state: plain RESP2, db 0, no transaction.
            for peer in (self.ours, self.theirs):
                peer.call(["RESET"])
        writes = "write" in self.flags.get(name, set()) or script_mode or name in NONDETERMINISTIC_WRITES
        if writes:
            mine, reference = self.digests()
            if mine != reference:
                if name not in NONDETERMINISTIC_WRITES and (name, "keyspace") not in KNOWN:
                    diff = [x for x in mine if x not in reference][:3], [x for x in reference if x not in mine][:3]
                    self.record(name, "keyspace", {"command": printable(sent), "strata only": repr(diff[0])[:300],
                                                   "redis only": repr(diff[1])[:300]})
                self.reseed()

    def digests(self):
        """Both keyspace digests; when they differ while some key is about to expire, once
        more after it has (the servers ran the command a moment apart)."""
        (mine, soon_a), (reference, soon_b) = digest(self.ours_digest), digest(self.theirs_digest)
        soonest = min([t for t in (soon_a, soon_b) if t is not None], default=None)
        for _ in range(3):
            if mine == reference or soonest is None or soonest >= 3000:
                break
            time.sleep(soonest / 1000 + 0.1)
            (mine, soon_a), (reference, soon_b) = digest(self.ours_digest), digest(self.theirs_digest)
            soonest = min([t for t in (soon_a, soon_b) if t is not None], default=None)
        return mine, reference

    def run(self, commands=None, seconds=None, script_share=0.15):
        self.reseed()
        start = time.monotonic()
        while True:
            if commands is not None and self.commands >= commands:
                break
            if seconds is not None and time.monotonic() - start >= seconds:
                break
            if self.commands % 200 == 0:
                self.reseed()
            roll = self.rng.random()
            if self.valid and roll < 0.2:
                args = self.generator.sweep(self.rng.choice(self.valid))
            elif self.valid and roll < 0.45:
                args = self.generator.mutate(self.rng.choice(self.valid))
            else:
                args = self.generator.from_docs()
            self.step(args, script_mode=self.rng.random() < script_share)
        self.check_alive(["PING"])
        return self.report()

    def report(self):
        return {
            "seed": self.seed, "commands": self.commands, "distinct_covered": len(self.covered),
            "served": len(self.generator.names),
            "not_covered": sorted(set(self.generator.names) - self.covered),
            "divergences": [{"command": k[0], "kind": k[1], "count": n, "sample": self.samples[k]}
                            for k, n in sorted(self.divergences.items())],
        }


class Finding(Exception):
    def __init__(self, reason, args, history, seed):
        super().__init__(reason)
        self.reason, self.args_, self.history, self.seed = reason, args, history, seed

    def __str__(self):
        lines = [f"{self.reason} after {printable(self.args_)} (seed {self.seed}); the commands before it:"]
        lines += ["  " + printable(c) for c in self.history]
        return "\n".join(lines)


def printable(args):
    return " ".join(repr(a) if (not isinstance(a, str) or not a or " " in a or not a.isprintable()) else a
                    for a in args)


def describe(reply):
    if len(reply) == 1:
        return reply[0]
    return f"{shape(reply)}: {repr(plain(reply))[:160]}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, args, workdir):
    port = free_port()
    log = open(os.path.join(workdir, "server.log"), "w")
    proc = subprocess.Popen([binary, *args, "--port", str(port), "--dir", workdir], stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{binary} did not start")
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strata", default=".build/release/strata-server")
    parser.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--commands", type=int)
    parser.add_argument("--seed", type=int, action="append")
    parser.add_argument("--script-share", type=float, default=0.15)
    parser.add_argument("--report", help="write the JSON report here")
    options = parser.parse_args()
    seeds = options.seed or [1]
    reports = []
    failed = False
    for seed in seeds:
        workdir = tempfile.mkdtemp(prefix="strata-fuzz-")
        ours, our_port = start(options.strata, ["--save", ""], workdir)
        theirs, their_port = start(options.redis, ["--save", "", "--appendonly", "no"],
                                   tempfile.mkdtemp(prefix="redis-fuzz-"))
        try:
            campaign = Campaign(our_port, their_port, seed, lambda: ours.poll() is None,
                                reply_timeout=2.5)
            report = campaign.run(commands=options.commands, seconds=options.seconds / len(seeds),
                                  script_share=options.script_share)
            reports.append(report)
            print(f"seed {seed}: {report['commands']} commands, {report['distinct_covered']}/{report['served']} "
                  f"commands covered, {len(report['divergences'])} divergent (command, kind) pairs")
        except Finding as finding:
            failed = True
            print(f"FINDING: {finding}")
            with open(os.path.join(workdir, "server.log")) as f:
                print(f.read()[-3000:])
        finally:
            for proc in (ours, theirs):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=20)
    if options.report:
        with open(options.report, "w") as f:
            json.dump(reports, f, indent=1, default=str)
    for report in reports:
        for d in report["divergences"]:
            print(f"  {d['command']} ({d['kind']}, {d['count']}x): {d['sample']}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
