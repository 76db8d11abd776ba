"""Blocking list commands with real clients: timeouts, wake-ups by pushes (also inside
MULTI/EXEC), first-come-first-served, non-blocking inside MULTI, release on disconnect,
and a queue with several producers and consumers that loses and duplicates nothing."""
import socket
import threading
import time

import pytest
import redis


def blocked_call(call):
    """Starts `call` on its own thread and waits until it is parked; returns a function
    that joins the thread and gives the call's result."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", call()))
    thread.start()
    time.sleep(0.2)

    def finish():
        thread.join()
        return result["value"]

    return finish


def test_timeout_returns_nil_after_the_fractional_timeout(server):
    r = server.client()
    start = time.time()
    assert r.blpop(["empty"], timeout=0.3) is None
    assert 0.25 < time.time() - start < 2


def test_push_wakes_a_blocked_client(server):
    finish = blocked_call(lambda: server.client().brpop(["jobs"], timeout=5))
    assert server.client().info("clients")["blocked_clients"] == 1
    server.client().lpush("jobs", "job-1")
    assert finish() == (b"jobs", b"job-1")
    assert server.client().llen("jobs") == 0


def test_first_come_first_served(server):
    order = []
    threads = []
    for name in ("first", "second"):
        def consumer(name=name):
            value = server.client().blpop(["q"], timeout=5)
            order.append((name, value[1]))
        t = threading.Thread(target=consumer)
        t.start()
        threads.append(t)
        time.sleep(0.2)
    server.client().rpush("q", "a", "b")
    for t in threads:
        t.join()
    assert dict(order) == {"first": b"a", "second": b"b"}


def test_wake_up_after_exec_and_rename(server):
    finish = blocked_call(lambda: server.client().blpop(["dest"], timeout=5))
    r = server.client()
    pipe = r.pipeline(transaction=True)
    pipe.rpush("tmp", "x").rename("tmp", "dest")
    pipe.execute()
    assert finish() == (b"dest", b"x")


def test_blocking_commands_do_not_block_inside_multi(server):
    pipe = server.client().pipeline(transaction=True)
    pipe.blpop(["nothing"], timeout=0)
    assert pipe.execute() == [None]


def test_blmove_and_errors(server):
    r = server.client()
    r.rpush("src", "1")
    assert r.blmove("src", "dst", timeout=1, src="LEFT", dest="RIGHT") == b"1"
    assert r.brpoplpush("dst", "src", timeout=1) == b"1"
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        r.execute_command("BLPOP", "src", "-1")
    with pytest.raises(redis.ResponseError, match="^timeout is not a float or out of range$"):
        r.execute_command("BLPOP", "src", "abc")


def test_disconnect_releases_the_blocked_client(server):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"BLPOP gone 0\r\n")
    time.sleep(0.2)
    assert server.client().info("clients")["blocked_clients"] == 1
    s.close()
    time.sleep(0.2)
    assert server.client().info("clients")["blocked_clients"] == 0
    server.client().rpush("gone", "v")
    assert server.client().lrange("gone", 0, -1) == [b"v"]


def test_queue_with_producers_and_consumers_loses_and_duplicates_nothing(server):
    produced = [f"item-{p}-{i}" for p in range(3) for i in range(300)]
    consumed = []
    lock = threading.Lock()

    def producer(p):
        c = server.client()
        for i in range(300):
            c.lpush("work", f"item-{p}-{i}")

    def consumer():
        c = server.client()
        while True:
            item = c.brpop(["work"], timeout=1)
            if item is None:
                return
            with lock:
                consumed.append(item[1].decode())

    consumers = [threading.Thread(target=consumer) for _ in range(4)]
    producers = [threading.Thread(target=producer, args=(p,)) for p in range(3)]
    for t in consumers + producers:
        t.start()
    for t in producers + consumers:
        t.join()
    assert sorted(consumed) == sorted(produced)


def test_move_into_another_database_wakes_a_client_blocked_there(server):
    finish = blocked_call(lambda: server.client(db=1).blpop(["moved"], timeout=5))
    r = server.client()
    r.rpush("moved", "x")
    assert r.move("moved", 1)
    assert finish() == (b"moved", b"x")
