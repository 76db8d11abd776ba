"""Failover by Redis Sentinel 7.0: three sentinels watch a
Strata primary with two Strata replicas; the primary is killed (SIGKILL) under writes
acknowledged with WAIT; a replica is promoted, the other follows it, redis-py's Sentinel
client finds the new primary, and every write that WAIT said reached a replica is there."""

import os
import shutil
import tempfile
import time

import pytest
import redis
from redis.sentinel import Sentinel

from conftest import info_field, wait_until

# Sentinel is redis-server in sentinel mode (Debian's redis-sentinel package is the same
# binary under another name).
REDIS = shutil.which("redis-server")


def start_sentinel(start_server, primary_port):
    if REDIS is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    workdir = tempfile.mkdtemp(prefix="strata-sentinel-")
    config = os.path.join(workdir, "sentinel.conf")
    with open(config, "w") as f:
        f.write(f"sentinel monitor mymaster 127.0.0.1 {primary_port} 2\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
                "sentinel failover-timeout mymaster 10000\n"
                "sentinel parallel-syncs mymaster 1\n")
    return start_server(config, "--sentinel", binary=REDIS, workdir=workdir)


@pytest.mark.parametrize("kind", ["strata", "redis"])
def test_sentinel_promotes_a_replica_and_keeps_acknowledged_writes(start_server, kind):
    # The same scenario on redis-server 7.0 gives the reference failover time.
    extra = dict(binary=REDIS) if kind == "redis" else {}
    options = ("--save", "", "--appendonly", "no") if kind == "redis" else ()
    primary = start_server(*options, **extra)
    replicas = [start_server(*options, "--replicaof", f"127.0.0.1 {primary.port}", **extra) for _ in range(2)]
    p = primary.client()
    wait_until(lambda: info_field(p, "replication", "connected_slaves") == 2, timeout=30,
               message="both replicas attach")
    sentinels = [start_sentinel(start_server, primary.port) for _ in range(3)]

    def sentinels_know_everything():
        for s in sentinels:
            c = s.client()
            state = c.execute_command("SENTINEL", "MASTER", "mymaster")
            fields = dict(zip(state[::2], state[1::2]))
            if int(fields[b"num-slaves"]) != 2 or int(fields[b"num-other-sentinels"]) != 2:
                return False
        return True

    wait_until(sentinels_know_everything, timeout=60, message="the sentinels find the replicas and each other")
    acknowledged = []
    for i in range(200):
        p.set(f"k{i}", i)
        if p.wait(1, 100) >= 1:
            acknowledged.append(i)
    assert acknowledged
    killed_at = time.monotonic()
    primary.proc.kill()
    primary.proc.wait()
    client = Sentinel([("127.0.0.1", s.port) for s in sentinels], socket_timeout=1)

    def new_primary_port():
        try:
            host, port = client.discover_master("mymaster")
        except redis.exceptions.RedisError:
            return None
        return port if port != primary.port else None

    wait_until(lambda: new_primary_port() is not None, timeout=60, message="a replica is promoted")
    port = new_primary_port()
    promoted = next(r for r in replicas if r.port == port)
    other = next(r for r in replicas if r.port != port)
    writer = client.master_for("mymaster", socket_timeout=1)

    def accepts_a_write():
        try:
            return writer.set("after-failover", "yes")
        except redis.exceptions.RedisError:
            return False

    wait_until(accepts_a_write, timeout=60, message="the new primary accepts writes")
    seconds = time.monotonic() - killed_at
    print(f"failover ({kind}): {seconds:.2f} s from kill to the first accepted write")
    for i in acknowledged:
        assert promoted.client().get(f"k{i}") == str(i).encode()
    assert promoted.client().execute_command("ROLE")[0] == b"master"
    o = other.client()
    wait_until(lambda: o.execute_command("ROLE")[2] == port and o.get("after-failover") == b"yes", timeout=60,
               message="the other replica follows the new primary")


@pytest.mark.parametrize("kind", ["strata", "redis"])
def test_the_reconfiguration_sentinel_sends_survives_a_restart(start_server, tmp_path, kind):
    binary = {"redis": REDIS}.get(kind)
    extra = {"binary": binary} if binary else {}
    primary = start_server("--save", "", **extra)
    primary.client().set("from-primary", "1")
    conf = tmp_path / "node.conf"
    conf.write_text("# written by hand\nmaxmemory 64mb\n\n# keep me\nsave \"\"\n")
    node = start_server(str(conf), workdir=str(tmp_path), **extra)
    listener = node.client().pubsub()
    listener.subscribe("ch")
    bystander = node.client()
    bystander.ping()
    sentinel = node.client()
    # What Sentinel sends to turn a server into a replica, word for word.
    with sentinel.pipeline(transaction=True) as p:
        p.execute_command("SLAVEOF", "127.0.0.1", primary.port)
        p.execute_command("CONFIG", "REWRITE")
        p.execute_command("CLIENT", "KILL", "TYPE", "normal")
        p.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        replies = p.execute()
    assert replies[0] is True and replies[1] == b"OK" and replies[2] >= 1 and replies[3] == 1
    text = conf.read_text()
    assert "# written by hand" in text and "# keep me" in text
    assert f"replicaof 127.0.0.1 {primary.port}" in text
    # Restarted from the rewritten file, it follows the primary again.
    node.stop()
    node = start_server(str(conf), workdir=str(tmp_path), **extra)
    r = node.client()
    wait_until(lambda: info_field(r, "replication", "master_link_status") == "up", message="it follows again")
    assert r.get("from-primary") == b"1" and r.config_get("maxmemory")["maxmemory"] == str(64 * 1024 * 1024)
