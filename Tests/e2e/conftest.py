"""End-to-end fixtures: start the real strata-server binary on a free loopback port and
stop it by PID. A missing binary or client fails the tests; nothing is skipped."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.environ.get("STRATA_SERVER", os.path.join(ROOT, ".build", "release", "strata-server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running server process."""

    def __init__(self, binary, args, workdir, port=None):
        self.port = port or free_port()
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, *args, "--port", str(self.port), "--dir", workdir],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"{binary} did not start: {self.output()}")
                time.sleep(0.05)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def client(self, **kwargs):
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def cli(self, *args, stdin=None):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], input=stdin, capture_output=True,
                              check=True).stdout

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def wait_until(condition, timeout=30.0, message="condition", interval=0.01):
    """Polls `condition()` until it returns a truthy value, which is returned; fails the
    test with `message` after `timeout` seconds. Tests wait on something they can observe
    (a key, INFO, CLIENT LIST, a file) this way instead of sleeping a fixed time, so a
    loaded machine makes them slower, never wrong. The deadline is generous on purpose:
    it only bounds a test that would otherwise hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def wait_loaded(r, timeout=60):
    """Waits until the server has loaded its data set (INFO `loading:0`; commands sent before
    get -LOADING). The server accepts no connection before loading has begun, so this cannot
    return early on the empty keyspace the loaded one replaces."""
    def loaded():
        try:
            return r.info("persistence")["loading"] == 0
        except redis.exceptions.BusyLoadingError:
            return False

    wait_until(loaded, timeout, "the data set to be loaded")


def info_field(client, section, field):
    """One field of `INFO section`, as redis-py parses it (None when absent)."""
    return client.info(section).get(field)


def clients_blocked(client):
    """How many clients the server has parked in a blocking command."""
    return int(client.info("clients")["blocked_clients"])


def wait_blocked(client, count=1, timeout=30.0):
    """Waits until at least `count` clients are parked in a blocking command."""
    return wait_until(lambda: clients_blocked(client) >= count, timeout, f"{count} blocked client(s)")


def wait_subscribers(client, channel, count=1, timeout=30.0):
    """Waits until `channel` has at least `count` subscribers (PUBSUB NUMSUB)."""
    name = channel.encode() if isinstance(channel, str) else channel

    def subscribed():
        return dict(client.pubsub_numsub(name)).get(name, 0) >= count

    return wait_until(subscribed, timeout, f"{count} subscriber(s) of {channel!r}")


def wait_pattern_subscribers(client, count=1, timeout=30.0):
    """Waits until at least `count` pattern subscriptions exist (PUBSUB NUMPAT)."""
    return wait_until(lambda: client.pubsub_numpat() >= count, timeout, f"{count} pattern subscription(s)")


def client_count(client):
    """How many connections the server has (CLIENT LIST lines)."""
    return len(client.client_list())


def raw_connection(port, host="127.0.0.1"):
    """A plain socket to the server: tests that mean "the client went away" close it
    themselves (`hang_up`) rather than trusting a client library's pool semantics."""
    return socket.create_connection((host, port), timeout=30)


def send_command(sock, *args):
    """Writes one command as a RESP array of bulk strings on a raw socket."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    sock.sendall(b"".join(parts))


class RawReplies:
    """Reads RESP2 replies from a raw socket: bytes for bulk and status replies, int for
    integers, list for arrays, None for nil, and `RawError(text)` for errors. A reply that
    does not come within the socket's timeout raises `socket.timeout`, which is how a test
    tells a wedged server from a slow one."""

    def __init__(self, sock):
        self.stream = sock.makefile("rb")

    def read(self):
        line = self.stream.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RawError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = self.stream.read(length + 2)
            return data[:-2]
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self.read() for _ in range(count)]
        raise ValueError(f"unexpected reply line {line!r}")


class RawError(str):
    """An error reply read by `RawReplies` (compares by its text)."""

    def __repr__(self):
        return f"RawError({str(self)!r})"


def hang_up(sock):
    """Closes a raw connection at once: shutdown both ways, then close."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def fill(r, count, prefix="k", value=None):
    """SETs `prefix<i>` for i below `count` through pipelines of 100,000; the value is
    `value`, or i itself when None."""
    pipe = r.pipeline(transaction=False)
    for i in range(count):
        pipe.set(f"{prefix}{i}", i if value is None else value)
        if i % 100_000 == 99_999:
            pipe.execute()
    pipe.execute()


@pytest.fixture
def start_server():
    """Factory: start_server(*args, workdir=None) -> Server (a fresh directory unless one is
    given); every server is stopped afterwards."""
    if not os.access(SERVER, os.X_OK):
        pytest.fail(f"strata-server binary not found at {SERVER}; build it with `make release`")
    for tool in ("redis-cli",):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (apt-get install redis-tools)")
    servers = []
    dirs = []

    def start(*args, binary=SERVER, workdir=None, port=None):
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="strata-e2e-")
            dirs.append(workdir)
        server = Server(binary, list(args), workdir, port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def redis_server(start_server):
    """The real Redis 7 from Debian's package, for side-by-side comparisons."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is required for differential tests (apt-get install redis-server)")
    return start_server("--save", "", "--appendonly", "no", binary=binary)



@pytest.fixture
def strata_and_redis(server, redis_server):
    """Strata and the real Redis 7 side by side, each in a fresh directory."""
    return server, redis_server
