"""AOF benchmark, redis-server and strata-server side by side in one run (only loopback,
only processes it starts, stopped by PID):

  python3 Tools/bench_aof.py [path/to/strata-server]

1. SET throughput with redis-benchmark (-c 50, -d 32, -r 1000000; -P 1 and -P 16) for each
   server with no persistence, `appendfsync everysec` and `appendfsync always`, the
   servers interleaved, best of BENCH_ROUNDS (default 2); ratios to the same server with
   no persistence and to Redis in the same mode.
2. BGREWRITEAOF of BENCH_AOF_KEYS keys (default 5,000,000; 16-byte keys, 100-byte values,
   20% with a TTL): wall time and the resulting directory size, Strata with its default
   LZ4 base and with a plain RDB base (`snapshot-compression none`), Redis with its RDB
   preamble."""
import csv
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STRATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".build", "release", "strata-server")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
KEYS = int(os.environ.get("BENCH_AOF_KEYS", "5000000"))
N_P1 = int(os.environ.get("BENCH_REQUESTS_P1", "200000"))
N_P16 = int(os.environ.get("BENCH_REQUESTS_P16", "1000000"))
PARTS = os.environ.get("BENCH_AOF_PARTS", "throughput,rewrite").split(",")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          check=True).stdout


class Process:
    """A server on a free loopback port (bound to 127.0.0.1 only), without save points,
    stopped by PID. Its directory
    is a new temporary one (removed by `stop`) unless `directory` is given (kept); its
    output goes to `log` (a file) or nowhere."""

    def __init__(self, binary, args, directory=None, log=None):
        self.port = free_port()
        self.owns_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="bench-aof-", dir=os.environ.get("BENCH_DIR", os.getcwd()))
        self.proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
                                      "--save", "", *args],
                                     stdout=log or subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if cli(self.port, "ping").strip() == "PONG":
                    return
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{binary} did not start")

    def info(self, section):
        out = {}
        for line in cli(self.port, "info", section).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = v.strip()
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def bench(port, pipeline):
    requests = N_P16 if pipeline > 1 else N_P1
    args = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c", "50",
            "-r", "1000000", "-d", "32", "-P", str(pipeline), "--csv", "-t", "set"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    row = list(csv.DictReader(io.StringIO(out)))[0]
    return float(row["rps"]), float(row["p99_latency_ms"])


MODES = {
    "none": ["--appendonly", "no"],
    "everysec": ["--appendonly", "yes", "--appendfsync", "everysec"],
    "always": ["--appendonly", "yes", "--appendfsync", "always"],
}


def throughput():
    binaries = {"redis": shutil.which("redis-server"), "strata": STRATA}
    best = {}
    for _ in range(ROUNDS):
        for mode, args in MODES.items():
            for pipeline in (1, 16):
                for name, binary in binaries.items():
                    server = Process(binary, args)
                    try:
                        rps, p99 = bench(server.port, pipeline)
                    finally:
                        server.stop()
                    key = (name, mode, pipeline)
                    if key not in best or rps > best[key][0]:
                        best[key] = (rps, p99)
    print(f"SET, redis-benchmark -c 50 -d 32 -r 1000000, best of {ROUNDS} interleaved rounds")
    print(f"{'mode':<10}{'-P':>4}{'redis ops/s':>14}{'strata ops/s':>14}{'vs redis':>10}"
          f"{'redis/none':>12}{'strata/none':>13}{'redis p99':>11}{'strata p99':>12}")
    for mode in MODES:
        for pipeline in (1, 16):
            r, s = best[("redis", mode, pipeline)], best[("strata", mode, pipeline)]
            rn, sn = best[("redis", "none", pipeline)][0], best[("strata", "none", pipeline)][0]
            print(f"{mode:<10}{pipeline:>4}{r[0]:>14.0f}{s[0]:>14.0f}{s[0] / r[0]:>10.2f}"
                  f"{r[0] / rn:>12.2f}{s[0] / sn:>13.2f}{r[1]:>11.3f}{s[1]:>12.3f}")


def load(port, keys=None):
    """`keys` (default KEYS) keys of 100-byte word-like values, 20% with a TTL, through
    redis-cli --pipe (Tools/bench_dump.py loads its dumps with it too)."""
    keys = KEYS if keys is None else keys
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    rng = random.Random(1)
    batch = 200_000
    for start in range(0, keys, batch):
        chunks = []
        for i in range(start, min(start + batch, keys)):
            key = f"key:{i:012d}"
            value = " ".join(rng.choice(words) for _ in range(20))[:100].ljust(100, ".")
            if i % 5 == 0:
                chunks.append(f"*5\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$100\r\n{value}\r\n$2\r\nEX\r\n$5\r\n86400\r\n")
            else:
                chunks.append(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$100\r\n{value}\r\n")
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input="".join(chunks).encode(),
                       capture_output=True, check=True)


def directory_size(path):
    return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))


def rewrite():
    print(f"\nBGREWRITEAOF of {KEYS:,} keys (16-byte keys, 100-byte values, 20% with a TTL)")
    print(f"{'server':<34}{'rewrite s':>10}{'dir MB':>9}{'vs redis time':>15}{'vs redis size':>15}")
    rows = []
    for name, binary, args in [
        ("redis-server (rdb preamble)", shutil.which("redis-server"), []),
        ("strata (lz4 base)", STRATA, []),
        ("strata (plain rdb base)", STRATA, ["--snapshot-compression", "none"]),
    ]:
        server = Process(binary, ["--appendonly", "yes", "--auto-aof-rewrite-percentage", "0", *args])
        try:
            load(server.port)
            cli(server.port, "bgrewriteaof")
            start = time.time()
            while True:
                info = server.info("persistence")
                if info["aof_rewrite_in_progress"] == "0" and info["aof_rewrite_scheduled"] == "0":
                    break
                time.sleep(0.02)
            seconds = time.time() - start
            assert info["aof_last_bgrewrite_status"] == "ok", info
            size = directory_size(os.path.join(server.dir, "appendonlydir"))
            rows.append((name, seconds, size))
        finally:
            server.stop()
    redis_time, redis_size = rows[0][1], rows[0][2]
    for name, seconds, size in rows:
        print(f"{name:<34}{seconds:>10.2f}{size / 1e6:>9.1f}{seconds / redis_time:>15.2f}{size / redis_size:>15.2f}")


if __name__ == "__main__":
    if "throughput" in PARTS:
        throughput()
    if "rewrite" in PARTS:
        rewrite()
