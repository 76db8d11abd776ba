"""redis-py's client-side cache (`cache_config`, RESP3) against Strata and, side by side,
against Redis 7.0.15. redis-py enables its cache only for servers that report Redis 7.4 or
later (a product policy of the client, not a protocol need: the cache rides on
`CLIENT TRACKING` and RESP3 invalidation pushes, both Redis 6 features), so Redis 7.0.15
itself is refused exactly as Strata is. The test checks that refusal first, then lowers
the client's version gate and runs the same cache scenario on both servers: reads served
from the cache without reaching the server, invalidation when another client writes,
expires or deletes the key, and a flush emptying the cache."""
import time

import pytest
import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection


def get_calls(server):
    stats = server.client().info("commandstats")
    return stats.get("cmdstat_get", {}).get("calls", 0)


def wait_for(condition, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def cached_client(server):
    client = redis.Redis(host="127.0.0.1", port=server.port, protocol=3, cache_config=CacheConfig())
    client.ping()
    return client


def scenario(server):
    """What a cached client saw; every step is also checked where it happens."""
    seen = []
    writer = server.client()
    writer.set("k", "v1")
    client = cached_client(server)
    cache = client.get_cache()
    seen.append(client.get("k"))
    before = get_calls(server)
    for _ in range(5):
        seen.append(client.get("k"))
    # Served from the cache: the server saw none of these GETs.
    assert get_calls(server) == before
    assert cache.size == 1
    # Another client's write invalidates the entry (a RESP3 push read with the next reply).
    writer.set("k", "v2")
    assert wait_for(lambda: client.get("k") == b"v2")
    seen.append(client.get("k"))
    # An expiry invalidates too (long enough to read the key before it goes on a slow machine).
    writer.set("gone", "soon", px=1000)
    seen.append(client.get("gone"))
    assert wait_for(lambda: client.get("gone") is None)
    seen.append(client.get("gone"))
    # A delete, then FLUSHALL, which empties the whole cache.
    writer.delete("k")
    assert wait_for(lambda: client.get("k") is None)
    writer.set("a", "1")
    seen.append(client.get("a"))
    writer.flushall()
    assert wait_for(lambda: client.get("a") is None)
    seen.append(client.get("a"))
    client.close()
    return seen


def test_redis_py_refuses_its_cache_below_7_4_on_both_servers(strata_and_redis):
    for server in strata_and_redis:
        with pytest.raises(redis.ConnectionError, match="7.4"):
            cached_client(server)


def test_redis_py_client_side_cache_works_as_with_redis(strata_and_redis, monkeypatch):
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    strata, reference = strata_and_redis
    assert scenario(strata) == scenario(reference)
