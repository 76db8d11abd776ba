"""The first command a client sends after start-up: the server accepts no connection until
loading has begun, so a command never runs on an empty keyspace that the loaded data then
replaces, and a write acknowledged under `appendfsync always` is in the AOF. (It used to
bind and serve before its start-up task ran: about half of the starts lost such a write.)"""
import os
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import SERVER, RawReplies, free_port, send_command

STARTS = 25


def start_raw(args, workdir):
    """Starts the server and returns (process, socket connected as early as possible)."""
    port = free_port()
    log = open(os.path.join(workdir, "server.log"), "a")
    proc = subprocess.Popen([SERVER, *args, "--port", str(port), "--dir", workdir], stdout=log,
                            stderr=subprocess.STDOUT)
    log.close()
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            return proc, sock
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"strata-server exited: {open(os.path.join(workdir, 'server.log')).read()}")


def stop(proc, sig=signal.SIGKILL):
    proc.send_signal(sig)
    proc.wait(timeout=30)


def aof_bytes(workdir):
    directory = os.path.join(workdir, "appendonlydir")
    if not os.path.isdir(directory):
        return b""
    return b"".join(open(os.path.join(directory, name), "rb").read() for name in sorted(os.listdir(directory)))


def test_a_write_acknowledged_straight_after_start_is_in_the_aof():
    for attempt in range(STARTS):
        with tempfile.TemporaryDirectory(prefix="strata-startup-") as workdir:
            proc, sock = start_raw(["--appendonly", "yes", "--appendfsync", "always"], workdir)
            send_command(sock, "SET", "marker", f"v{attempt}")
            reply = RawReplies(sock).read()
            sock.close()
            stop(proc)
            assert reply == b"OK"
            assert f"v{attempt}".encode() in aof_bytes(workdir), f"start {attempt}: acknowledged, not logged"


@pytest.mark.parametrize("persistence", [[], ["--appendonly", "yes"]], ids=["snapshot", "aof"])
def test_the_first_read_after_a_restart_sees_the_loaded_data(persistence):
    with tempfile.TemporaryDirectory(prefix="strata-startup-") as workdir:
        proc, sock = start_raw(persistence, workdir)
        replies = RawReplies(sock)
        while True:  # a fresh server may still be opening its files
            send_command(sock, "SET", "kept", "yes")
            reply = replies.read()
            if not (isinstance(reply, str) and reply.startswith("LOADING")):
                break
        assert reply == b"OK"
        send_command(sock, "SAVE")
        assert replies.read() == b"OK"
        sock.close()
        stop(proc)  # the snapshot, or the AOF, holds the key
        for attempt in range(STARTS):
            proc, sock = start_raw(persistence, workdir)
            replies = RawReplies(sock)
            while True:
                send_command(sock, "GET", "kept")
                reply = replies.read()
                if isinstance(reply, str) and reply.startswith("LOADING"):
                    continue  # Redis's answer while loading; ask again
                break
            sock.close()
            stop(proc)
            assert reply == b"yes", f"start {attempt}: the first GET answered {reply!r}"
