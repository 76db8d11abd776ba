"""Pub/Sub with real clients: channel and pattern subscribers, RESP2 subscribed mode,
RESP3 push frames, introspection, and the output buffer limit for a subscriber that
stops reading."""
import socket
import time

import pytest
import redis

from conftest import wait_pattern_subscribers, wait_subscribers, wait_until


def wait_message(pubsub, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] in ("message", "pmessage"):
            return message
    raise AssertionError("no message")


def test_channel_and_pattern_subscribers(server):
    publisher = server.client()
    sub = server.client().pubsub()
    sub.subscribe("news")
    psub = server.client().pubsub()
    psub.psubscribe("news.*")
    wait_subscribers(publisher, "news", 1)
    wait_pattern_subscribers(publisher, 1)
    assert publisher.publish("news", "hello") == 1
    assert publisher.publish("news.sport", "goal") == 1
    assert publisher.publish("nobody", "x") == 0
    message = wait_message(sub)
    assert message["channel"] == b"news" and message["data"] == b"hello"
    pmessage = wait_message(psub)
    assert pmessage["pattern"] == b"news.*" and pmessage["channel"] == b"news.sport" and pmessage["data"] == b"goal"
    assert publisher.pubsub_channels() == [b"news"]
    assert publisher.pubsub_numsub("news", "none") == [(b"news", 1), (b"none", 0)]
    assert publisher.pubsub_numpat() == 1
    sub.unsubscribe("news")
    psub.punsubscribe()
    wait_until(lambda: publisher.pubsub_numsub("news") == [(b"news", 0)] and publisher.pubsub_numpat() == 0,
               message="the unsubscriptions to take effect")
    assert publisher.publish("news", "again") == 0


def raw_session(port, payload, until, timeout=30):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        deadline = time.time() + timeout
        while until not in data and time.time() < deadline:
            data += s.recv(65536)
        return data


def test_resp2_subscribed_mode_restrictions(server):
    data = raw_session(server.port, b"SUBSCRIBE a b\r\nGET x\r\nPING\r\nUNSUBSCRIBE\r\nPING\r\n", b"+PONG\r\n")
    assert data.startswith(b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")
    assert b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET" in data
    assert b"*2\r\n$4\r\npong\r\n$0\r\n\r\n" in data
    assert b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n" in data
    assert data.endswith(b"+PONG\r\n")


def test_resp3_push_frames_and_commands_while_subscribed(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"HELLO 3\r\nSUBSCRIBE ch\r\nSET k v\r\n")
        data = b""
        while b"+OK\r\n" not in data:
            data += s.recv(65536)
        assert b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" in data
        server.client().publish("ch", "payload")
        data = b""
        while b"payload" not in data:
            data += s.recv(65536)
        assert data == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$7\r\npayload\r\n"


def test_a_subscriber_that_stops_reading_is_disconnected(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"SUBSCRIBE firehose\r\n")
    publisher = server.client()
    wait_subscribers(publisher, "firehose", 1)
    payload = b"x" * (1024 * 1024)
    for _ in range(60):
        publisher.publish("firehose", payload)
    wait_until(lambda: publisher.pubsub_numsub("firehose") == [(b"firehose", 0)],
               message="the subscriber over the output buffer limit to be disconnected")
    assert publisher.pubsub_numsub("firehose") == [(b"firehose", 0)]
    assert int(publisher.info("memory")["used_memory"]) < 200 * 1024 * 1024
    assert "closed for overcoming of output buffer limits" in server.output()
    sock.close()


def test_configured_pubsub_limit_applies_and_reads_back_like_redis(server, redis_server):
    for client in (server.client(), redis_server.client()):
        client.config_set("client-output-buffer-limit", "pubsub 2mb 1mb 0 normal 0 0 0")
    ours = server.client().config_get("client-output-buffer-limit")
    assert ours == redis_server.client().config_get("client-output-buffer-limit")
    assert ours["client-output-buffer-limit"] == "normal 0 0 0 slave 268435456 67108864 60 pubsub 2097152 1048576 0"
    for client in (server.client(), redis_server.client()):
        for bad in ["pubsub 1 2", "nobody 1 2 3", "pubsub x 1 1"]:
            with pytest.raises(redis.ResponseError) as error:
                client.config_set("client-output-buffer-limit", bad)
            assert "buffer limit configuration" in str(error.value)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"SUBSCRIBE trickle\r\n")
    publisher = server.client()
    wait_subscribers(publisher, "trickle", 1)
    for _ in range(40):  # 10 MB: past the 2 MB hard limit plus what the kernel buffers, below the default 32 MB
        publisher.publish("trickle", b"y" * (256 * 1024))
    wait_until(lambda: publisher.pubsub_numsub("trickle") == [(b"trickle", 0)],
               message="the subscriber over the configured hard limit to be disconnected")
    assert publisher.pubsub_numsub("trickle") == [(b"trickle", 0)]
    sock.close()
    for client in (server.client(), redis_server.client()):
        client.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")


def test_info_counts_channels_and_patterns_as_redis(server, redis_server):
    def counts(target):
        p = target.client().pubsub()
        p.subscribe("a", "b")
        p.psubscribe("x.*")
        other = target.client().pubsub()
        other.subscribe("a")
        other.psubscribe("x.*", "y.*")
        observer = target.client()
        wait_subscribers(observer, "a", 2)
        wait_pattern_subscribers(observer, 2)  # distinct patterns
        stats = observer.info("stats")
        during = (stats["pubsub_channels"], stats["pubsub_patterns"])
        other.close()
        p.unsubscribe("b")
        wait_until(lambda: observer.pubsub_numsub("a", "b") == [(b"a", 1), (b"b", 0)], message="the unsubscriptions")
        wait_until(lambda: observer.pubsub_numpat() == 1, message="the other client's patterns gone")
        stats = observer.info("stats")
        return during, (stats["pubsub_channels"], stats["pubsub_patterns"])

    ours = counts(server)
    assert ours == counts(redis_server)
    assert ours[0] == (2, 2)
