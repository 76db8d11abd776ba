"""Real clients against the real binary: redis-cli (including --pipe), redis-py with
pipelines and RESP3, raw sockets for inline commands and split frames."""
import socket
import time

import pytest
import redis

from conftest import wait_until


def raw(port, payload, read_until=None, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if read_until is not None and read_until in data:
                break
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
        return data


def test_redis_cli_basic_commands(server):
    assert server.cli("PING") == b"PONG\n"
    assert server.cli("SET", "greeting", "hello world") == b"OK\n"
    assert server.cli("GET", "greeting") == b"hello world\n"
    assert server.cli("INCR", "n") == b"1\n"
    assert server.cli("GET", "nothing") == b"\n"
    assert server.cli("DBSIZE") == b"2\n"
    assert b"redis_version:7.0" in server.cli("INFO", "server")
    assert b"strata_version:" in server.cli("INFO", "server")


def test_redis_cli_pipe_100k_commands(server):
    payload = b"".join(
        b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v)
        for k, v in ((b"pipe:%d" % i, b"value-%d" % i) for i in range(100_000)))
    out = subprocess_pipe(server, payload)
    assert b"errors: 0, replies: 100000" in out, out
    assert server.cli("DBSIZE") == b"100000\n"
    assert server.cli("GET", "pipe:99999") == b"value-99999\n"


def subprocess_pipe(server, payload):
    import subprocess
    return subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=payload, capture_output=True,
                          check=True).stdout


def test_python_client_pipeline_and_types(server):
    r = server.client()
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"k{i}", i)
    for i in range(1000):
        pipe.incr(f"k{i}")
    results = pipe.execute()
    assert results[:1000] == [True] * 1000
    assert results[1000:] == list(range(1, 1001))
    assert r.mget("k0", "k999", "missing") == [b"1", b"1000", None]
    assert r.set("t", "v", ex=100) is True
    assert 99 <= r.ttl("t") <= 100
    assert r.expire("t", 10, gt=True) is False
    assert r.getex("t", persist=True) == b"v"
    assert r.ttl("t") == -1


def test_resp3_with_python_client(server):
    r = server.client(protocol=3)
    hello = r.execute_command("HELLO", "3")
    assert hello[b"proto"] == 3 and hello[b"server"] == b"redis"
    r.set("a", "1")
    assert r.get("a") == b"1"
    assert r.get("missing") is None
    assert r.config_get("maxclients") == {"maxclients": "10000"} or r.config_get("maxclients") == {
        b"maxclients": b"10000"}


def test_resp3_frames_on_the_wire(server):
    reply = raw(server.port, b"HELLO 3\r\nGET missing\r\nCONFIG GET port\r\n", read_until=b"%1\r\n$4\r\nport")
    assert reply.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
    assert b"_\r\n" in reply
    assert b"%1\r\n$4\r\nport\r\n" in reply


def test_inline_commands_as_typed_over_telnet(server):
    reply = raw(server.port, b"SET name \"strata server\"\r\nGET name\r\nPING\r\n", read_until=b"+PONG\r\n")
    assert reply == b"+OK\r\n$13\r\nstrata server\r\n+PONG\r\n"


def test_frames_split_at_every_byte(server):
    frame = b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$10\r\n0123456789\r\n*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(frame)):
            s.sendall(frame[i:i + 1])
            time.sleep(0.001)  # time passing, not a wait for the server: the bytes go out one by one
        data = b""
        while not data.endswith(b"0123456789\r\n"):
            data += s.recv(1024)
    assert data == b"+OK\r\n$10\r\n0123456789\r\n"


def test_protocol_error_closes_only_that_connection(server):
    other = server.client()
    other.set("survivor", "yes")
    reply = raw(server.port, b"*1\r\n+PING\r\n")
    assert reply == b"-ERR Protocol error: expected '$', got '+'\r\n"
    reply = raw(server.port, b"*2\r\n$3\r\nGET\r\n$999999999999\r\n")
    assert reply == b"-ERR Protocol error: invalid bulk length\r\n"
    reply = raw(server.port, b"*abc\r\n")
    assert reply == b"-ERR Protocol error: invalid multibulk length\r\n"
    reply = raw(server.port, b"x" * (70 * 1024))
    assert reply == b"-ERR Protocol error: too big inline request\r\n"
    assert other.get("survivor") == b"yes"


def test_bulk_over_proto_max_bulk_len_is_refused(start_server):
    s = start_server("--proto-max-bulk-len", "1mb")
    reply = raw(s.port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
    assert reply == b"-ERR Protocol error: invalid bulk length\r\n"
    assert s.client().ping()


def test_query_buffer_limit_closes_the_client(start_server):
    s = start_server("--client-query-buffer-limit", "1mb")
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
        sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")
        try:
            for _ in range(40):
                sock.sendall(b"x" * 100_000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(5)
        try:
            assert sock.recv(100) == b""
        except ConnectionResetError:
            pass
    assert s.client().ping()


def test_large_value_round_trip(server):
    r = server.client()
    value = bytes(range(256)) * 40_000  # ~10 MB, binary
    r.set("big", value)
    assert r.get("big") == value
    assert r.strlen("big") == len(value)


def test_errors_match_redis_wording(server):
    r = server.client()
    r.set("s", "text")
    for command, message in [
        (("GET",), "wrong number of arguments for 'get' command"),
        (("INCR", "s"), "value is not an integer or out of range"),
        (("NOSUCH", "a"), "unknown command 'NOSUCH', with args beginning with: 'a' "),
    ]:
        try:
            r.execute_command(*command)
        except redis.ResponseError as e:
            assert str(e) == message
        else:
            raise AssertionError(f"{command} did not fail")


def test_client_commands(server):
    a = server.client()
    b = server.client()
    a.client_setname("alpha")
    assert a.client_getname() == "alpha" or a.client_getname() == b"alpha"
    b.ping()
    listing = a.client_list()
    names = [c["name"] for c in listing]
    assert "alpha" in names
    my_id = a.client_id()
    other_id = b.client_id()
    assert my_id != other_id
    assert a.client_kill_filter(_id=other_id) == 1
    wait_until(lambda: other_id not in [int(c["id"]) for c in a.client_list()],
               message="the killed client to leave CLIENT LIST")


def test_command_introspection(server):
    r = server.client()
    assert r.command_count() >= 60
    commands = r.command()  # redis-py parses every entry: name, arity, flags, key positions
    assert commands["get"]["arity"] == 2 and commands["get"]["first_key_pos"] == 1
    assert commands["mset"]["step_count"] == 2
    assert r.command_getkeys("MSET", "a", "1", "b", "2") == [b"a", b"b"] or \
        r.command_getkeys("MSET", "a", "1", "b", "2") == ["a", "b"]
    info = server.cli("COMMAND", "INFO", "get")
    assert info.startswith(b"get\n2\n")
    docs = server.cli("COMMAND", "DOCS", "set")
    assert b"summary" in docs and b"arguments" in docs


def test_config_get_set_resetstat(server):
    r = server.client()
    assert r.config_get("timeout") == {"timeout": "0"}
    assert r.config_set("timeout", "30")
    assert r.config_get("timeout") == {"timeout": "30"}
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("port", "1")
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments for CONFIG SET - 'nonsense'"):
        r.config_set("nonsense", "1")
    r.get("x")
    assert r.config_resetstat()
    assert r.info("stats")["keyspace_misses"] == 0


def test_quit_replies_then_closes(server):
    assert raw(server.port, b"QUIT\r\nPING\r\n") == b"+OK\r\n"


def test_many_small_arguments_count_against_the_query_buffer_limit(start_server):
    s = start_server("--client-query-buffer-limit", "1mb")
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
        sock.sendall(b"*10000000\r\n$4\r\nMSET\r\n")
        closed = False
        try:
            for _ in range(200):
                sock.sendall(b"$1\r\na\r\n" * 10000)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            try:
                closed = sock.recv(100) == b""
            except ConnectionResetError:
                closed = True
        assert closed
    assert s.client().ping()


def test_config_set_proto_max_bulk_len_applies_to_connected_clients(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        assert sock.recv(100) == b"+PONG\r\n"
        assert server.cli("CONFIG", "SET", "proto-max-bulk-len", "1mb") == b"OK\n"
        sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
        assert sock.recv(100) == b"-ERR Protocol error: invalid bulk length\r\n"


def test_replies_keep_their_order_when_the_socket_takes_only_part_of_them(server):
    """Replies are sent straight on the socket while it takes them and through the event
    loop's queue once it is full: a client with a tiny receive buffer that pipelines large
    and small replies, round after round, must get every byte in order."""
    r = server.client()
    big = bytes(range(256)) * (3 * 1024 * 1024 // 256 + 7)
    r.set("big", big)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", server.port))
    expected = b""
    request = b""
    for round_ in range(6):
        request += b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"
        expected += b"$%d\r\n%s\r\n" % (len(big), big)
        for i in range(50):
            word = b"r%d-%d" % (round_, i)
            request += b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(word), word)
            expected += b"$%d\r\n%s\r\n" % (len(word), word)
    sock.sendall(request)
    received = bytearray()
    while len(received) < len(expected):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        received += chunk
    sock.close()
    assert bytes(received) == expected
    assert r.ping()
