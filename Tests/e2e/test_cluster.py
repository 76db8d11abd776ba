"""Cluster mode with real tools and real servers: `redis-cli --cluster` forms, checks and
reshards clusters of Strata nodes and of Strata and redis-server 7.0 nodes together,
redis-py's RedisCluster runs a workload with a model meanwhile, and the replies and
errors of the cluster commands are compared with Redis's. Every node gets its own bus
port (`cluster-port`), so ports near the top of the range work."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from conftest import free_port, wait_until

NODE_TIMEOUT = "2000"


def cluster_node(start_server, binary=None, workdir=None, port=None):
    args = ["--cluster-enabled", "yes", "--cluster-node-timeout", NODE_TIMEOUT, "--cluster-port", str(free_port()),
            "--save", "", "--appendonly", "no"]
    if binary is None:
        return start_server(*args, workdir=workdir, port=port)
    return start_server(*args, binary=binary, workdir=workdir, port=port)


def redis_binary():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    return binary


def cluster_cli(*args, timeout=120):
    result = subprocess.run(["redis-cli", "--cluster", *args], capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def create(nodes, replicas=0):
    code, output = cluster_cli("create", *[f"127.0.0.1:{n.port}" for n in nodes], "--cluster-replicas",
                               str(replicas), "--cluster-yes")
    assert code == 0, output
    assert "[OK] All 16384 slots covered." in output, output
    wait_until(lambda: all(n.client().cluster("info")["cluster_state"] == "ok" for n in nodes),
               message="every node says cluster_state:ok")


def topology(node):
    """What a node says of the cluster: each node's id, role, primary and slots."""
    seen = {}
    for line in node.client().execute_command("CLUSTER", "NODES").decode().splitlines():
        fields = line.split()
        flags = set(fields[2].split(",")) - {"myself"}
        role = "master" if "master" in flags else "slave"
        seen[fields[0]] = (role, fields[3], tuple(f for f in fields[8:] if not f.startswith("[")))
    return seen


def agreed(nodes):
    views = [topology(n) for n in nodes]
    return all(v == views[0] for v in views) and len(views[0]) == len(nodes)


def cluster_client(node):
    return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", node.port)], decode_responses=True)


class Workload:
    """A RedisCluster client writing and reading back keys in a thread, recording in `model`
    what was acknowledged and in `errors` anything that reached it (redis-py follows MOVED
    and ASK itself; an error here is one an application would see)."""

    def __init__(self, node, model, keys=500):
        self.model, self.errors, self.rounds = model, [], 0
        self.client = cluster_client(node)
        self.keys = keys
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stopped.is_set():
            key = f"w{i % self.keys}"
            try:
                self.client.set(key, str(i))
                self.model[key] = str(i)
                if self.client.get(key) != str(i):
                    self.errors.append(f"{key} read back wrong")
            except Exception as error:  # noqa: BLE001 - any error reaching the application is a failure
                self.errors.append(repr(error))
            i += 1
            self.rounds = i

    def stop(self):
        self.stopped.set()
        self.thread.join()
        self.client.close()


def test_redis_cli_creates_a_strata_cluster_with_replicas_that_serves_redis_py(start_server):
    nodes = [cluster_node(start_server) for _ in range(6)]
    create(nodes, replicas=1)
    code, output = cluster_cli("check", f"127.0.0.1:{nodes[0].port}")
    assert code == 0 and "[OK] All nodes agree about slots configuration." in output, output
    wait_until(lambda: agreed(nodes), message="every node lists the same topology")
    info = nodes[0].client().cluster("info")
    assert info["cluster_known_nodes"] == "6" and info["cluster_size"] == "3"
    client = cluster_client(nodes[0])
    model = {f"user:{i}": str(i * 7) for i in range(2000)}
    for key, value in model.items():
        client.set(key, value)
    assert all(client.get(k) == v for k, v in model.items())
    primaries = [n for n in nodes if n.client().execute_command("ROLE")[0] == b"master"]
    assert len(primaries) == 3
    assert sum(p.client().dbsize() for p in primaries) == len(model)
    # Every primary holds a share, and its replica catches up.
    for primary in primaries:
        assert primary.client().dbsize() > 300
        name = primary.client().cluster("myid")
        replicas = primary.client().execute_command("CLUSTER", "REPLICAS", name)
        assert len(replicas) == 1
        port = int(replicas[0].decode().split()[1].split(":")[1].split("@")[0])
        replica = redis.Redis(port=port)
        wait_until(lambda: replica.dbsize() == primary.client().dbsize(), message="replica caught up")
        # A READONLY connection reads its primary's slots from the replica.
        key = primary.client().randomkey().decode()
        assert replica.execute_command("READONLY")
        assert replica.get(key) == model[key].encode()
        with pytest.raises(redis.exceptions.MovedError):
            replica.set(key, "x")
    # Reshard and rebalance while a client works: nothing reaches it, nothing is lost.
    workload = Workload(nodes[1], model)
    try:
        ids = {n.port: n.client().cluster("myid").decode() for n in primaries}
        code, output = cluster_cli("reshard", f"127.0.0.1:{nodes[0].port}", "--cluster-from", ids[primaries[0].port],
                                   "--cluster-to", ids[primaries[1].port], "--cluster-slots", "1500", "--cluster-yes")
        assert code == 0, output
        code, output = cluster_cli("rebalance", f"127.0.0.1:{nodes[0].port}")
        assert code == 0 and "Moving" in output, output
    finally:
        workload.stop()
    assert workload.errors == [] and workload.rounds > 0
    code, output = cluster_cli("check", f"127.0.0.1:{nodes[0].port}")
    assert code == 0 and "[OK] All 16384 slots covered." in output, output
    wait_until(lambda: agreed(nodes), message="topology agreed after the moves")
    reader = cluster_client(nodes[2])
    assert all(reader.get(k) == v for k, v in model.items())
    assert sum(p.client().dbsize() for p in primaries) == len(model)
    for primary in primaries:
        replica_line = primary.client().execute_command("CLUSTER", "REPLICAS", primary.client().cluster("myid"))[0]
        port = int(replica_line.decode().split()[1].split(":")[1].split("@")[0])
        wait_until(lambda: redis.Redis(port=port).dbsize() == primary.client().dbsize(),
                   message="each replica holds its primary's keys after the moves")


def test_strata_and_redis_nodes_share_a_cluster_and_move_and_rebalance_slots(start_server):
    strata = [cluster_node(start_server) for _ in range(3)]
    reference = [cluster_node(start_server, binary=redis_binary()) for _ in range(3)]
    nodes = strata + reference
    create(nodes)
    wait_until(lambda: agreed(nodes), message="every node lists the same topology")
    client = cluster_client(strata[0])
    model = {}
    for i in range(3000):
        model[f"k{i}"] = str(i)
        client.set(f"k{i}", str(i))
    workload = Workload(reference[0], model)
    try:
        ids = {n.port: n.client().cluster("myid").decode() for n in nodes}
        for source, target in ((strata[0], reference[0]), (reference[1], strata[1])):
            code, output = cluster_cli("reshard", f"127.0.0.1:{strata[2].port}", "--cluster-from", ids[source.port],
                                       "--cluster-to", ids[target.port], "--cluster-slots", "600", "--cluster-yes")
            assert code == 0, output
        code, output = cluster_cli("rebalance", f"127.0.0.1:{strata[2].port}")
        assert code == 0 and "Moving" in output, output
    finally:
        workload.stop()
    assert workload.errors == [] and workload.rounds > 0
    wait_until(lambda: agreed(nodes), message="topology agreed after the moves")
    code, output = cluster_cli("check", f"127.0.0.1:{strata[0].port}")
    assert code == 0 and "[OK] All 16384 slots covered." in output, output
    assert "open" not in output.split("Check for open slots...")[1].split("Check slots coverage")[0], output
    counts = []
    for role, _, ranges in topology(strata[0]).values():
        assert role == "master"
        counts.append(sum(int(r.split("-")[-1]) - int(r.split("-")[0]) + 1 for r in ranges))
    assert sum(counts) == 16384 and max(counts) - min(counts) < 16384 * 0.05, counts
    reader = cluster_client(reference[2])
    assert all(reader.get(k) == v for k, v in model.items())
    assert sum(n.client().dbsize() for n in nodes) == len(model)


def test_cluster_commands_reply_as_redis(start_server):
    """One fresh node of each, the same commands: replies and error texts compared."""
    strata = cluster_node(start_server)
    reference = cluster_node(start_server, binary=redis_binary())
    commands = [
        ("CLUSTER", "KEYSLOT", "foo"), ("CLUSTER", "KEYSLOT", "{user1000}.following"),
        ("CLUSTER", "KEYSLOT", "foo{}{bar}"), ("CLUSTER", "KEYSLOT", "foo{{bar}}zap"),
        ("CLUSTER", "ADDSLOTS", "1", "2", "3"), ("CLUSTER", "ADDSLOTS", "3"), ("CLUSTER", "ADDSLOTS", "5", "5"),
        ("CLUSTER", "ADDSLOTS", "16384"), ("CLUSTER", "ADDSLOTS", "x"), ("CLUSTER", "DELSLOTS", "9"),
        ("CLUSTER", "ADDSLOTSRANGE", "10", "20", "30", "40"), ("CLUSTER", "ADDSLOTSRANGE", "50", "45"),
        ("CLUSTER", "ADDSLOTSRANGE", "50"), ("CLUSTER", "DELSLOTSRANGE", "10", "12"),
        ("CLUSTER", "COUNTKEYSINSLOT", "16384"), ("CLUSTER", "COUNTKEYSINSLOT", "x"),
        ("CLUSTER", "COUNTKEYSINSLOT", "12"), ("CLUSTER", "GETKEYSINSLOT", "12", "-1"),
        ("CLUSTER", "GETKEYSINSLOT", "12", "10"),
        ("CLUSTER", "SETSLOT", "1", "MIGRATING", "f" * 40), ("CLUSTER", "SETSLOT", "1", "NODE", "nope"),
        ("CLUSTER", "SETSLOT", "1", "BOGUS"), ("CLUSTER", "SETSLOT", "99", "IMPORTING", "f" * 40),
        ("CLUSTER", "SET-CONFIG-EPOCH", "-1"), ("CLUSTER", "SET-CONFIG-EPOCH", "x"),
        ("CLUSTER", "FORGET", "f" * 40), ("CLUSTER", "REPLICATE", "f" * 40), ("CLUSTER", "REPLICAS", "f" * 40),
        ("CLUSTER", "COUNT-FAILURE-REPORTS", "f" * 40), ("CLUSTER", "MEET", "not-an-ip", "7000"),
        ("CLUSTER", "MEET", "127.0.0.1", "x"), ("CLUSTER", "MEET", "127.0.0.1", "70000"),
        ("CLUSTER", "MEET", "127.0.0.1", "7000", "x"), ("CLUSTER", "RESET", "BOGUS"), ("CLUSTER", "BOGUS"),
        ("SELECT", "1"), ("SELECT", "0"), ("SWAPDB", "0", "1"), ("MOVE", "k", "1"), ("COPY", "a", "b", "DB", "1"),
        ("READONLY",), ("READWRITE",), ("ASKING",), ("CLUSTER", "FLUSHSLOTS"), ("CLUSTER", "RESET", "SOFT"),
        ("SET", "foo", "bar"), ("GET", "foo"), ("MSET", "a", "1", "b", "2"),
    ]
    for command in commands:
        replies = []
        for node in (strata, reference):
            try:
                reply = node.client().execute_command(*command)
            except redis.ResponseError as error:
                reply = f"error: {error}"
            if command[:2] == ("CLUSTER", "RESET") and not isinstance(reply, str):
                reply = "ok"
            replies.append(reply)
        assert replies[0] == replies[1], command
    epochs = [n.client().cluster("info")["cluster_current_epoch"] for n in (strata, reference)]
    assert epochs[0] == epochs[1]
    # A cluster-mode HELLO says so.
    assert b"mode cluster\n" in strata.cli("HELLO", "3")


def test_bad_bus_input_is_logged_and_dropped(start_server):
    node = cluster_node(start_server)
    bus_port = int(topology_address(node).split("@")[1])
    frames = [
        b"GET / HTTP/1.1\r\n\r\n",  # not the bus protocol at all
        b"RCmb" + struct.pack(">I", 100),  # shorter than a header
        b"RCmb" + struct.pack(">I", 0x7FFFFFFF),  # absurdly long
        b"RCmb" + struct.pack(">IHHHH", 2256, 1, 7000, 0, 5) + bytes(2256 - 16),  # ping announcing 5 entries
        b"RCmb" + struct.pack(">IHHHH", 2256, 1, 7000, 99, 0) + bytes(2256 - 16),  # unknown type
        b"RCmb" + struct.pack(">IHHHH", 2296, 1, 7000, 3, 0) + os.urandom(2280),  # FAIL from an unknown sender
    ]
    for frame in frames:
        with socket.create_connection(("127.0.0.1", bus_port)) as sock:
            sock.sendall(frame)
            sock.settimeout(2)
            try:
                sock.recv(1)
            except OSError:
                pass
        assert node.client().ping()
    wait_until(lambda: "Bad message length or signature received from Cluster bus." in node.output(),
               message="the bad frame is logged")
    assert "Received invalid ping packet of length 2256 but expected length 2776" in node.output()
    assert node.client().cluster("info")["cluster_known_nodes"] == "1"


def topology_address(node):
    line = next(l for l in node.client().execute_command("CLUSTER", "NODES").decode().splitlines() if "myself" in l)
    return line.split()[1]


def test_a_restarted_node_keeps_its_identity_and_rejoins(start_server):
    nodes = [cluster_node(start_server) for _ in range(3)]
    create(nodes)
    victim = nodes[1]
    name = victim.client().cluster("myid")
    conf = open(os.path.join(victim.workdir, "nodes.conf")).read()
    assert conf.splitlines()[-1].startswith("vars currentEpoch 3 ")
    port, workdir = victim.port, victim.workdir
    bus_port = int(topology_address(victim).split("@")[1])
    assert victim.stop() == 0
    restarted = start_server("--cluster-enabled", "yes", "--cluster-node-timeout", NODE_TIMEOUT, "--cluster-port",
                             str(bus_port), "--save", "", "--appendonly", "no", workdir=workdir, port=port)
    assert restarted.client().cluster("myid") == name
    wait_until(lambda: restarted.client().cluster("info")["cluster_state"] == "ok", message="rejoined")
    wait_until(lambda: agreed([nodes[0], restarted, nodes[2]]), message="topology agreed after the restart")


def test_a_killed_primary_is_replaced_by_its_replica_and_rejoins_as_a_replica(start_server):
    nodes = [cluster_node(start_server) for _ in range(6)]
    create(nodes, replicas=1)
    wait_until(lambda: agreed(nodes), message="every node lists the same topology")
    client = cluster_client(nodes[0])
    for i in range(500):
        client.set(f"f{i}", str(i))
    victim = next(n for n in nodes if n.client().execute_command("ROLE")[0] == b"master")
    victim_id = victim.client().cluster("myid").decode()
    replica_line = victim.client().execute_command("CLUSTER", "REPLICAS", victim_id)[0].decode()
    replica_id = replica_line.split()[0]
    replica = next(n for n in nodes if n.client().cluster("myid").decode() == replica_id)
    wait_until(lambda: replica.client().dbsize() == victim.client().dbsize(), message="replica caught up")
    port, workdir = victim.port, victim.workdir
    bus_port = int(topology_address(victim).split("@")[1])
    victim.proc.kill()
    victim.proc.wait()
    others = [n for n in nodes if n is not victim]
    wait_until(lambda: replica.client().execute_command("ROLE")[0] == b"master", timeout=20,
               message="the replica is promoted")
    wait_until(lambda: all(n.client().cluster("info")["cluster_state"] == "ok" for n in others), timeout=20,
               message="the cluster is ok again")
    reader = cluster_client(replica)
    assert all(reader.get(f"f{i}") == str(i) for i in range(500))
    restarted = start_server("--cluster-enabled", "yes", "--cluster-node-timeout", NODE_TIMEOUT, "--cluster-port",
                             str(bus_port), "--save", "", "--appendonly", "no", workdir=workdir, port=port)
    wait_until(lambda: restarted.client().execute_command("ROLE")[0] == b"slave", timeout=20,
               message="the old primary rejoins as a replica")
    wait_until(lambda: topology(replica)[victim_id][:2] == ("slave", replica_id), timeout=20,
               message="the cluster lists the old primary as the new one's replica")


def test_scripts_in_cluster_mode_reply_as_redis(start_server):
    strata = cluster_node(start_server)
    reference = cluster_node(start_server, binary=redis_binary())
    for node in (strata, reference):
        node.client().execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    wait_until(lambda: all(n.client().cluster("info")["cluster_state"] == "ok" for n in (strata, reference)),
               message="both single-node clusters are ok")
    scripts = [
        ("EVAL", "redis.call('set','a','1'); return redis.call('set','b','2')", "0"),
        ("EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('set','a','1'); return redis.call('set','b','2')",
         "0"),
        ("EVAL", "return redis.call('get', KEYS[1])", "1", "a"),
        ("EVAL", "return redis.call('get', KEYS[1])", "2", "a", "b"),
        ("EVAL", "redis.call('set','{t}1','x'); return redis.call('set','{t}2','y')", "0"),
        ("EVAL", "#!lua\nredis.call('set','a','1'); return redis.call('set','b','2')", "0"),
        ("EVAL", "#!lua flags=no-cluster\nreturn 1", "0"),
        ("EVAL", "#!lua\nreturn redis.call('get', 'a')", "1", "b"),
    ]
    for script in scripts:
        replies = []
        for node in (strata, reference):
            try:
                replies.append(node.client().execute_command(*script))
            except redis.ResponseError as error:
                replies.append(f"error: {error}")
        assert replies[0] == replies[1], script


def test_a_replica_migrates_to_a_primary_that_lost_its_last_replica(start_server):
    nodes = [cluster_node(start_server) for _ in range(7)]
    create(nodes[:6], replicas=1)
    primaries = [n for n in nodes[:6] if n.client().execute_command("ROLE")[0] == b"master"]
    rich, poor = primaries[0], primaries[1]
    rich_id, poor_id = rich.client().cluster("myid").decode(), poor.client().cluster("myid").decode()
    code, output = cluster_cli("add-node", f"127.0.0.1:{nodes[6].port}", f"127.0.0.1:{rich.port}",
                               "--cluster-slave", "--cluster-master-id", rich_id)
    assert code == 0, output
    wait_until(lambda: agreed(nodes), message="every node lists the same topology")
    client = cluster_client(nodes[0])
    for i in range(300):
        client.set(f"m{i}", str(i))
    poor_replica_id = poor.client().execute_command("CLUSTER", "REPLICAS", poor_id)[0].decode().split()[0]
    victim = next(n for n in nodes if n.client().cluster("myid").decode() == poor_replica_id)
    rich_replicas = [n for n in nodes if topology(rich)[n.client().cluster("myid").decode()][1] == rich_id]
    assert len(rich_replicas) == 2
    mover = min(rich_replicas, key=lambda n: n.client().cluster("myid").decode())
    victim.proc.kill()
    victim.proc.wait()
    others = [n for n in nodes if n is not victim]
    mover_id = mover.client().cluster("myid").decode()
    # Failure detection (about two node timeouts), five seconds orphaned, then the move.
    wait_until(lambda: topology(mover)[mover_id][1] == poor_id, timeout=30,
               message="the replica with the smallest name moves to the orphaned primary")
    wait_until(lambda: all(topology(n)[mover_id][1] == poor_id for n in others), timeout=20,
               message="every node lists the move")
    wait_until(lambda: mover.client().info("replication")["master_link_status"] == "up"
               and mover.client().dbsize() == poor.client().dbsize(), timeout=20,
               message="the moved replica holds its new primary's keys")
    stayer = next(n for n in rich_replicas if n is not mover)
    assert topology(stayer)[stayer.client().cluster("myid").decode()][1] == rich_id
    assert "Migrating to orphaned master " + poor_id in open(mover.log_path).read()


@pytest.mark.parametrize("server", ["strata", "redis"])
def test_a_link_whose_send_buffer_passes_the_limit_is_freed(start_server, server):
    binary = redis_binary() if server == "redis" else None
    nodes = [cluster_node(start_server, binary=binary) for _ in range(3)]
    create(nodes)
    for node in nodes:
        node.client().config_set("cluster-node-timeout", 60000)
    sender, stopped = nodes[0], nodes[1]
    stopped_id = stopped.client().cluster("myid").decode()
    client = sender.client()

    def buffered():
        links = client.execute_command("CLUSTER", "LINKS")
        return sum(dict(zip(*[iter(l)] * 2)).get(b"send-buffer-used", 0) for l in links
                   if dict(zip(*[iter(l)] * 2)).get(b"node") == stopped_id.encode())

    os.kill(stopped.proc.pid, signal.SIGSTOP)
    try:
        # PUBLISH goes to every node over the bus; the stopped one reads nothing.
        payload = "x" * (1 << 20)
        wait_until(lambda: client.publish("flood", payload) is not None and buffered() > (8 << 20), timeout=60,
                   message="the link to the stopped node buffers what it cannot send")
        # Strata counts what waits on each link; Redis 7.0 counts its shared message blocks
        # in a way that does not follow one link's buffer.
        links_memory = int(client.info("memory")["mem_cluster_links"])
        assert links_memory > (8 << 20) if server == "strata" else links_memory > 0
        assert int(client.info("clients")["cluster_connections"]) >= 4
        assert int(client.cluster("info")["total_cluster_links_buffer_limit_exceeded"]) == 0
        client.config_set("cluster-link-sendbuf-limit", 1 << 20)
        wait_until(lambda: int(client.cluster("info")["total_cluster_links_buffer_limit_exceeded"]) >= 1,
                   message="the link over the limit is freed")
        assert buffered() < (1 << 20)
        assert int(client.info("memory")["mem_cluster_links"]) < (4 << 20)
        assert f"Freeing cluster link(to node {stopped_id}, used memory: " in open(sender.log_path).read()
    finally:
        os.kill(stopped.proc.pid, signal.SIGCONT)
    client.config_set("cluster-link-sendbuf-limit", 0)
    wait_until(lambda: all(n.client().cluster("info")["cluster_state"] == "ok" for n in nodes),
               message="the cluster is whole again")
    assert stopped.client().ping()
