"""The memcached text protocol, side by side with Debian's memcached 1.6.18 (`-t 1`): the
same requests sent to both over raw sockets must get the same bytes back (CAS uniques are
opaque numbers, compared by which item version they name), and items are shared with RESP
clients through `memcached-db`."""
import os
import re
import shutil
import socket
import subprocess

import pytest
import redis

from conftest import free_port, wait_until

SENTINEL = b"version\r\n"


def memcached_binary():
    binary = shutil.which("memcached")
    if binary is None:
        pytest.fail("memcached is required (apt-get install memcached)")
    return binary


def memcached_reference():
    """Starts Debian's memcached (`-t 1`) on a free port; yields the port, then stops it."""
    port = free_port()
    # `-u` names the user to run as when started as root (CI runs as root).
    user = ["-u", "root"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([memcached_binary(), "-p", str(port), "-U", "0", "-t", "1", "-l", "127.0.0.1", *user],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: connects(port), message="memcached listens")
    yield port
    proc.terminate()
    proc.wait()


@pytest.fixture
def reference():
    yield from memcached_reference()


@pytest.fixture
def strata(start_server):
    port = free_port()
    server = start_server("--memcached-port", str(port), "--save", "", "--appendonly", "no")
    wait_until(lambda: connects(port), message="strata's memcached listener")
    server.memcached_port = port
    return server


def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Session:
    """A raw connection: `ask` sends bytes and returns everything answered before the
    VERSION line of a `version` sent after them."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def ask(self, request):
        self.sock.sendall(request + SENTINEL)
        while True:
            match = re.search(rb"VERSION [^\r\n]*\r\n$", self.buffer)
            if match:
                answer, self.buffer = self.buffer[:match.start()], b""
                return answer
            chunk = self.sock.recv(65536)
            if not chunk:
                return self.buffer + b"<closed>"
            self.buffer += chunk

    def close(self):
        self.sock.close()


def normalised(answers):
    """CAS uniques (in VALUE lines and meta `c` flags) replaced by the order in which each
    distinct one first appeared."""
    seen = {}

    def name(match):
        seen.setdefault(match.group(2), f"cas{len(seen)}".encode())
        return match.group(1) + seen[match.group(2)] + b"\r\n"

    out = []
    for answer in answers:
        answer = re.sub(rb"(VALUE \S+ \d+ \d+ )(\d+)\r\n", name, answer)
        answer = re.sub(rb"(?m)^((?:VA \d+|HD)(?: [^ \r\n]+)*? c)(\d+)(?=[ \r])",
                        lambda m: name(m)[:-2], answer)
        out.append(answer)
    return out, seen


CORPUS = [
    b"set a 0 0 5\r\nhello\r\n",
    b"get a\r\n",
    b"set b 42 0 3\r\nxyz\r\nget a b missing\r\n",
    b"add a 0 0 1\r\nx\r\n",
    b"add c 7 0 2\r\nhi\r\n",
    b"replace missing 0 0 1\r\nx\r\n",
    b"replace c 9 0 3\r\nbye\r\nget c\r\n",
    b"append c 5 0 2\r\n!!\r\nprepend c 5 0 2\r\n<<\r\nget c\r\n",
    b"append nope 0 0 1\r\nx\r\nprepend nope 0 0 1\r\nx\r\n",
    b"gets a b\r\n",
    b"cas a 0 0 3 99999999999999999\r\nnew\r\n",
    b"cas missing 0 0 3 99999999999999999\r\nnew\r\n",
    b"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 6\r\nget n\r\n",
    b"decr n 100\r\nget n\r\n",
    b"set big 0 0 20\r\n18446744073709551615\r\nincr big 1\r\nget big\r\n",
    b"incr a 1\r\nincr missing 1\r\nincr n -1\r\nincr n abc\r\n",
    b"set sp 0 0 3\r\n 12\r\nincr sp 1\r\nget sp\r\n",
    b"delete a\r\ndelete a\r\ndelete b 0\r\ndelete c 5\r\ndelete c noreply\r\nget c\r\n",
    b"set t 0 100 1\r\nx\r\ntouch t 200\r\ntouch missing 10\r\ntouch t abc\r\n",
    b"gat 300 t missing\r\ngats 300 t\r\ngat abc t\r\n",
    # C0 is no CAS: append and ma go on, an invalidating set does not store as stale.
    b"ms c0a 2\r\nhi\r\nms c0a 1 MA C0\r\n!\r\nmg c0a v\r\nms c0a 2 I C0\r\nyo\r\nmg c0a v\r\n",
    b"ma c0c N0 J5 q\r\nma c0c q v\r\nma c0c C0 v\r\nma c0c v q k\r\nma nothing q\r\nmn\r\n",
        # A touch keeps the item's flags and CAS unique (it is the same version).
    b"set tf 16 100 1\r\nx\r\ngets tf\r\ntouch tf 400\r\ngets tf\r\ngats 0 tf\r\nmg tf T0 f c v\r\n",
    b"set q 0 0 1 noreply\r\nq\r\nget q\r\nadd q 0 0 1 noreply\r\nx\r\nincr q 1 noreply\r\n",
    b"set x 4294967297 0 1\r\nx\r\nget x\r\n",
    b"set x -1 0 1\r\nx\r\n",
    b"set x 0 0 -1\r\n",
    b"set x 0 0 abc\r\n",
    b"set x 0 0 3\r\nabcde\r\n",
    b"set x 0 0 3 noreply\r\nabcde\r\nget x\r\n",
    b"set " + b"k" * 251 + b" 0 0 1\r\nx\r\n",
    b"get " + b"k" * 251 + b"\r\n",
    b"set " + b"k" * 250 + b" 0 0 1\r\nx\r\nget " + b"k" * 250 + b"\r\n",
    b"set e 0 -1 1\r\nx\r\nget e\r\n",
    b"bogus\r\n\r\nx\r\nGET a\r\nget\r\nset a 0 0\r\n",
    b"verbosity 1\r\nverbosity\r\nverbosity 1 noreply\r\n",
    b"set tab 0 0 1\r\nx\r\nget\ttab\r\n",
    b"set  spaced   0  0  1\r\nx\r\nget   spaced  \r\n",
    b"cas a 0 0 1 abc\r\nx\r\n",
    b"flush_all\r\nget b n big\r\n",
    b"flush_all 0 noreply\r\nflush_all noreply\r\nflush_all abc\r\nflush_all 1 2 3\r\n",
    # Classic errors are silent under noreply; keys need not be UTF-8.
    b"set k 0 0 abc noreply\r\nset " + b"k" * 300 + b" 0 0 1 noreply\r\nx\r\ndelete k 5 noreply\r\n",
    b"incr k abc noreply\r\ntouch k abc noreply\r\nset \xff\xfe 0 0 1\r\nx\r\nget \xff\xfe\r\n",
    b"set k 0 0 3000000 noreply\r\n" + b"v" * 3000000 + b"\r\nget k\r\n",
    b"set ap 0 0 600000\r\n" + b"a" * 600000 + b"\r\nappend ap 0 0 600000\r\n" + b"b" * 600000 + b"\r\n",
    b"ms ap 600000 MA k\r\n" + b"b" * 600000 + b"\r\nmg ap s\r\n",
    # Meta commands: mn, and mg with the flags Strata serves.
    b"set a 5 0 3\r\nabc\r\nmg a v\r\nmg a s t f c k O123 v\r\nmg a q\r\nmg a q v\r\nmn\r\n",
    b"mg miss v\r\nmg miss q v\r\nmg miss k O9\r\nmg miss s t\r\nmn\r\n",
    b"mg a t T30 t\r\nmg a Tx\r\nmg a v v\r\nmg a z\r\nmg\r\nmg a E5\r\nmg a k q\r\n",
    b"mg a O123456789012345678901234567890123\r\nmg a O12345678901234567890123456789012\r\nmg a P L\r\n",
    # (`T-1 t` left out: memcached then prints its own clock's underflow, 2^32 - uptime.)
    b"mg a T30 t v\r\nmg a t\r\nmg a T0 t\r\nmg a T-1\r\nmg a v\r\n",
    b"mg " + b"k" * 251 + b" v\r\nmg " + b"k" * 250 + b" v\r\n",
    # ms, md, ma.
    b"ms a 3\r\nabc\r\nms a 3 T30 F7 k O1 c\r\nabc\r\nmg a v f t\r\nms a 3 q\r\nabc\r\nmn\r\n",
    b"ms a 3 ME\r\nabc\r\nms b 3 ME\r\nabc\r\nms b 1 MA\r\nd\r\nms b 1 MP\r\nz\r\nmg b v f\r\n",
    b"ms zz 1 MR\r\nd\r\nms zz 1 MA\r\nd\r\nms zz 1 MX\r\nd\r\nms a 1 C999998\r\nd\r\nms a 1 C999999 q\r\nd\r\n",
    b"ms a 3\r\nabcd\r\nms a 3 q\r\nabcd\r\nms a x\r\nabc\r\nms a\r\nms a -1\r\nms\r\n",
    b"ms a 1 Tx\r\nd\r\nms a 1 Fx\r\nd\r\nms a 1 MEE\r\nd\r\nms a 1 z\r\nd\r\nms a 1 k k\r\nd\r\n",
    b"ms t 2 T0\r\nab\r\nmg t t\r\nms t 2 T-1\r\nab\r\nmg t t v\r\nms nc 1 C5\r\nx\r\n",
    b"ms a 1\r\nd\r\nmd a\r\nmd a\r\nmd a q\r\nms a 1\r\nd\r\nmd a q k O5\r\nmd a C999999\r\nmn\r\n",
    b"md nope q\r\nmd nope k O5\r\nmd\r\nms a 1\r\nd\r\nmd a C999999\r\nmd a z\r\nmd a k k\r\n",
    b"ma n\r\nma n q\r\nma n N0 J13 v\r\nma n v\r\nma n MD D20 v t k O3\r\nma n M+ D5 v\r\n",
    b"ma n q D1\r\nmg n v\r\nma n Mx\r\nma n Dx\r\nma n Jx\r\nma n z\r\nma n v v\r\nmn\r\n",
    b"ms s 2\r\nab\r\nma s\r\nma\r\nma n C999999\r\nma n T100 t\r\nma n2 N100 J5 t v\r\nma n3 N0 k O7\r\n",
]


def test_the_text_protocol_answers_byte_for_byte_as_memcached(reference, strata):
    answers = {}
    for name, port in (("memcached", reference), ("strata", strata.memcached_port)):
        session = Session(port)
        answers[name] = [session.ask(request) for request in CORPUS]
        session.close()
    ours, _ = normalised(answers["strata"])
    theirs, _ = normalised(answers["memcached"])
    for request, mine, expected in zip(CORPUS, ours, theirs):
        assert mine == expected, request


def test_cas_follows_item_versions_as_memcached(reference, strata):
    for port in (reference, strata.memcached_port):
        session = Session(port)
        session.ask(b"set k 3 0 1\r\na\r\n")
        first = re.search(rb"VALUE k 3 1 (\d+)", session.ask(b"gets k\r\n")).group(1)
        assert re.search(rb"VALUE k 3 1 (\d+)", session.ask(b"gets k\r\n")).group(1) == first
        assert session.ask(b"cas k 5 0 1 " + first + b"\r\nb\r\n") == b"STORED\r\n"
        assert session.ask(b"cas k 5 0 1 " + first + b"\r\nc\r\n") == b"EXISTS\r\n"
        second = re.search(rb"VALUE k 5 1 (\d+)", session.ask(b"gets k\r\n")).group(1)
        assert second != first
        session.ask(b"append k 0 0 1\r\nz\r\n")
        assert session.ask(b"cas k 0 0 1 " + second + b"\r\nd\r\n") == b"EXISTS\r\n"
        # The meta commands use the same versions.
        third = re.search(rb"HD c(\d+)", session.ask(b"mg k c\r\n")).group(1)
        assert session.ask(b"ms k 1 C" + third + b" c\r\nm\r\n").startswith(b"HD c")
        assert session.ask(b"ms k 1 C" + third + b"\r\nn\r\n") == b"EX\r\n"
        assert session.ask(b"md k C" + third + b"\r\n") == b"EX\r\n"
        fourth = re.search(rb"HD c(\d+)", session.ask(b"mg k c\r\n")).group(1)
        assert session.ask(b"ma k C" + fourth + b"\r\n") == b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
        assert session.ask(b"md k C" + fourth + b"\r\n") == b"HD\r\n"
        session.close()


def test_a_too_large_value_is_refused_and_skipped_as_memcached_does(reference, strata):
    request = b"set huge 0 0 2000000\r\n" + b"v" * 2000000 + b"\r\nget huge\r\nset ok 0 0 1\r\n1\r\nget ok\r\n"
    results = []
    for port in (reference, strata.memcached_port):
        session = Session(port)
        session.ask(b"set huge 0 0 1\r\nx\r\n")
        results.append(session.ask(request))
        session.close()
    assert results[0] == results[1]
    assert results[1].startswith(b"SERVER_ERROR object too large for cache\r\n")


def test_items_are_shared_with_resp_clients(strata):
    r = strata.client()
    session = Session(strata.memcached_port)
    assert session.ask(b"set shared 12 0 5\r\nvalue\r\n") == b"STORED\r\n"
    assert r.get("shared") == b"value"
    r.set("from-resp", "redis")
    assert session.ask(b"get from-resp\r\n") == b"VALUE from-resp 0 5\r\nredis\r\nEND\r\n"
    # A RESP write makes a new version: flags back to 0, the old CAS unique refused.
    cas = re.search(rb"VALUE shared 12 5 (\d+)", session.ask(b"gets shared\r\n")).group(1)
    r.set("shared", "other")
    assert session.ask(b"get shared\r\n") == b"VALUE shared 0 5\r\nother\r\nEND\r\n"
    assert session.ask(b"cas shared 0 0 1 " + cas + b"\r\nx\r\n") == b"EXISTS\r\n"
    # TTLs are Strata's: a relative exptime becomes a deadline RESP sees.
    session.ask(b"set ttl 0 100 1\r\nx\r\n")
    assert 98_000 <= r.pttl("ttl") <= 100_000
    session.ask(b"touch ttl 0\r\n")
    assert r.ttl("ttl") == -1
    # Non-string keys are not items.
    r.hset("hash", "f", "v")
    assert session.ask(b"get hash\r\ndelete hash\r\n") == b"END\r\nNOT_FOUND\r\n"
    # Nor do creating meta commands replace them: mg N, ma N and ms ME leave the hash.
    assert session.ask(b"mg hash N30 v\r\nma hash N30 J1\r\nms hash 1 ME\r\nx\r\n") == b"EN\r\nNF\r\nNS\r\n"
    assert r.hgetall("hash") == {b"f": b"v"}
    stats = session.ask(b"stats\r\n")
    for field in (b"curr_items", b"get_hits", b"get_misses", b"evictions", b"bytes", b"limit_maxbytes",
                  b"curr_connections", b"cmd_get", b"cmd_set", b"total_items"):
        assert b"\r\nSTAT " + field + b" " in b"\r\n" + stats, field
    assert session.ask(b"quit\r\n").endswith(b"<closed>")


def test_binary_requests_and_endless_lines_close_the_connection_and_leave_others_alone(strata):
    other = Session(strata.memcached_port)
    binary = socket.create_connection(("127.0.0.1", strata.memcached_port), timeout=10)
    binary.sendall(bytes([0x80, 0x00, 0x00, 0x01]) + b"\x00" * 20)
    assert binary.recv(100) == b""
    endless = socket.create_connection(("127.0.0.1", strata.memcached_port), timeout=10)
    endless.sendall(b"x" * 5000)
    assert endless.recv(100) == b""
    assert other.ask(b"set a 0 0 1\r\n1\r\n") == b"STORED\r\n"
    assert "memcached binary protocol request" in open(strata.log_path).read()
    assert strata.client().ping()


def test_pymemcache_clients_work_against_strata(start_server):
    from pymemcache.client.base import Client
    from pymemcache.client.hash import HashClient
    nodes = []
    for _ in range(2):
        port = free_port()
        server = start_server("--memcached-port", str(port), "--save", "", "--appendonly", "no")
        wait_until(lambda: connects(port), message="strata's memcached listener")
        server.memcached_port = port
        nodes.append(server)
    client = Client(("127.0.0.1", nodes[0].memcached_port))
    assert client.set("k", b"v", expire=100, flags=3) is True
    assert client.get("k") == b"v"
    assert client.get_many(["k", "missing"]) == {"k": b"v"}
    value, cas = client.gets("k")
    assert value == b"v" and client.cas("k", b"w", cas) is True and client.cas("k", b"x", cas) is False
    # pymemcache sends storage commands with noreply unless told otherwise.
    assert client.add("k", b"y", noreply=False) is False and client.replace("k", b"z", noreply=False) is True
    assert client.append("k", b"!", noreply=False) is True and client.prepend("k", b"<", noreply=False) is True
    assert client.get("k") == b"<z!"
    client.set("n", b"10")
    assert client.incr("n", 5) == 15 and client.decr("n", 20) == 0
    assert client.touch("k", 10, noreply=False) is True and client.delete("k", noreply=False) is True
    assert client.get("k") is None
    assert client.raw_command(b"gat 50 n", b"END\r\n") == b"VALUE n 0 2\r\n0 \r\n"
    assert 45 <= nodes[0].client().ttl("n") <= 50
    assert client.set_many({"a": b"1", "b": b"2"}, noreply=False) == []
    assert client.gets_many(["a", "b"])["b"][0] == b"2" and client.delete_many(["a", "b"], noreply=False)
    assert client.version() == b"1.6.18"
    stats = client.stats()
    assert stats[b"cmd_set"] >= 5 and stats[b"get_hits"] >= 3 and b"curr_items" in stats
    assert client.flush_all(noreply=False) is True and client.get("n") is None
    client.close()
    ring = HashClient([("127.0.0.1", n.memcached_port) for n in nodes])
    for i in range(200):
        ring.set(f"key{i}", str(i).encode())
    assert all(ring.get(f"key{i}") == str(i).encode() for i in range(200))
    counts = [n.client().dbsize() for n in nodes]
    assert sum(counts) == 200 and min(counts) > 40, counts
    ring.close()


def test_libmemcached_tools_work_against_strata(strata, tmp_path):
    servers = f"--servers=127.0.0.1:{strata.memcached_port}"
    source = tmp_path / "page.html"
    source.write_bytes(b"<p>cached</p>")
    copied = subprocess.run(["memccp", servers, str(source)], capture_output=True, text=True, timeout=30)
    assert copied.returncode == 0, copied.stderr
    assert strata.client().get("page.html") == b"<p>cached</p>"
    cat = subprocess.run(["memccat", servers, "page.html"], capture_output=True, timeout=30)
    assert cat.returncode == 0 and cat.stdout == b"<p>cached</p>\n", cat.stderr  # memccat ends with a newline
    stat = subprocess.run(["memcstat", servers], capture_output=True, text=True, timeout=30)
    assert stat.returncode == 0 and "curr_items" in stat.stdout and "get_hits" in stat.stdout, stat.stdout + stat.stderr
    flushed = subprocess.run(["memcflush", servers], capture_output=True, text=True, timeout=30)
    assert flushed.returncode == 0, flushed.stderr
    assert strata.client().dbsize() == 0


def memcached_node(start_server, *args, workdir=None):
    port = free_port()
    server = start_server("--memcached-port", str(port), *args, workdir=workdir)
    wait_until(lambda: connects(port), message="strata's memcached listener")
    server.memcached_port = port
    return server


def test_memcached_writes_survive_a_crash_through_the_aof(start_server):
    node = memcached_node(start_server, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
    session = Session(node.memcached_port)
    for i in range(100):
        assert session.ask(b"set item%d 0 3600 %d\r\n%d\r\n" % (i, len(str(i)), i)) == b"STORED\r\n"
    session.ask(b"set counter 0 0 2\r\n10\r\nincr counter 5\r\nappend item1 0 0 1\r\n!\r\ndelete item2\r\n")
    node.proc.kill()
    node.proc.wait()
    restarted = memcached_node(start_server, "--appendonly", "yes", "--save", "", workdir=node.workdir)
    wait_until(lambda: restarted.client().info("persistence")["loading"] == 0, message="the AOF loaded")
    session = Session(restarted.memcached_port)
    assert session.ask(b"get item0 item1 item2 counter\r\n") == (
        b"VALUE item0 0 1\r\n0\r\nVALUE item1 0 2\r\n1!\r\nVALUE counter 0 2\r\n15\r\nEND\r\n")
    assert 3500 < restarted.client().ttl("item50") <= 3600


def test_memcached_writes_reach_replicas_notifications_and_eviction(start_server):
    primary = memcached_node(start_server, "--save", "", "--appendonly", "no", "--notify-keyspace-events", "KEA")
    replica = start_server("--save", "", "--appendonly", "no", "--replicaof", f"127.0.0.1 {primary.port}")
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", message="replica up")
    events = primary.client().pubsub()
    events.psubscribe("__keyspace@0__:*")
    events.get_message(timeout=5)
    session = Session(primary.memcached_port)
    session.ask(b"set seen 0 0 1\r\nx\r\ntouch seen 100\r\ndelete seen\r\nset kept 0 0 4\r\nkept\r\n")
    kinds = []
    wait_until(lambda: kinds.extend(m["data"] for m in iter(lambda: events.get_message(timeout=0.1), None)
                                    if m["type"] == "pmessage") or len(kinds) >= 4, message="the keyspace events")
    assert kinds[:4] == [b"set", b"expire", b"del", b"set"]
    wait_until(lambda: replica.client().get("kept") == b"kept", message="the replica has the memcached write")
    # With maxmemory, memcached writes evict as RESP writes do.
    r = primary.client()
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory", int(r.info("memory")["used_memory"]) + 2_000_000)
    value = b"v" * 1000
    for i in range(5000):
        session.ask(b"set big%d 0 0 1000 noreply\r\n%s\r\n" % (i, value))
    stats = dict(line.split(b" ")[1:3] for line in session.ask(b"stats\r\n").splitlines() if line.startswith(b"STAT"))
    assert int(stats[b"evictions"]) > 0 and int(stats[b"curr_items"]) < 5000


def test_a_client_that_never_reads_is_bounded_and_others_go_on(strata):
    session = Session(strata.memcached_port)
    assert session.ask(b"set big 0 0 500000\r\n" + b"b" * 500000 + b"\r\n") == b"STORED\r\n"
    rss = lambda: int(open(f"/proc/{strata.proc.pid}/status").read().split("VmRSS:")[1].split()[0]) * 1024
    before = rss()
    hog = socket.create_connection(("127.0.0.1", strata.memcached_port), timeout=10)
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.sendall(b"get big\r\n" * 4000)  # two gigabytes of answers, never read
    hog.sendall(b"get " + b"big " * 2000 + b"\r\n")  # one answer of a gigabyte
    other = Session(strata.memcached_port)
    for _ in range(20):
        assert other.ask(b"get missing\r\n") == b"END\r\n"
    assert strata.client().ping()
    assert rss() - before < 200 << 20
    hog.close()
