"""The core client flows with the newest redis-py line users install today (pinned in
Tests/e2e/requirements-newest-redis-py.txt, run in a virtualenv of its own by `make test`):
pipelines, transactions, pub/sub, blocking pops, stream consumer groups and scripts through
`register_script`, with the client's default protocol (RESP3 since redis-py 8) and with
RESP2 and RESP3 asked for explicitly. Every flow runs against Strata and redis-server 7.0
side by side and the parsed results must be equal, so a new client default that Strata
answers differently from Redis shows up here."""
import threading

import pytest
import redis

from conftest import hang_up, raw_connection, send_command, wait_blocked, wait_subscribers, wait_until

if redis.__version__.split(".")[0] != "8":
    pytest.fail(f"this module needs redis-py 8.x (found {redis.__version__}); "
                "`make test` runs it from .venv-newest-redis-py", allow_module_level=True)

PROTOCOLS = [None, 2, 3]  # None: the client's own default


def connect(server, protocol, **kwargs):
    if protocol is None:
        return server.client(**kwargs)
    return server.client(protocol=protocol, **kwargs)


def negotiated_protocol(client):
    """The protocol the server says this connection speaks (CLIENT INFO's resp= field)."""
    info = client.execute_command("CLIENT", "INFO")
    text = info.decode() if isinstance(info, bytes) else str(info)
    return int(dict(part.split("=", 1) for part in text.split() if "=" in part)["resp"])


def pipeline_flow(r):
    pipe = r.pipeline(transaction=False)
    pipe.set("p:s", "v").get("p:s").incrby("p:n", 5).rpush("p:l", "a", "b", "c").lrange("p:l", 0, -1)
    pipe.hset("p:h", mapping={"f": "1", "g": "2"}).hgetall("p:h").zadd("p:z", {"m": 1.5, "n": 2})
    pipe.zrange("p:z", 0, -1, withscores=True).sadd("p:set", "x", "y").smembers("p:set")
    pipe.get("p:missing").expire("p:s", 100).ttl("p:s")
    plain = pipe.execute()
    with r.pipeline(transaction=True) as tx:
        tx.incr("p:n").lpop("p:l").hincrbyfloat("p:h", "f", 0.25).zscore("p:z", "m")
        transaction = tx.execute()
    errors = r.pipeline(transaction=False).set("p:e", "x").incr("p:e").get("p:e").execute(raise_on_error=False)
    errors = [type(e).__name__ if isinstance(e, Exception) else e for e in errors]
    return plain, transaction, errors


def watch_flow(server, protocol):
    r = connect(server, protocol)
    r.set("w:k", 1)
    with r.pipeline() as pipe:
        pipe.watch("w:k")
        connect(server, protocol).set("w:k", 2)  # another client touches the watched key
        pipe.multi()
        pipe.incr("w:k")
        try:
            pipe.execute()
            outcome = "committed"
        except redis.WatchError:
            outcome = "aborted"
    return outcome, r.get("w:k")


def pubsub_flow(server, protocol):
    r = connect(server, protocol)
    p = connect(server, protocol).pubsub()
    p.subscribe("news")
    p.psubscribe("ev.*")
    received = []
    expected_messages = 4  # subscribe, psubscribe, one message, one pmessage
    wait_subscribers(r, "news")
    wait_until(lambda: r.pubsub_numpat() >= 1, message="a pattern subscription")
    delivered = [r.publish("news", "hello"), r.publish("ev.one", "world")]

    def collect():
        message = p.get_message(timeout=0.5)
        if message is not None:
            received.append((message["type"], message["channel"], message["data"], message.get("pattern")))
        return len(received) >= expected_messages

    wait_until(collect, message="pub/sub messages")
    p.unsubscribe("news")
    p.punsubscribe("ev.*")
    p.close()
    return delivered, received


def blocking_flow(server, protocol):
    r = connect(server, protocol)
    results = {}

    def waiter(name, call):
        results[name] = call(connect(server, protocol))

    threads = [
        threading.Thread(target=waiter, args=("blpop", lambda c: c.blpop(["b:list"], timeout=30))),
        threading.Thread(target=waiter, args=("bzpopmin", lambda c: c.bzpopmin(["b:zset"], timeout=30))),
    ]
    for count, thread in enumerate(threads, start=1):
        thread.start()
        wait_blocked(r, count)
    r.rpush("b:list", "job")
    r.zadd("b:zset", {"low": 1, "high": 2})
    for thread in threads:
        thread.join(timeout=30)
    timed_out = r.blpop(["b:empty"], timeout=0.1)
    return results["blpop"], results["bzpopmin"], timed_out, r.zrange("b:zset", 0, -1)


def stream_group_flow(server, protocol):
    r = connect(server, protocol)
    r.xgroup_create("s", "workers", id="0", mkstream=True)
    ids = [r.xadd("s", {"task": str(i)}, id=f"{i + 1}-0") for i in range(4)]
    first = r.xreadgroup("workers", "alice", {"s": ">"}, count=2)
    second = r.xreadgroup("workers", "bob", {"s": ">"})
    acked = r.xack("s", "workers", *ids[:2])
    pending = r.xpending("s", "workers")
    claimed = r.xautoclaim("s", "workers", "carol", min_idle_time=0, start_id="0-0")
    groups = [{k: v for k, v in g.items() if k not in ("lag",)} for g in r.xinfo_groups("s")]
    consumers = sorted((c["name"], c["pending"]) for c in r.xinfo_consumers("s", "workers"))
    # A blocked group reader woken by a new entry.
    woken = {}
    thread = threading.Thread(
        target=lambda: woken.update(got=connect(server, protocol).xreadgroup("workers", "dave", {"s": ">"},
                                                                              block=30000)))
    thread.start()
    wait_blocked(r, 1)
    r.xadd("s", {"task": "late"}, id="9-0")
    thread.join(timeout=30)
    return ids, first, second, acked, pending, claimed, groups, consumers, woken["got"]


def script_flow(server, protocol):
    r = connect(server, protocol)
    bump = r.register_script("local v = redis.call('incrby', KEYS[1], ARGV[1]) "
                             "redis.call('expire', KEYS[1], 100) return {v, redis.call('ttl', KEYS[1])}")
    shapes = r.register_script("return {1, 'two', {3, 'four'}, redis.status_reply('OK'), false}")
    first = bump(keys=["sc:n"], args=[5])
    r.script_flush()  # the next call gets NOSCRIPT and falls back to EVAL
    second = bump(keys=["sc:n"], args=[2])
    with r.pipeline() as pipe:
        bump(keys=["sc:n"], args=[1], client=pipe)
        shapes(client=pipe)
        piped = pipe.execute()
    try:
        r.eval("return redis.error_reply('MY failure')", 0)
        error = None
    except redis.ResponseError as e:
        error = str(e)
    return first, second, piped, shapes(), error


FLOWS = {
    "pipelines": lambda server, protocol: pipeline_flow(connect(server, protocol)),
    "watch": watch_flow,
    "pubsub": pubsub_flow,
    "blocking": blocking_flow,
    "stream groups": stream_group_flow,
    "scripts": script_flow,
}


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=["default", "resp2", "resp3"])
@pytest.mark.parametrize("flow", FLOWS.keys())
def test_core_flow_matches_redis(server, redis_server, flow, protocol):
    strata = FLOWS[flow](server, protocol)
    reference = FLOWS[flow](redis_server, protocol)
    assert strata == reference


@pytest.mark.parametrize("protocol,expected", [(None, 3), (2, 2), (3, 3)], ids=["default", "resp2", "resp3"])
def test_the_client_speaks_the_protocol_it_asked_for(server, protocol, expected):
    # redis-py 8's default is RESP3 (HELLO 3): Strata must accept it rather than the client
    # falling back to RESP2.
    assert negotiated_protocol(connect(server, protocol)) == expected


def test_a_blocked_client_that_hangs_up_is_released(server):
    r = connect(server, None)
    sock = raw_connection(server.port)
    send_command(sock, "BLPOP", "gone", "0")
    wait_blocked(r, 1)
    hang_up(sock)
    wait_until(lambda: int(r.info("clients")["blocked_clients"]) == 0, message="the blocked client released")
    r.rpush("gone", "v")
    assert r.lrange("gone", 0, -1) == [b"v"]
