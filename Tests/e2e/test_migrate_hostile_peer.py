"""MIGRATE to a peer that never ends its reply line: the timeout still holds (the server
reads on its event loop, so a loop that only checked the clock when the peer went quiet
would hang the whole server)."""
import socket
import threading

import pytest
import redis


def endless_peer():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def serve():
        conn, _ = listener.accept()
        conn.settimeout(0.5)
        chunk = b"x" * 65536
        while not stop.is_set():
            try:
                conn.sendall(chunk)  # no newline, ever
            except OSError:
                break
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, stop, thread


def test_migrate_times_out_against_a_peer_streaming_without_newlines(server):
    client = server.client(socket_timeout=30)
    client.set("k", "v")
    listener, stop, thread = endless_peer()
    try:
        with pytest.raises(redis.ResponseError, match="IOERR"):
            client.execute_command("MIGRATE", "127.0.0.1", listener.getsockname()[1], "k", "0", "300")
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
    assert client.ping()
    assert client.get("k") == b"v"  # not acknowledged, so kept
