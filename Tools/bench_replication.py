"""Replication benchmark, redis-server and strata-server side by side in one run, each
primary with a replica of its own kind (loopback ports only, only processes it starts,
stopped by PID):

  python3 Tools/bench_replication.py [--keys N] [--skip-sync] [--skip-lag]

Binaries: STRATA_SERVER (default .build/release/strata-server), REDIS_SERVER (default
redis-server on PATH). Needs redis-benchmark, redis-cli and redis-py.

1. Full sync. The primary is loaded with N keys (`--keys`, default 5,000,000; `key:<12
   digits>` -> 100-byte word-like text) through `redis-cli --pipe`; a fresh, empty
   replica is started and sent REPLICAOF. `sync s` runs from REPLICAOF until the replica
   reports `master_link_status:up` and DBSIZE = N (polled every 20 ms); `caught up s`
   until its slave_repl_offset reaches the primary's master_repl_offset read at that
   moment (the writes held during the sync applied). Done twice: with the primary idle,
   and under a write load (redis-benchmark SET -r N -d 100 -P 16 -c 8, overwriting
   existing keys, from `--idle-window` + 0.5 s before REPLICAOF until caught up).
   `extra MB`: the peak, from REPLICAOF until caught up, of the primary's VmRSS plus the
   Private_Dirty of its child processes (Redis's fork: the copy-on-write cost), minus the
   same measure just before REPLICAOF. `GET p99`: one client in another process issuing
   GETs of random existing keys one at a time (Python: ~0.1 ms of client overhead
   included); `pre` over the `--idle-window` seconds before REPLICAOF (under the same
   load as during), `sync` from REPLICAOF to link up; `sync/pre` is the bar's ratio; `max
   at s`: when the slowest GET of the sync started.
   Both servers get `repl-diskless-sync` from `--diskless` (default yes, as both default),
   `repl-diskless-sync-delay 0` (not the default 5 s wait for more replicas) and
   `client-output-buffer-limit replica` from `--replica-buffer-limit` (default `0 0 0`,
   none: under the write load, Redis's default 256 MB hard limit cuts its 5M-key sync
   every time, so it never completes). A sync that fails reads `nan`. A timeline of the
   replication log lines of each sync (seconds after REPLICAOF) follows the tables.
2. Lag. A fresh empty primary and replica in sync; redis-benchmark SET -P 16 -c 50
   -n 2,000,000 -r 100,000 -d 64 against the primary, sampling every 50 ms the primary's
   master_repl_offset and the replica's slave_repl_offset. `lag bytes`: primary offset
   (interpolated at the replica's sample time) minus the replica's; `lag ms`: how long
   before the replica's sample the primary had reached that offset; `catch-up ms`: from
   the benchmark's exit until the replica reached the primary's final offset. `SET/s`
   with the replica attached, and the same run before the replica attached for scale.

Ratios are strata/redis: below 1 means Strata takes less time, memory or lag."""
import argparse
import array
import bisect
import datetime
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import redis

import bench_aof
from bench_snapshot import children, rss as vm_rss

HERE = os.path.dirname(os.path.abspath(__file__))
STRATA = os.environ.get("STRATA_SERVER", os.path.join(HERE, "..", ".build", "release", "strata-server"))
REDIS = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "redis-server")


def log(message):
    print(message, file=sys.stderr, flush=True)


class Server(bench_aof.Process):
    """bench_aof's server process (free loopback port, no save points, stopped by PID) in
    its own temporary directory (removed by `stop`), output to server.log, with a
    redis-py client."""

    buffer_limit, diskless = "0 0 0", "yes"

    def __init__(self, kind, binary, extra=()):
        self.kind = kind
        directory = tempfile.mkdtemp(prefix=f"bench-repl-{kind}-", dir="/tmp")
        self.log = os.path.join(directory, "server.log")
        args = ["--bind", "127.0.0.1", "--appendonly", "no", "--repl-diskless-sync", Server.diskless,
                "--repl-diskless-sync-delay", "0", "--client-output-buffer-limit", f"replica {Server.buffer_limit}",
                *extra]
        with open(self.log, "wb") as out:
            super().__init__(binary, args, directory=directory, log=out)
        self.client = redis.Redis(port=self.port, socket_timeout=30, decode_responses=True)

    def repl(self):
        return self.client.info("replication")

    def stop(self, keep_log_as=None):
        super().stop()
        if keep_log_as:
            shutil.copy(self.log, keep_log_as)
        shutil.rmtree(self.dir, ignore_errors=True)


PROCS = []  # everything started, stopped in `main`'s finally


def started(thing):
    PROCS.append(thing)
    return thing


def stop_all():
    for thing in reversed(PROCS):
        try:
            if isinstance(thing, Server):
                thing.stop()
            elif isinstance(thing, subprocess.Popen) and thing.poll() is None:
                thing.kill()
                thing.wait()
            elif isinstance(thing, multiprocessing.Process) and thing.is_alive():
                thing.kill()
                thing.join()
        except Exception as error:  # keep stopping the rest
            log(f"cleanup: {error}")
    PROCS.clear()


# --- Loading -------------------------------------------------------------------------------

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
         "dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea "
         "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur "
         "session user cart order price total status active pending shipped").split()


def value_pool(size=65536):
    """Word-like 100-byte values (as Tools/bench_snapshot.py), picked per key from a pool."""
    rng = random.Random(7)
    pool = []
    for _ in range(size):
        text = ""
        while len(text) < 100:
            text += rng.choice(WORDS) + " "
        pool.append(text[:100])
    return pool


def load(server, keys):
    pool = value_pool()
    pipe = subprocess.Popen(["redis-cli", "-p", str(server.port), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for start in range(0, keys, 50000):
        pipe.stdin.write("".join(f"*3\r\n$3\r\nSET\r\n$16\r\nkey:{i:012d}\r\n$100\r\n{pool[(i * 40503) & 0xFFFF]}\r\n"
                                 for i in range(start, min(keys, start + 50000))).encode())
    out = pipe.communicate(timeout=600)[0].decode()
    size = server.client.dbsize()
    if size != keys:
        raise RuntimeError(f"{server.kind}: loaded {size} keys, not {keys}: {out}")


# --- Probes --------------------------------------------------------------------------------

def get_probe(port, keys, stop, conn):
    """In its own process: GETs of random existing keys until `stop`; sends back the
    start times and latencies (time.monotonic, seconds)."""
    client = redis.Redis(port=port, socket_timeout=30)
    rng = random.Random(3)
    at, lat = array.array("d"), array.array("d")
    while not stop.is_set():
        key = f"key:{rng.randrange(keys):012d}"
        begin = time.monotonic()
        client.get(key)
        at.append(begin)
        lat.append(time.monotonic() - begin)
    conn.send((at, lat))
    conn.close()


def p99_ms(samples):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000 if samples else float("nan")


def private_dirty(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return sum(int(line.split()[1]) * 1024 for line in f if line.startswith("Private_Dirty:"))
    except OSError:
        return 0


def memory(pid):
    """The primary's RSS plus its children's copy-on-write cost (a fork's Private_Dirty)."""
    return vm_rss(pid) + sum(private_dirty(child) for child in children(pid))


# --- Log timeline --------------------------------------------------------------------------

LOG_LINE = re.compile(r"^\d+:[A-Z] (\d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) . (.*)$")
PHASES = re.compile(r"sync|Sync|snapshot|RDB|BGSAVE|Loading|Finished|Full resync|receiving|replica|MASTER|"
                    r"Flushing|Discarding|Done loading|buffer", re.I)


def timeline(path, since, role):
    """(seconds after `since`, role, message) for the replication lines of a log."""
    rows = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_LINE.match(line.strip())
            if not m or not PHASES.search(m.group(2)):
                continue
            at = datetime.datetime.strptime(m.group(1), "%d %b %Y %H:%M:%S.%f").timestamp()
            if at >= since - 0.002:
                rows.append((at - since, role, m.group(2)))
    return rows


# --- Full sync -----------------------------------------------------------------------------

def full_sync(kind, binary, primary, keys, under_load, args):
    """One full sync of `primary` to a fresh replica; returns the figures and the timeline."""
    replica = started(Server(kind, binary))
    stop, (receiver, sender) = multiprocessing.Event(), multiprocessing.Pipe(duplex=False)
    probe = started(multiprocessing.Process(target=get_probe, args=(primary.port, keys, stop, sender)))
    probe.start()
    if under_load:
        bench = started(subprocess.Popen(
            ["redis-benchmark", "-p", str(primary.port), "-t", "set", "-r", str(keys), "-d", "100", "-P", "16",
             "-c", "8", "-n", "2000000000", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(args.idle_window + 0.5)
    pid = primary.proc.pid
    before = memory(pid)
    peak = before
    poll = redis.Redis(port=replica.port, socket_timeout=5, decode_responses=True)
    wall, begin = time.time(), time.monotonic()
    replica.client.execute_command("REPLICAOF", "127.0.0.1", primary.port)

    def wait(condition):
        """Polls `condition` every 20 ms, sampling the primary's memory; when it held, or None."""
        nonlocal peak
        while time.monotonic() - begin < args.timeout:
            peak = max(peak, memory(pid))
            try:
                if condition():
                    return time.monotonic()
            except redis.RedisError:
                pass  # -LOADING, or a timeout while the replica swaps the keyspace in
            if replica.proc.poll() is not None or primary.proc.poll() is not None:
                raise RuntimeError(f"{kind}: a server exited during the sync (logs in {replica.dir}, {primary.dir})")
            time.sleep(0.02)
        return None

    done = wait(lambda: poll.info("replication").get("master_link_status") == "up" and poll.dbsize() == keys)
    caught = None
    if done:  # then until the replica has applied what the primary wrote before it came up
        target = primary.client.info("replication")["master_repl_offset"]
        caught = wait(lambda: poll.info("replication")["slave_repl_offset"] >= target)
    if under_load:
        bench.kill()
        bench.wait()
    stop.set()
    at, lat = receiver.recv()
    probe.join(timeout=30)
    if done is None:
        raise RuntimeError(f"{kind}: no sync after {args.timeout} s (logs in {replica.dir}, {primary.dir})")
    pre = [l for a, l in zip(at, lat) if begin - args.idle_window <= a < begin]
    during = [(l, a) for a, l in zip(at, lat) if begin <= a <= done]
    worst, worst_at = max(during, default=(0, begin))
    during = [l for l, _ in during]
    events = sorted(timeline(primary.log, wall, "primary") + timeline(replica.log, wall, "replica"))
    replica.stop(keep_log_as=os.path.join(args.logs, f"{kind}-replica-{'load' if under_load else 'idle'}.log"))
    PROCS.remove(replica)
    return {"sync s": done - begin, "caught up s": caught - begin if caught else float("nan"),
            "extra MB": (peak - before) / 1e6, "pre p99 ms": p99_ms(pre), "sync p99 ms": p99_ms(during),
            "sync/pre p99": p99_ms(during) / p99_ms(pre), "sync max ms": worst * 1000, "max at s": worst_at - begin,
            "GETs in sync": len(during)}, events


# --- Lag -----------------------------------------------------------------------------------

def set_load(port, requests):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-P", "16", "-c", "50", "-n",
                          str(requests), "-r", "100000", "-d", "64", "--csv"], capture_output=True, text=True,
                         check=True, timeout=600).stdout
    return float(out.splitlines()[-1].split(",")[1].strip('"'))


def interpolate(xs, ys, x):
    """y at x on the polyline (xs ascending), clamped at the ends."""
    i = bisect.bisect_left(xs, x)
    if i == 0:
        return ys[0]
    if i == len(xs):
        return ys[-1]
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def lag(kind, binary, args):
    primary = started(Server(kind, binary))
    alone = set_load(primary.port, args.lag_requests)
    replica = started(Server(kind, binary))
    replica.client.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    deadline = time.time() + args.timeout
    while replica.repl().get("master_link_status") != "up":
        if time.time() > deadline:
            raise RuntimeError(f"{kind}: the lag replica did not sync")
        time.sleep(0.05)
    ptimes, poffsets, rtimes, roffsets = [], [], [], []
    stop = threading.Event()

    def sample():
        p = redis.Redis(port=primary.port, socket_timeout=10)
        r = redis.Redis(port=replica.port, socket_timeout=10)
        while not stop.is_set():
            try:
                offset = p.info("replication")["master_repl_offset"]
                ptimes.append(time.monotonic())
                poffsets.append(offset)
                offset = r.info("replication")["slave_repl_offset"]
                rtimes.append(time.monotonic())
                roffsets.append(offset)
            except redis.RedisError as error:
                log(f"{kind}: lag sample failed: {error}")
            stop.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with_replica = set_load(primary.port, args.lag_requests)
    finally:
        stop.set()
        sampler.join()
    ended = time.monotonic()
    final = primary.repl()["master_repl_offset"]
    while replica.repl()["slave_repl_offset"] < final:
        if time.monotonic() - ended > args.timeout:
            raise RuntimeError(f"{kind}: the replica did not catch up")
        time.sleep(0.002)
    catch_up = time.monotonic() - ended
    if not rtimes:
        raise RuntimeError(f"{kind}: no lag samples")
    lag_bytes = [interpolate(ptimes, poffsets, t) - o for t, o in zip(rtimes, roffsets)]
    # When the primary reached offset o: the inverse of its (non-decreasing) offset series.
    lag_ms = [max(0.0, t - interpolate(poffsets, ptimes, o)) * 1000 for t, o in zip(rtimes, roffsets)]
    replica.stop(keep_log_as=os.path.join(args.logs, f"{kind}-lag-replica.log"))
    primary.stop(keep_log_as=os.path.join(args.logs, f"{kind}-lag-primary.log"))
    PROCS.remove(replica)
    PROCS.remove(primary)
    return {"SET/s alone": alone, "SET/s w/ replica": with_replica, "lag MB max": max(lag_bytes) / 1e6,
            "lag MB mean": sum(lag_bytes) / len(lag_bytes) / 1e6, "lag ms max": max(lag_ms),
            "lag ms mean": sum(lag_ms) / len(lag_ms), "catch-up ms": catch_up * 1000, "samples": len(rtimes)}


# --- Main ----------------------------------------------------------------------------------

SYNC_ROWS = ["sync s", "caught up s", "extra MB", "pre p99 ms", "sync p99 ms", "sync/pre p99", "sync max ms",
             "max at s", "GETs in sync"]
LAG_ROWS = ["SET/s alone", "SET/s w/ replica", "lag MB max", "lag MB mean", "lag ms max", "lag ms mean",
            "catch-up ms", "samples"]
FAILURES = (RuntimeError, subprocess.SubprocessError, redis.RedisError)


def stop_all_but(keep):
    """After a failed sync: stops its replica, load and probe, keeping the primary."""
    PROCS.remove(keep)
    stop_all()
    PROCS.append(keep)


def table(title, rows, results):
    print(title)
    print(f"  {'measure':<30}{'redis':>12}{'strata':>12}{'ratio':>8}")
    for row in rows:
        a, b = results["redis"][row], results["strata"][row]
        print(f"  {row:<30}{a:>12.2f}{b:>12.2f}{b / a if a else float('nan'):>8.2f}")


def bar(name, ok):
    print(f"  {name:<62} {'met' if ok else 'NOT met'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=5_000_000)
    parser.add_argument("--skip-sync", action="store_true")
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument("--idle-window", type=float, default=5.0, help="seconds of GETs before the sync")
    parser.add_argument("--lag-requests", type=int, default=2_000_000)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for any one wait")
    parser.add_argument("--replica-buffer-limit", default="0 0 0", help="hard soft seconds (default: no limit)")
    parser.add_argument("--diskless", choices=["yes", "no"], default="yes", help="repl-diskless-sync of both")
    parser.add_argument("--logs", default=None, help="where to keep the server logs (default: a /tmp dir)")
    args = parser.parse_args()
    Server.buffer_limit, Server.diskless = args.replica_buffer_limit, args.diskless
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    args.logs = args.logs or tempfile.mkdtemp(prefix="bench-repl-logs-", dir="/tmp")
    os.makedirs(args.logs, exist_ok=True)
    multiprocessing.set_start_method("fork")
    sync, events, lags = {}, {}, {}
    try:
        for kind, binary in [("redis", REDIS), ("strata", STRATA)]:
            if not args.skip_sync:
                primary = started(Server(kind, binary))
                log(f"{kind}: loading {args.keys} keys")
                began = time.monotonic()
                load(primary, args.keys)
                log(f"{kind}: loaded in {time.monotonic() - began:.1f} s, RSS {vm_rss(primary.proc.pid) / 1e6:.0f} MB")
                for variant, under_load in [("idle", False), ("load", True)]:
                    log(f"{kind}: full sync, primary {variant}")
                    try:
                        figures, events[kind, variant] = full_sync(kind, binary, primary, args.keys, under_load, args)
                    except FAILURES as error:
                        log(f"{kind}: FAILED: {error}")
                        figures = dict.fromkeys(SYNC_ROWS, float("nan"))
                        stop_all_but(primary)
                    sync.setdefault(variant, {})[kind] = figures
                    log(f"{kind}: {figures}")
                primary.stop(keep_log_as=os.path.join(args.logs, f"{kind}-primary.log"))
                PROCS.remove(primary)
            if not args.skip_lag:
                log(f"{kind}: lag under a SET load")
                try:
                    lags[kind] = lag(kind, binary, args)
                except FAILURES as error:
                    log(f"{kind}: FAILED: {error}")
                    lags[kind] = dict.fromkeys(LAG_ROWS, float("nan"))
                    stop_all()
                log(f"{kind}: {lags[kind]}")
    finally:
        stop_all()
    for variant, title in [("idle", "primary idle"), ("load", "primary under SET -P 16 -c 8 -d 100 -r N")]:
        if variant in sync:
            table(f"Full sync of {args.keys} keys (100-byte values, repl-diskless-sync {args.diskless}), {title}",
                  SYNC_ROWS, sync[variant])
    if lags:
        table(f"SET -P 16 -c 50 -n {args.lag_requests} -r 100000 -d 64 on a primary with one replica", LAG_ROWS, lags)
    if sync:
        print("Bars")
        for variant in sync:
            s, r = sync[variant]["strata"], sync[variant]["redis"]
            bar(f"[{variant}] full-sync time <= 1.0x Redis ({s['sync s'] / r['sync s']:.2f}x)",
                s["sync s"] <= r["sync s"])
            bar(f"[{variant}] extra memory <= 0.25x Redis ({s['extra MB'] / r['extra MB']:.2f}x)",
                s["extra MB"] <= 0.25 * r["extra MB"])
            bar(f"[{variant}] Strata GET p99 during sync <= 2x pre-sync ({s['sync/pre p99']:.2f}x)",
                s["sync/pre p99"] <= 2)
        print("Timelines (seconds after REPLICAOF)")
        for (kind, variant), rows in events.items():
            print(f"  {kind}, primary {variant}")
            for at, role, message in rows:
                print(f"    {at:8.3f} {role:<8} {message[:110]}")
    print(f"Logs: {args.logs}; host load average (1, 5, 15 min) at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
