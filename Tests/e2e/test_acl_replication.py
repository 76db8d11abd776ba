"""Replication through ACL users: a replica with `masteruser`/`masterauth` follows a primary
whose default user is off, has a password, or may not even PING, through a dedicated
user with the permissions Redis documents for replication (`+psync +replconf +ping`);
a wrong password or a user without +psync keeps the link down and is logged in the
primary's ACL LOG. Each scenario runs with a Strata primary and a Redis 7.0 replica, and
with a Redis primary and a Strata replica; what each side observes (the link, the data,
the primary's CLIENT LIST `user=` and ACL LOG) is compared with the same scenario run
on two redis-servers. The replica's own default user may not write anything: the
primary's stream is applied regardless."""
import time

import pytest

from conftest import wait_until
from test_acl_support import OK, REDIS, Conn

REPL_USER = ["on", ">rpw", "+psync", "+replconf", "+ping"]

# name: (primary setup after the admin user exists, replica args, link expected up?,
#        the primary's ACL LOG as Redis 7.0 writes it: (reason, context, object, username))
SCENARIOS = {
    "default user off": ([["ACL", "SETUSER", "repl", *REPL_USER], ["ACL", "SETUSER", "default", "off"]],
                         ["--masteruser", "repl", "--masterauth", "rpw"], True, []),
    "requirepass and masterauth only": ([["CONFIG", "SET", "requirepass", "ppw"]], ["--masterauth", "ppw"], True, []),
    # The replica's first PING is refused (NOPERM, logged); it goes on with AUTH.
    "default user may not ping": ([["ACL", "SETUSER", "repl", *REPL_USER],
                                   ["ACL", "SETUSER", "default", "resetkeys", "-@all"]],
                                  ["--masteruser", "repl", "--masterauth", "rpw"], True,
                                  [(b"command", b"toplevel", b"ping", b"default")]),
    "wrong masterauth": ([["ACL", "SETUSER", "repl", *REPL_USER], ["ACL", "SETUSER", "default", "off"]],
                         ["--masteruser", "repl", "--masterauth", "wrong"], False,
                         [(b"auth", b"toplevel", b"AUTH", b"repl")]),
    # PSYNC refused, the replica falls back to SYNC, refused too.
    "replication user without psync": ([["ACL", "SETUSER", "repl", "on", ">rpw", "+replconf", "+ping"],
                                        ["ACL", "SETUSER", "default", "off"]],
                                       ["--masteruser", "repl", "--masterauth", "rpw"], False,
                                       [(b"command", b"toplevel", b"psync", b"repl"),
                                        (b"command", b"toplevel", b"sync", b"repl")]),
}


def start(start_server, kind, *args):
    if kind == "strata":
        return start_server(*args)
    if REDIS is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    return start_server("--save", "", "--appendonly", "no", *args, binary=REDIS)


def admin_conn(server):
    c = Conn(server.port)
    assert c.cmd("AUTH", "admin", "apw") == OK
    return c


def log_summary(c):
    """The primary's ACL LOG as a set of (reason, context, object, username): retries of
    the replica's handshake make the counts grow with time, so they are left out."""
    reply = c.cmd("ACL", "LOG", "128")
    assert isinstance(reply, list), reply
    return sorted({(e[3], e[5], e[7], e[9]) for e in reply})


def run_scenario(start_server, primary_kind, replica_kind, name):
    setup, replica_args, link_up, expected_log = SCENARIOS[name]
    primary = start(start_server, primary_kind, "--repl-diskless-sync-delay", "0")
    p = Conn(primary.port)
    assert p.cmd("ACL", "SETUSER", "admin", "on", ">apw", "~*", "&*", "+@all") == OK
    assert p.cmd("AUTH", "admin", "apw") == OK
    for command in setup:
        assert p.cmd(*command) == OK, command
    assert p.cmd("SET", "before", "sync") == OK
    replica = start(start_server, replica_kind, *replica_args, "--replicaof", f"127.0.0.1 {primary.port}")
    r = Conn(replica.port)
    assert r.cmd("ACL", "SETUSER", "admin", "on", ">apw", "~*", "&*", "+@all") == OK
    assert r.cmd("AUTH", "admin", "apw") == OK
    assert r.cmd("ACL", "SETUSER", "default", "resetkeys", "-@all", "+info") == OK
    seen = {}
    if link_up:
        wait_until(lambda: link_status(r) == "up", timeout=30, message=f"{name}: the replication link comes up")
        assert p.cmd("SET", "k", "v") == OK
        assert p.cmd("HSET", "h", "f", "1") == 1
        assert p.cmd("EVAL", "redis.call('incr', KEYS[1]); return redis.call('incr', KEYS[1])", "1", "n") == 2
        wait_until(lambda: r.cmd("GET", "n") == b"2", timeout=30, message=f"{name}: the writes reach the replica")
        seen["replica data"] = [r.cmd("GET", "before"), r.cmd("GET", "k"), r.cmd("HGET", "h", "f"), r.cmd("GET", "n")]
        seen["replica's default user may not read"] = Conn(replica.port).cmd("GET", "k")
        seen["primary sees the replica as"] = replica_link_user(p)
    else:
        # Wait for the entries Redis writes (or for anything, then time out on a
        # different set: the comparison below reports it).
        deadline = time.monotonic() + 15
        while log_summary(p) != expected_log and time.monotonic() < deadline:
            time.sleep(0.05)
        seen["link"] = link_status(r)
        seen["replica data"] = r.cmd("GET", "before")
    seen["primary ACL LOG"] = log_summary(p)
    return seen


def link_status(c):
    info = c.cmd("INFO", "replication")
    if not isinstance(info, bytes):
        return repr(info)
    for line in info.decode().split("\r\n"):
        if line.startswith("master_link_status:"):
            return line.split(":", 1)[1]
    return None


def replica_link_user(p):
    listing = p.cmd("CLIENT", "LIST", "TYPE", "replica")
    assert isinstance(listing, bytes), listing
    users = []
    for line in listing.decode().splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        users.append((fields.get("user"), "S" in fields.get("flags", "")))
    return users


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_replication_through_acl_users(start_server, name):
    control = run_scenario(start_server, "redis", "redis", name)
    # The control pins what Redis does, so that a broken scenario cannot pass vacuously.
    assert control["primary ACL LOG"] == SCENARIOS[name][3], control
    if SCENARIOS[name][2]:
        assert control["replica data"] == [b"sync", b"v", b"1", b"2"], control
        assert control["replica's default user may not read"].startswith("NOPERM"), control
    else:
        assert control["link"] == "down" and control["primary ACL LOG"], control
    mismatches = []
    for primary_kind, replica_kind in (("strata", "redis"), ("redis", "strata")):
        seen = run_scenario(start_server, primary_kind, replica_kind, name)
        for key, expected in control.items():
            if seen.get(key) != expected:
                mismatches.append(f"{primary_kind} primary, {replica_kind} replica: {key}\n"
                                  f"      redis+redis: {expected!r}\n      here:        {seen.get(key)!r}")
    assert not mismatches, f"{name}:\n  " + "\n  ".join(mismatches)

