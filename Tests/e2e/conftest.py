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

    def __init__(self, binary, args, workdir):
        self.port = free_port()
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

    def start(*args, binary=SERVER, workdir=None):
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="strata-e2e-")
            dirs.append(workdir)
        server = Server(binary, list(args), workdir)
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
