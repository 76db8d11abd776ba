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
BUILTIN = ["set", "get", "incr", "mset", "lpush", "rpop", "sadd", "hset", "zadd"]
WORKLOADS = os.environ.get("BENCH_WORKLOADS",
                           ",".join(BUILTIN + ["leaderboard", "evalsha", "streams", "newtypes", "tracking", "memory"])).split(",")
STREAM_ENTRIES = int(os.environ.get("BENCH_STREAM_ENTRIES", "1000000"))
MEMBERS = int(os.environ.get("BENCH_LEADERBOARD_MEMBERS", "1000000"))


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


def bench(port, test, pipeline, requests, command=()):
    """One redis-benchmark run: a built-in test (`-t`) or, with `command`, a custom one."""
    args = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c", "50",
            "-r", "1000000", "-d", "32", "-P", str(pipeline), "--csv"]
    args += list(command) if command else ["-t", test]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    row = rows[0]
    return float(row["rps"]), float(row["p99_latency_ms"])


def pipe_load(port, commands):
    """Sends commands (lists of words) through redis-cli --pipe."""
    chunks = []
    for words in commands:
        chunks.append(f"*{len(words)}\r\n")
        for w in words:
            chunks.append(f"${len(w.encode())}\r\n{w}\r\n")
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input="".join(chunks).encode(), capture_output=True,
                   check=True)


def best_of(rport, sport, run):
    """Runs `run(port)` on both servers, interleaved, ROUNDS times; the best of each."""
    best = {"redis": (0.0, 0.0), "strata": (0.0, 0.0)}
    for r in range(ROUNDS):
        order = [("redis", rport), ("strata", sport)]
        if r % 2:
            order.reverse()
        for name, port in order:
            rps, p99 = run(port)
            if rps > best[name][0]:
                best[name] = (rps, p99)
    return best["redis"], best["strata"]


def leaderboard(rport, sport):
    """The leaderboard workload on a MEMBERS-member sorted set loaded into each server:
    ZINCRBY a random member, ZREVRANK a random member, ZREVRANGE 0 9 WITHSCORES."""
    for port in (rport, sport):
        pipe_load(port, (["ZADD", "lb"] + [w for i in range(j, min(j + 100, MEMBERS))
                                           for w in (str((i * 7919) % 1000003), f"member:{i:012d}")]
                         for j in range(0, MEMBERS, 100)))
    rows = []
    for label, command in [("ZINCRBY", ["zincrby", "lb", "1", "member:__rand_int__"]),
                           ("ZREVRANK", ["zrevrank", "lb", "member:__rand_int__"]),
                           ("ZREVRANGE 0 9 WITHSCORES", ["zrevrange", "lb", "0", "9", "withscores"])]:
        for pipeline, requests in [(1, N_P1), (16, N_P16)]:
            redis_best, strata_best = best_of(
                rport, sport, lambda port: bench(port, "", pipeline, requests, command))
            rows.append((f"lb {label} -P {pipeline}", redis_best, strata_best))
    return rows


RATE_SCRIPT = "redis.call('INCR', KEYS[1]) return redis.call('EXPIRE', KEYS[1], ARGV[1])"


def evalsha(rport, sport):
    """EVALSHA of a small script doing INCR + EXPIRE on a random key (the scripting bar)."""
    shas = {port: cli(port, "script", "load", RATE_SCRIPT).strip() for port in (rport, sport)}
    assert shas[rport] == shas[sport], shas
    command = ["evalsha", shas[rport], "1", "rate:__rand_int__", "100"]
    rows = []
    for pipeline, requests in [(1, N_P1), (16, N_P16)]:
        redis_best, strata_best = best_of(rport, sport, lambda port: bench(port, "", pipeline, requests, command))
        rows.append((f"EVALSHA INCR+EXPIRE -P {pipeline}", redis_best, strata_best))
    return rows


def streams(rport, sport):
    """The stream bars: XADD of 3 small fields into one stream (-P 1, -P 16), and a consumer
    group loop: XREADGROUP COUNT 1 of new entries from a stream filled beforehand, then
    XACK of random delivered ids."""
    rows = []
    xadd = ["xadd", "bench:stream", "*", "user", "u__rand_int__", "action", "click", "n", "1"]
    for pipeline, requests in [(1, N_P1), (16, N_P16)]:
        redis_best, strata_best = best_of(rport, sport, lambda port: bench(port, "", pipeline, requests, xadd))
        rows.append((f"XADD 3 fields -P {pipeline}", redis_best, strata_best))
    deliveries = ROUNDS * (N_P1 + N_P16)
    for port in (rport, sport):
        pipe_load(port, (["XADD", "jobs", f"{i + 1}-0", "user", f"u{i % 1000}", "action", "click", "n", str(i)]
                         for i in range(deliveries + 1000)))
        cli(port, "xgroup", "create", "jobs", "workers", "0")
    read = ["xreadgroup", "group", "workers", "c", "count", "1", "streams", "jobs", ">"]
    ack = ["xack", "jobs", "workers", "__rand_int__-0"]
    measured = {}
    for label, command in [("XREADGROUP COUNT 1", read), ("XACK", ack)]:
        for pipeline, requests in [(1, N_P1), (16, N_P16)]:
            redis_best, strata_best = best_of(
                rport, sport, lambda port: bench(port, "", pipeline, requests, command))
            rows.append((f"{label} -P {pipeline}", redis_best, strata_best))
            measured[(label, pipeline)] = (redis_best, strata_best)
    # The consumer loop handles each entry with one XREADGROUP and one XACK: its rate is
    # 1 / (1/read + 1/ack) of the two rates measured above (p99: the larger of the two).
    for pipeline in (1, 16):
        (rr, rp), (sr, sp) = measured[("XREADGROUP COUNT 1", pipeline)]
        (ra, rpa), (sa, spa) = measured[("XACK", pipeline)]
        rows.append((f"loop read+ack -P {pipeline} (derived)", (1 / (1 / rr + 1 / ra), max(rp, rpa)),
                     (1 / (1 / sr + 1 / sa), max(sp, spa))))
    return rows


def start(rport, sport, workdir):
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    # No save points for either: a snapshot written at shutdown would be loaded by the next
    # fresh process and hide the memory scenarios' growth (their keys are the benchmark's).
    strata = subprocess.Popen([STRATA, "--port", str(sport), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", workdir],
                              stdout=subprocess.DEVNULL)
    wait_ready(rport)
    wait_ready(sport)
    return redis, strata


GEO_SCRIPT = ("math.randomseed(7) for i = 1, 20000 do redis.call('GEOADD', KEYS[1], "
              "12 + math.random() * 4, 36.5 + math.random() * 2, 'p' .. i) end return 1")


def newtypes(rport, sport):
    """HyperLogLog, geo and BITFIELD: PFADD of random elements into one HLL, PFCOUNT of one
    key and of three, GEOADD of random members, GEOSEARCH 50 km around a point of a 20,000
    member set, BITFIELD INCRBY + GET of 16-bit counters (redis-benchmark's random numbers
    have leading zeros, which offsets refuse). The slow ones (PFCOUNT of three keys,
    GEOSEARCH) get a tenth of the usual requests; the others the usual number, since a
    tenth of it at -P 16 is a run of a few dozen milliseconds that mostly measures
    connecting."""
    for port in (rport, sport):
        cli(port, "eval", GEO_SCRIPT, "1", "geo")
        for key in ("hll", "hll2", "hll3"):
            pipe_load(port, (["PFADD", key] + [f"e{key}{i}" for i in range(j, j + 100)] for j in range(0, 20000, 100)))
    workloads = [
        ("PFADD", 1, ["pfadd", "hll", "el:__rand_int__"]),
        ("PFCOUNT 1 key", 1, ["pfcount", "hll"]),
        ("PFCOUNT 3 keys", 10, ["pfcount", "hll", "hll2", "hll3"]),
        ("GEOADD", 1, ["geoadd", "geo2", "13.361389", "38.115556", "m:__rand_int__"]),
        ("GEOSEARCH 50 km", 10, ["geosearch", "geo", "fromlonlat", "14", "37.5", "byradius", "50", "km", "count",
                                 "10", "asc"]),
        ("BITFIELD INCRBY+GET", 1, ["bitfield", "bf", "incrby", "u16", "#7", "1", "get", "u16", "#3"]),
    ]
    rows = []
    for label, divisor, command in workloads:
        for pipeline, requests in [(1, N_P1 // divisor), (16, N_P16 // divisor)]:
            redis_best, strata_best = best_of(rport, sport, lambda port: bench(port, "", pipeline, requests, command))
            rows.append((f"{label} -P {pipeline}", redis_best, strata_best))
            print(f"{label} -P {pipeline}: redis {redis_best[0]:.0f} strata {strata_best[0]:.0f}", file=sys.stderr)
    return rows


TRACKING_CLIENTS = int(os.environ.get("BENCH_TRACKING_CLIENTS", "1000"))


def tracking(rport, sport):
    """GET and SET with TRACKING_CLIENTS idle RESP3 clients that track 20 keys each of the
    benchmark's key space (a SET of one of them sends them an invalidation), beside the
    same runs without them."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * TRACKING_CLIENTS + 256)), hard))
    rows = []
    for label, test in [("GET", "get"), ("SET", "set")]:
        redis_best, strata_best = best_of(rport, sport, lambda port: bench(port, test, 16, N_P16 // 2))
        rows.append((f"{label} -P 16 (no tracking clients)", redis_best, strata_best))
    sockets = []
    for port in (rport, sport):
        for n in range(TRACKING_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", port))
            keys = "".join(f"*2\r\n$3\r\nGET\r\n$16\r\nkey:{(n * 20 + k) * 37 % 1000000:012d}\r\n"
                           for k in range(20))
            sock.sendall(b"HELLO 3\r\n*3\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\nON\r\n" + keys.encode())
            sockets.append(sock)
    time.sleep(1)
    try:
        for label, test in [("GET", "get"), ("SET", "set")]:
            redis_best, strata_best = best_of(rport, sport, lambda port: bench(port, test, 16, N_P16 // 2))
            rows.append((f"{label} -P 16 ({TRACKING_CLIENTS} tracking clients)", redis_best, strata_best))
            print(f"{label} tracking: redis {redis_best[0]:.0f} strata {strata_best[0]:.0f}", file=sys.stderr)
    finally:
        for sock in sockets:
            sock.close()
    return rows


def main():
    workdir = tempfile.mkdtemp(prefix="strata-bench-")
    rport, sport = free_port(), free_port()
    redis, strata = start(rport, sport, workdir)
    try:
        version = cli(rport, "info", "server").split("redis_version:")[1].split()[0]
        results = []
        for test in [t for t in BUILTIN if t in WORKLOADS]:
            for pipeline, requests in [(1, N_P1), (16, N_P16)]:
                redis_best, strata_best = best_of(
                    rport, sport, lambda port: bench(port, test, pipeline, requests))
                results.append((f"{test.upper()} -P {pipeline}", redis_best, strata_best))
        if "leaderboard" in WORKLOADS:
            results += leaderboard(rport, sport)
        if "evalsha" in WORKLOADS:
            results += evalsha(rport, sport)
        if "streams" in WORKLOADS:
            results += streams(rport, sport)
        if "newtypes" in WORKLOADS:
            results += newtypes(rport, sport)
        if "tracking" in WORKLOADS:
            results += tracking(rport, sport)
        memory = []
        if "memory" in WORKLOADS or "stream-memory" in WORKLOADS:
            value = "x" * 32
            scenarios = [
                (f"{KEYS} strings, per key", KEYS,
                 ([ "SET", f"key:{i:012d}", value] for i in range(KEYS))),
                ("100000 hashes x 10 fields, per field", 1_000_000,
                 (["HSET", f"user:{i}"] + [w for f in range(10) for w in (f"field{f}", f"value-{i % 997}-{f}")]
                  for i in range(100_000))),
                (f"{MEMBERS}-member zset, per member", MEMBERS,
                 (["ZADD", "bigzset"] + [w for i in range(j, min(j + 100, MEMBERS))
                                         for w in (str((i * 7919) % 1000003), f"member:{i:012d}")]
                  for j in range(0, MEMBERS, 100))),
                (f"{STREAM_ENTRIES}-entry stream x 3 fields, per entry", STREAM_ENTRIES,
                 (["XADD", "events", "*", "user", str(i % 1000), "action", "click" if i % 3 else "view",
                   "n", str(i % 100)] for i in range(STREAM_ENTRIES))),
            ]
            if "memory" not in WORKLOADS:
                scenarios = scenarios[-1:]  # stream-memory: the stream scenario alone
            for label, units, commands in scenarios:
                commands = list(commands)
                # Fresh processes, so memory freed by earlier runs does not hide growth.
                for proc in (redis, strata):
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=30)
                redis, strata = start(rport, sport, workdir)
                per = {}
                for name, port, proc in [("redis", rport, redis), ("strata", sport, strata)]:
                    time.sleep(0.5)
                    before_rss, before_used = rss(proc.pid), info_field(port, "used_memory")
                    pipe_load(port, commands)
                    time.sleep(0.5)
                    after_rss, after_used = rss(proc.pid), info_field(port, "used_memory")
                    per[name] = ((after_used - before_used) / units, (after_rss - before_rss) / units, after_rss)
                memory.append((label, per["redis"], per["strata"]))
        print(f"redis-server {version} vs strata-server, 50 clients, -r 1000000, -d 32, best of {ROUNDS} interleaved rounds")
        print(f"{'workload':<28} {'redis ops/s':>12} {'strata ops/s':>13} {'ratio':>6} {'redis p99 ms':>13} {'strata p99 ms':>14}")
        for name, (rr, rp), (sr, sp) in results:
            print(f"{name:<28} {rr:>12.0f} {sr:>13.0f} {sr / rr:>6.2f} {rp:>13.3f} {sp:>14.3f}")
        for label, (ru, rr, rp), (su, sr, sp) in memory:
            print(f"memory: {label}")
            print(f"  {'used_memory bytes':<26} {ru:>12.1f} {su:>13.1f} {su / ru:>6.2f}")
            print(f"  {'RSS bytes':<26} {rr:>12.1f} {sr:>13.1f} {sr / rr:>6.2f}")
            print(f"  {'process RSS after, MB':<26} {rp / 1048576:>12.1f} {sp / 1048576:>13.1f} {sp / rp:>6.2f}")
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
