#!/usr/bin/env python3
"""Writes the seed inputs of Strata's fuzz corpora into Tests/FuzzCorpus/<target>/seed-*.

Snapshot and AOF seeds are written by the real servers: a small keyspace holding every
type in its compact and its large encoding (sizes kept small so that the fuzzer runs fast)
is saved by strata-server in each snapshot codec and by redis-server as a plain RDB, and
logged by strata-server's AOF (an incremental file, and a base with a snapshot preamble
after BGREWRITEAOF). RESP and manifest seeds are written here.

    STRATA_SERVER=.build/release/strata-server python3 Tools/fuzz_seeds.py
"""
import glob
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_aof import Process, cli  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CORPUS = os.path.join(ROOT, "Tests", "FuzzCorpus")

# Small keyspace: every type, both encodings (the servers run with small encoding limits),
# a deadline, two databases.
KEYSPACE = [
    ["set", "s", "hello"], ["set", "n", "12345"], ["set", "neg", "-7"], ["set", "big", "x" * 90],
    ["pexpireat", "s", "4102444800000"],
    ["rpush", "l", "a", "b", "1", "2"], ["rpush", "L"] + [f"e{i}" for i in range(12)],
    ["hset", "h", "f", "v", "n", "1"], ["hset", "H"] + sum([[f"f{i}", f"v{i}"] for i in range(6)], []),
    ["sadd", "si", "1", "2", "3"], ["sadd", "ss", "a", "b", "c"], ["sadd", "S"] + [f"m{i}" for i in range(6)],
    ["zadd", "z", "1", "a", "2.5", "b", "-inf", "c"], ["zadd", "Z"] + sum([[str(i), f"z{i}"] for i in range(6)], []),
    ["select", "3"], ["set", "db3", "v"],
]
SMALL_LIMITS = ["--hash-max-listpack-entries", "4", "--set-max-intset-entries", "4",
                "--zset-max-listpack-entries", "4",
                "--list-max-listpack-size", "4"]


def resp(*commands):
    out = b""
    for command in commands:
        out += b"*%d\r\n" % len(command)
        for arg in command:
            arg = arg.encode() if isinstance(arg, str) else arg
            out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def load(port, commands):
    db = 0
    for command in commands:
        if command[0] == "select":
            db = int(command[1])
            continue
        cli(port, "-n", str(db), *command)


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, "seed-" + name), "wb") as f:
        f.write(data)


def snapshot_seeds(strata):
    for codec in ["lz4", "zlib", "none"]:
        server = Process(strata, ["--snapshot-compression", codec] + SMALL_LIMITS)
        try:
            load(server.port, KEYSPACE)
            cli(server.port, "save")
            with open(os.path.join(server.dir, "dump.sdb"), "rb") as f:
                write("snapshot", codec + ".sdb", f.read())
        finally:
            server.stop()
    server = Process("redis-server", SMALL_LIMITS)
    try:
        load(server.port, KEYSPACE)
        cli(server.port, "save")
        with open(os.path.join(server.dir, "dump.rdb"), "rb") as f:
            data = f.read()
        write("rdb", "redis-7.rdb", data)
        cli(server.port, "config", "set", "rdbcompression", "no")
        cli(server.port, "save")
        with open(os.path.join(server.dir, "dump.rdb"), "rb") as f:
            write("rdb", "redis-7-uncompressed.rdb", f.read())
    finally:
        server.stop()


def aof_seeds(strata):
    server = Process(strata, ["--appendonly", "yes", "--auto-aof-rewrite-percentage", "0"] + SMALL_LIMITS)
    try:
        load(server.port, KEYSPACE)
        for command in [["incrbyfloat", "n", "1.5"], ["lpop", "L"], ["spop", "S"], ["zincrby", "z", "2", "a"],
                        ["multi"], ["exec"], ["del", "big"], ["expire", "h", "100"], ["flushdb"]]:
            cli(server.port, *command)
        time.sleep(1.2)
        directory = os.path.join(server.dir, "appendonlydir")
        incr = sorted(glob.glob(os.path.join(directory, "*.incr.aof")))[-1]
        with open(incr, "rb") as f:
            write("aof", "incr.aof", b"\x00" + f.read())
        load(server.port, KEYSPACE)
        cli(server.port, "bgrewriteaof")
        time.sleep(2)
        base = sorted(glob.glob(os.path.join(directory, "*.base.*")))[-1]
        with open(base, "rb") as f:
            write("aof", "base-preamble.aof", b"\x01" + f.read() + resp(["set", "after", "base"]))
        with open(os.path.join(directory, "appendonly.aof.manifest"), "rb") as f:
            write("manifest", "rewritten.manifest", f.read())
    finally:
        server.stop()
    write("aof", "transaction.aof", b"\x00" + resp(["multi"], ["set", "a", "1"], ["incr", "a"], ["exec"]))
    write("aof", "timestamps.aof", b"\x00#TS:1700000000\r\n" + resp(["set", "k", "v"]) + b"#TS:1700000001\r\n")
    write("aof", "truncated.aof", b"\x00" + resp(["rpush", "q", "a"], ["set", "x", "y"])[:-3])
    write("aof", "resp-base.aof", b"\x01" + resp(["select", "2"], ["zadd", "z", "1", "m"], ["hset", "h", "a", "b"]))
    write("aof", "commands.aof", b"\x00" + resp(
        ["sadd", "s", "1", "2", "x"], ["srem", "s", "2"], ["setrange", "r", "3", "ab"], ["append", "r", "cd"],
        ["linsert", "l", "before", "a", "b"], ["rpush", "l", "a"], ["lset", "l", "0", "z"],
        ["zadd", "z", "nx", "1", "a"], ["zremrangebyscore", "z", "-inf", "(2"], ["hincrbyfloat", "h", "f", "1e3"],
        ["sort", "l", "alpha", "store", "dst"], ["rename", "dst", "d2"], ["copy", "d2", "d3", "db", "4"],
        ["swapdb", "0", "4"], ["pexpireat", "d3", "1"], ["setbit", "b", "100", "1"], ["getdel", "b"]))


def resp_seeds():
    write("resp", "multibulk", resp(["set", "key", "value"], ["get", "key"]))
    write("resp", "inline", b"PING\r\nset 'a b' \"c\\x41\\n\"\r\nget a\n")
    write("resp", "empty-lines", b"\r\n\n*0\r\n*-1\r\n" + resp(["ping"]))
    write("resp", "binary", resp([b"set", b"\x00\xff\r\n", b"\r\n\r\n"]))
    write("resp", "partial", resp(["set", "k", "v" * 40])[:-5])
    write("resp", "big-count", b"*1048577\r\n$3\r\nset\r\n")
    write("resp", "big-bulk", b"*1\r\n$536870913\r\nxx\r\n")
    write("resp", "negative-bulk", b"*2\r\n$-1\r\n$3\r\nabc\r\n")
    write("resp", "resp3-nested", b"*1\r\n*1\r\n%1\r\n+a\r\n:1\r\n")
    write("resp", "unbalanced-quotes", b"set \"abc\r\n")
    write("resp", "many", resp(*[["lpush", "q", str(i)] for i in range(20)]))
    write("resp", "huge-inline", b"a" * 70000)


def manifest_seeds():
    write("manifest", "incr-only.manifest", b"file appendonly.aof.1.incr.aof seq 1 type i\n")
    write("manifest", "full.manifest",
          b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.base.rdb seq 1 type h\n"
          b"file appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n")
    write("manifest", "quoted.manifest", b"# comment\r\n\r\nfile \"a b\\x41.aof\" seq 1 type b\r\n")
    write("manifest", "reordered.manifest", b"type i seq 9 file x.aof\n  \tfile y.aof type i seq 10\n")
    write("manifest", "bad.manifest", b"file x seq 0 type q\nfile 'unterminated seq 1 type i\n")


def main():
    strata = os.environ.get("STRATA_SERVER", os.path.join(ROOT, ".build", "release", "strata-server"))
    resp_seeds()
    manifest_seeds()
    snapshot_seeds(strata)
    aof_seeds(strata)
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))), "files")


if __name__ == "__main__":
    main()
