"""Replication with the real Redis 7.0 as the replica: a redis-server started with
`--replicaof` a Strata primary loads its snapshot, follows its command stream, and after
its link is cut continues from the backlog (`+CONTINUE`, no second full sync). The
keyspaces are compared with DEBUG DIGEST, which both servers compute the same way."""

import json
import os
import shutil
import signal
import time

import pytest
import redis

from conftest import info_field, wait_until
from test_strata_dump import run

REDIS = shutil.which("redis-server")


def replica_of(start_server, primary):
    if REDIS is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    return start_server("--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
                        "--replicaof", f"127.0.0.1 {primary.port}", binary=REDIS)


def write_everything(r, tag):
    """Writes of every type, with expiries, a transaction, a script and other databases."""
    r.set(f"s:{tag}", "value")
    r.set(f"n:{tag}", 10)
    r.incrby(f"n:{tag}", 5)
    r.append(f"s:{tag}", "-more")
    r.hset(f"h:{tag}", mapping={"a": "1", "b": "2", "c": "3"})
    r.rpush(f"l:{tag}", *[f"e{i}" for i in range(50)])
    r.lpop(f"l:{tag}")
    r.sadd(f"set:{tag}", *range(20))
    r.srem(f"set:{tag}", 3)
    r.zadd(f"z:{tag}", {f"m{i}": i * 1.5 for i in range(30)})
    r.zincrby(f"z:{tag}", 2, "m3")
    r.xadd(f"x:{tag}", {"f": "v"}, id="1-1")
    r.xadd(f"x:{tag}", {"f": "w"}, id="2-1")
    r.pfadd(f"hll:{tag}", *[f"u{i}" for i in range(100)])
    r.set(f"ttl:{tag}", "v", px=600_000)
    r.expire(f"h:{tag}", 3600)
    r.setbit(f"bits:{tag}", 77, 1)
    with r.pipeline(transaction=True) as p:
        p.set(f"tx1:{tag}", "a")
        p.incr(f"tx2:{tag}")
        p.lpush(f"tx3:{tag}", "x")
        p.execute()
    r.eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])", 2,
           f"lua1:{tag}", f"lua2:{tag}", "from-lua")
    r.delete(f"n:{tag}")
    other = redis.Redis(host="127.0.0.1", port=r.connection_pool.connection_kwargs["port"], db=3)
    other.set(f"db3:{tag}", "three")
    other.hset(f"db3h:{tag}", "f", "v")


def wait_caught_up(primary, replica):
    p = primary.client()
    r = replica.client()

    def caught_up():
        if info_field(r, "replication", "master_link_status") != "up":
            return False
        return info_field(r, "replication", "slave_repl_offset") == info_field(p, "replication", "master_repl_offset")

    wait_until(caught_up, timeout=30, message="the replica catches up with the primary")


def digests_agree(primary, replica):
    return primary.client().execute_command("DEBUG", "DIGEST") == replica.client().execute_command("DEBUG", "DIGEST")


def synced(start_server, make_replica, primary=None, tag="before"):
    """A primary (a Strata one unless given) written with every type, and a replica made
    by `make_replica` that caught up with it, keyspaces compared."""
    primary = primary or start_server("--enable-debug-command", "yes")
    p = primary.client()
    write_everything(p, tag)
    replica = make_replica(start_server, primary)
    wait_caught_up(primary, replica)
    assert digests_agree(primary, replica)
    return primary, p, replica


SENT_AS = {"yes": "Streamed RDB transfer with replica", "no": "byte snapshot"}
RECEIVED_AS = {"yes": "receiving streamed RDB from master with EOF", "no": "bytes from master to disk"}


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_a_redis_replica_loads_the_snapshot_and_follows_the_stream(start_server, diskless):
    primary = start_server("--enable-debug-command", "yes", "--repl-diskless-sync", diskless)
    primary, p, replica = synced(start_server, replica_of, primary)
    # The snapshot went as asked: straight to the socket (`$EOF:`), or from a file.
    assert SENT_AS[diskless] in primary.output()
    write_everything(p, "after")
    p.flushdb()  # db 0 emptied on both, db 3 kept
    write_everything(p, "later")
    wait_caught_up(primary, replica)
    assert digests_agree(primary, replica)
    assert replica.client().get("s:later") == b"value-more"
    assert replica.client().pttl("ttl:later") > 0
    # The primary reports its replica as Redis does.
    assert info_field(p, "replication", "connected_slaves") == 1
    slave = info_field(p, "replication", "slave0")
    assert slave["state"] == "online" and slave["port"] == replica.port
    role = p.execute_command("ROLE")
    assert role[0] == b"master" and role[2][0][1] == str(replica.port).encode()
    assert info_field(p, "stats", "sync_full") == 1
    # The replica refuses writes: it is Redis's own behaviour, shown for the record.
    with pytest.raises(redis.ReadOnlyError):
        replica.client().set("x", "y")


def test_a_replica_whose_link_was_cut_continues_from_the_backlog(start_server):
    primary, p, replica = synced(start_server, replica_of)
    for round_number in range(3):
        assert p.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
        write_everything(p, f"while-down-{round_number}")
        wait_caught_up(primary, replica)
        assert digests_agree(primary, replica)
    assert info_field(p, "stats", "sync_full") == 1
    assert info_field(p, "stats", "sync_partial_ok") == 3
    assert "Partial resynchronization request" in primary.output()


def test_a_new_history_forces_a_full_sync(start_server):
    primary, p, replica = synced(start_server, replica_of)
    # A new id with no previous one: the replica's PSYNC cannot continue.
    p.execute_command("DEBUG", "CHANGE-REPL-ID")
    assert p.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    write_everything(p, "two")
    wait_until(lambda: info_field(p, "stats", "sync_full") == 2, timeout=30, message="a second full sync")
    wait_caught_up(primary, replica)
    assert digests_agree(primary, replica)
    assert info_field(p, "stats", "sync_partial_err") == 1


def test_snapshot_only_callers_still_get_a_snapshot_and_are_disconnected(start_server, tmp_path):
    primary = start_server()
    p = primary.client()
    p.set("k", "v")
    out = tmp_path / "dump.rdb"
    primary.cli("--rdb", str(out))
    assert out.read_bytes().startswith(b"REDIS")
    assert info_field(p, "replication", "connected_slaves") == 0
    wait_until(lambda: len(p.client_list()) == 1, timeout=10, message="the snapshot caller left")


def test_info_replication_fields_without_replicas(start_server):
    primary = start_server()
    p = primary.client()
    fields = p.info("replication")
    assert fields["role"] == "master" and fields["connected_slaves"] == 0
    assert fields["repl_backlog_active"] == 0 and fields["second_repl_offset"] == -1
    assert fields["master_repl_offset"] == 0 and len(fields["master_replid"]) == 40
    assert p.execute_command("ROLE") == [b"master", 0, []]


def test_keys_that_expire_on_the_primary_are_deleted_on_the_replica(start_server):
    primary = start_server("--enable-debug-command", "yes")
    p = primary.client()
    replica = replica_of(start_server, primary)
    wait_caught_up(primary, replica)
    with p.pipeline(transaction=False) as pipe:
        for i in range(300):
            pipe.set(f"short:{i}", "v", px=50)
        pipe.set("kept", "v")
        pipe.execute()
    # Active expiry removes them on the primary, which sends a DEL for each.
    wait_until(lambda: p.dbsize() == 1, timeout=30, message="the keys expire on the primary")
    wait_caught_up(primary, replica)
    assert replica.client().dbsize() == 1
    assert digests_agree(primary, replica)


def test_wait_counts_the_replicas_that_acknowledged_the_clients_writes(start_server):
    primary = start_server()
    p = primary.client()
    replica = replica_of(start_server, primary)
    wait_caught_up(primary, replica)
    for i in range(20):
        p.set(f"w:{i}", i)
        # The replica is asked for its offset at once: no second-long wait per write.
        assert p.wait(1, 5000) == 1
    assert replica.client().get("w:19") == b"19"
    # More replicas than there are: the timeout answers with those that acknowledged.
    p.set("w:last", "v")
    started = time.monotonic()
    assert p.wait(2, 300) == 1
    assert time.monotonic() - started >= 0.25
    # A client that wrote nothing is acknowledged by every online replica.
    assert primary.client().wait(1, 0) == 1


def strata_replica_of(start_server, primary):
    replica = start_server("--enable-debug-command", "yes")
    assert replica.client().execute_command("REPLICAOF", "127.0.0.1", primary.port) == b"OK"
    return replica


@pytest.mark.parametrize("primary_kind", ["redis", "strata"])
@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_a_strata_replica_follows_a_primary(start_server, primary_kind, diskless):
    if primary_kind == "redis":
        primary = start_server("--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
                               "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0", binary=REDIS)
    else:
        primary = start_server("--enable-debug-command", "yes", "--repl-diskless-sync", diskless)
    primary, p, replica = synced(start_server, strata_replica_of, primary)
    assert RECEIVED_AS[diskless] in replica.output()
    write_everything(p, "after")
    wait_caught_up(primary, replica)
    assert digests_agree(primary, replica)
    r = replica.client()
    assert r.get("s:after") == b"value-more"
    # A replica refuses writes from its clients, as Redis's does.
    with pytest.raises(redis.exceptions.ReadOnlyError):
        r.set("x", "y")
    role = r.execute_command("ROLE")
    assert role[0] == b"slave" and role[2] == primary.port and role[3] == b"connected"
    assert info_field(r, "replication", "role") == "slave"
    assert info_field(r, "replication", "master_replid") == info_field(p, "replication", "master_replid")
    # The primary sees it as a replica and WAIT is answered by it.
    p.set("waited", "1")
    assert p.wait(1, 5000) == 1
    # The link cut from the primary's side: the replica continues where it was.
    p.execute_command("CLIENT", "KILL", "TYPE", "replica")
    write_everything(p, "while-down")
    wait_caught_up(primary, replica)
    assert digests_agree(primary, replica)
    assert info_field(p, "stats", "sync_full") == 1 and info_field(p, "stats", "sync_partial_ok") == 1


def test_a_promoted_replica_keeps_the_history_for_its_former_peers(start_server):
    primary, p, replica = synced(start_server, strata_replica_of)
    old_id = info_field(p, "replication", "master_replid")
    r = replica.client()
    assert r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert r.execute_command("ROLE")[0] == b"master"
    assert info_field(r, "replication", "master_replid2") == old_id
    r.set("written-after-promotion", "yes")
    # The old primary follows the promoted replica and continues its history (a partial
    # sync: the promoted server's backlog holds the old primary's stream).
    assert p.execute_command("REPLICAOF", "127.0.0.1", replica.port) == b"OK"
    wait_caught_up(replica, primary)
    assert p.get("written-after-promotion") == b"yes"
    assert digests_agree(replica, primary)
    assert info_field(r, "stats", "sync_partial_ok") == 1 and info_field(r, "stats", "sync_full") == 0


def test_the_replicaof_directive_follows_a_primary_from_the_start(start_server):
    primary = start_server()
    p = primary.client()
    p.set("from-primary", "yes")
    replica = start_server("--replicaof", f"127.0.0.1 {primary.port}")
    r = replica.client()
    wait_until(lambda: r.get("from-primary") == b"yes", timeout=20, message="the replica syncs")
    assert r.config_get("replicaof") == {"replicaof": f"127.0.0.1 {primary.port}"}
    r.execute_command("REPLICAOF", "NO", "ONE")
    assert r.config_get("replicaof") == {"replicaof": ""}


def test_min_replicas_to_write_refuses_writes_without_enough_good_replicas(start_server):
    primary = start_server("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")
    p = primary.client()
    with pytest.raises(redis.exceptions.ResponseError, match="NOREPLICAS Not enough good replicas to write."):
        p.set("k", "v")
    assert p.get("k") is None  # reads are served
    assert info_field(p, "replication", "min_slaves_good_slaves") == 0
    replica = strata_replica_of(start_server, primary)
    wait_until(lambda: info_field(p, "replication", "min_slaves_good_slaves") == 1, timeout=20,
               message="the replica counts as good")
    assert p.set("k", "v")
    wait_until(lambda: replica.client().get("k") == b"v", timeout=20, message="the write reaches the replica")
    # A transaction with a refused write is aborted, as in Redis.
    p.config_set("min-replicas-to-write", "2")
    with pytest.raises(redis.exceptions.ResponseError, match="NOREPLICAS"):
        p.set("k2", "v")
    p.config_set("min-replicas-to-write", "0")
    assert p.set("k2", "v")
    assert "min_slaves_good_slaves" not in p.info("replication")


def test_a_restarted_replica_continues_from_its_snapshot(start_server):
    primary = start_server("--enable-debug-command", "yes")
    p = primary.client()
    write_everything(p, "one")
    replica = start_server("--replicaof", f"127.0.0.1 {primary.port}", "--enable-debug-command", "yes")
    wait_caught_up(primary, replica)
    other = redis.Redis(host="127.0.0.1", port=primary.port, db=5)
    other.set("in-db-5", "x")  # the stream is on db 5 when the replica saves
    wait_caught_up(primary, replica)
    replica.client().save()
    replica.stop()
    other.incr("counter-in-db-5")  # written while the replica is down, still on db 5
    write_everything(p, "while-restarting")
    restarted = start_server("--replicaof", f"127.0.0.1 {primary.port}", "--enable-debug-command", "yes",
                             workdir=replica.workdir)
    wait_caught_up(primary, restarted)
    assert digests_agree(primary, restarted)
    assert redis.Redis(port=restarted.port, db=5).get("counter-in-db-5") == b"1"
    # The snapshot's replication id and offset let it continue: no second full sync.
    assert info_field(p, "stats", "sync_full") == 1 and info_field(p, "stats", "sync_partial_ok") == 1
    assert "Restored the replication id and offset" in restarted.output()


def test_replicaof_refuses_a_port_out_of_range_as_redis(strata_and_redis):
    for server in strata_and_redis:
        c = server.client()
        for port in ("65536", "-1", "99999"):
            with pytest.raises(redis.exceptions.ResponseError, match="^Invalid master port$"):
                c.execute_command("REPLICAOF", "127.0.0.1", port)
        assert c.execute_command("ROLE")[0] == b"master"


def test_the_backlog_follows_its_settings(start_server):
    # The largest values Redis accepts: neither may overflow or allocate up front.
    primary = start_server("--repl-backlog-size", "9223372036854775807",
                           "--repl-backlog-ttl", "9223372036854775807")
    p = primary.client()
    replica = strata_replica_of(start_server, primary)
    wait_caught_up(primary, replica)
    p.set("big", "x" * 40000)
    wait_caught_up(primary, replica)
    assert p.info("replication")["repl_backlog_histlen"] > 40000
    # Resized at run time, keeping the newest bytes (Redis's floor is 16 KB).
    p.config_set("repl-backlog-size", "16384")
    fields = p.info("replication")
    assert fields["repl_backlog_size"] == 16384 and fields["repl_backlog_histlen"] == 16384
    assert fields["repl_backlog_first_byte_offset"] == fields["master_repl_offset"] - 16384 + 1
    # With no replica left, the backlog outlives a ttl of 2^63 - 1 seconds...
    replica.client().execute_command("REPLICAOF", "NO", "ONE")
    wait_until(lambda: p.info("replication")["connected_slaves"] == 0, timeout=20, message="the replica leaves")
    started = p.info("server")["uptime_in_seconds"]
    wait_until(lambda: p.info("server")["uptime_in_seconds"] >= started + 2, timeout=20,
               message="two backlog checks pass")
    assert p.info("replication")["repl_backlog_active"] == 1
    # ...and is freed after a ttl of one second, the offset kept (no replica: no PINGs).
    offset = p.info("replication")["master_repl_offset"]
    p.config_set("repl-backlog-ttl", "1")
    wait_until(lambda: p.info("replication")["repl_backlog_active"] == 0, timeout=20,
               message="the backlog is freed")
    assert p.info("replication")["master_repl_offset"] == offset


def test_a_redis_replica_continues_after_the_primary_restarts(start_server):
    primary = start_server("--enable-debug-command", "yes")
    primary, p, replica = synced(start_server, replica_of, primary)
    primary.stop()  # SIGTERM: the shutdown snapshot records the replication id and offset
    restarted = start_server("--enable-debug-command", "yes", workdir=primary.workdir, port=primary.port)
    r = restarted.client()
    write_everything(r, "after-restart")
    wait_caught_up(restarted, replica)
    assert digests_agree(restarted, replica)
    # The Redis replica continued the history the snapshot kept: no full sync.
    assert info_field(r, "stats", "sync_full") == 0 and info_field(r, "stats", "sync_partial_ok") == 1


def test_a_replica_keeps_its_own_append_only_file_and_can_be_backed_up(start_server, tmp_path):
    def replica_with_aof(start_server, primary):
        return start_server("--replicaof", f"127.0.0.1 {primary.port}", "--appendonly", "yes",
                            "--enable-debug-command", "yes")

    primary, p, replica = synced(start_server, replica_with_aof)
    write_everything(p, "after")
    wait_caught_up(primary, replica)
    digest = replica.client().execute_command("DEBUG", "DIGEST")
    # strata-dump backup takes a verified snapshot from the primary and from the replica.
    for source in (primary, replica):
        out = run("backup", "--from", f"127.0.0.1:{source.port}", "--out", str(tmp_path / str(source.port)),
                  "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["verified"] is True
    # The replica's own append-only file holds what it applied: alone, it starts with it.
    replica.stop()
    alone = start_server("--appendonly", "yes", "--enable-debug-command", "yes", workdir=replica.workdir)
    assert alone.client().execute_command("DEBUG", "DIGEST") == digest


def test_a_replica_leaves_expired_keys_to_its_primary(start_server):
    # The primary's commands reach the replica after their short TTLs passed (the replica
    # stopped meanwhile): a key made persistent on the primary must survive on the replica.
    primary, p, replica = synced(start_server, strata_replica_of)
    r = replica.client()
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        p.set("k", "v", px=100)
        p.persist("k")
        p.set("k2", "v", px=100)
        p.pexpire("k2", 5_000_000)
        p.set("clock", "v", px=100)
        wait_until(lambda: p.exists("clock") == 0, message="the short TTLs pass")
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    wait_caught_up(primary, replica)
    assert r.get("k") == b"v" and r.pttl("k") == -1
    assert r.get("k2") == b"v" and r.pttl("k2") > 4_000_000
    # A key past its deadline reads as missing on the replica but stays until the
    # primary's DEL: expiring it there would be a write the primary's stream lacks.
    p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    p.set("short", "v", px=50)
    wait_caught_up(primary, replica)
    offset = info_field(r, "replication", "master_repl_offset")
    wait_until(lambda: r.get("short") is None, message="the key reads as expired on the replica")
    assert r.exists("short") == 0 and r.dbsize() == p.dbsize()
    assert info_field(r, "replication", "master_repl_offset") == offset
    assert p.get("short") is None  # expired on the primary: its DEL reaches the replica
    wait_until(lambda: r.dbsize() == p.dbsize() and info_field(r, "replication", "master_repl_offset") > offset,
               message="the primary's DEL reaches the replica")
    assert digests_agree(primary, replica)


def test_restore_from_a_redis_primary_reaches_a_strata_replica(start_server):
    primary = start_server("--save", "", "--appendonly", "no", "--enable-debug-command", "yes", binary=REDIS)
    primary, p, replica = synced(start_server, strata_replica_of, primary)
    p.hset("h", mapping={"a": "1"})
    p.xgroup_create("xe", "g", id="$", mkstream=True)
    p.restore("h2", 0, p.dump("h"))
    p.restore("xe2", 60_000, p.dump("xe"))
    p.set("h", "old")
    p.restore("h", 0, p.dump("h2"), replace=True)
    wait_caught_up(primary, replica)
    assert digests_agree(primary, replica)
    assert replica.client().hgetall("h") == {b"a": b"1"}
    assert replica.client().xinfo_groups("xe2")[0]["name"] == b"g"


def test_chained_replicas_get_the_same_stream(start_server):
    # Strata primary -> Strata replica -> (Redis 7.0 replica, Strata replica).
    primary, p, middle = synced(start_server, strata_replica_of)
    redis_leaf = replica_of(start_server, middle)
    strata_leaf = strata_replica_of(start_server, middle)
    write_everything(p, "chained")
    for leaf in (redis_leaf, strata_leaf):
        wait_caught_up(middle, leaf)
    assert info_field(middle.client(), "replication", "connected_slaves") == 2
    # The middle's link to the primary is cut and continues: the leaves stay attached.
    p.execute_command("CLIENT", "KILL", "TYPE", "replica")
    write_everything(p, "after-cut")
    wait_caught_up(primary, middle)
    for leaf in (redis_leaf, strata_leaf):
        wait_caught_up(middle, leaf)
        assert digests_agree(primary, leaf)
    # The middle adds nothing of its own (no PING of its own, a refused WAIT): the
    # stream's offsets are the primary's all along the chain.
    middle.client().config_set("repl-ping-replica-period", 1)
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica instances"):
        middle.client().wait(1, 10)
    # Two PINGs of the primary's (14 bytes each) span more than a period of the middle's.
    p.config_set("repl-ping-replica-period", 1)
    start = info_field(p, "replication", "master_repl_offset")
    wait_until(lambda: info_field(p, "replication", "master_repl_offset") >= start + 28,
               message="the primary pings twice")
    wait_caught_up(primary, middle)
    for leaf in (redis_leaf, strata_leaf):
        wait_caught_up(middle, leaf)
    offset = info_field(p, "replication", "master_repl_offset")
    assert info_field(middle.client(), "replication", "master_repl_offset") == offset
    assert info_field(redis_leaf.client(), "replication", "slave_repl_offset") == offset
    assert info_field(middle.client(), "stats", "sync_full") == 2


def test_info_replication_of_a_replica_whose_link_never_came_up_as_redis(start_server):
    fields = []
    for binary in ({}, {"binary": REDIS}):
        replica = start_server("--save", "", "--replicaof", "127.0.0.1 1", **binary)
        info = replica.client().info("replication")
        assert info["master_link_status"] == "down" and info["master_link_down_since_seconds"] == -1
        fields.append(list(info))
    assert fields[0] == fields[1]
