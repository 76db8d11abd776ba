"""Blocking list commands with real clients: timeouts, wake-ups by pushes (also inside
MULTI/EXEC), first-come-first-served, non-blocking inside MULTI, release on disconnect,
and a queue with several producers and consumers that loses and duplicates nothing."""
import threading
import time

import pytest
import redis

from conftest import clients_blocked, hang_up, raw_connection, send_command, wait_blocked, wait_until


def blocked_call(server, call, count=1):
    """Starts `call` on its own thread and waits until the server has it parked (INFO
    blocked_clients reaches `count`, the clients blocked so far included); returns a
    function that joins the thread and gives the call's result."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", call()))
    thread.start()
    wait_blocked(server.client(), count)

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
    finish = blocked_call(server, lambda: server.client().brpop(["jobs"], timeout=30))
    assert server.client().info("clients")["blocked_clients"] == 1
    server.client().lpush("jobs", "job-1")
    assert finish() == (b"jobs", b"job-1")
    assert server.client().llen("jobs") == 0


def test_first_come_first_served(server):
    order = []
    threads = []
    observer = server.client()
    for count, name in enumerate(("first", "second"), start=1):
        def consumer(name=name):
            value = server.client().blpop(["q"], timeout=30)
            order.append((name, value[1]))
        t = threading.Thread(target=consumer)
        t.start()
        threads.append(t)
        wait_blocked(observer, count)  # parked in this order before the next one starts
    server.client().rpush("q", "a", "b")
    for t in threads:
        t.join()
    assert dict(order) == {"first": b"a", "second": b"b"}


def test_wake_up_after_exec_and_rename(server):
    finish = blocked_call(server, lambda: server.client().blpop(["dest"], timeout=30))
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
    r = server.client()
    s = raw_connection(server.port)
    send_command(s, "BLPOP", "gone", 0)
    wait_blocked(r, 1)
    assert r.info("clients")["blocked_clients"] == 1
    hang_up(s)
    wait_until(lambda: clients_blocked(r) == 0, message="the hung-up client to be released")
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
            # Stop on a timeout only if every push had completed before this BRPOP began:
            # then the queue stayed empty for a whole second and nothing is left. (A
            # producer stalled on a loaded machine must not end the consumers early.)
            done = producers_done.is_set()
            item = c.brpop(["work"], timeout=1)
            if item is None:
                if done:
                    return
                continue
            with lock:
                consumed.append(item[1].decode())

    producers_done = threading.Event()
    consumers = [threading.Thread(target=consumer) for _ in range(4)]
    producers = [threading.Thread(target=producer, args=(p,)) for p in range(3)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    producers_done.set()
    for t in consumers:
        t.join()
    assert sorted(consumed) == sorted(produced)


def test_move_into_another_database_wakes_a_client_blocked_there(server):
    finish = blocked_call(server, lambda: server.client(db=1).blpop(["moved"], timeout=30))
    r = server.client()
    r.rpush("moved", "x")
    assert r.move("moved", 1)
    assert finish() == (b"moved", b"x")
