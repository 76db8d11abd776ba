"""DEBUG subcommands against Redis 7.0 (Debian's redis-server, started with
`--enable-debug-command yes` as Strata is): PROTOCOL's bytes in RESP2 and RESP3, OBJECT's
line, RELOAD and its options, SET-ACTIVE-EXPIRE, QUICKLIST-PACKED-THRESHOLD,
CHANGE-REPL-ID, STRINGMATCH-TEST, HELP and the errors."""
import re
import shutil
import socket
import time

import pytest

from conftest import wait_until

PROTOCOL_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
                  "verbatim", "true", "false", "bogus", "STRING"]


@pytest.fixture
def pair(start_server):
    theirs = start_server("--enable-debug-command", "yes", "--save", "", binary=shutil.which("redis-server"))
    ours = start_server("--enable-debug-command", "yes", "--save", "")
    return theirs, ours


class Raw:
    """A socket sending commands and reading exactly the bytes of the replies."""

    def __init__(self, port, resp3=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.stream = self.sock.makefile("rb")
        if resp3:
            self.command("HELLO", "3")

    def command(self, *args, replies=1):
        frame = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        self.sock.sendall(frame)
        return b"".join(self.reply() for _ in range(replies))

    def reply(self):
        line = self.stream.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in b"$=":
            length = int(rest)
            return line if length < 0 else line + self.stream.read(length + 2)
        if kind in b"*~>":
            return line + b"".join(self.reply() for _ in range(max(int(rest), 0)))
        if kind in b"%|":
            return line + b"".join(self.reply() for _ in range(2 * int(rest))) + (
                self.reply() if kind == b"|" else b"")
        return line

    def close(self):
        self.sock.close()


def test_protocol_replies_are_redis_bytes(pair):
    theirs, ours = pair
    for resp3 in (False, True):
        a, b = Raw(theirs.port, resp3), Raw(ours.port, resp3)
        for kind in PROTOCOL_TYPES:
            count = 2 if kind == "push" and resp3 else 1
            assert b.command("DEBUG", "PROTOCOL", kind, replies=count) == \
                a.command("DEBUG", "PROTOCOL", kind, replies=count), (kind, resp3)
        a.close()
        b.close()


def test_errors_and_simple_subcommands_match(pair):
    theirs, ours = pair
    commands = [("DEBUG",), ("DEBUG", "BOGUS"), ("DEBUG", "bogus", "x"), ("DEBUG", "PROTOCOL"),
                ("DEBUG", "OBJECT"), ("DEBUG", "OBJECT", "nosuch"), ("DEBUG", "OBJECT", "a", "b"),
                ("DEBUG", "SLEEP"), ("DEBUG", "SLEEP", "0"), ("DEBUG", "SLEEP", "x"), ("DEBUG", "JMAP"),
                ("DEBUG", "STRINGMATCH-LEN"), ("DEBUG", "STRINGMATCH-TEST", "x"), ("DEBUG", "CHANGE-REPL-ID", "x"),
                ("DEBUG", "SET-ACTIVE-EXPIRE"), ("DEBUG", "QUICKLIST-PACKED-THRESHOLD"),
                ("DEBUG", "RELOAD", "BOGUS"), ("DEBUG", "RELOAD", "NOSAVE", "x"), ("DEBUG", "HELP", "x")]
    for threshold in ["x", "-1", "0", "1", "1kb", "1gb", "4293918720", "4293918721", "5000000000", "4gb"]:
        commands.append(("DEBUG", "QUICKLIST-PACKED-THRESHOLD", threshold))
    for flag in ["x", "2", "0", "1", "-1", " 7"]:
        commands.append(("DEBUG", "SET-ACTIVE-EXPIRE", flag))
    a, b = Raw(theirs.port), Raw(ours.port)
    for command in commands:
        assert b.command(*command) == a.command(*command), command


def test_stringmatch_test_passes(pair):
    theirs, ours = pair
    a, b = Raw(theirs.port), Raw(ours.port)
    assert b.command("DEBUG", "STRINGMATCH-TEST") == a.command("DEBUG", "STRINGMATCH-TEST") == \
        b"+Apparently Redis did not crash: test passed\r\n"


def test_help_uses_redis_lines_for_the_subcommands_strata_has(pair):
    theirs, ours = pair
    redis_help = theirs.client(decode_responses=True).execute_command("DEBUG", "HELP")
    strata_help = ours.client(decode_responses=True).execute_command("DEBUG", "HELP")
    assert strata_help[0] == redis_help[0]
    # Each subcommand's block (its line and the indented lines after it) is Redis's, in order.
    blocks, block = [], []
    for line in strata_help[1:]:
        if not line.startswith(" ") and block:
            blocks.append(block)
            block = []
        block.append(line)
    blocks.append(block)
    names = [b[0].split()[0] for b in blocks]
    for name in ["CHANGE-REPL-ID", "OBJECT", "PROTOCOL", "RELOAD", "SET-ACTIVE-EXPIRE", "QUICKLIST-PACKED-THRESHOLD",
                 "SLEEP", "STRINGMATCH-TEST", "HELP"]:
        assert name in names
    text = "\n".join(redis_help)
    for b in blocks:
        if b[0].startswith("FAULT"):
            continue  # Strata's own
        assert "\n".join(b) in text, b


def object_fields(client, key):
    line = client.execute_command("DEBUG", "OBJECT", key)
    line = line.decode() if isinstance(line, bytes) else line
    match = re.fullmatch(r"Value at:0x[0-9a-f]+ refcount:1 encoding:(\S+) serializedlength:(\d+) lru:(\d+) "
                         r"lru_seconds_idle:(\d+)(.*)", line)
    assert match, line
    return match.groups()


def test_object_describes_values_as_redis(pair):
    theirs, ours = pair
    a, b = theirs.client(decode_responses=True), ours.client(decode_responses=True)
    # Strata does not LZF-compress strings in RDB files; neither does Redis then.
    a.config_set("rdbcompression", "no")
    for client in (a, b):
        client.set("short", "hello")
        client.set("number", 12345)
        client.set("bignumber", 1234567890123)
        client.set("long", "a" * 75)
        client.set("empty", "")
        client.rpush("list", "a", "b", 1, 2, 300, "hello", -5000, 70000, "x" * 70)
        client.hset("hash", mapping={"a": 1, "b": 2})
        client.sadd("ints", 1, 2, 3)
        client.sadd("strings", "a", "b")
        client.zadd("zset", {"a": 1, "b": 2})
        client.xadd("stream", {"a": "b"}, id="1-1")
    for key in ["short", "number", "bignumber", "long", "empty"]:
        theirs_fields, ours_fields = object_fields(a, key), object_fields(b, key)
        assert ours_fields[:2] == theirs_fields[:2], key  # encoding, serialized length
        assert ours_fields[4] == theirs_fields[4] == ""
    # Lists: Redis 7.0's quicklist figures, from the listpack Strata's list would be.
    theirs_list, ours_list = object_fields(a, "list"), object_fields(b, "list")
    assert ours_list[0] == theirs_list[0] == "quicklist"
    assert ours_list[4] == theirs_list[4]
    # Collections: Redis serializes its compact encodings as blobs; the encodings agree.
    for key in ["hash", "ints", "strings", "zset", "stream"]:
        assert object_fields(b, key)[0] == object_fields(a, key)[0], key
    # The LRU clock is Redis's: seconds, 24 bits; idle time grows with the clock.
    lru = int(object_fields(b, "short")[2])
    assert abs(lru - (int(time.time()) & 0xFFFFFF)) <= 2
    time.sleep(1.2)
    assert int(object_fields(b, "short")[3]) >= 1


def keyspace(client):
    read = {"string": client.get, "list": lambda k: client.lrange(k, 0, -1), "hash": client.hgetall}
    return {key: (client.type(key), read[client.type(key)](key), client.ttl(key) > 0)
            for key in sorted(client.keys("*"))}


def test_reload_round_trips_and_options(pair):
    theirs, ours = pair
    replies = {}
    for name, server in (("redis", theirs), ("strata", ours)):
        client = server.client(decode_responses=True)
        client.set("a", 1)
        client.set("ttl", "x", ex=1000)
        client.rpush("list", "a", "b")
        client.hset("hash", mapping={"f": "v"})
        steps = [client.execute_command("DEBUG", "RELOAD"), keyspace(client), client.get("a")]
        client.set("a", 2)
        client.set("new", "n")
        # NOSAVE: back to what the file holds.
        steps += [client.execute_command("DEBUG", "RELOAD", "NOSAVE"), keyspace(client), client.get("a")]
        client.set("a", 3)
        client.set("extra", "e")
        # NOFLUSH MERGE: the file's keys over the current ones, the others kept.
        steps += [client.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"), keyspace(client),
                  client.get("a"), client.get("extra")]
        steps.append(client.dbsize())
        replies[name] = steps
    assert replies["strata"] == replies["redis"]


def test_set_active_expire_turns_background_expiry_off_and_on(pair):
    for server in pair:
        client = server.client()
        assert client.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        client.set("soon", "x", px=50)
        time.sleep(1.5)
        # Not accessed and not expired in the background: still counted.
        assert client.dbsize() == 1
        assert client.info("keyspace")["db0"]["keys"] == 1
        assert client.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        wait_until(lambda: client.dbsize() == 0, message="background expiry")


def test_change_repl_id_gives_a_new_replication_id(pair):
    for server in pair:
        client = server.client(decode_responses=True)
        before = client.info("replication")["master_replid"]
        assert client.execute_command("DEBUG", "CHANGE-REPL-ID")
        after = client.info("replication")["master_replid"]
        assert after != before and re.fullmatch(r"[0-9a-f]{40}", after)


def test_debug_is_refused_when_not_enabled(start_server):
    theirs = Raw(start_server(binary=shutil.which("redis-server")).port)
    ours = Raw(start_server().port)
    for command in [("DEBUG", "PROTOCOL", "string"), ("DEBUG", "RELOAD"), ("DEBUG", "OBJECT", "x")]:
        assert ours.command(*command) == theirs.command(*command)
