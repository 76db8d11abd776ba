"""Hostile and misbehaving clients against the real binary, side by side with redis-server
where Redis's observable behaviour is the reference: malformed and oversized frames, a
gigabyte without a newline, deeply nested RESP3, maxclients with 10,000 idle connections,
idle timeouts, and output buffer limits for clients that stop reading."""
import resource
import socket
import threading
import time

import pytest

from conftest import fill, send_command, wait_blocked, wait_subscribers, wait_until
from test_expiry_and_lifecycle import rss


def exchange(port, payload, timeout=5):
    """Sends `payload`, reads until the server closes or goes quiet; returns (reply, closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        s.settimeout(1)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return data, False
            except ConnectionResetError:
                return data, True
            if not chunk:
                return data, True
            data += chunk
        return data, False


NESTED = b"*1\r\n" * 100_000 + b"$4\r\nPING\r\n"
MALFORMED = [
    b"*2147483648\r\n",                                # multibulk count over INT_MAX
    b"*1\r\n$536870913\r\n",                           # bulk over proto-max-bulk-len
    b"*1\r\n$-5\r\n",                                  # negative bulk length
    b"*1" + b"1" * 70_000,                             # unterminated multibulk header
    b"*1\r\n$" + b"9" * 70_000,                        # unterminated bulk header
    b"*2\r\n$3\r\nGET\r\n:1\r\n",                      # RESP3 integer where a bulk belongs
    NESTED,                                            # arrays nested 100,000 deep
    b"*1\r\n%1\r\n+a\r\n+b\r\n",                       # a RESP3 map inside a request
    b"*1\r\n~2\r\n$1\r\na\r\n",                        # a RESP3 set inside a request
    b"SET k \"unbalanced\r\n",                          # inline with an open quote
    b"x" * 70_000,                                     # unterminated inline request
]


@pytest.mark.parametrize("payload", MALFORMED, ids=lambda p: repr(p[:24]))
def test_malformed_frames_get_redis_errors_and_close(server, redis_server, payload):
    ours = exchange(server.port, payload)
    theirs = exchange(redis_server.port, payload)
    assert ours == theirs
    assert ours[1], "the connection stays open after a protocol error"

    assert ours[0].startswith(b"-ERR Protocol error")
    assert server.client().ping()


def test_frames_redis_accepts_or_awaits_are_treated_alike(server, redis_server):
    # A frame that does not start with '*' is an inline command in Redis (an error reply,
    # the connection stays open); a count Redis accepts waits for the rest.
    for payload in [b"%1\r\n+a\r\n+b\r\n", b">1\r\n+x\r\n", b"#t\r\n", b"*1048577\r\n", b"*1\r\n$1000\r\nab"]:
        assert exchange(server.port, payload) == exchange(redis_server.port, payload)


def stream_until_closed(port, head, total, chunk=1 << 20):
    """Sends `head` then up to `total` bytes of 'x'; returns (bytes sent, reply)."""
    sent = 0
    reply = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        block = b"x" * chunk
        try:
            while sent < total:
                s.sendall(block)
                sent += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(2)
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
        except (socket.timeout, ConnectionResetError):
            pass
    return sent, reply


def test_a_gigabyte_without_newline_is_cut_off_without_growing_memory(start_server):
    server = start_server("--client-query-buffer-limit", "16mb")
    before = rss(server.proc.pid)
    # An inline request: refused once 64 KB arrive without a newline.
    sent, reply = stream_until_closed(server.port, b"", 1 << 30)
    assert reply == b"-ERR Protocol error: too big inline request\r\n"
    assert sent < 1 << 30
    # A bulk argument announced at 512 MB: the query buffer limit closes it at 16 MB.
    sent, reply = stream_until_closed(server.port, b"*2\r\n$3\r\nGET\r\n$536870912\r\n", 1 << 30)
    assert sent < 1 << 30
    grown = rss(server.proc.pid) - before
    assert grown < 16 * 1024 * 1024 + 24 * 1024 * 1024, f"RSS grew by {grown}"
    assert "max query buffer length" in server.output()
    assert server.client().ping()


def read_bulk(sock):
    """Reads one bulk string reply from a raw socket."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    header, rest = data.split(b"\r\n", 1)
    assert header.startswith(b"$"), data
    length = int(header[1:])
    while len(rest) < length + 2:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        rest += chunk
    return rest[:length]


def connected_clients_via(sock):
    """INFO clients' connected_clients, asked on an open raw connection (opening another
    one would take a slot of maxclients)."""
    send_command(sock, "INFO", "clients")
    for line in read_bulk(sock).decode().splitlines():
        if line.startswith("connected_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("no connected_clients in INFO clients")


def test_maxclients_refuses_one_more_like_redis(start_server, redis_server):
    server = start_server("--maxclients", "10")
    redis_server.client().config_set("maxclients", "10")
    for port in (server.port, redis_server.port):
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
        for s in held:
            s.sendall(b"PING\r\n")
            assert s.recv(100) == b"+PONG\r\n"
        reply, closed = exchange(port, b"PING\r\n")
        assert (reply, closed) == (b"-ERR max number of clients reached\r\n", True)
        held.pop().close()
        held[0].settimeout(30)
        wait_until(lambda: connected_clients_via(held[0]) == 9, message="the closed connection to free its slot")
        assert exchange(port, b"PING\r\n")[0] == b"+PONG\r\n"
        for s in held:
            s.close()
    assert int(server.client().info("stats")["rejected_connections"]) == 1


def test_ten_thousand_idle_connections_are_held(start_server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 10_200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20_000), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 10_200, "the test needs 10,200 descriptors"
    server = start_server("--maxclients", "10001")
    before = rss(server.proc.pid)
    held = []
    try:
        for _ in range(10_000):
            held.append(socket.create_connection(("127.0.0.1", server.port)))
        control = server.client()
        wait_until(lambda: int(control.info("clients")["connected_clients"]) >= 10_001, 60,
                   "10,000 connections to be accepted", interval=0.1)
        assert int(control.info("clients")["connected_clients"]) == 10_001
        # Every one of them is still served.
        for s in held[::500]:
            s.sendall(b"PING\r\n")
        for s in held[::500]:
            s.settimeout(5)
            assert s.recv(100) == b"+PONG\r\n"
        start = time.time()
        for _ in range(100):
            control.ping()
        assert time.time() - start < 5
        per_connection = (rss(server.proc.pid) - before) / 10_000
        assert per_connection < 16 * 1024, f"{per_connection:.0f} bytes of RSS per idle connection"
    finally:
        for s in held:
            s.close()


def test_timeout_closes_idle_clients_but_not_subscribers_or_blocked(start_server):
    server = start_server("--timeout", "1")
    idle = socket.create_connection(("127.0.0.1", server.port))
    subscriber = socket.create_connection(("127.0.0.1", server.port))
    subscriber.sendall(b"SUBSCRIBE news\r\n")
    blocked = socket.create_connection(("127.0.0.1", server.port))
    blocked.sendall(b"BLPOP queue 0\r\n")
    observer = server.client()
    wait_subscribers(observer, "news", 1)
    wait_blocked(observer, 1)
    observer.close()  # it would be closed for idleness too
    subscriber.settimeout(30)
    assert subscriber.recv(100).startswith(b"*3\r\n$9\r\nsubscribe")
    # The idle client is closed once it has been idle past `timeout` (1 s).
    idle.settimeout(30)
    assert idle.recv(100) == b""
    # Time passing, not a wait for the server: the subscriber and the blocked client,
    # silent as long as the idle one, stay silent past another check of idle clients
    # (once a second), so they would have been closed by now were they treated as idle.
    time.sleep(1.5)
    client = server.client()
    assert client.publish("news", "hello") == 1
    client.rpush("queue", "job")
    blocked.settimeout(30)
    assert blocked.recv(100) == b"*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n"
    for s in (idle, subscriber, blocked):
        s.close()


def never_reading(port, request):
    """A client that sends `request` and never reads (small receive buffer)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(request)
    return s


def ping_latencies(client, seconds):
    latencies = []
    end = time.time() + seconds
    while time.time() < end:
        start = time.perf_counter()
        client.ping()
        latencies.append(time.perf_counter() - start)
    return latencies


def client_names(client):
    return [c["name"] for c in client.client_list()]


@pytest.mark.parametrize("request_bytes", [b"KEYS *\r\n", b"LRANGE big 0 -1\r\n"], ids=["keys", "lrange"])
def test_normal_output_buffer_limit_disconnects_a_client_that_never_reads(start_server, redis_server, request_bytes):
    results = []
    for server in (start_server("--client-output-buffer-limit", "normal 4mb 2mb 2"), redis_server):
        r = server.client()
        if server is redis_server:
            r.config_set("client-output-buffer-limit", "normal 4mb 2mb 2")
        fill(r, 300_000, prefix="key:")
        pipe = r.pipeline(transaction=False)
        for i in range(0, 300_000, 10_000):
            pipe.rpush("big", *[f"element-{j}" for j in range(i, i + 10_000)])
        pipe.execute()
        slow = never_reading(server.port, b"CLIENT SETNAME slow\r\n" + request_bytes * 3)
        deadline = time.time() + 30  # polled: a deadline that only bounds a hang
        while "slow" in client_names(r) and time.time() < deadline:
            time.sleep(0.05)
        results.append("slow" in client_names(r))
        assert r.ping()
        slow.close()
    assert results == [False, False]


def test_default_normal_limit_keeps_a_slow_reader_and_bounds_memory(server):
    r = server.client()
    fill(r, 300_000, prefix="key:")
    before = int(r.info("memory")["used_memory"])
    # Default `normal 0 0 0`: never disconnected, and a client that does not read gets no
    # more requests read (back-pressure), so 50 pipelined KEYS hold about one reply.
    slow = never_reading(server.port, b"CLIENT SETNAME slow\r\n" + b"KEYS *\r\n" * 50)
    wait_until(lambda: any(c["name"] == "slow" and c["cmd"] == "keys" for c in r.client_list()),
               message="the slow client's KEYS to be executed")
    # Time passing, not a wait for the server: the server keeps running while the client
    # reads nothing, and must neither disconnect it nor buffer its 50 replies.
    time.sleep(2)
    assert "slow" in client_names(r)
    grown = int(r.info("memory")["used_memory"]) - before
    assert grown < 64 * 1024 * 1024, f"used_memory grew by {grown}"
    latencies = ping_latencies(r, 1)
    assert max(latencies) < 0.5
    # Once it reads, everything arrives.
    slow.settimeout(10)
    received = 0
    expected_one = len(b"*300000\r\n") + sum(len(f"$%d\r\nkey:{i}\r\n" % len(f"key:{i}")) for i in range(300_000))
    while received < len(b"+OK\r\n") + 50 * expected_one:
        chunk = slow.recv(1 << 20)
        assert chunk
        received += len(chunk)
    assert received == len(b"+OK\r\n") + 50 * expected_one
    slow.close()


def test_pubsub_flood_to_a_stalled_subscriber_leaves_others_responsive(server):
    stalled = never_reading(server.port, b"SUBSCRIBE flood\r\n")
    healthy = server.client().pubsub()
    healthy.subscribe("flood")
    publisher = server.client()
    wait_subscribers(publisher, "flood", 2)
    control = server.client()
    latencies = []
    stop = threading.Event()

    def measure():
        while not stop.is_set():
            latencies.extend(ping_latencies(control, 0.1))

    thread = threading.Thread(target=measure)
    thread.start()
    payload = b"m" * 64 * 1024
    received = 0
    for i in range(1000):  # 64 MB: past the pubsub class's 32 MB hard limit
        publisher.publish("flood", payload)
        while healthy.get_message(timeout=0) is not None:
            received += 1
    stop.set()
    thread.join()
    deadline = time.time() + 10
    while received < 1000 and time.time() < deadline:
        if healthy.get_message(timeout=0.1) is not None:
            received += 1
    assert received >= 1000  # the healthy subscriber got everything (plus its confirmation)
    assert publisher.pubsub_numsub("flood") == [(b"flood", 1)]
    assert "closed for overcoming of output buffer limits" in server.output()
    assert int(publisher.info("memory")["used_memory"]) < 100 * 1024 * 1024
    latencies.sort()
    assert latencies[int(len(latencies) * 0.99)] < 0.25, "p99 PING latency during the flood"
    stalled.close()


def open_files_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise RuntimeError("no open files limit")


def test_open_files_limit_is_raised_for_maxclients_or_maxclients_lowered(start_server):
    from conftest import SERVER
    # Started with a soft limit of 1024: raised to maxclients + 32 as Redis does.
    server = start_server("--nofile=1024:20000", SERVER, "--maxclients", "10000", binary="/usr/bin/prlimit")
    assert open_files_limit(server.proc.pid) >= 10_032
    assert server.client().config_get("maxclients") == {"maxclients": "10000"}
    # A hard limit below that (and no privilege to raise it when not root): as Redis, either
    # the hard limit is raised or maxclients is lowered to fit, with a warning.
    server = start_server("--nofile=1024:2000", SERVER, "--maxclients", "10000", binary="/usr/bin/prlimit")
    limit = open_files_limit(server.proc.pid)
    maxclients = int(server.client().config_get("maxclients")["maxclients"])
    assert maxclients == 10_000 and limit >= 10_032 or maxclients == limit - 32 and "reduced to" in server.output()


def test_config_set_maxclients_raises_the_open_files_limit(start_server):
    from conftest import SERVER
    server = start_server("--nofile=1024:20000", SERVER, "--maxclients", "100", binary="/usr/bin/prlimit")
    assert open_files_limit(server.proc.pid) == 1024
    r = server.client()
    r.config_set("maxclients", "15000")
    assert open_files_limit(server.proc.pid) >= 15_032
    assert r.config_get("maxclients") == {"maxclients": "15000"}
