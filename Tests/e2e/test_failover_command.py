"""FAILOVER, the coordinated switch of roles between a primary and its replica, with Redis
7.0 on either side: writes are held while the replica catches up, the replica takes over
on `PSYNC ... FAILOVER`, the old primary follows it with a partial sync, and no write
acknowledged before the switch is missing afterwards. Also its errors (compared with
Redis), the timeout, FORCE, ABORT and a target that refuses."""

import shutil
import socket
import threading

import pytest
import redis

from conftest import info_field, wait_blocked, wait_until
from test_replication import digests_agree, wait_caught_up, write_everything
from test_replication_hostile_primary import fake_primary  # noqa: F401 (fixture)

REDIS = shutil.which("redis-server")


def start(start_server, kind, *args):
    if kind == "redis":
        return start_server("--save", "", "--appendonly", "no", "--enable-debug-command", "yes", *args,
                            binary=REDIS)
    return start_server("--enable-debug-command", "yes", *args)


def online_at(primary, replica):
    """Whether `primary` lists `replica` as an online replica (INFO replication)."""
    entries = primary.client().info("replication").values()
    return any(isinstance(e, dict) and e.get("port") == replica.port and e.get("state") == "online" for e in entries)


def role(server):
    return server.client().execute_command("ROLE")[0]


class Incrementer(threading.Thread):
    """INCRs a counter until refused; counts the INCRs acknowledged."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.client = server.client(socket_timeout=30)
        self.acknowledged = 0
        self.refusal = None

    def run(self):
        while True:
            try:
                self.client.incr("counter")
            except redis.ResponseError as error:
                self.refusal = str(error)
                return
            self.acknowledged += 1


@pytest.mark.parametrize("primary_kind, target_kind", [("strata", "strata"), ("strata", "redis"),
                                                       ("redis", "strata")])
def test_a_coordinated_failover_loses_no_write(start_server, primary_kind, target_kind):
    primary = start(start_server, primary_kind)
    target = start(start_server, target_kind, "--replicaof", f"127.0.0.1 {primary.port}")
    other = start(start_server, "strata", "--replicaof", f"127.0.0.1 {primary.port}")
    write_everything(primary.client(), "before")
    wait_caught_up(primary, target)
    wait_caught_up(primary, other)
    # FAILOVER needs the primary to count the target online. After a diskless sync Redis
    # does so only once it has reaped the child that streamed the snapshot (its cron, up
    # to 100 ms), which may come after the replica has loaded and reports itself caught up.
    wait_until(lambda: online_at(primary, target), message="the primary counts the target online")

    writer = Incrementer(primary)
    writer.start()
    wait_until(lambda: writer.acknowledged > 100, message="writes flow")
    p = primary.client()
    assert p.execute_command("FAILOVER", "TO", "127.0.0.1", target.port, "TIMEOUT", 10_000) == b"OK"
    writer.join(timeout=30)
    assert not writer.is_alive(), "a write held by the failover ends once it is over"
    # The write held back ran on a replica: refused, not lost.
    assert writer.refusal.startswith("You can't write against a read only replica")

    t = target.client()
    assert role(target) == b"master"
    assert role(primary) == b"slave"
    assert info_field(p, "replication", "master_failover_state") == "no-failover"
    assert int(t.get("counter")) == writer.acknowledged
    wait_caught_up(target, primary)
    # The old primary continued the history: the new one served it no full sync.
    assert info_field(t, "stats", "sync_full") == 0
    assert info_field(t, "stats", "sync_partial_ok") >= 1
    t.set("after", "failover")
    wait_caught_up(target, primary)
    assert digests_agree(target, primary)
    # The other replica follows on, through the old primary.
    wait_until(lambda: other.client().get("after") == b"failover", message="the other replica follows")
    assert digests_agree(target, other)


@pytest.mark.parametrize("args", [
    ["FAILOVER"], ["FAILOVER", "ABORT"], ["FAILOVER", "TIMEOUT", "0"], ["FAILOVER", "TIMEOUT", "-5"],
    ["FAILOVER", "TIMEOUT", "x"], ["FAILOVER", "TO", "127.0.0.1"], ["FAILOVER", "TO", "h", "p"],
    ["FAILOVER", "FORCE"], ["FAILOVER", "FORCE", "FORCE"], ["FAILOVER", "TIMEOUT", "5", "TIMEOUT", "6"],
    ["FAILOVER", "ABORT", "TIMEOUT", "5"], ["FAILOVER", "bogus"], ["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
])
def test_failover_errors_as_redis(strata_and_redis, args):
    answers = []
    for server in strata_and_redis:
        try:
            answers.append(server.client().execute_command(*args))
        except redis.ResponseError as error:
            answers.append(f"error: {error}")
    assert answers[0] == answers[1]


def test_failover_errors_with_a_replica_as_redis(start_server):
    answers = []
    for kind in ("strata", "redis"):
        primary = start(start_server, kind)
        replica = start(start_server, kind, "--replicaof", f"127.0.0.1 {primary.port}")
        wait_caught_up(primary, replica)
        replies = []
        for server, args in [(primary, ["FAILOVER", "TO", "127.0.0.1", "1"]),
                             (primary, ["FAILOVER", "FORCE", "TIMEOUT", "100"]),
                             (primary, ["FAILOVER", "TO", "127.0.0.1", str(replica.port), "FORCE"]),
                             (replica, ["FAILOVER"]), (replica, ["FAILOVER", "ABORT"])]:
            try:
                replies.append(server.client().execute_command(*args))
            except redis.ResponseError as error:
                replies.append(f"error: {error}")
        answers.append(replies)
    assert answers[0] == answers[1]


def attach_silent_replica(primary, announced_port):
    """A replica that syncs and never acknowledges: it never catches up."""
    sock = socket.create_connection(("127.0.0.1", primary.port))
    for command in (f"REPLCONF listening-port {announced_port}", "PSYNC ? -1"):
        sock.sendall(command.encode() + b"\r\n")
    p = primary.client()
    wait_until(lambda: info_field(p, "replication", "slave0").get("state") == "online", message="it is online")
    return sock


def held_write(server):
    """A SET in a thread; returns (thread, results)."""
    results = []
    thread = threading.Thread(target=lambda: results.append(server.client().set("held", "1")), daemon=True)
    thread.start()
    return thread, results


def test_a_failover_that_times_out_resumes_the_held_writes(start_server):
    primary = start_server()
    p = primary.client()
    sock = attach_silent_replica(primary, 1)
    p.set("k", "v")
    assert p.execute_command("FAILOVER", "TIMEOUT", 2000) == b"OK"
    assert info_field(p, "replication", "master_failover_state") == "waiting-for-sync"
    with pytest.raises(redis.ResponseError, match="FAILOVER already in progress"):
        p.execute_command("FAILOVER")
    with pytest.raises(redis.ResponseError, match="REPLICAOF not allowed while failing over"):
        p.execute_command("REPLICAOF", "127.0.0.1", 1)
    thread, results = held_write(primary)
    wait_blocked(p)  # the write waits while the failover does
    assert results == [] and info_field(p, "replication", "master_failover_state") == "waiting-for-sync"
    assert p.get("k") == b"v", "reads go on"
    thread.join(timeout=30)
    assert results == [True]
    assert "FAILOVER aborted: Replica never caught up before timeout" in primary.output()
    assert role(primary) == b"master"
    sock.close()


def test_failover_abort_resumes_the_held_writes(start_server):
    primary = start_server()
    p = primary.client()
    sock = attach_silent_replica(primary, 1)
    assert p.execute_command("FAILOVER") == b"OK"
    thread, results = held_write(primary)
    wait_blocked(p)
    assert results == []
    assert p.execute_command("FAILOVER", "ABORT") == b"OK"
    thread.join(timeout=30)
    assert results == [True] and p.get("held") == b"1"
    assert info_field(p, "replication", "master_failover_state") == "no-failover"
    assert "FAILOVER aborted: Failover manually aborted" in primary.output()
    sock.close()


def test_a_forced_failover_to_a_target_that_refuses_is_aborted(start_server, fake_primary):
    target = fake_primary(b"", close_after=False, psync_reply=b"-ERR not taking over\r\n")
    primary = start_server()
    p = primary.client()
    sock = attach_silent_replica(primary, target.port)
    p.set("k", "v")
    offset = info_field(p, "replication", "master_repl_offset")
    assert p.execute_command("FAILOVER", "TO", "127.0.0.1", target.port, "TIMEOUT", 300, "FORCE") == b"OK"
    wait_until(lambda: "FAILOVER aborted: Failover target rejected psync request" in primary.output(),
               message="the refusal aborts the failover")
    replid = info_field(p, "replication", "master_replid2")
    # It asked the target to take over the history it had.
    assert target.psyncs[0] == [b"PSYNC", replid.encode(), str(offset + 1).encode(), b"FAILOVER"]
    assert role(primary) == b"master"
    assert p.set("after", "1")
    sock.close()
