"""strata-dump benchmark on a large dump (only loopback, only processes it starts, stopped by PID):

  python3 Tools/bench_dump.py [path/to/strata-dump]

1. Builds the dumps: BENCH_DUMP_KEYS keys (default 5,000,000; 16-byte keys, 100-byte values,
   20% with a TTL; loaded as Tools/bench_aof.py does) into strata-server (SAVE -> dump.sdb, LZ4) and into redis-server
   (SAVE -> dump.rdb).
2. `inspect` (from the index), `verify`, `inspect --memory` and `inspect` of the Redis dump
   (read through): wall time, MB/s of file and of records, keys/s, peak RSS of the process.
3. `restore --to` into a fresh redis-server vs `convert --format resp` then
   `redis-cli --pipe` (keys/s, both into the same kind of server).
4. When `rdb` (rdbtools, PyPI) is importable in BENCH_RDBTOOLS_PYTHON (a venv's python), its
   memory report (`rdb -c memory`) over the Redis dump, side by side with `inspect --memory`
   over the same file.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench_aof import cli, free_port, load

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
DUMP = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "strata-dump")
SERVER = os.path.join(ROOT, ".build", "release", "strata-server")
KEYS = int(os.environ.get("BENCH_DUMP_KEYS", "5000000"))
RDBTOOLS_PYTHON = os.environ.get("BENCH_RDBTOOLS_PYTHON", "")


class Process:
    def __init__(self, binary, workdir, *args):
        self.port = free_port()
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--dir", workdir, "--save", "", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if cli(self.port, "ping").strip() == "PONG":
                    return
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{binary} did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def timed(args, stdin=None, stdout=subprocess.DEVNULL):
    """Runs args under /usr/bin/time (a small parent: a child forked from this Python process
    would report Python's RSS as its peak); returns (seconds, peak RSS in MB, exit code)."""
    report = tempfile.NamedTemporaryFile(prefix="bench-dump-time-", delete=False)
    report.close()
    start = time.time()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *args], stdin=stdin, stdout=stdout,
                          stderr=subprocess.DEVNULL)
    seconds = time.time() - start
    with open(report.name) as f:
        lines = [line for line in f.read().splitlines() if line.strip().isdigit()]
    os.unlink(report.name)
    return seconds, int(lines[-1]) / 1024 if lines else 0.0, proc.returncode


def row(name, seconds, rss, file_bytes=None, rdb_bytes=None, keys=None):
    mbs = f"{file_bytes / 1e6 / seconds:>10.0f}" if file_bytes else f"{'':>10}"
    rmbs = f"{rdb_bytes / 1e6 / seconds:>10.0f}" if rdb_bytes else f"{'':>10}"
    kps = f"{keys / seconds:>12,.0f}" if keys else f"{'':>12}"
    print(f"{name:<46}{seconds:>9.3f}{mbs}{rmbs}{kps}{rss:>10.0f}")


def main():
    work = tempfile.mkdtemp(prefix="bench-dump-", dir=os.environ.get("BENCH_DIR", os.getcwd()))
    try:
        strata_dir = os.path.join(work, "strata")
        redis_dir = os.path.join(work, "redis")
        os.makedirs(strata_dir)
        os.makedirs(redis_dir)
        for binary, d in ((SERVER, strata_dir), (shutil.which("redis-server"), redis_dir)):
            server = Process(binary, d)
            try:
                load(server.port, KEYS)
                cli(server.port, "save")
            finally:
                server.stop()
        sdb = os.path.join(strata_dir, "dump.sdb")
        rdb = os.path.join(redis_dir, "dump.rdb")
        import json
        index = json.loads(subprocess.run([DUMP, "inspect", sdb, "--json"], capture_output=True, text=True,
                                          check=True).stdout)
        sdb_bytes, rdb_records = os.path.getsize(sdb), index["rdbBytes"]
        redis_bytes = os.path.getsize(rdb)
        print(f"{KEYS:,} keys: dump.sdb {sdb_bytes / 1e6:.0f} MB (LZ4, {rdb_records / 1e6:.0f} MB of records), "
              f"Redis dump.rdb {redis_bytes / 1e6:.0f} MB")
        print(f"{'':<46}{'seconds':>9}{'file MB/s':>10}{'rec MB/s':>10}{'keys/s':>12}{'peak MB':>10}")
        s, rss, code = timed([DUMP, "inspect", sdb])
        assert code == 0
        row("inspect dump.sdb (index)", s, rss)
        s, rss, code = timed([DUMP, "verify", sdb])
        assert code == 0
        row("verify dump.sdb", s, rss, sdb_bytes, rdb_records, KEYS)
        s, rss, code = timed([DUMP, "inspect", sdb, "--memory"])
        assert code == 0
        row("inspect --memory dump.sdb", s, rss, sdb_bytes, rdb_records, KEYS)
        s, rss, code = timed([DUMP, "inspect", rdb])
        assert code == 0
        row("inspect dump.rdb (Redis's, read through)", s, rss, redis_bytes, redis_bytes, KEYS)
        s, rss, code = timed([DUMP, "inspect", rdb, "--memory"])
        assert code == 0
        row("inspect --memory dump.rdb", s, rss, redis_bytes, redis_bytes, KEYS)
        memory_seconds = s
        if RDBTOOLS_PYTHON:
            with open(os.devnull, "w") as null:
                s, rss, code = timed([RDBTOOLS_PYTHON, "-m", "rdbtools.cli.rdb", "-c", "memory", rdb], stdout=null)
            if code == 0:
                row("rdbtools rdb -c memory dump.rdb", s, rss, redis_bytes, redis_bytes, KEYS)
                print(f"  strata-dump inspect --memory is {s / memory_seconds:.1f}x faster than rdbtools")
            else:
                row(f"rdbtools rdb -c memory dump.rdb: FAILED (exit {code})", s, rss)
        target_dir = os.path.join(work, "target")
        os.makedirs(target_dir)
        target = Process(shutil.which("redis-server"), target_dir)
        try:
            s, rss, code = timed([DUMP, "restore", sdb, "--to", f"127.0.0.1:{target.port}"])
            assert code == 0
            assert int(cli(target.port, "dbsize")) == KEYS
            row("restore --to redis-server", s, rss, keys=KEYS)
            restore_seconds = s
            cli(target.port, "flushall")
            resp = os.path.join(work, "dump.resp")
            s1, rss1, code = timed([DUMP, "convert", sdb, resp])
            assert code == 0
            with open(resp, "rb") as f:
                s2, rss2, code = timed(["redis-cli", "-p", str(target.port), "--pipe"], stdin=f)
            assert code == 0 and int(cli(target.port, "dbsize")) == KEYS
            row("convert --format resp + redis-cli --pipe", s1 + s2, max(rss1, rss2), keys=KEYS)
            row("  of which redis-cli --pipe alone", s2, rss2, keys=KEYS)
            print(f"  restore --to takes {restore_seconds / (s1 + s2):.2f}x the time of convert + redis-cli --pipe")
        finally:
            target.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
