"""Driver for Tools/bench-vs-redis.sh: runs redis-benchmark against redis-server and
strata-server side by side and prints a comparison table. Only loopback addresses and
only the processes it starts (stopped by PID)."""
import csv
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

STRATA = sys.argv[1]
N_P1 = int(os.environ.get("BENCH_REQUESTS_P1", "200000"))
N_P16 = int(os.environ.get("BENCH_REQUESTS_P16", "1000000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
KEYS = int(os.environ.get("BENCH_MEMORY_KEYS", "1000000"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port):
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            out = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=2)
            if out.stdout.strip() == "PONG":
                return
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True).stdout


def info_field(port, field):
    for line in cli(port, "info", "memory").splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    return 0


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bench(port, test, pipeline, requests):
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", test, "-n", str(requests), "-c", "50",
         "-r", "1000000", "-d", "32", "-P", str(pipeline), "--csv"],
        capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    row = rows[0]
    return float(row["rps"]), float(row["p99_latency_ms"])


def start(rport, sport, workdir):
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    strata = subprocess.Popen([STRATA, "--port", str(sport), "--bind", "127.0.0.1", "--dir", workdir],
                              stdout=subprocess.DEVNULL)
    wait_ready(rport)
    wait_ready(sport)
    return redis, strata


def main():
    workdir = tempfile.mkdtemp(prefix="strata-bench-")
    rport, sport = free_port(), free_port()
    redis, strata = start(rport, sport, workdir)
    try:
        version = cli(rport, "info", "server").split("redis_version:")[1].split()[0]
        results = []
        for test in ["set", "get", "incr", "mset"]:
            for pipeline, requests in [(1, N_P1), (16, N_P16)]:
                best = {"redis": (0.0, 0.0), "strata": (0.0, 0.0)}
                for r in range(ROUNDS):
                    order = [("redis", rport), ("strata", sport)]
                    if r % 2:
                        order.reverse()
                    for name, port in order:
                        rps, p99 = bench(port, test, pipeline, requests)
                        if rps > best[name][0]:
                            best[name] = (rps, p99)
                results.append((f"{test.upper()} -P {pipeline}", best["redis"], best["strata"]))
        # Memory: 1,000,000 keys of 32-byte values, loaded through redis-cli --pipe.
        payload = os.path.join(workdir, "load.resp")
        value = "x" * 32
        with open(payload, "w") as f:
            for i in range(KEYS):
                key = f"key:{i:012d}"
                f.write(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$32\r\n{value}\r\n")
        # Fresh processes, so memory freed by the throughput runs does not hide growth.
        for proc in (redis, strata):
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        redis, strata = start(rport, sport, workdir)
        memory = {}
        for name, port, proc in [("redis", rport, redis), ("strata", sport, strata)]:
            time.sleep(0.5)
            before_rss, before_used = rss(proc.pid), info_field(port, "used_memory")
            with open(payload, "rb") as f:
                subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f, capture_output=True, check=True)
            time.sleep(0.5)
            keys = int(cli(port, "dbsize").strip())
            after_rss, after_used = rss(proc.pid), info_field(port, "used_memory")
            memory[name] = ((after_used - before_used) / keys, (after_rss - before_rss) / keys)
        print(f"redis-server {version} vs strata-server, 50 clients, -r 1000000, -d 32, best of {ROUNDS} interleaved rounds")
        print(f"{'workload':<12} {'redis ops/s':>12} {'strata ops/s':>13} {'ratio':>6} {'redis p99 ms':>13} {'strata p99 ms':>14}")
        for name, (rr, rp), (sr, sp) in results:
            print(f"{name:<12} {rr:>12.0f} {sr:>13.0f} {sr / rr:>6.2f} {rp:>13.3f} {sp:>14.3f}")
        (ru, rr), (su, sr) = memory["redis"], memory["strata"]
        print(f"{'memory/key':<12} {'redis':>12} {'strata':>13} {'ratio':>6}")
        print(f"{'used_memory':<12} {ru:>12.1f} {su:>13.1f} {su / ru:>6.2f}")
        print(f"{'RSS':<12} {rr:>12.1f} {sr:>13.1f} {sr / rr:>6.2f}")
    finally:
        for proc in (redis, strata):
            proc.send_signal(signal.SIGTERM)
        for proc in (redis, strata):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
