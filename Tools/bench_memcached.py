#!/usr/bin/env python3
"""Strata's memcached listener beside memcached 1.6 (`-t 1`: one worker thread, as Strata
has one event loop), in one run on loopback (processes it starts, stopped by PID).

    python3 Tools/bench_memcached.py [--rounds 3] [--items 1000000] [path/to/strata-server]

1. Throughput: libmemcached's `memcslap` with 50 connections (threads), `set` then `get`,
   each request waiting for its answer (its buffered mode, `-B`, crashes in
   libmemcached 1.1.4); the two servers alternate, the median of the rounds, ops/s.
2. Pipelined, 50 connections: each connection sends 100 requests at once (`set` of a
   32-byte value, then `get` of those keys), waits for their 100 answers, and repeats,
   for `--seconds`; the requests are built before the clock starts, so the figure is the
   server's, not Python's (one asyncio client process).
3. Pipelined load and memory: `--items` items of 32-byte values under 15-byte keys written
   with `noreply` in batches of 10,000 over one connection (ops/s of that load), then the
   growth of each server's resident memory divided by the items.

Ratios are Strata / memcached (higher is better for ops/s, lower for bytes per item).
"""
import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_aof import free_port  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class Server:
    def __init__(self, kind, strata):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-memcached-")
        if kind == "memcached":
            user = ["-u", "root"] if os.geteuid() == 0 else []
            args = [shutil.which("memcached"), "-p", str(self.port), "-U", "0", "-t", "1", "-l", "127.0.0.1",
                    "-m", "4096", *user]
        else:
            args = [strata, "--port", str(free_port()), "--memcached-port", str(self.port), "--save", "",
                    "--appendonly", "no", "--dir", self.dir]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def rss(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def slap(port, test, buffered):
    args = ["memcslap", "-s", f"127.0.0.1:{port}", "-t", test, "-c", "50", "-e", "4000"]
    if buffered:
        args.append("-B")  # crashes in libmemcached 1.1.4
    output = subprocess.run(args, capture_output=True, text=True, timeout=600).stdout
    match = re.search(r"Time to \w+\s+(\d+) keys by\s+\d+ threads:\s+([\d.]+) seconds", output)
    if not match:
        raise RuntimeError(f"no figure in {output!r}")
    return int(match.group(1)) / float(match.group(2))


async def pipelined_connection(port, request, answers, terminator, deadline):
    """Sends `request` (holding `answers` requests) and reads until as many `terminator`s
    came back, until `deadline`; returns the requests answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    carry = b""
    while time.time() < deadline:
        writer.write(request)
        seen = 0
        while seen < answers:
            chunk = await reader.read(1 << 16)
            if not chunk:
                raise RuntimeError("the server closed a pipelined connection")
            text = carry + chunk
            seen += text.count(terminator)
            carry = text[-(len(terminator) - 1):]
        done += answers
    writer.close()
    return done


def pipelined_rate(port, operation, seconds, connections=50, depth=100):
    """ops/s of `connections` connections each keeping `depth` requests in flight."""
    value = b"v" * 32
    requests = []
    for c in range(connections):
        keys = [b"pipe:%d:%d" % (c, i) for i in range(depth)]
        if operation == "set":
            requests.append(b"".join(b"set %s 0 0 32\r\n%s\r\n" % (k, value) for k in keys))
        else:
            requests.append(b"".join(b"get %s\r\n" % k for k in keys))
    terminator = b"STORED\r\n" if operation == "set" else b"END\r\n"

    async def run():
        deadline = time.time() + seconds
        return await asyncio.gather(*(pipelined_connection(port, r, depth, terminator, deadline) for r in requests))

    started = time.time()
    total = sum(asyncio.run(run()))
    return total / (time.time() - started)


def batches(items):
    """The pipelined sets, built before the clock starts (so that the figure is the
    server's, not Python's formatting)."""
    value = b"v" * 32
    return [b"".join(b"set key:%011d 0 0 32 noreply\r\n%s\r\n" % (i, value)
                     for i in range(start, min(start + 10000, items)))
            for start in range(0, items, 10000)]


def load(port, prepared):
    """Sends the prepared sets and waits for the answer to a `version` after them;
    returns the seconds it took."""
    sock = socket.create_connection(("127.0.0.1", port))
    started = time.time()
    for batch in prepared:
        sock.sendall(batch)
    sock.sendall(b"version\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += sock.recv(100)
    elapsed = time.time() - started
    sock.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("strata", nargs="?", default=os.path.join(ROOT, ".build", "release", "strata-server"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each pipelined run")
    args = parser.parse_args()
    results = {}
    for round_ in range(args.rounds):
        for kind in (["memcached", "strata"] if round_ % 2 == 0 else ["strata", "memcached"]):
            server = Server(kind, args.strata)
            try:
                for test in ("set", "get"):
                    name = f"{test}, 50 connections, ops/s"
                    results.setdefault(name, {}).setdefault(kind, []).append(slap(server.port, test, False))
                for test in ("set", "get"):
                    name = f"{test}, 50 conns x 100 pipelined"
                    results.setdefault(name, {}).setdefault(kind, []).append(
                        pipelined_rate(server.port, test, args.seconds))
            finally:
                server.stop()
    print(f"{'workload':32} {'memcached':>12} {'strata':>12} {'ratio':>7}")
    for name, by_kind in results.items():
        theirs, ours = statistics.median(by_kind["memcached"]), statistics.median(by_kind["strata"])
        print(f"{name:32} {theirs:12.0f} {ours:12.0f} {ours / theirs:7.2f}")
    per_item, pipelined = {}, {}
    prepared = batches(args.items)
    for round_ in range(max(1, args.rounds)):
        for kind in (["memcached", "strata"] if round_ % 2 == 0 else ["strata", "memcached"]):
            server = Server(kind, args.strata)
            try:
                before = server.rss()
                pipelined.setdefault(kind, []).append(args.items / load(server.port, prepared))
                per_item.setdefault(kind, []).append((server.rss() - before) / args.items)
            finally:
                server.stop()
    pipelined = {kind: statistics.median(figures) for kind, figures in pipelined.items()}
    per_item = {kind: statistics.median(figures) for kind, figures in per_item.items()}
    print(f"{'set noreply pipelined, ops/s':32} {pipelined['memcached']:12.0f} {pipelined['strata']:12.0f} "
          f"{pipelined['strata'] / pipelined['memcached']:7.2f}")
    print(f"{'bytes per item (RSS growth)':32} {per_item['memcached']:12.1f} {per_item['strata']:12.1f} "
          f"{per_item['strata'] / per_item['memcached']:7.2f}")


if __name__ == "__main__":
    main()
