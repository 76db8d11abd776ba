"""A replica facing a bad primary: a snapshot that is garbage, one cut short, a primary that
stalls, a wrong `masterauth`. Each is a clear log line; the replica keeps serving, retries
the link, and never serves a partly loaded keyspace: its keys stay as they were until a
snapshot loads whole."""

import socket
import threading

import pytest
import redis

from conftest import wait_until


class FakePrimary:
    """A listening socket that answers a replica's handshake, then sends `payload` after
    `+FULLRESYNC` (or answers PSYNC with `psync_reply`) and keeps (or closes) the
    connection. The PSYNC commands received are kept in `psyncs`."""

    def __init__(self, payload, close_after=True, offset=b"0", psync_reply=None):
        self.payload = payload
        self.offset = offset
        self.psync_reply = psync_reply
        self.psyncs = []
        self.close_after = close_after
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        buffered = b""
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffered += chunk
                while b"\r\n" in buffered and buffered.startswith(b"*"):
                    # One whole command of the handshake (small arrays of bulk strings).
                    lines = buffered.split(b"\r\n")
                    count = int(lines[0][1:])
                    needed = 1 + 2 * count
                    if len(lines) <= needed:
                        break
                    command = [lines[2 + 2 * i] for i in range(count)]
                    buffered = b"\r\n".join(lines[needed:])
                    name = command[0].upper()
                    if name == b"PING":
                        conn.sendall(b"+PONG\r\n")
                    elif name == b"PSYNC" and self.psync_reply is not None:
                        self.psyncs.append(command)
                        conn.sendall(self.psync_reply)
                    elif name == b"PSYNC":
                        self.psyncs.append(command)
                        conn.sendall(b"+FULLRESYNC " + b"f" * 40 + b" " + self.offset + b"\r\n" + self.payload)
                        if self.close_after:
                            conn.close()
                            return
                    else:
                        conn.sendall(b"+OK\r\n")
        except OSError:
            return

    def stop(self):
        self.stopped = True
        self.sock.close()


@pytest.fixture
def fake_primary():
    primaries = []

    def make(payload, close_after=True, offset=b"0", psync_reply=None):
        primary = FakePrimary(payload, close_after, offset, psync_reply)
        primaries.append(primary)
        return primary

    yield make
    for primary in primaries:
        primary.stop()


@pytest.mark.parametrize(
    "payload, logged",
    [
        (b"$64\r\n" + b"x" * 64, "Failed trying to load the MASTER synchronization DB"),
        (b"$100000\r\nREDIS0010", "Connection with master lost"),
        (b"NOTADOLLAR\r\n", "Bad protocol from MASTER"),
        (b"$-5\r\n", "Bad snapshot length from MASTER"),
        # The diskless form: garbage up to the mark, a stream cut before it, a bad mark.
        (b"$EOF:" + b"m" * 40 + b"\r\n" + b"garbage" * 10 + b"m" * 40, "Failed trying to load the MASTER synchronization DB"),
        (b"$EOF:" + b"m" * 40 + b"\r\nREDIS0010", "Connection with master lost"),
        (b"$EOF:short\r\n", "Bad end-of-snapshot mark from MASTER"),
    ],
)
def test_a_bad_snapshot_leaves_the_keyspace_alone(start_server, fake_primary, payload, logged):
    primary = fake_primary(payload)
    replica = start_server()
    r = replica.client()
    r.set("mine", "kept")
    r.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_until(lambda: logged in replica.output(), timeout=20, message=f"the log says {logged!r}")
    # Retried once a second, and serving meanwhile.
    wait_until(lambda: primary.connections >= 2, timeout=20, message="the link is retried")
    assert r.ping()
    assert r.get("mine") == b"kept"
    assert r.info("replication")["master_link_status"] == "down"
    r.execute_command("REPLICAOF", "NO", "ONE")
    assert r.set("writable-again", "1")


def test_a_primary_that_stalls_mid_transfer_is_shown_as_syncing_then_dropped(start_server, fake_primary):
    primary = fake_primary(b"$100000\r\nREDIS0010", close_after=False)
    replica = start_server("--repl-timeout", "2")
    r = replica.client()
    r.set("mine", "kept")
    r.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_until(lambda: r.info("replication")["master_sync_in_progress"] == 1, timeout=20,
               message="the transfer starts")
    assert r.execute_command("ROLE")[3] == b"sync"
    assert r.get("mine") == b"kept"
    # After repl-timeout seconds of silence the link is closed and tried again.
    wait_until(lambda: "Timeout receiving bulk data from MASTER" in replica.output(), timeout=20,
               message="the stalled transfer times out")
    wait_until(lambda: primary.connections >= 2, timeout=20, message="the link is retried")
    assert r.get("mine") == b"kept"


def test_a_wrong_masterauth_is_logged_and_retried(start_server):
    primary = start_server("--requirepass", "right")
    replica = start_server()
    r = replica.client()
    r.config_set("masterauth", "wrong")
    r.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_until(lambda: "Unable to AUTH to MASTER" in replica.output(), timeout=20, message="the AUTH failure is logged")
    assert r.info("replication")["master_link_status"] == "down"
    r.config_set("masterauth", "right")
    wait_until(lambda: r.info("replication")["master_link_status"] == "up", timeout=20,
               message="the link comes up with the right password")
    p = primary.client(password="right")
    p.set("k", "v")
    wait_until(lambda: r.get("k") == b"v", timeout=20, message="the write reaches the replica")


def test_a_replica_that_must_not_serve_stale_data_says_masterdown(start_server, fake_primary):
    primary = fake_primary(b"$100000\r\nREDIS0010", close_after=False)
    replica = start_server("--replica-serve-stale-data", "no")
    r = replica.client()
    r.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    with pytest.raises(redis.exceptions.MasterDownError, match="Link with MASTER is down"):
        r.get("k")
    # Commands flagged stale (INFO, REPLICAOF...) still run, as in Redis.
    assert r.info("replication")["master_link_status"] == "down"
    r.execute_command("REPLICAOF", "NO", "ONE")
    assert r.get("k") is None


@pytest.mark.parametrize("offset", [b"9223372036854775807", b"-1", b"99999999999999999999", b"x"])
def test_an_offset_from_the_primary_that_cannot_be_counted_on_is_refused(start_server, fake_primary, offset):
    # Counting the stream's bytes on from near 2^63 would overflow (a trap, the server down).
    primary = fake_primary(b"$0\r\n", offset=offset)
    replica = start_server()
    r = replica.client()
    r.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_until(lambda: "Unexpected reply to PSYNC" in replica.output(), timeout=20, message="the reply is refused")
    assert r.ping() and r.info("replication")["master_link_status"] == "down"
