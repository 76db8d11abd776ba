"""MEMORY DOCTOR/MALLOC-STATS/PURGE/HELP, MODULE and LOLWUT side by side with Redis 7.0."""
import shutil

import pytest
import redis


@pytest.fixture
def pair(start_server):
    strata = start_server()
    reference = start_server("--save", "", "--appendonly", "no", binary=shutil.which("redis-server"))
    return strata.client(decode_responses=True), reference.client(decode_responses=True)


def reply_of(client, *args):
    try:
        return client.execute_command(*args)
    except redis.ResponseError as error:
        return ("error", str(error))


@pytest.mark.parametrize("args", [
    ("MEMORY", "HELP"), ("MEMORY", "DOCTOR"), ("MEMORY", "PURGE"), ("MEMORY", "NOSUCH"), ("MEMORY", "DOCTOR", "x"),
    ("MODULE", "LIST"), ("MODULE", "HELP"), ("MODULE", "LOAD", "/nonexistent.so"), ("MODULE", "UNLOAD", "x"),
    ("MODULE", "LOADEX", "/x.so"), ("MODULE",), ("MODULE", "NOSUCH"),
    # Schotter's first two rows are never displaced: these drawings are deterministic.
    ("LOLWUT", "VERSION", "5", "20", "3", "2"), ("LOLWUT", "VERSION", "5", "66", "8", "2"),
    ("LOLWUT", "VERSION", "5", "1", "1", "1"), ("LOLWUT", "VERSION", "5", "0", "-5", "1"),
    ("LOLWUT", "VERSION", "x"), ("LOLWUT", "VERSION", "5", "x"),
])
def test_replies_as_redis(pair, args):
    strata, reference = pair
    assert reply_of(strata, *args) == reply_of(reference, *args)


def test_lolwut_default_and_malloc_stats(pair):
    for client in pair:
        art = client.execute_command("LOLWUT")
        assert art.rstrip("\n").endswith("Redis ver. 7.0.15")
        big = client.execute_command("LOLWUT", "VERSION", "5", "5000", "500", "500")  # clamped, bounded
        assert len(big) < 10_000_000
        assert client.execute_command("MEMORY", "MALLOC-STATS").startswith("___ Begin jemalloc statistics ___")
