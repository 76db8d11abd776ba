"""What one request costs the server, redis-server 7.0 and strata-server side by side in one
run (only loopback, only processes it starts, stopped by PID):

  python3 Tools/bench_request_cost.py [path/to/strata-server] [--rounds N] [--tests set:1,get:16,...]

For each workload (a redis-benchmark test at a pipeline depth, 50 clients, -r 100000, -d 32)
the two servers run it one after the other, in alternating order, ROUNDS times. Each run
reports ops/s, p99 and the server's CPU time per request (user and system ticks from
/proc/PID/stat over the run, divided by the requests). The table prints, per workload, the
median of the per-round ratios Strata/Redis and their range: CPU and p99 want <= 1.0, ops/s
>= 1.0. The last row is the idle GET latency: one client, one request at a time, the max and
p99 over the run (`--idle-requests`).

With `--zset N` the workloads are instead those of a large sorted set: one of N members
(`member:<12 digits>`, integer scores) is loaded into both servers, and ZADD, ZINCRBY, ZRANK,
`ZRANGE 0 9` and `ZRANGE ... BYSCORE LIMIT 0 10` run on random members at -P 1 and -P 16.

Server CPU is what the bars speak of because it does not depend on how the benchmark
client, which shares the two cores, is scheduled."""
import argparse
import csv
import io
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_aof import Process  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TESTS = "set:1,get:1,incr:1,lpush:1,rpop:1,sadd:1,hset:1,zadd:1,set:16,get:16,incr:16"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User and system CPU seconds of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


ZSET_WORKLOADS = {
    "ZADD": ["zadd", "lb", "__rand_int__", "member:__rand_int__"],
    "ZINCRBY": ["zincrby", "lb", "1", "member:__rand_int__"],
    "ZRANK": ["zrank", "lb", "member:__rand_int__"],
    "ZRANGE 0 9": ["zrange", "lb", "0", "9"],
    "ZRANGE BYSCORE": ["zrange", "lb", "__rand_int__", "+inf", "byscore", "limit", "0", "10"],
}


def load_zset(server, members):
    """Loads `lb`, a sorted set of `members` members, through redis-cli --pipe."""
    chunks = []
    for start in range(0, members, 1000):
        words = ["ZADD", "lb"]
        for i in range(start, min(start + 1000, members)):
            words += [str(i), f"member:{i:012d}"]
        chunks.append(f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words))
    subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input="".join(chunks).encode(),
                   capture_output=True, check=True)


def bench(server, test, pipeline, requests, clients=50, keyspace=100_000):
    """One redis-benchmark run (`test`: a built-in test name or a command's words);
    returns ops/s, p99 ms, max ms, CPU seconds per request (user, system)."""
    before = cpu_seconds(server.proc.pid)
    command = ["-t", test] if isinstance(test, str) else test
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-n", str(requests), "-c", str(clients),
         "-r", str(keyspace), "-d", "32", "-P", str(pipeline), "--csv", *command],
        capture_output=True, text=True, check=True).stdout
    after = cpu_seconds(server.proc.pid)
    row = list(csv.DictReader(io.StringIO(out)))[0]
    user, system = (after[i] - before[i] for i in range(2))
    return {"ops": float(row["rps"]), "p99": float(row["p99_latency_ms"]), "max": float(row["max_latency_ms"]),
            "cpu": (user + system) / requests, "user": user / requests, "sys": system / requests}


def spread(values):
    return f"{statistics.median(values):5.2f} ({min(values):.2f}-{max(values):.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("strata", nargs="?", default=os.path.join(HERE, "..", ".build", "release", "strata-server"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tests", default=DEFAULT_TESTS, help="test:pipeline list")
    parser.add_argument("--requests-p1", type=int, default=200_000)
    parser.add_argument("--requests-p16", type=int, default=1_000_000)
    parser.add_argument("--idle-requests", type=int, default=20_000, help="0: no idle latency row")
    parser.add_argument("--redis", default="redis-server")
    parser.add_argument("--zset", type=int, default=0, help="members of the large sorted set (0: the -t tests)")
    args = parser.parse_args()

    servers = {"redis": Process(args.redis, []), "strata": Process(args.strata, [])}
    keyspace = 100_000
    workloads = []
    for item in args.tests.split(","):
        test, pipeline = item.split(":")
        workloads.append((f"{test.upper()} -P {pipeline}", test, int(pipeline)))
    if args.zset:
        keyspace = args.zset
        for server in servers.values():
            load_zset(server, args.zset)
        workloads = [(f"{label} -P {pipeline}", command, pipeline)
                     for label, command in ZSET_WORKLOADS.items() for pipeline in (1, 16)]
        args.idle_requests = 0
    try:
        version = subprocess.run([args.redis, "--version"], capture_output=True, text=True).stdout.split()[2]
        print(f"redis-server {version.removeprefix('v=')} vs strata-server, 50 clients, -r {keyspace}, -d 32, "
              f"{args.rounds} interleaved rounds; ratios Strata/Redis: median (range)")
        print(f"{'workload':22} {'ops/s':>17} {'CPU/request':>17} {'user':>6} {'sys':>6} {'p99':>17}"
              f"   redis us/req  strata us/req")
        for label, test, pipeline in workloads:
            requests = args.requests_p1 if pipeline == 1 else args.requests_p16
            runs = {"redis": [], "strata": []}
            for round_ in range(args.rounds):
                order = ["redis", "strata"] if round_ % 2 == 0 else ["strata", "redis"]
                for name in order:
                    runs[name].append(bench(servers[name], test, pipeline, requests, keyspace=keyspace))
            ratio = {key: [s[key] / r[key] for r, s in zip(runs["redis"], runs["strata"])]
                     for key in ("ops", "cpu", "user", "sys", "p99")}
            micro = {name: statistics.median(run["cpu"] for run in runs[name]) * 1e6 for name in runs}
            print(f"{label:22} {spread(ratio['ops']):>17} {spread(ratio['cpu']):>17} "
                  f"{statistics.median(ratio['user']):6.2f} {statistics.median(ratio['sys']):6.2f} "
                  f"{spread(ratio['p99']):>17}   {micro['redis']:12.2f} {micro['strata']:13.2f}", flush=True)
        if args.idle_requests:
            runs = {"redis": [], "strata": []}
            for round_ in range(args.rounds):
                order = ["redis", "strata"] if round_ % 2 == 0 else ["strata", "redis"]
                for name in order:
                    runs[name].append(bench(servers[name], "get", 1, args.idle_requests, clients=1))
            for key in ("max", "p99"):
                ratios = [s[key] / r[key] for r, s in zip(runs["redis"], runs["strata"])]
                values = {name: statistics.median(run[key] for run in runs[name]) for name in runs}
                print(f"idle GET {key:13} {spread(ratios):>17}   redis {values['redis']:.3f} ms, "
                      f"strata {values['strata']:.3f} ms")
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
