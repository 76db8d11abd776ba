"""Eviction benchmark, redis-server and strata-server side by side in one run (only loopback,
only processes it starts, stopped by PID):

  python3 Tools/bench_eviction.py [path/to/strata-server]

1. SET throughput while evicting: `maxmemory 64mb` with allkeys-lru and allkeys-lfu,
   redis-benchmark -t set -d 100 -r 10000000 -P 16 -c 50 (the keyspace outgrows the limit
   and eviction runs all along); best of BENCH_ROUNDS interleaved rounds.
2. Hit ratio of a cache-aside Zipfian workload (GET; on a miss SET), the same key sequence
   (seeded) for both servers: BENCH_ZIPF_KEYS keys (default 1,000,000), exponent 0.99,
   BENCH_ZIPF_OPS operations (default 400,000), 1000-byte values (the distinct values of a
   run outgrow 64 MB, so eviction decides the hits), `maxmemory 64mb`; one run per sequence
   seed in BENCH_ZIPF_SEEDS (default 7,8,9) and their mean (sampling is random: one run
   varies by about ±0.001).
3. RSS per key for 1,000,000 small keys (`key:<n>` -> 8 bytes) without a limit.
"""
import bisect
import csv
import io
import os
import random
import shutil
import subprocess
import sys
import time

import redis

import bench_aof

HERE = os.path.dirname(os.path.abspath(__file__))
STRATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".build", "release", "strata-server")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
ZIPF_KEYS = int(os.environ.get("BENCH_ZIPF_KEYS", "1000000"))
ZIPF_OPS = int(os.environ.get("BENCH_ZIPF_OPS", "400000"))
ZIPF_SEEDS = [int(seed) for seed in os.environ.get("BENCH_ZIPF_SEEDS", "7,8,9").split(",")]
SERVERS = {"redis": shutil.which("redis-server"), "strata": STRATA}


class Process(bench_aof.Process):
    """bench_aof's server process (free loopback port, temporary directory, no save
    points, stopped by PID), without an AOF, with a redis-py client and its RSS."""

    def __init__(self, binary, *args):
        super().__init__(binary, ["--appendonly", "no", *args])
        self.client = redis.Redis(host="127.0.0.1", port=self.port)

    def rss(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0


def throughput():
    print("SET while evicting: maxmemory 64mb, redis-benchmark -t set -n 2000000 -d 100 -r 10000000 -P 16 -c 50,"
          f" best of {ROUNDS}")
    print(f"{'policy':<14}{'redis ops/s':>14}{'strata ops/s':>14}{'ratio':>8}{'redis evicted':>15}{'strata evicted':>16}")
    for policy in ("allkeys-lru", "allkeys-lfu"):
        best = {}
        for _ in range(ROUNDS):
            for name, binary in SERVERS.items():
                server = Process(binary, "--maxmemory", "64mb", "--maxmemory-policy", policy)
                try:
                    out = subprocess.run(["redis-benchmark", "-p", str(server.port), "-t", "set", "-n", "2000000",
                                          "-d", "100", "-r", "10000000", "-P", "16", "-c", "50", "--csv"],
                                         capture_output=True, text=True, check=True).stdout
                    rps = float(list(csv.DictReader(io.StringIO(out)))[0]["rps"])
                    evicted = int(server.client.info("stats")["evicted_keys"])
                finally:
                    server.stop()
                if name not in best or rps > best[name][0]:
                    best[name] = (rps, evicted)
        r, s = best["redis"], best["strata"]
        print(f"{policy:<14}{r[0]:>14.0f}{s[0]:>14.0f}{s[0] / r[0]:>8.2f}{r[1]:>15}{s[1]:>16}")


def zipf_sequence(seed):
    rng = random.Random(seed)
    weights = [1.0 / (rank ** 0.99) for rank in range(1, ZIPF_KEYS + 1)]
    cdf = []
    total = 0.0
    for w in weights:
        total += w
        cdf.append(total)
    # A fixed random permutation so that popular keys are spread over the key space.
    names = list(range(ZIPF_KEYS))
    rng.shuffle(names)
    return [names[bisect.bisect_left(cdf, rng.random() * total)] for _ in range(ZIPF_OPS)]


def cache_aside_hits(binary, policy, sequence):
    """Fraction of GETs that hit, SETting the key on each miss, on a fresh server."""
    server = Process(binary, "--maxmemory", "64mb", "--maxmemory-policy", policy)
    value = b"v" * 1000
    try:
        r = server.client
        hits = 0
        for start in range(0, len(sequence), 200):
            batch = sequence[start:start + 200]
            pipe = r.pipeline(transaction=False)
            for key in batch:
                pipe.get(f"object:{key}")
            results = pipe.execute()
            pipe = r.pipeline(transaction=False)
            for key, found in zip(batch, results):
                if found is None:
                    pipe.set(f"object:{key}", value)
                else:
                    hits += 1
            pipe.execute()
        return hits / len(sequence)
    finally:
        server.stop()


def hit_ratio():
    print(f"\nCache-aside Zipfian (s=0.99) over {ZIPF_KEYS:,} keys, {ZIPF_OPS:,} operations, 1000-byte values,"
          f" maxmemory 64mb; the same sequence for both; sequence seeds {', '.join(map(str, ZIPF_SEEDS))}")
    print(f"{'policy':<14}{'seed':>6}{'redis hits':>12}{'strata hits':>13}")
    sequences = {seed: zipf_sequence(seed) for seed in ZIPF_SEEDS}
    for policy in ("allkeys-lru", "allkeys-lfu"):
        totals = {name: 0.0 for name in SERVERS}
        for seed, sequence in sequences.items():
            ratios = {name: cache_aside_hits(binary, policy, sequence) for name, binary in SERVERS.items()}
            for name in SERVERS:
                totals[name] += ratios[name]
            print(f"{policy:<14}{seed:>6}{ratios['redis']:>12.4f}{ratios['strata']:>13.4f}")
        count = len(sequences)
        print(f"{policy:<14}{'mean':>6}{totals['redis'] / count:>12.4f}{totals['strata'] / count:>13.4f}")


def rss_per_key():
    print("\nRSS per key, 1,000,000 keys `key:<n>` -> 8-byte values, no limit")
    print(f"{'server':<10}{'empty MB':>10}{'full MB':>10}{'bytes/key':>11}")
    rows = {}
    for name, binary in SERVERS.items():
        server = Process(binary)
        try:
            empty = server.rss()
            payload = "".join(f"*3\r\n$3\r\nSET\r\n${len(f'key:{n}')}\r\nkey:{n}\r\n$8\r\n{n % 100000000:08d}\r\n"
                              for n in range(1_000_000))
            subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=payload.encode(),
                           capture_output=True, check=True)
            time.sleep(1)
            full = server.rss()
            rows[name] = (full - empty) / 1_000_000
            print(f"{name:<10}{empty / 1e6:>10.1f}{full / 1e6:>10.1f}{rows[name]:>11.1f}")
        finally:
            server.stop()
    print(f"strata / redis: {rows['strata'] / rows['redis']:.2f}")


if __name__ == "__main__":
    parts = os.environ.get("BENCH_EVICTION_PARTS", "throughput,hits,rss").split(",")
    if "throughput" in parts:
        throughput()
    if "hits" in parts:
        hit_ratio()
    if "rss" in parts:
        rss_per_key()
