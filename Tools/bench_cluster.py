#!/usr/bin/env python3
"""Cluster benchmark: a cluster of Strata nodes and one of redis-server 7.0 nodes of the
same shape, side by side in one run (loopback only, processes it starts, stopped by PID).

    python3 Tools/bench_cluster.py [--keys 1000000] [--rounds 2] [--node-timeout 2000] [path/to/strata-server]

1. Throughput: `redis-benchmark --cluster --threads 2` SET and GET (50 clients, -d 32,
   -r 100000) at -P 1 and -P 16 against a 3-primary cluster; the clusters alternate;
   the median ops/s of the rounds, and the median CPU time the three servers spent per
   request (lower is better). One client thread cannot load three nodes (both servers
   then give the same figure), hence two.
2. Slot migration: `--keys` keys (default 1M) loaded into the slots of one primary, then
   `redis-cli --cluster reshard` moves every slot of that primary to another; keys moved
   per second.
3. Failover: 3 primaries with a replica each; a primary is killed (SIGKILL) and the time
   until every other node says `cluster_state:ok` with the replica promoted is measured.

Ratios are Strata / Redis (higher is better for throughput and migration, lower for the
failover time).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_aof import Process, cli, free_port  # noqa: E402
from redis.crc import key_slot  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def start_cluster(binary, count, node_timeout, replicas):
    nodes = [Process(binary, ["--appendonly", "no", "--cluster-enabled", "yes", "--cluster-node-timeout",
                              str(node_timeout), "--cluster-port", str(free_port())]) for _ in range(count)]
    subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in nodes],
                    "--cluster-replicas", str(replicas), "--cluster-yes"], check=True, capture_output=True)
    wait(lambda: all("cluster_state:ok" in cli(n.port, "cluster", "info") for n in nodes), "cluster ok")
    return nodes


def wait(condition, what, timeout=60):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def stop(nodes):
    for node in nodes:
        node.stop()


def benchmark(port, test, pipeline, requests):
    output = subprocess.run(
        ["redis-benchmark", "--cluster", "--threads", "2", "-p", str(port), "-t", test, "-n", str(requests), "-c", "50", "-d", "32",
         "-r", "100000", "-P", str(pipeline), "--csv"], capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith(f'"{test.upper()}"'):
            return float(line.split(",")[1].strip('"'))
    raise RuntimeError(f"no figure in {output!r}")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(servers, args):
    """Median ops/s over the rounds, and the median CPU the three servers spent per request
    (on two cores shared with the client, the steadier of the two)."""
    runs = {}
    for round_ in range(args.rounds):
        for name in (["redis", "strata"] if round_ % 2 == 0 else ["strata", "redis"]):
            nodes = start_cluster(servers[name], 3, args.node_timeout, 0)
            try:
                for test in ("set", "get"):
                    for pipeline in (1, 16):
                        requests = 400_000 if pipeline == 1 else 3_000_000
                        before = sum(cpu_seconds(n.proc.pid) for n in nodes)
                        value = benchmark(nodes[0].port, test, pipeline, requests)
                        used = sum(cpu_seconds(n.proc.pid) for n in nodes) - before
                        runs.setdefault((test, pipeline), {}).setdefault(name, []).append(
                            (value, used / requests * 1e6))
            finally:
                stop(nodes)
    rows = []
    for (test, pipeline), by_server in runs.items():
        ops = {name: statistics.median(v for v, _ in values) for name, values in by_server.items()}
        cpu = {name: statistics.median(c for _, c in values) for name, values in by_server.items()}
        rows.append((f"{test.upper()} -P {pipeline}", ops["redis"], ops["strata"], cpu["redis"], cpu["strata"]))
    return rows


def own_slots(port):
    """The slots the node on `port` serves, from its own line of CLUSTER NODES."""
    line = next(l for l in cli(port, "cluster", "nodes").splitlines() if "myself" in l)
    slots = []
    for field in line.split()[8:]:
        first, _, last = field.partition("-")
        slots.extend(range(int(first), int(last or first) + 1))
    return slots


def load_into_slots(port, slots, keys):
    """`keys` string keys spread over `slots`, written to one node with `redis-cli --pipe`
    (a hash tag per slot routes each key to a slot of that node)."""
    wanted, tags, candidate = set(slots), {}, 0
    while len(tags) < len(wanted):
        slot = key_slot(str(candidate).encode())
        if slot in wanted and slot not in tags:
            tags[slot] = str(candidate)
        candidate += 1
    tag_list = [tags[slot] for slot in slots]
    value = "v" * 32
    commands = []
    for i in range(keys):
        key = f"{{{tag_list[i % len(tag_list)]}}}:{i}"
        commands.append(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$32\r\n{value}\r\n")
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input="".join(commands).encode(), check=True,
                   capture_output=True)


def migration(binary, args):
    nodes = start_cluster(binary, 3, args.node_timeout, 0)
    try:
        source, target = nodes[0], nodes[1]
        slots = own_slots(source.port)
        load_into_slots(source.port, slots, args.keys)
        moving = int(cli(source.port, "dbsize"))
        assert moving == args.keys, f"{moving} keys loaded of {args.keys}"
        ids = {n.port: cli(n.port, "cluster", "myid").strip() for n in nodes}
        started = time.time()
        subprocess.run(["redis-cli", "--cluster", "reshard", f"127.0.0.1:{source.port}", "--cluster-from",
                        ids[source.port], "--cluster-to", ids[target.port], "--cluster-slots", str(len(slots)),
                        "--cluster-pipeline", "100", "--cluster-yes"], check=True, capture_output=True)
        elapsed = time.time() - started
        assert int(cli(source.port, "dbsize")) == 0
        assert int(cli(target.port, "dbsize")) == moving
        return moving / elapsed
    finally:
        stop(nodes)


def failover(binary, args):
    nodes = start_cluster(binary, 6, args.node_timeout, 1)
    try:
        victim = next(n for n in nodes if cli(n.port, "role").startswith("master"))
        victim_id = cli(victim.port, "cluster", "myid").strip()
        wait(lambda: cli(victim.port, "cluster", "replicas", victim_id).strip(), "the primary knows its replica")
        replica_id = cli(victim.port, "cluster", "replicas", victim_id).split()[0]
        replica = next(n for n in nodes if cli(n.port, "cluster", "myid").strip() == replica_id)
        wait(lambda: "master_link_status:up" in cli(replica.port, "info", "replication"), "replica linked")
        others = [n for n in nodes if n is not victim]
        started = time.time()
        victim.proc.kill()
        victim.proc.wait()
        wait(lambda: cli(replica.port, "role").startswith("master")
             and all("cluster_state:ok" in cli(n.port, "cluster", "info") for n in others), "failover", timeout=120)
        return time.time() - started
    finally:
        stop(nodes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("strata", nargs="?", default=os.path.join(ROOT, ".build", "release", "strata-server"))
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--node-timeout", type=int, default=2000)
    parser.add_argument("--parts", default="throughput,migration,failover")
    args = parser.parse_args()
    servers = {"redis": shutil.which("redis-server"), "strata": args.strata}
    parts = args.parts.split(",")
    print(f"redis-server 7.0 vs strata-server, 3-primary clusters, node timeout {args.node_timeout} ms")
    print(f"{'workload':28} {'redis':>12} {'strata':>12} {'ratio':>7}")
    if "throughput" in parts:
        rows = throughput(servers, args)
        for name, redis_value, strata_value, _, _ in rows:
            print(f"{name + ' ops/s, median':28} {redis_value:12.0f} {strata_value:12.0f} "
                  f"{strata_value / redis_value:7.2f}")
        for name, _, _, redis_cpu, strata_cpu in rows:
            print(f"{name + ' CPU us/request':28} {redis_cpu:12.2f} {strata_cpu:12.2f} "
                  f"{strata_cpu / redis_cpu:7.2f}")
    if "migration" in parts:
        rates = best_of(servers, args, migration, max)
        print(f"{'reshard keys/s':28} {rates['redis']:12.0f} {rates['strata']:12.0f} "
              f"{rates['strata'] / rates['redis']:7.2f}")
    if "failover" in parts:
        runs = all_runs(servers, args, failover)
        times = {name: min(values) for name, values in runs.items()}
        medians = {name: statistics.median(values) for name, values in runs.items()}
        print(f"{'failover s, best (lower better)':28} {times['redis']:12.2f} {times['strata']:12.2f} "
              f"{times['strata'] / times['redis']:7.2f}")
        print(f"{'failover s, median':28} {medians['redis']:12.2f} {medians['strata']:12.2f} "
              f"{medians['strata'] / medians['redis']:7.2f}")


def all_runs(servers, args, measure):
    """Every one of `args.rounds` runs of `measure` per server, the servers alternating."""
    results = {"redis": [], "strata": []}
    for round_ in range(args.rounds):
        for name in (["redis", "strata"] if round_ % 2 == 0 else ["strata", "redis"]):
            results[name].append(measure(servers[name], args))
    return results


def best_of(servers, args, measure, better):
    """The best of `args.rounds` runs of `measure` per server, the servers alternating."""
    return {name: better(values) for name, values in all_runs(servers, args, measure).items()}

if __name__ == "__main__":
    main()
