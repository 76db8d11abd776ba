"""The latency a client that is mostly idle sees while other clients pipeline, redis-server 7.0
and strata-server side by side (only loopback, only processes it starts, stopped by PID):

  python3 Tools/bench_ping_tail.py [path/to/strata-server] [--rounds 2] [--seconds 20]
                                   [--server-args "--appendonly yes --appendfsync everysec"]

Each round, for each server in turn: redis-benchmark loads it (4 connections, -P 50, SET,
GET, INCR, LPUSH and HSET on a million keys) while a probe sends one PING, waits for its
reply, sleeps 10 ms, and again. The probe is what a web request's cache lookup is beside a
batch job; it reports p50, p99, p99.9 and max per server and round. A probe that never
sleeps (redis-benchmark -c 1) hides stalls of the event loop: it is rarely the one waiting
when one happens. With the AOF on, automatic rewrites happen during the run (their count is
printed), so the file work around them is measured too."""
import argparse
import os
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_aof import Process, cli  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def probe(port, seconds):
    """PING latencies (seconds) of a client that sleeps 10 ms between requests."""
    latencies = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            sock.sendall(b"PING\r\n")
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(64)
                if not chunk:
                    raise RuntimeError("connection closed")
                reply += chunk
            latencies.append(time.perf_counter() - start)
            time.sleep(0.01)
    return sorted(latencies)


def run(server, seconds):
    cli(server.port, "flushall")
    load = subprocess.Popen(["redis-benchmark", "-p", str(server.port), "-c", "4", "-P", "50", "-n", "1000000000",
                             "-r", "1000000", "-t", "set,get,incr,lpush,hset", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        latencies = probe(server.port, seconds)
    finally:
        load.terminate()
        load.wait()
    n = len(latencies)
    pick = [latencies[min(n - 1, int(n * q))] * 1000 for q in (0.5, 0.99, 0.999)] + [latencies[-1] * 1000]
    rewrites = server.info("persistence").get("aof_rewrites", "0")
    return pick, rewrites


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("strata", nargs="?", default=os.path.join(HERE, "..", ".build", "release", "strata-server"))
    parser.add_argument("--redis", default="redis-server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--server-args", default="--appendonly yes --appendfsync everysec")
    args = parser.parse_args()
    extra = shlex.split(args.server_args)
    servers = [("redis", Process(args.redis, extra)), ("strata", Process(args.strata, extra))]
    try:
        print(f"idle PING beside 4 pipelining clients, server args: {args.server_args}")
        print(f"{'round':<6} {'server':<7} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} {'rewrites':>9}")
        for round_ in range(args.rounds):
            order = servers if round_ % 2 == 0 else servers[::-1]
            for name, server in order:
                (p50, p99, p999, top), rewrites = run(server, args.seconds)
                print(f"{round_ + 1:<6} {name:<7} {p50:>8.3f} {p99:>8.3f} {p999:>9.3f} {top:>8.3f} {rewrites:>9}",
                      flush=True)
    finally:
        for _, server in servers:
            server.stop()


if __name__ == "__main__":
    main()
