"""memcached items keep their client flags and CAS uniques wherever Strata writes its
keyspace down or sends it: across a kill -9 through the AOF, across a restart from a
snapshot, through AOF rewrites of either base kind, to replicas (full sync and stream), and
after a replica's promotion a `cas` with the unique handed out before still succeeds.
`strata-dump` shows them, and redis-server 7.0 still loads a snapshot that holds them."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import wait_until
from test_memcached import Session, memcached_node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DUMP = os.environ.get("STRATA_DUMP", os.path.join(ROOT, ".build", "release", "strata-dump"))


def gets(session, key):
    """(flags, cas, value) of `key` by `gets`, None when missing."""
    answer = session.ask(b"gets " + key + b"\r\n")
    match = re.match(rb"VALUE \S+ (\d+) (\d+) (\d+)\r\n", answer)
    if not match:
        assert answer == b"END\r\n", answer
        return None
    flags, length, cas = (int(g) for g in match.groups())
    start = match.end()
    return flags, cas, answer[start:start + length]


def store_sample(session):
    """Items with flags (one with its CAS handed out), one without, and a counter; returns
    the CAS unique handed out for `withcas`."""
    for key, flags, value in [(b"flagged", 7, b"seven"), (b"withcas", 4294967295, b"max"), (b"plain", 0, b"zero")]:
        assert session.ask(b"set %s %d 0 %d\r\n%s\r\n" % (key, flags, len(value), value)) == b"STORED\r\n"
    assert session.ask(b"set counter 12 3600 1\r\n5\r\nincr counter 3\r\n") == b"STORED\r\n8\r\n"
    assert session.ask(b"ms meta 2 F99 T0\r\nhi\r\n") == b"HD\r\n"
    # Meta-protocol state: an invalidated (stale) item and a key sent in base64.
    assert session.ask(b"set stale 0 0 3\r\nold\r\nmd stale I\r\n") == b"STORED\r\nHD\r\n"
    assert session.ask(b"ms Zm9v 2 b\r\nhi\r\n") == b"HD\r\n"
    _, cas, _ = gets(session, b"withcas")
    return cas


def expect_sample(session, cas):
    assert gets(session, b"flagged")[0] == 7
    assert gets(session, b"withcas") == (4294967295, cas, b"max")
    assert gets(session, b"plain")[0] == 0
    assert gets(session, b"counter")[0] == 12 and gets(session, b"counter")[2] == b"8"
    assert session.ask(b"mg meta f v\r\n") == b"VA 2 f99\r\nhi\r\n"
    assert session.ask(b"mg stale v\r\nmg stale\r\n") == b"VA 3 X W\r\nold\r\nHD Z X\r\n"
    assert session.ask(b"mg foo k v\r\n") == b"VA 2 kZm9v b\r\nhi\r\n"
    # The unique handed out before still names the item: cas succeeds once.
    assert session.ask(b"cas withcas 1 0 3 %d\r\nnew\r\n" % cas) == b"STORED\r\n"
    assert session.ask(b"cas withcas 1 0 3 %d\r\nold\r\n" % cas) == b"EXISTS\r\n"


def restart(start_server, node, *args):
    node.proc.kill()
    node.proc.wait()
    restarted = memcached_node(start_server, *args, workdir=node.workdir)
    wait_until(lambda: restarted.client().info("persistence")["loading"] == 0, message="the data loaded")
    return restarted


def test_flags_and_cas_survive_a_crash_through_the_aof(start_server):
    args = ("--appendonly", "yes", "--appendfsync", "always", "--save", "")
    node = memcached_node(start_server, *args)
    cas = store_sample(Session(node.memcached_port))
    restarted = restart(start_server, node, *args)
    session = Session(restarted.memcached_port)
    expect_sample(session, cas)
    # New uniques never repeat one from before the restart.
    assert session.ask(b"set fresh 0 0 1\r\nx\r\n") == b"STORED\r\n"
    assert gets(session, b"fresh")[1] > cas


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_flags_and_cas_survive_an_aof_rewrite(start_server, preamble):
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble, "--save", "")
    node = memcached_node(start_server, *args)
    cas = store_sample(Session(node.memcached_port))
    r = node.client()
    r.bgrewriteaof()
    wait_until(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0
               and r.info("persistence")["aof_rewrite_scheduled"] == 0, message="the rewrite ended")
    base = [n for n in os.listdir(os.path.join(node.workdir, "appendonlydir")) if ".base." in n]
    assert base and base[0].endswith(".rdb" if preamble == "yes" else ".aof"), base
    restarted = restart(start_server, node, *args)
    expect_sample(Session(restarted.memcached_port), cas)


def test_flags_and_cas_survive_a_restart_from_a_snapshot_that_redis_still_loads(start_server):
    args = ("--appendonly", "no", "--save", "", "--snapshot-compression", "none", "--dbfilename", "dump.rdb")
    node = memcached_node(start_server, *args)
    cas = store_sample(Session(node.memcached_port))
    node.client().save()
    restarted = restart(start_server, node, *args)
    expect_sample(Session(restarted.memcached_port), cas)
    # strata-dump shows the metadata of each key.
    listed = subprocess.run([DUMP, "inspect", os.path.join(node.workdir, "dump.rdb"), "--keys", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    rows = {row["key"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert rows["flagged"]["memcachedFlags"] == 7 and rows["withcas"]["casUnique"] == cas
    assert "memcachedFlags" not in rows["plain"]
    # Redis skips the AUX fields it does not know and loads every key.
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    redis = start_server("--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb", binary=binary,
                         workdir=node.workdir)
    wait_until(lambda: redis.client().ping(), message="redis-server loaded the snapshot")
    assert sorted(redis.client().keys()) == [b"counter", b"flagged", b"foo", b"meta", b"plain", b"stale", b"withcas"]
    assert redis.client().get("flagged") == b"seven"


def test_replicas_hold_the_flags_and_cas_and_keep_them_when_promoted(start_server):
    primary = memcached_node(start_server, "--save", "", "--appendonly", "no")
    session = Session(primary.memcached_port)
    assert session.ask(b"set before 3 0 1\r\nb\r\n") == b"STORED\r\n"
    _, before_cas, _ = gets(session, b"before")
    replica = memcached_node(start_server, "--save", "", "--appendonly", "no",
                             "--replicaof", f"127.0.0.1 {primary.port}")
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", message="replica up")
    cas = store_sample(session)  # through the stream
    on_replica = Session(replica.memcached_port)
    wait_until(lambda: gets(on_replica, b"withcas") == (4294967295, cas, b"max"), message="the stream's metadata")
    assert gets(on_replica, b"before") == (3, before_cas, b"b")  # from the full sync
    assert gets(on_replica, b"counter")[0] == 12
    # The replica refuses memcached writes until it is promoted; then the old uniques hold.
    assert on_replica.ask(b"set x 0 0 1\r\nx\r\n").startswith(b"SERVER_ERROR READONLY")
    replica.client().replicaof("no", "one")
    assert on_replica.ask(b"cas before 0 0 1 %d\r\nB\r\n" % before_cas) == b"STORED\r\n"
    expect_sample(on_replica, cas)
