"""`supervised systemd`: the server speaks systemd's notification protocol on
`$NOTIFY_SOCKET` (a UNIX datagram socket this test binds, as systemd would): `READY=1` only
once the dataset is loaded, whatever its size, and `STOPPING=1` when shutdown begins;
`supervised auto` finds the socket, `supervised no` ignores it, and systemd without the
socket is logged and otherwise harmless (Redis 7.0's behaviour)."""
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import SERVER, fill, free_port, wait_until

KEYS = 400_000


class Notifications:
    """A datagram socket standing in for systemd's."""

    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"strata-notify-{os.getpid()}-{time.time_ns()}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="strata-notify-")
            self.address = os.path.join(self.dir, "notify.sock")
            self.sock.bind(self.address)

    def next(self, timeout=60):
        self.sock.settimeout(timeout)
        return self.sock.recv(4096).decode()

    def pending(self):
        """What is queued now (a stopped process sent everything it would before it exited)."""
        self.sock.setblocking(False)
        try:
            return self.sock.recv(4096).decode()
        except BlockingIOError:
            return None


def start(workdir, supervised, notify_address, *extra):
    port = free_port()
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if notify_address is not None:
        env["NOTIFY_SOCKET"] = notify_address
    log = open(os.path.join(workdir, "server.log"), "a")
    proc = subprocess.Popen([SERVER, "--port", str(port), "--dir", workdir, "--supervised", supervised, *extra],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    return proc, port


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture
def dataset(start_server):
    """A directory whose snapshot holds KEYS keys (long enough to load that READY
    coming early would be seen)."""
    server = start_server("--save", "", "--appendonly", "no")
    r = server.client()
    fill(r, KEYS, value="v" * 64)
    r.save()
    server.stop()
    return server.workdir


def test_ready_comes_once_the_dataset_is_loaded_and_stopping_at_shutdown(dataset):
    notify = Notifications()
    proc, port = start(dataset, "systemd", notify.address, "--save", "", "--appendonly", "no")
    try:
        messages = []
        while "READY=1" not in "".join(messages):
            messages.append(notify.next())
        # Ready means loaded: every key is there for the first client.
        r = redis.Redis(port=port)
        assert r.info("persistence")["loading"] == 0
        assert r.dbsize() == KEYS
        assert r.info("server")["process_supervised"] == "systemd"
        assert "STATUS=Ready to accept connections" in "".join(messages)
        proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in notify.next()
        proc.wait(timeout=30)
    finally:
        stop(proc)


def test_an_aof_is_loaded_before_ready_too(start_server):
    server = start_server("--save", "", "--appendonly", "yes")
    fill(server.client(), 100_000, value="v" * 32)
    server.stop()
    notify = Notifications(abstract=True)
    proc, port = start(server.workdir, "systemd", notify.address, "--save", "", "--appendonly", "yes")
    try:
        assert "READY=1" in notify.next() + notify.next()
        assert redis.Redis(port=port).dbsize() == 100_000
    finally:
        stop(proc)


def test_auto_finds_the_socket_no_ignores_it_and_a_missing_socket_is_logged():
    workdir = tempfile.mkdtemp(prefix="strata-notify-")
    notify = Notifications()
    proc, port = start(workdir, "auto", notify.address, "--save", "")
    try:
        assert "READY=1" in notify.next() + notify.next()
    finally:
        stop(proc)
    assert "STOPPING=1" in notify.next()
    proc, port = start(workdir, "no", notify.address, "--save", "")
    try:
        wait_until(lambda: redis.Redis(port=port).ping(), message="the server answers")
        assert redis.Redis(port=port).info("server")["process_supervised"] == "no"
    finally:
        stop(proc)
    assert notify.pending() is None
    proc, port = start(workdir, "systemd", None, "--save", "")
    try:
        wait_until(lambda: redis.Redis(port=port).ping(), message="the server answers without the socket")
        with open(os.path.join(workdir, "server.log")) as log:
            assert "NOTIFY_SOCKET environment variable not found" in log.read()
    finally:
        stop(proc)
