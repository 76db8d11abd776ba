#!/usr/bin/env python3
"""`strata-dump diff` on two large dumps: time and peak resident memory.

    python3 Tools/bench_dump_diff.py [--keys 5000000] [path/to/strata-server] [path/to/strata-dump]

Loads `--keys` strings into a Strata server (a RESP stream piped through `redis-cli
--pipe`), saves A; deletes 2% of the keys, changes 1%, adds 1%; saves B; then runs
`strata-dump diff A B` under `/usr/bin/time -v` and prints its answer, wall time and peak
RSS. Processes it starts are stopped by PID; files go to a temp directory it removes.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzz_seeds import resp  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def command(*args):
    return resp(args)


def pipe(port, path):
    with open(path, "rb") as stream:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=stream, check=True,
                       stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server", nargs="?", default=os.path.join(ROOT, ".build", "release", "strata-server"))
    parser.add_argument("dump", nargs="?", default=os.path.join(ROOT, ".build", "release", "strata-dump"))
    parser.add_argument("--keys", type=int, default=5_000_000)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-diff-")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen([args.server, "--port", str(port), "--dir", work, "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout != b"PONG\n":
            if time.time() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        n = args.keys
        with open(os.path.join(work, "load.resp"), "wb") as f:
            for start in range(0, n, 100_000):
                f.write(b"".join(command(b"SET", b"key:%d" % i, b"value-%d" % i) for i in range(start, min(n, start + 100_000))))
        pipe(port, os.path.join(work, "load.resp"))
        subprocess.run(["redis-cli", "-p", str(port), "save"], check=True, capture_output=True)
        shutil.copy(os.path.join(work, "dump.sdb"), os.path.join(work, "a.sdb"))
        with open(os.path.join(work, "change.resp"), "wb") as f:
            f.write(b"".join(command(b"DEL", b"key:%d" % i) for i in range(0, n // 50)))
            f.write(b"".join(command(b"SET", b"key:%d" % i, b"changed") for i in range(n // 50, n // 50 + n // 100)))
            f.write(b"".join(command(b"SET", b"key:%d" % i, b"new") for i in range(n, n + n // 100)))
        pipe(port, os.path.join(work, "change.resp"))
        subprocess.run(["redis-cli", "-p", str(port), "save"], check=True, capture_output=True)
        shutil.copy(os.path.join(work, "dump.sdb"), os.path.join(work, "b.sdb"))
    finally:
        server.terminate()
        server.wait()
    try:
        run = subprocess.run(["/usr/bin/time", "-v", args.dump, "diff", os.path.join(work, "a.sdb"),
                              os.path.join(work, "b.sdb")], capture_output=True, text=True, timeout=3600)
        print(run.stdout.strip())
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", run.stderr)
        print(f"diff of {n} keys: wall {wall.group(1) if wall else '?'}, "
              f"peak RSS {int(peak.group(1)) / 1024:.1f} MB" if peak else run.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
