"""Sentinel and replication through ACL users, as an ElastiCache-style deployment runs
them: the default user is off; the replica authenticates with `masteruser`/`masterauth` as
a user that may only PSYNC, REPLCONF and PING; Sentinel authenticates with `sentinel
auth-user`/`auth-pass` as the user Redis's documentation prescribes for it. Sentinel must
discover the replica, fail the primary over when it is killed, and leave no ACL denial in
the new primary's ACL LOG; the application user writes to the promoted replica."""

import os
import shutil
import signal
import tempfile

import pytest
import redis

from conftest import wait_until

REDIS = shutil.which("redis-server")

USERS = [
    "user default off",
    "user app on >app-pw ~* &* +@all",
    "user repl on >repl-pw +psync +replconf +ping",
    "user sentinel-user on >sent-pw allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role "
    "+publish +info +client|setname +client|kill +script|kill",
]


def node_config(directory, extra=()):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "node.conf")
    with open(path, "w") as f:
        f.write("\n".join([*USERS, "masteruser repl", "masterauth repl-pw", *extra]) + "\n")
    return path


def start_sentinel(start_server, primary_port):
    workdir = tempfile.mkdtemp(prefix="strata-sentinel-acl-")
    config = os.path.join(workdir, "sentinel.conf")
    with open(config, "w") as f:
        f.write(f"sentinel monitor mymaster 127.0.0.1 {primary_port} 1\n"
                "sentinel auth-user mymaster sentinel-user\n"
                "sentinel auth-pass mymaster sent-pw\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
                "sentinel failover-timeout mymaster 10000\n")
    return start_server(config, "--sentinel", binary=REDIS, workdir=workdir)


def test_sentinel_fails_over_through_acl_users(start_server, tmp_path):
    if REDIS is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    primary = start_server(node_config(str(tmp_path / "primary")), workdir=str(tmp_path / "primary"))
    app = primary.client(username="app", password="app-pw")
    with pytest.raises(redis.exceptions.AuthenticationError):
        primary.client().ping()  # the default user is off
    replica_dir = str(tmp_path / "replica")
    replica = start_server(node_config(replica_dir, [f"replicaof 127.0.0.1 {primary.port}"]), workdir=replica_dir)
    replica_app = replica.client(username="app", password="app-pw")
    wait_until(lambda: replica_app.info("replication")["master_link_status"] == "up", timeout=30,
               message="the replica syncs as the replication user")
    app.set("before", "1")
    wait_until(lambda: replica_app.get("before") == b"1", timeout=10, message="the write reaches the replica")

    sentinel = start_sentinel(start_server, primary.port).client()

    def sentinel_sees_the_replica():
        state = sentinel.execute_command("SENTINEL", "MASTER", "mymaster")
        fields = dict(zip(state[::2], state[1::2]))
        return int(fields[b"num-slaves"]) == 1 and b"s_down" not in fields[b"flags"]

    wait_until(sentinel_sees_the_replica, timeout=30, message="Sentinel logs in and finds the replica")
    assert app.acl_log() == [], "Sentinel or the replica was refused something on the primary"

    primary.proc.send_signal(signal.SIGKILL)
    primary.proc.wait()
    wait_until(lambda: replica_app.execute_command("ROLE")[0] == b"master", timeout=60,
               message="Sentinel promotes the replica")
    wait_until(lambda: sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")[1]
               == str(replica.port).encode(), timeout=30, message="Sentinel names the new primary")
    replica_app.set("after", "2")
    assert replica_app.get("before") == b"1"
    denials = [entry for entry in replica_app.acl_log() if entry.get("username") == "sentinel-user"]
    assert denials == [], f"Sentinel was refused commands during the failover: {denials}"
