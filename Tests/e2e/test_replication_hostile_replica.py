"""A primary facing a bad replica: one that never reads is dropped at its output-buffer
limit (`client-output-buffer-limit replica`), so the primary's memory stays bounded while
writes go on; one that reads but never acknowledges is dropped after `repl-timeout`. Both
with the snapshot sent from a file and streamed (`$EOF:`)."""

import os
import socket
import threading

import pytest

from conftest import info_field, wait_until


def silent_replica(primary, diskless, read=False):
    """A raw replica: the handshake, PSYNC, then nothing (never an ACK); it reads what it
    is sent only when `read`."""
    sock = socket.create_connection(("127.0.0.1", primary.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    commands = ["REPLCONF listening-port 1"] + (["REPLCONF capa eof"] if diskless else []) + ["PSYNC ? -1"]
    sock.sendall("".join(f"{c}\r\n" for c in commands).encode())
    if read:
        threading.Thread(target=lambda: [None for _ in iter(lambda: sock.recv(65536), b"")], daemon=True).start()
    p = primary.client()
    wait_until(lambda: info_field(p, "replication", "connected_slaves") == 1, message="the replica is attached")
    return sock


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_a_replica_that_never_reads_is_dropped_at_its_output_limit(start_server, diskless):
    primary = start_server("--repl-diskless-sync", diskless, "--client-output-buffer-limit", "replica 2mb 0 0")
    p = primary.client()
    sock = silent_replica(primary, diskless == "yes")
    before = info_field(p, "memory", "used_memory")
    value = b"v" * 100_000
    for _ in range(300):  # 30 MB of stream for one key of 100 kB
        p.set("big", value)
    wait_until(lambda: info_field(p, "replication", "connected_slaves") == 0, message="the replica is dropped")
    assert "closed for overcoming of output buffer limits" in primary.output()
    assert info_field(p, "memory", "used_memory") - before < 10_000_000
    assert p.get("big") == value
    # The stream held for it past a few MiB went to a temporary file, removed with it.
    assert [name for name in os.listdir(primary.workdir) if name.startswith("temp-")] == []
    sock.close()


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_a_replica_that_never_acknowledges_is_dropped_after_repl_timeout(start_server, diskless):
    primary = start_server("--repl-diskless-sync", diskless, "--repl-timeout", "2")
    p = primary.client()
    sock = silent_replica(primary, diskless == "yes", read=True)
    p.set("k", "v")
    wait_until(lambda: info_field(p, "replication", "connected_slaves") == 0, timeout=20,
               message="the replica is dropped")
    assert "Disconnecting timedout replica" in primary.output()
    sock.close()


def test_the_stream_held_for_a_syncing_replica_spills_to_a_file_removed_with_it(start_server):
    primary = start_server("--client-output-buffer-limit", "replica 0 0 0")
    p = primary.client()
    # Diskless, and never acknowledging: the stream is held for it until it would have loaded.
    sock = silent_replica(primary, True, read=True)
    before = info_field(p, "memory", "used_memory")
    value = b"v" * 100_000
    for _ in range(300):  # 30 MB of stream
        p.set("big", value)

    def temporary_files():
        return [name for name in os.listdir(primary.workdir) if name.startswith("temp-")]

    wait_until(lambda: temporary_files() != [], message="the held stream spills to a file")
    assert info_field(p, "memory", "used_memory") - before < 20_000_000
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    wait_until(lambda: info_field(p, "replication", "connected_slaves") == 0 and temporary_files() == [],
               message="the file goes with the replica")
