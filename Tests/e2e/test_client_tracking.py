"""CLIENT TRACKING and the rest of the CLIENT family side by side with Redis 7: the same
sequence runs against redis-server and Strata over raw sockets, and the bytes each
connection receives (replies, invalidation pushes, redirected pub/sub messages) are
compared exactly, client ids masked."""
import re
import socket
import time



def encode(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


class Raw:
    """A connection that returns whatever bytes arrived, replies and pushes alike."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(0.05)

    def drain(self, settle=0.15):
        data = b""
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            data += chunk
        return data

    def cmd(self, *args):
        self.sock.sendall(encode(*args))
        return self.drain()

    def id(self):
        return int(self.cmd("CLIENT", "ID")[1:-2])

    def close(self):
        self.sock.close()


def mask(data, ids):
    for index, value in enumerate(ids):
        data = data.replace(b":%d\r\n" % value, b":<id%d>\r\n" % index)
    return data


def tracking_session(port):
    """One sequence covering the default mode, REDIRECT (RESP2 pub/sub and broken), BCAST
    with prefixes and NOLOOP, OPTIN/OPTOUT and the option errors. Returns a transcript."""
    out = []
    a, b, r = Raw(port), Raw(port), Raw(port)
    a.cmd("HELLO", "3")
    rid = r.id()
    ids = [rid]
    log = lambda label, *values: out.append((label, *[mask(v, ids) for v in values]))
    log("subscribe", r.cmd("SUBSCRIBE", "__redis__:invalidate"))
    log("on", a.cmd("CLIENT", "TRACKING", "on"))
    log("reads", a.cmd("GET", "k1"), a.cmd("MGET", "k1", "k2"))
    log("own write", a.cmd("SET", "k1", "v"))
    log("other write", b.cmd("SET", "k2", "v"), a.drain())
    a.cmd("GET", "k1")
    log("swapdb", b.cmd("SWAPDB", "0", "1"), a.drain())
    log("flushall", b.cmd("FLUSHALL"), a.drain())
    a.cmd("GET", "x1")
    log("multi", a.cmd("MULTI"), a.cmd("SET", "x1", "1"), a.cmd("GET", "x2"), a.cmd("SET", "x2", "2"), a.cmd("EXEC"))
    log("redirect", b.cmd("CLIENT", "TRACKING", "on", "REDIRECT", str(rid)), b.cmd("GET", "y"), a.cmd("SET", "y", "1"),
        r.drain())
    log("flush to redirect", a.cmd("FLUSHALL"), r.drain())
    b.cmd("GET", "y")
    log("info", b.cmd("CLIENT", "TRACKINGINFO"), b.cmd("CLIENT", "GETREDIR"), a.cmd("CLIENT", "TRACKINGINFO"))
    r.close()
    time.sleep(0.1)
    log("broken resp2", a.cmd("SET", "y", "2"), b.drain(), b.cmd("CLIENT", "TRACKINGINFO"))
    c, d = Raw(port), Raw(port)
    c.cmd("HELLO", "3")
    did = d.id()
    ids.append(did)
    log("resp3 redirect", c.cmd("CLIENT", "TRACKING", "on", "REDIRECT", str(did)), c.cmd("GET", "z"))
    d.close()
    time.sleep(0.1)
    log("broken resp3", a.cmd("SET", "z", "1"), c.drain(), c.cmd("CLIENT", "TRACKINGINFO"))
    e = Raw(port)
    e.cmd("HELLO", "3")
    log("bcast", e.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:", "PREFIX", "q:"),
        e.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:x"), e.cmd("CLIENT", "TRACKINGINFO"))
    log("bcast writes", b.cmd("MSET", "q:2", "1", "p:1", "1", "zz", "1", "p:1", "2"), e.drain(),
        e.cmd("SET", "p:3", "1"))
    f = Raw(port)
    f.cmd("HELLO", "3")
    f.cmd("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP")
    log("noloop", f.cmd("SET", "a", "1"), f.cmd("MSET", "a", "2", "b", "3"), b.cmd("SET", "a", "3"), f.drain())
    g = Raw(port)
    g.cmd("HELLO", "3")
    log("optin", g.cmd("CLIENT", "TRACKING", "on", "OPTIN"), g.cmd("GET", "o1"), g.cmd("CLIENT", "CACHING", "yes"),
        g.cmd("CLIENT", "TRACKINGINFO"), g.cmd("GET", "o2"), g.cmd("GET", "o3"),
        b.cmd("MSET", "o1", "1", "o2", "2", "o3", "3"), g.drain())
    log("mode errors", g.cmd("CLIENT", "CACHING", "no"), g.cmd("CLIENT", "TRACKING", "on", "OPTOUT"),
        g.cmd("CLIENT", "TRACKING", "on", "BCAST"))
    log("optout", g.cmd("CLIENT", "TRACKING", "off"), g.cmd("CLIENT", "TRACKING", "on", "OPTOUT"),
        g.cmd("CLIENT", "CACHING", "yes"), g.cmd("CLIENT", "CACHING", "no"), g.cmd("GET", "o1"), g.cmd("GET", "o2"),
        b.cmd("MSET", "o1", "1", "o2", "2"), g.drain())
    h = Raw(port)
    for args in (["on", "OPTIN", "OPTOUT"], ["on", "BCAST", "OPTIN"], ["on", "PREFIX", "a"],
                 ["on", "BCAST", "PREFIX", "a", "PREFIX", "ab"], ["on", "REDIRECT", "999999"],
                 ["on", "REDIRECT", "abc"], ["maybe"], ["on", "foo"], ["on", "PREFIX"]):
        log("error", h.cmd("CLIENT", "TRACKING", *args))
    log("caching off", h.cmd("CLIENT", "CACHING", "yes"), h.cmd("CLIENT", "GETREDIR"), h.cmd("CLIENT", "TRACKINGINFO"))
    for conn in (a, b, c, e, f, g, h):
        conn.close()
    return out


def test_tracking_transcript_matches_redis(server, redis_server):
    ours = tracking_session(server.port)
    theirs = tracking_session(redis_server.port)
    assert [entry[0] for entry in ours] == [entry[0] for entry in theirs]
    for mine, reference in zip(ours, theirs):
        assert mine == reference


def client_fields(line):
    return [field.split("=", 1)[0] for field in line.split(" ")]


def test_client_list_fields_and_flags_match_redis(server, redis_server):
    for target in (server, redis_server):
        c = target.client(protocol=3)
        c.execute_command("CLIENT", "TRACKING", "on", "BCAST")
        c.execute_command("CLIENT", "NO-EVICT", "on")
        info = c.execute_command("CLIENT", "INFO")
        info = info.decode() if isinstance(info, bytes) else info
        target.fields = client_fields(info.strip())
        target.flags = re.search(r" flags=(\S+)", info).group(1)
        target.redir = re.search(r" redir=(\S+)", info).group(1)
        listed = target.client().execute_command("CLIENT", "LIST")
        target.list_fields = client_fields(listed.decode().splitlines()[0])
    assert server.fields == redis_server.fields
    assert server.list_fields == redis_server.list_fields
    assert server.flags == redis_server.flags == "tBe"
    assert server.redir == redis_server.redir == "0"


def reply_session(port):
    c = Raw(port)
    out = [c.cmd("CLIENT", "REPLY", "SKIP"), c.cmd("SET", "x", "1"), c.cmd("GET", "x"),
           c.cmd("CLIENT", "REPLY", "OFF"), c.cmd("SET", "x", "2"), c.cmd("NOSUCH"), c.cmd("CLIENT", "REPLY", "SKIP"),
           c.cmd("CLIENT", "REPLY", "ON"), c.cmd("GET", "x"), c.cmd("CLIENT", "REPLY", "maybe"),
           c.cmd("CLIENT", "NO-EVICT", "maybe"), c.cmd("CLIENT", "PAUSE", "abc"), c.cmd("CLIENT", "PAUSE", "-1"),
           c.cmd("CLIENT", "PAUSE", "10", "foo"), c.cmd("CLIENT", "KILL", "USER", "bob"),
           c.cmd("CLIENT", "KILL", "MAXAGE", "10"), c.cmd("CLIENT", "HELP")]
    c.close()
    return out


def test_client_reply_and_argument_errors_match_redis(server, redis_server):
    assert reply_session(server.port) == reply_session(redis_server.port)


def pause_session(port):
    a, b, c = Raw(port), Raw(port), Raw(port)
    out = [a.cmd("CLIENT", "PAUSE", "100000", "WRITE"), b.cmd("GET", "k"), b.cmd("SET", "k", "1"),
           c.cmd("EVAL_RO", "return 1", "0"), c.cmd("MULTI"), c.cmd("SET", "k", "2")]
    out.append(re.sub(rb"id=\d+ addr=\S+ laddr=\S+ fd=\d+ name= age=\d+ idle=\d+ ", b"",
                      re.sub(rb"qbuf=.*tot-mem=\d+ ", b"", a.cmd("CLIENT", "LIST"))).split(b"\n")[1:3])
    out += [a.cmd("CLIENT", "UNPAUSE"), b.drain(), c.drain(), c.cmd("EXEC")]
    for conn in (a, b, c):
        conn.close()
    return out


def test_pause_write_holds_writes_until_unpause_as_redis(server, redis_server):
    ours = pause_session(server.port)
    assert ours == pause_session(redis_server.port)
    assert ours[2] == b""  # the SET waited
    assert ours[8] == b"+OK\r\n"  # and was answered at UNPAUSE


def test_pause_ends_at_its_timeout(server):
    a, b = server.client(), server.client()
    a.execute_command("CLIENT", "PAUSE", "300", "ALL")
    started = time.monotonic()
    assert b.set("k", "v")
    assert time.monotonic() - started >= 0.25
    assert b.get("k") == b"v"


def test_tracking_table_is_bounded(server):
    c = Raw(server.port)
    c.cmd("HELLO", "3")
    server.client().config_set("tracking-table-max-keys", 2)
    c.cmd("CLIENT", "TRACKING", "on")
    received = c.cmd("MGET", "t1", "t2", "t3", "t4")
    # Two keys had to go: each is invalidated so the client drops it too.
    assert received.count(b">2\r\n$10\r\ninvalidate\r\n") == 2
    c.close()
