"""Snapshot benchmark, redis-server and strata-server side by side in one run (only
loopback, only processes it starts, stopped by PID):

  python3 Tools/bench_snapshot.py [path/to/strata-server]

Loads N keys (BENCH_SNAPSHOT_KEYS, default 5,000,000): 16-byte keys, 100-byte values of
word-like text, 20% with a TTL; then for each server measures BGSAVE wall time and file
size (Redis with `rdbcompression yes`), GET p99/max from a concurrent client while idle
and during BGSAVE, extra memory during a BGSAVE under a concurrent SET load (Strata: peak
RSS minus RSS before; Redis: peak of parent RSS plus the fork child's private memory,
minus RSS before), and the time to load the file at start."""
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STRATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".build", "release", "strata-server")
KEYS = int(os.environ.get("BENCH_SNAPSHOT_KEYS", "5000000"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A minimal RESP client (one connection, one command at a time)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()

    def _line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                data = self.sock.recv(65536)
                if not data:
                    raise RuntimeError("connection closed")
                self.buf += data
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise RuntimeError(line)

    def info(self, section):
        text = self.call("INFO", section).decode()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def private_bytes(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            total = 0
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
            return total
    except OSError:
        return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


WORDS = [w for w in ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
                     "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip "
                     "ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla "
                     "pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit "
                     "anim id est laborum session user cart order price total status active pending shipped").split()]


def load(port):
    """Pipes KEYS SETs through redis-cli --pipe, generated on the fly."""
    rng = random.Random(7)
    proc = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    batch = []
    for i in range(KEYS):
        key = f"key:{i:012d}"
        text = ""
        while len(text) < 100:
            text += rng.choice(WORDS) + " "
        value = text[:100]
        if rng.random() < 0.2:
            ttl = str(rng.randrange(3600, 86400))
            batch.append(f"*5\r\n$3\r\nSET\r\n$16\r\n{key}\r\n$100\r\n{value}\r\n$2\r\nEX\r\n${len(ttl)}\r\n{ttl}\r\n")
        else:
            batch.append(f"*3\r\n$3\r\nSET\r\n$16\r\n{key}\r\n$100\r\n{value}\r\n")
        if len(batch) == 20000:
            proc.stdin.write("".join(batch).encode())
            batch = []
    proc.stdin.write("".join(batch).encode())
    proc.stdin.close()
    proc.wait()


def get_latencies(port, stop, out):
    """GETs random keys one at a time until `stop` is set; appends (time, latency)."""
    c = Client(port)
    rng = random.Random(3)
    while not stop.is_set():
        key = f"key:{rng.randrange(KEYS):012d}"
        start = time.perf_counter()
        c.call("GET", key)
        out.append((start, time.perf_counter() - start))


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def wait_save(c):
    while c.info("persistence").get("rdb_bgsave_in_progress") == "1":
        time.sleep(0.005)


def measure(name, command, port, pid_of):
    c = Client(port)
    result = {}
    # Idle GET latency.
    stop, samples = threading.Event(), []
    t = threading.Thread(target=get_latencies, args=(port, stop, samples))
    t.start()
    time.sleep(3)
    stop.set()
    t.join()
    idle = [lat for _, lat in samples]
    result["idle p99 ms"] = percentile(idle, 0.99) * 1000
    result["idle max ms"] = max(idle) * 1000
    # BGSAVE with concurrent GETs.
    print(f"{name}: BGSAVE with concurrent GETs", file=sys.stderr, flush=True)
    stop, samples = threading.Event(), []
    t = threading.Thread(target=get_latencies, args=(port, stop, samples))
    t.start()
    time.sleep(0.5)
    start = time.perf_counter()
    c.call("BGSAVE")
    wait_save(c)
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [lat for at, lat in samples if start <= at <= end]
    result["BGSAVE s"] = end - start
    result["save p99 ms"] = percentile(during, 0.99) * 1000
    result["save max ms"] = max(during) * 1000 if during else 0
    result["file MB"] = os.path.getsize(command["file"]) / 1e6
    # Extra memory during BGSAVE under a SET load.
    print(f"{name}: Extra memory during BGSAVE under a SET load", file=sys.stderr, flush=True)
    pid = pid_of()
    before = rss(pid)
    load_proc = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-n", "100000000", "-c", "20",
                                  "-P", "8", "-r", str(KEYS), "-d", "100", "-q"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    time.sleep(1)
    c.call("BGSAVE")
    peak = 0
    while True:
        total = rss(pid) + sum(private_bytes(child) for child in children(pid))
        peak = max(peak, total)
        if c.info("persistence").get("rdb_bgsave_in_progress") != "1":
            break
        time.sleep(0.01)
    load_proc.send_signal(signal.SIGTERM)
    load_proc.wait()
    result["extra MB"] = (peak - before) / 1e6
    return result


def shutdown(port):
    try:
        Client(port).call("SHUTDOWN", "NOSAVE")
    except RuntimeError:
        pass  # the server closes the connection without a reply


def start(command, port, workdir, extra):
    proc = subprocess.Popen(command + ["--port", str(port), "--dir", workdir] + extra, stdout=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            c = Client(port)
            reply = c.call("PING")
            if reply == "PONG":
                return proc
        except (OSError, RuntimeError):
            pass
        time.sleep(0.01)
    raise RuntimeError("server did not start")


def main():
    results = {}
    for name, binary, extra, filename in [
        ("redis", "redis-server", ["--save", "", "--appendonly", "no", "--rdbcompression", "yes",
                                   "--bind", "127.0.0.1"], "dump.rdb"),
        ("strata", STRATA, ["--save", ""], "dump.sdb"),
    ]:
        workdir = tempfile.mkdtemp(prefix=f"bench-snapshot-{name}-")
        port = free_port()
        proc = start([binary], port, workdir, extra)
        print(f"{name}: loading {KEYS} keys", file=sys.stderr, flush=True)
        load(port)
        print(f"{name}: measuring", file=sys.stderr, flush=True)
        r = measure(name, {"file": os.path.join(workdir, filename)}, port, lambda: proc.pid)
        shutdown(port)
        proc.wait()
        # Load time at start (the dump from the first BGSAVE was overwritten by the second,
        # which ran under the SET load: the same key count).
        begin = time.perf_counter()
        proc = start([binary], port, workdir, extra)
        c = Client(port)
        while True:
            reply = c.call("DBSIZE")
            if isinstance(reply, int):
                break
            time.sleep(0.005)
        r["load s"] = time.perf_counter() - begin
        r["keys"] = reply
        shutdown(port)
        proc.wait()
        subprocess.run(["rm", "-rf", workdir])
        results[name] = r
    print(f"{KEYS} keys: 16-byte keys, 100-byte text values, 20% with TTLs; redis-server 7.0 (rdbcompression yes) "
          "vs strata-server (lz4)")
    print(f"{'measure':<14} {'redis':>10} {'strata':>10} {'ratio':>7}")
    for field in ["BGSAVE s", "file MB", "load s", "idle p99 ms", "save p99 ms", "idle max ms", "save max ms",
                  "extra MB", "keys"]:
        a, b = results["redis"][field], results["strata"][field]
        ratio = b / a if a else float("nan")
        print(f"{field:<14} {a:>10.2f} {b:>10.2f} {ratio:>7.2f}")


if __name__ == "__main__":
    main()
