"""Cluster mode over TLS (`tls-cluster yes`): Strata and redis-server 7.0 nodes form one
cluster whose bus and replication links are TLS only (Redis's nodes accept nothing else, so
the cluster forming at all shows Strata speaks TLS on the bus), and clients are told the
ports of their own kind: TLS ports on the TLS port, plaintext ports on the plaintext one,
in CLUSTER NODES, SLOTS, SHARDS and MOVED alike, as Redis answers."""
import subprocess

from redis.cluster import ClusterNode, RedisCluster

from conftest import free_port, wait_until
from test_cluster import NODE_TIMEOUT, agreed, redis_binary
from test_tls import certs, tls_args, tls_client  # noqa: F401  (certs is a fixture)


def tls_cluster_node(start_server, c, binary=None):
    port = free_port()
    args = [*tls_args(c, port), "--tls-cluster", "yes", "--tls-replication", "yes", "--cluster-enabled", "yes",
            "--cluster-node-timeout", NODE_TIMEOUT, "--cluster-port", str(free_port()), "--save", "",
            "--appendonly", "no"]
    node = start_server(*args, binary=binary) if binary else start_server(*args)
    node.tls_port = port
    return node


def without_times(text):
    """CLUSTER NODES lines without the ping/pong times and the myself flag."""
    lines = []
    for line in text.splitlines():
        fields = line.split()
        fields[2] = fields[2].replace("myself,", "")
        lines.append(" ".join(fields[:4] + fields[6:]))
    return sorted(lines)


def test_strata_and_redis_nodes_form_a_tls_cluster_and_answer_with_the_ports_of_the_clients_kind(
        start_server, certs):  # noqa: F811
    c = certs["a"]
    # Interleaved, so that `create` makes primaries and replicas of both kinds.
    nodes = [tls_cluster_node(start_server, c, binary=redis_binary() if i % 2 else None) for i in range(6)]
    strata_nodes, redis_nodes = nodes[0::2], nodes[1::2]
    tls = ["--tls", "--cacert", c("ca.crt"), "--cert", c("client.crt"), "--key", c("client.key")]
    result = subprocess.run(["redis-cli", *tls, "--cluster", "create", *[f"127.0.0.1:{n.tls_port}" for n in nodes],
                             "--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    wait_until(lambda: all(n.client().cluster("info")["cluster_state"] == "ok" for n in nodes),
               message="every node says cluster_state:ok")
    wait_until(lambda: agreed(nodes), message="every node lists the same topology")
    wait_until(lambda: all(n.client().info("replication").get("master_link_status", "up") == "up" for n in nodes),
               message="every replica is linked to its primary over TLS")
    plain_ports = {n.port for n in nodes}
    tls_ports = {n.tls_port for n in nodes}
    strata, redis_node = strata_nodes[0], redis_nodes[0]
    for node in (strata, redis_node):
        plain = node.client().execute_command("CLUSTER", "NODES").decode()
        encrypted = tls_client(node.tls_port, c).execute_command("CLUSTER", "NODES").decode()
        assert {int(l.split()[1].split(":")[1].split("@")[0]) for l in plain.splitlines()} == plain_ports
        assert {int(l.split()[1].split(":")[1].split("@")[0]) for l in encrypted.splitlines()} == tls_ports
        slots = tls_client(node.tls_port, c).execute_command("CLUSTER", "SLOTS")
        assert {entry[2][1] for entry in slots} <= tls_ports
        assert {entry[2][1] for entry in node.client().execute_command("CLUSTER", "SLOTS")} <= plain_ports
    # Strata's answers are Redis's, apart from the times and who is "myself".
    assert without_times(strata.client().execute_command("CLUSTER", "NODES").decode()) == without_times(
        redis_node.client().execute_command("CLUSTER", "NODES").decode())

    def shard_ports(node):
        shards = node.client().execute_command("CLUSTER", "SHARDS")
        described = []
        for shard in shards:
            for entry in dict(zip(*[iter(shard)] * 2))[b"nodes"]:
                fields = dict(zip(*[iter(entry)] * 2))
                described.append((fields[b"id"], fields[b"port"], fields[b"tls-port"], list(fields)[:4]))
        return sorted(described)

    assert shard_ports(strata) == shard_ports(redis_node)
    # Redirections name the port of the client's kind.
    key = next(f"k{i}" for i in range(100) if "MOVED" in subprocess.run(
        ["redis-cli", "-p", str(strata.port), "set", f"k{i}", "v"], capture_output=True, text=True).stdout)
    moved_plain = subprocess.run(["redis-cli", "-p", str(strata.port), "set", key, "v"],
                                 capture_output=True, text=True).stdout.split()[2]
    moved_tls = subprocess.run(["redis-cli", *tls, "-p", str(strata.tls_port), "set", key, "v"],
                               capture_output=True, text=True).stdout.split()[2]
    assert int(moved_plain.rsplit(":", 1)[1]) in plain_ports
    assert int(moved_tls.rsplit(":", 1)[1]) in tls_ports
    # Cluster clients of both kinds work through every node.
    encrypted = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", strata.tls_port)], ssl=True,
                             ssl_ca_certs=c("ca.crt"), ssl_certfile=c("client.crt"), ssl_keyfile=c("client.key"))
    plain = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", strata.port)])
    for i in range(200):
        encrypted.set(f"t{i}", i)
    assert all(plain.get(f"t{i}") == str(i).encode() for i in range(200))
    encrypted.close()
    plain.close()
    # Slots move both ways between Strata and Redis primaries: MIGRATE goes over TLS too.
    primaries = [n for n in nodes if n.client().execute_command("ROLE")[0] == b"master"]
    strata_primary = next(n for n in primaries if n in strata_nodes)
    redis_primary = next(n for n in primaries if n in redis_nodes)
    ids = {n.port: n.client().cluster("myid").decode() for n in primaries}
    for source, target in ((strata_primary, redis_primary), (redis_primary, strata_primary)):
        wait_until(lambda: agreed(nodes), message="every node lists the same topology before a move")
        before = source.client().dbsize()
        result = subprocess.run(
            ["redis-cli", *tls, "--cluster", "reshard", f"127.0.0.1:{source.tls_port}", "--cluster-from",
             ids[source.port], "--cluster-to", ids[target.port], "--cluster-slots", "2000", "--cluster-yes"],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        assert source.client().dbsize() < before
    wait_until(lambda: agreed(nodes), message="every node lists the same topology after the moves")
    reader = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", redis_node.port)])
    assert all(reader.get(f"t{i}") == str(i).encode() for i in range(200))
    reader.close()
