"""Transactions with the Python client: MULTI/EXEC pipelines, WATCH conflicts between
clients, WATCH and expiry, and atomicity under concurrent increments."""
import threading
import time

import redis

from conftest import wait_until


def assert_exec_aborts(pipe, key, value):
    """Queues SET key value after WATCH and expects EXEC to fail with a null reply."""
    pipe.multi()
    pipe.set(key, value)
    try:
        pipe.execute()
    except redis.WatchError:
        return
    raise AssertionError("EXEC should have failed")


def test_pipeline_transaction(server):
    r = server.client()
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1).incr("a").lpush("l", "x").get("a")
    assert pipe.execute() == [True, 2, 1, b"2"]


def test_runtime_errors_do_not_roll_back(server):
    r = server.client()
    pipe = r.pipeline(transaction=True)
    pipe.set("s", "text").incr("s").set("after", "ok")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True and isinstance(results[1], redis.ResponseError) and results[2] is True
    assert r.get("after") == b"ok"


def test_watch_aborts_when_another_client_writes(server):
    a, b = server.client(), server.client()
    a.set("balance", 100)
    pipe = a.pipeline(transaction=True)
    pipe.watch("balance")
    b.incrby("balance", 5)
    assert_exec_aborts(pipe, "balance", 0)
    assert a.get("balance") == b"105"


def test_watch_aborts_when_the_key_expires(server):
    r = server.client()
    pipe = r.pipeline(transaction=True)

    def watched_while_alive():
        # The key must still exist after WATCH: a loaded machine may take longer than its
        # 100 ms between SET and WATCH, and then WATCH saw no key; set the case up again.
        pipe.reset()
        r.set("session", "x", px=100)
        pipe.watch("session")
        return pipe.pttl("session") > 0

    wait_until(watched_while_alive, message="WATCH to see the key before it expires")
    # Time passing, not a wait for the server: the 100 ms TTL runs out while watched.
    time.sleep(0.3)
    assert_exec_aborts(pipe, "other", 1)


def test_watch_and_flush(server):
    a, b = server.client(), server.client()
    a.set("k", 1)
    pipe = a.pipeline(transaction=True)
    pipe.watch("k")
    b.flushdb()
    assert_exec_aborts(pipe, "k", 2)


def test_optimistic_increments_lose_nothing(server):
    def worker():
        c = server.client()
        for _ in range(100):
            with c.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        pipe.watch("counter")
                        value = int(pipe.get("counter") or 0)
                        pipe.multi()
                        pipe.set("counter", value + 1)
                        pipe.execute()
                        break
                    except redis.WatchError:
                        continue

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.client().get("counter") == b"400"
