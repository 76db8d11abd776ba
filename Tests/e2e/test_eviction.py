"""maxmemory with the real server: eviction keeps memory under the limit and announces
`evicted` events; with noeviction writes get Redis's OOM error while reads still work;
recently used keys survive an LRU eviction wave."""
import time

import pytest
import redis

from conftest import wait_subscribers, wait_until


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def reset(r):
    r.config_set("maxmemory", 0)
    r.config_set("maxmemory-policy", "noeviction")
    r.flushall()


def test_noeviction_refuses_writes_with_redis_error(server, redis_server):
    seen = []
    for target in (server, redis_server):
        r = target.client()
        r.flushall()
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("maxmemory", used_memory(r) + 2 * 1024 * 1024)
        pipe = r.pipeline(transaction=False)
        for n in range(5000):
            pipe.set(f"key:{n}", "x" * 1000)
        results = pipe.execute(raise_on_error=False)
        errors = [e for e in results if isinstance(e, Exception)]
        assert errors, f"{target} accepted 5 MB over a 2 MB limit"
        seen.append((type(errors[0]).__name__, str(errors[0])))
        assert r.get("key:0") == b"x" * 1000
        assert r.delete("key:0") == 1
        reset(r)
    assert seen[0] == seen[1]
    assert seen[0][1] == "command not allowed when used memory > 'maxmemory'."  # redis-py strips "OOM "


def test_allkeys_lru_keeps_memory_bounded_and_announces_evictions(server):
    r = server.client()
    r.flushall()
    r.config_set("notify-keyspace-events", "Ee")
    subscriber = server.client().pubsub()
    subscriber.subscribe("__keyevent@0__:evicted")
    wait_subscribers(r, "__keyevent@0__:evicted")
    limit = used_memory(r) + 20 * 1024 * 1024
    r.config_set("maxmemory", limit)
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.set("keeper", "v")
    pipe = r.pipeline(transaction=False)
    for n in range(100_000):
        pipe.set(f"key:{n}", "x" * 1000)
        if n % 1000 == 999:
            pipe.execute()
            r.get("keeper")  # recently used: LRU must keep it
    pipe.execute()
    assert used_memory(r) < limit + 2 * 1024 * 1024
    evicted = int(r.info("stats")["evicted_keys"])
    assert evicted > 50_000
    assert r.exists("keeper") == 1
    assert r.exists("key:99999") == 1
    announced = 0
    deadline = time.time() + 30
    while announced < 100 and time.time() < deadline:
        message = subscriber.get_message(timeout=1)
        if message and message["type"] == "message":
            assert message["data"].startswith(b"key:")
            announced += 1
    assert announced == 100
    r.config_set("notify-keyspace-events", "")
    reset(r)


def test_volatile_policy_without_volatile_keys_errors_like_noeviction(server):
    r = server.client()
    r.flushall()
    r.config_set("maxmemory-policy", "volatile-lru")
    r.config_set("maxmemory", used_memory(r) + 1024 * 1024)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for n in range(5000):
            r.set(f"persistent:{n}", "x" * 1000)
    reset(r)


def test_policy_config_matches_redis(server, redis_server):
    for target in (server, redis_server):
        r = target.client()
        for policy in ["allkeys-lfu", "volatile-ttl", "noeviction"]:
            r.config_set("maxmemory-policy", policy)
            assert r.config_get("maxmemory-policy") == {"maxmemory-policy": policy}
    ours, theirs = server.client(), redis_server.client()
    with pytest.raises(redis.ResponseError) as mine:
        ours.config_set("maxmemory-policy", "lru")
    with pytest.raises(redis.ResponseError) as reference:
        theirs.config_set("maxmemory-policy", "lru")
    assert str(mine.value) == str(reference.value)
    for r in (ours, theirs):
        r.config_set("maxmemory", "100mb")
    assert ours.config_get("maxmemory") == theirs.config_get("maxmemory")
    assert ours.info("memory")["maxmemory_policy"] == "noeviction"
    for r in (ours, theirs):
        r.config_set("maxmemory", 0)


def test_eviction_tenacity_and_memory_stats_match_redis(server, redis_server):
    ours, theirs = server.client(), redis_server.client()
    for r in (ours, theirs):
        assert r.config_get("maxmemory-eviction-tenacity") == {"maxmemory-eviction-tenacity": "10"}
        r.config_set("maxmemory-eviction-tenacity", 100)
        assert r.config_get("maxmemory-eviction-tenacity") == {"maxmemory-eviction-tenacity": "100"}
        r.config_set("maxmemory-eviction-tenacity", 10)
    errors = []
    for r in (ours, theirs):
        with pytest.raises(redis.ResponseError) as error:
            r.config_set("maxmemory-eviction-tenacity", 101)
        errors.append(str(error.value))
    assert errors[0] == errors[1]
    for r in (ours, theirs):
        r.set("a", "1", ex=100)
        r.set("b", "2")
    mine = ours.memory_stats()
    reference = theirs.memory_stats()
    for field in ("peak.allocated", "total.allocated", "startup.allocated", "keys.count", "dataset.bytes",
                  "overhead.total", "keys.bytes-per-key", "fragmentation", "dataset.percentage", "db.0"):
        assert field in mine and field in reference, field
    assert set(mine) <= set(reference) | {"allocator.resident"}, set(mine) - set(reference)
    assert mine["keys.count"] == reference["keys.count"] == 2
    assert set(mine["db.0"]) == set(reference["db.0"])
    assert mine["total.allocated"] >= mine["startup.allocated"] > 0
    ours.flushall()
    theirs.flushall()


def test_a_64mb_cache_under_10x_its_size_of_writes_stays_within_its_budget(start_server):
    """maxmemory 64mb allkeys-lru, 640 MB of values of mixed sizes from four clients: the
    server never dies, RSS stays under 64 MB x 1.2 plus the empty server's RSS, and
    used_memory stays within 5% of maxmemory once full."""
    import threading
    import random
    strata = start_server("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru", "--save", "")
    r = strata.client()
    empty_rss = int(r.info("memory")["used_memory_rss"])
    limit = 64 * 1024 * 1024
    total = 10 * limit
    sizes = [100, 1000, 10_000, 100_000]
    samples = []
    failures = []

    def writer(index):
        rng = random.Random(index)
        client = strata.client()
        written = 0
        n = 0
        try:
            while written < total // 4:
                pipe = client.pipeline(transaction=False)
                for _ in range(10):  # a pipeline's requests are in memory until they run
                    size = rng.choice(sizes)
                    pipe.set(f"c{index}:{n}", b"v" * size)
                    written += size
                    n += 1
                pipe.execute()
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(repr(e))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        memory = r.info("memory")
        samples.append((int(memory["used_memory"]), int(memory["used_memory_rss"])))
        time.sleep(0.05)  # the sampling interval while the writers run, not a wait for the server
    for t in threads:
        t.join()
    assert failures == []
    assert strata.proc.poll() is None
    memory = r.info("memory")
    samples.append((int(memory["used_memory"]), int(memory["used_memory_rss"])))
    assert int(r.info("stats")["evicted_keys"]) > 0
    rss_bound = limit * 1.2 + empty_rss
    assert max(rss for _, rss in samples) < rss_bound, (max(rss for _, rss in samples), rss_bound)
    full = [used for used, _ in samples if used > 0.9 * limit]
    assert full, "the cache never filled"
    assert all(abs(used - limit) <= 0.05 * limit for used in full[len(full) // 4:]), (min(full), max(full))


def test_evictions_are_logged_to_the_aof_as_deletes(start_server):
    """Evicted keys reach the AOF as DELs: a restart from the log has exactly the keys the
    server had, not the ones it evicted."""
    import os
    import shutil
    import tempfile

    from test_snapshots import wait_loaded

    workdir = tempfile.mkdtemp(prefix="strata-evict-aof-")
    aof = ("--appendonly", "yes", "--save", "", "--auto-aof-rewrite-percentage", "0")
    try:
        strata = start_server(*aof, "--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru", workdir=workdir)
        r = strata.client()
        for start in range(0, 20_000, 500):
            pipe = r.pipeline(transaction=False)
            for n in range(start, start + 500):
                pipe.set(f"key:{n}", b"x" * 1000)
            pipe.execute()
        # Eviction may go on in the background for a moment after the last write (it is
        # time-sliced): read the count on both sides of KEYS until it held still.
        seen = {}

        def settled():
            seen["evicted"] = int(r.info("stats")["evicted_keys"])
            seen["kept"] = set(r.keys("*"))
            return int(r.info("stats")["evicted_keys"]) == seen["evicted"]
        wait_until(settled, message="eviction settles")
        evicted, kept = seen["evicted"], seen["kept"]
        assert evicted > 5_000
        assert len(kept) == 20_000 - evicted
        strata.stop()
        log = b""
        directory = os.path.join(workdir, "appendonlydir")
        for name in os.listdir(directory):
            with open(os.path.join(directory, name), "rb") as f:
                log += f.read()
        assert log.count(b"*2\r\n$3\r\nDEL\r\n") == evicted
        again = start_server(*aof, workdir=workdir)
        r = again.client()
        wait_loaded(r)
        assert set(r.keys("*")) == kept
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_memory_introspection_fields_behave_like_redis(server, redis_server):
    """INFO memory and stats carry Redis's eviction fields with the same meaning; MEMORY
    USAGE of the same values is of the same order as Redis's."""
    usage = {}
    for name, target in (("strata", server), ("redis", redis_server)):
        r = target.client()
        r.flushall()
        r.config_resetstat()
        r.config_set("maxmemory", "100mb")
        r.config_set("maxmemory-policy", "allkeys-lfu")
        r.set("small", "v")
        r.set("big", "x" * 10_000)
        r.hset("h", mapping={f"f{i}": "v" * 20 for i in range(1000)})
        r.get("small")
        r.get("small")
        r.get("nosuch")
        memory = r.info("memory")
        for field in ("used_memory", "used_memory_rss", "used_memory_peak", "maxmemory"):
            assert isinstance(memory[field], int), (name, field)
        assert memory["used_memory_peak"] >= memory["used_memory"]
        assert memory["maxmemory"] == 100 * 1024 * 1024
        assert memory["maxmemory_policy"] == "allkeys-lfu"
        assert memory["used_memory_human"].endswith(("K", "M", "G"))
        assert memory["mem_fragmentation_ratio"] > 0
        stats = r.info("stats")
        assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (2, 1), name
        assert stats["evicted_keys"] == 0 and stats["expired_keys"] == 0
        assert r.object("freq", "small") >= 5
        usage[name] = {key: r.memory_usage(key) for key in ("small", "big", "h")}
        assert r.memory_usage("h", samples=0) >= usage[name]["h"] * 0.5
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")
        r.flushall()
    for key in ("small", "big", "h"):
        assert 0.5 <= usage["strata"][key] / usage["redis"][key] <= 2, (key, usage)
