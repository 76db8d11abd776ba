"""Django's memcached cache backend (`PyMemcacheCache`: pymemcache's `HashClient` with the
pickle serde) against Strata's memcached listener, and, with the same assertions, against
Debian's memcached 1.6.18 (`-t 1`): every test that takes `node` or `start_node` runs
once per server, so a difference from memcached fails here before it surprises a Django
site. The shape follows Django's own memcached test-suite (tests/cache/tests.py): data
types and pymemcache's flags, Django's timeouts (None is forever, 0 is already expired,
more than 30 days is sent as a Unix time), add, get_or_set, the *_many calls, incr/decr,
touch, has_key, delete, clear, key validation, versions and prefixes, a value over the
item limit, the connection closed at the end of a request, and a cache over two servers.
Expiry and TTLs are observed with deadlines and `mg <key> t`, never by sleeping. One
Strata-only test reads Django's values over RESP."""
import os
import re
import subprocess
import time
from contextlib import ExitStack

import django
import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import InvalidCacheKey
from django.core.signals import request_finished
from django.test.utils import override_settings
from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheClientError, MemcacheServerError

from conftest import free_port, wait_until
from test_memcached import Session, connects, memcached_binary

if not settings.configured:
    settings.configure()
django.setup()

BACKEND = "django.core.cache.backends.memcached.PyMemcacheCache"
THIRTY_DAYS = 60 * 60 * 24 * 30
# pymemcache's serde flags (pymemcache.serde).
FLAG_BYTES, FLAG_PICKLE, FLAG_INTEGER, FLAG_TEXT = 0, 1, 2, 16


class Node:
    """One memcached-speaking server: Strata (`server` is its conftest `Server`, for RESP)
    or memcached (`server` is None); `port` is the memcached port."""

    def __init__(self, kind, port, server=None):
        self.kind, self.port, self.server = kind, port, server

    @property
    def location(self):
        return f"127.0.0.1:{self.port}"

    def ask(self, request):
        session = Session(self.port)
        try:
            return session.ask(request)
        finally:
            session.close()

    def stats(self):
        lines = self.ask(b"stats\r\n").splitlines()
        return {parts[1].decode(): parts[2] for parts in (line.split(b" ") for line in lines) if parts[0] == b"STAT"}

    def stat(self, name):
        return int(self.stats()[name])

    def raw(self, key):
        """(flags, data) of `key` as the server holds it, or None."""
        answer = self.ask(b"get " + key.encode() + b"\r\n")
        if answer == b"END\r\n":
            return None
        match = re.fullmatch(rb"VALUE \S+ (\d+) (\d+)\r\n(.*)\r\nEND\r\n", answer, re.DOTALL)
        assert match and int(match.group(2)) == len(match.group(3)), answer
        return int(match.group(1)), match.group(3)

    def ttl(self, key):
        """The seconds `key` has left (-1: no expiry) by `mg <key> t`, or None when missing."""
        answer = self.ask(b"mg " + key.encode() + b" t\r\n")
        if answer == b"EN\r\n":
            return None
        match = re.fullmatch(rb"HD t(-?\d+)\r\n", answer)
        assert match, answer
        return int(match.group(1))


def start_strata(start_server):
    port = free_port()
    server = start_server("--memcached-port", str(port), "--save", "", "--appendonly", "no")
    wait_until(lambda: connects(port), message="strata's memcached listener")
    return Node("strata", port, server)


@pytest.fixture
def start_memcached():
    """Factory: a real memcached on a free loopback port, stopped by PID afterwards."""
    procs = []

    def start():
        port = free_port()
        # `-u` names the user to run as when started as root (CI runs as root).
        user = ["-u", "root"] if os.geteuid() == 0 else []
        proc = subprocess.Popen([memcached_binary(), "-p", str(port), "-U", "0", "-t", "1", "-l", "127.0.0.1", *user],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_until(lambda: connects(port) or proc.poll() is not None, message="memcached listens")
        assert proc.poll() is None, "memcached exited at start"
        return Node("memcached", port)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait()


@pytest.fixture(params=["strata", "memcached"])
def start_node(request, start_server, start_memcached):
    """Factory of nodes of one kind: the test runs once with Strata, once with memcached."""
    if request.param == "strata":
        return lambda: start_strata(start_server)
    return start_memcached


@pytest.fixture
def node(start_node):
    return start_node()


@pytest.fixture
def make_cache():
    """Factory: make_cache(*nodes, **params) -> Django's `caches["default"]`, configured
    as a site would (`CACHES`), with `BACKEND` PyMemcacheCache and `LOCATION` the nodes;
    closed and the settings restored afterwards."""
    made = []
    with ExitStack() as stack:
        def make(*nodes, **params):
            location = ";".join(n.location for n in nodes)
            stack.enter_context(override_settings(CACHES={"default": {"BACKEND": BACKEND, "LOCATION": location,
                                                                       **params}}))
            cache = caches["default"]
            made.append(cache)
            return cache

        yield make
        for cache in made:
            cache.close()


@pytest.fixture
def cache(node, make_cache):
    return make_cache(node)


def test_values_of_each_type_round_trip_with_pymemcaches_flags(node, cache):
    values = {
        "str": "hello",
        "bytes": b"\x00\xff binary",
        "framing": b"a\r\nEND\r\nVALUE x 0 1\r\n",
        "int": 42,
        "negative": -7,
        "huge": 2 ** 70,
        "float": 1.5,
        "bool": True,
        "none": None,
        "dict": {"a": 1, "b": [1, 2]},
        "list": [1, "two", b"three"],
        "tuple": (1, 2),
        "set": {1, 2, 3},
        "empty str": "",
        "empty bytes": b"",
    }
    for name, value in values.items():
        cache.set(name.replace(" ", "_"), value)
    for name, value in values.items():
        got = cache.get(name.replace(" ", "_"), default="missing")
        assert got == value and type(got) is type(value), name
    assert node.raw(cache.make_key("str")) == (FLAG_TEXT, b"hello")
    assert node.raw(cache.make_key("bytes")) == (FLAG_BYTES, b"\x00\xff binary")
    assert node.raw(cache.make_key("framing")) == (FLAG_BYTES, values["framing"])
    assert node.raw(cache.make_key("int")) == (FLAG_INTEGER, b"42")
    assert node.raw(cache.make_key("huge")) == (FLAG_INTEGER, str(2 ** 70).encode())
    assert node.raw(cache.make_key("empty_str")) == (FLAG_TEXT, b"")
    flags, data = node.raw(cache.make_key("dict"))
    assert flags == FLAG_PICKLE and data.startswith(b"\x80")
    assert node.raw(cache.make_key("bool"))[0] == FLAG_PICKLE  # bool is not int to pymemcache


def test_unicode_keys_and_values(node, cache):
    stuff = {
        "ascii": "ascii_value",
        "unicode_ascii": "Iñtërnâtiônàlizætiøn1",
        "Iñtërnâtiônàlizætiøn": "Iñtërnâtiônàlizætiøn2",
        "ascii2": {"x": 1},
    }
    for key, value in stuff.items():
        cache.set(key, value)
        assert cache.get(key) == value, key
    assert cache.get_many(stuff.keys()) == stuff
    assert node.raw(cache.make_key("Iñtërnâtiônàlizætiøn")) == (FLAG_TEXT, "Iñtërnâtiônàlizætiøn2".encode())
    for key in stuff:
        assert cache.delete(key) is True, key
    assert cache.get_many(stuff.keys()) == {}


def test_a_missing_key_gives_the_default_and_a_stored_none_does_not(cache):
    assert cache.get("missing") is None
    assert cache.get("missing", default="fallback") == "fallback"
    assert cache.has_key("missing") is False and "missing" not in cache
    cache.set("none", None)
    assert cache.get("none", default="fallback") is None
    assert cache.has_key("none") is True and "none" in cache


def test_a_timeout_of_one_second_expires_the_item(cache):
    cache.set("forever", "kept", timeout=None)
    for key in ("expire1", "expire2", "expire3"):
        cache.set(key, "very quickly", timeout=1)
    wait_until(lambda: cache.get("expire1") is None, timeout=10, message="a one-second item to expire")
    wait_until(lambda: cache.get("expire2") is None and cache.get("expire3") is None, timeout=10,
               message="the other one-second items to expire")
    assert cache.add("expire2", "newvalue") is True
    assert cache.get("expire2") == "newvalue"
    assert cache.has_key("expire3") is False
    assert cache.get("forever") == "kept"


def test_timeouts_become_the_items_expiry(node, cache):
    cache.set("default", "v")  # Django's default TIMEOUT, 300 s
    cache.set("forever", "v", timeout=None)
    cache.set("float", "v", timeout=100.9)  # Django truncates to 100
    cache.set_many({"many1": "v", "many2": "v"}, timeout=60)
    assert 290 <= node.ttl(cache.make_key("default")) <= 300
    assert node.ttl(cache.make_key("forever")) == -1
    assert 90 <= node.ttl(cache.make_key("float")) <= 100
    assert 50 <= node.ttl(cache.make_key("many1")) <= 60 and 50 <= node.ttl(cache.make_key("many2")) <= 60
    assert node.ttl(cache.make_key("missing")) is None


def test_timeout_zero_means_already_expired(node, cache):
    cache.set("key1", "eggs", timeout=None)
    cache.set("key1", "eggs", 0)  # replaces the old value with one that is already gone
    assert cache.get("key1") is None
    assert cache.add("key2", "ham", 0) is True
    assert cache.get("key2") is None
    assert cache.set_many({"key3": "sausage", "key4": "lobster bisque"}, 0) == []
    assert cache.get_many(["key3", "key4"]) == {}
    cache.set("key5", "belgian fries", timeout=100)
    assert cache.touch("key5", timeout=0) is True
    assert cache.get("key5") is None
    assert node.raw(cache.make_key("key5")) is None


def test_timeouts_past_thirty_days_are_sent_as_unix_times(node, make_cache):
    cache = make_cache(node)
    cache.set("key1", "eggs", THIRTY_DAYS + 1)
    assert cache.get("key1") == "eggs"
    assert cache.add("key2", "ham", THIRTY_DAYS + 1) is True
    cache.set_many({"key3": "sausage", "key4": "lobster bisque"}, THIRTY_DAYS + 1)
    assert cache.get_many(["key2", "key3", "key4"]) == {"key2": "ham", "key3": "sausage", "key4": "lobster bisque"}
    for key in ("key1", "key2", "key3", "key4"):
        assert THIRTY_DAYS - 30 <= node.ttl(cache.make_key(key)) <= THIRTY_DAYS + 1, key
    year = 60 * 60 * 24 * 365
    far = make_cache(node, TIMEOUT=year)  # Django's test_default_far_future_timeout
    far.set("infinite_foo", "bar")
    assert far.get("infinite_foo") == "bar"
    assert year - 30 <= node.ttl(far.make_key("infinite_foo")) <= year
    never = make_cache(node, TIMEOUT=None)  # test_default_never_expiring_timeout
    never.set("infinite_foo", "baz")
    assert never.get("infinite_foo") == "baz"
    assert node.ttl(never.make_key("infinite_foo")) == -1


def test_add_does_not_overwrite(cache):
    assert cache.add("addkey1", "value") is True
    assert cache.add("addkey1", "newvalue") is False
    assert cache.get("addkey1") == "value"
    cache.delete("addkey1")
    assert cache.add("addkey1", "newvalue") is True
    assert cache.get("addkey1") == "newvalue"


def test_get_or_set_stores_the_default_only_when_missing(cache):
    assert cache.get_or_set("projector", 42) == 42
    assert cache.get("projector") == 42
    assert cache.get_or_set("projector", 43) == 42
    assert cache.get_or_set("computed", lambda: {"from": "callable"}) == {"from": "callable"}
    assert cache.get_or_set("computed", lambda: pytest.fail("called for a cached key")) == {"from": "callable"}
    assert cache.get_or_set("null", None) is None
    assert cache.has_key("null") is True  # a stored None, not a miss


def test_set_many_get_many_and_delete_many(node, cache):
    data = {"a": "a", "b": b"b", "c": 3, "d": [4]}
    assert cache.set_many(data) == []
    assert cache.get_many(["a", "b", "c", "d", "missing"]) == data
    assert node.stat("curr_items") == 4
    cache.delete_many(["a", "b", "missing"])
    assert cache.get_many(["a", "b", "c", "d"]) == {"c": 3, "d": [4]}
    assert cache.get_many([]) == {}


def test_delete_reports_whether_the_key_existed(cache):
    cache.set("key1", "spam")
    cache.set("key2", "eggs")
    assert cache.delete("key1") is True
    assert cache.get("key1") is None
    assert cache.delete("key1") is False
    assert cache.get("key2") == "eggs"


def test_incr_and_decr(node, cache):
    cache.set("answer", 41)
    assert cache.incr("answer") == 42
    assert cache.get("answer") == 42  # the integer flag survives incr
    assert cache.incr("answer", 10) == 52
    assert cache.incr("answer", -10) == 42
    assert cache.decr("answer") == 41
    assert cache.decr("answer", 10) == 31
    assert cache.decr("answer", -10) == 41
    assert node.raw(cache.make_key("answer")) == (FLAG_INTEGER, b"41")
    cache.set("hundred", 100)
    assert cache.decr("hundred", 91) == 9
    assert node.raw(cache.make_key("hundred")) == (FLAG_INTEGER, b"9  ")  # memcached pads in place
    assert cache.get("hundred") == 9
    assert cache.decr("hundred", 100) == 0  # decr stops at 0
    cache.set("top", 2 ** 64 - 1)
    assert cache.incr("top") == 0  # incr wraps at 2^64
    for call in (cache.incr, cache.decr):
        with pytest.raises(ValueError, match="not found"):
            call("does_not_exist")
        with pytest.raises(ValueError, match="not found"):
            call("does_not_exist", -1)
    assert cache.has_key("does_not_exist") is False
    cache.set("null", None)
    with pytest.raises(MemcacheClientError, match="non-numeric"):
        cache.incr("null")
    cache.set("huge", 2 ** 70)
    with pytest.raises(MemcacheClientError, match="non-numeric"):
        cache.incr("huge")


def test_touch_sets_a_new_timeout(node, cache):
    cache.set("expire1", "very quickly", timeout=2)  # memcached's clock ticks by seconds: 2 outlives the touch
    assert cache.touch("expire1", timeout=400) is True
    assert 390 <= node.ttl(cache.make_key("expire1")) <= 400
    assert cache.touch("expire1", timeout=None) is True
    assert node.ttl(cache.make_key("expire1")) == -1
    assert cache.touch("expire1") is True  # Django's default TIMEOUT
    assert 290 <= node.ttl(cache.make_key("expire1")) <= 300
    assert node.raw(cache.make_key("expire1"))[1] == b"very quickly"
    assert cache.touch("nonexistent") is False
    assert node.raw(cache.make_key("nonexistent")) is None


def test_touch_keeps_the_flags_that_tell_djangos_types_apart(node, cache):
    cache.set_many({"text": "words", "number": 7, "object": {"a": 1}}, timeout=100)
    assert cache.touch("text", timeout=400) is True
    assert cache.touch("number", timeout=None) is True
    assert cache.touch("object") is True
    assert node.raw(cache.make_key("text")) == (FLAG_TEXT, b"words")
    assert cache.get_many(["text", "number", "object"]) == {"text": "words", "number": 7, "object": {"a": 1}}


def test_clear_empties_the_cache(node, cache):
    cache.set_many({"key1": "spam", "key2": "eggs"})
    other = Client(("127.0.0.1", node.port))
    other.set("not-djangos", b"x", noreply=False)
    cache.clear()
    assert cache.get_many(["key1", "key2"]) == {}
    assert other.get("not-djangos") is None  # flush_all, as Django documents
    other.close()
    cache.set("key1", "after")
    assert cache.get("key1") == "after"


def test_invalid_keys_are_refused_before_reaching_the_server(node, cache):
    before = node.stats()
    with pytest.raises(InvalidCacheKey, match="characters that will cause errors if used with memcached"):
        cache.set("key with spaces", "value")
    with pytest.raises(InvalidCacheKey, match="characters that will cause errors"):
        cache.get("key\nwith\ncontrol")
    too_long = "a" * 248  # Django's key is ":1:" + this: 251 bytes
    with pytest.raises(InvalidCacheKey, match=r"\(longer than 250\)"):
        cache.set(too_long, "value")
    with pytest.raises(InvalidCacheKey):
        cache.get_many(["fine", "not fine"])
    after = node.stats()
    for name in ("cmd_get", "cmd_set", "curr_items"):
        assert after[name] == before[name], name
    longest = "a" * 247
    cache.set(longest, "value")  # 250 bytes on the wire: the longest key memcached takes
    assert cache.get(longest) == "value"
    assert node.raw(cache.make_key(longest)) == (FLAG_TEXT, b"value")


def test_a_value_over_the_item_limit_is_refused_and_the_old_value_removed(node, cache):
    nearly = b"n" * 1_000_000
    cache.set("big", nearly)
    assert cache.get("big") == nearly
    cache.set("small_value", "a")
    assert cache.get("small_value") == "a"
    with pytest.raises(MemcacheServerError, match="object too large for cache"):
        cache.set("small_value", "a" * (2 ** 20 + 1))
    assert cache.get("small_value") is None  # Django's test_memcached_deletes_key_on_failed_set
    assert node.stat("store_too_large") == 1
    cache.set("small_value", "b")  # the connection is still in step
    assert cache.get("small_value") == "b"


def test_versions_and_the_key_prefix_name_the_item(node, make_cache):
    cache = make_cache(node, KEY_PREFIX="site", VERSION=2)
    cache.set("answer", 42)
    assert node.raw("site:2:answer") == (FLAG_INTEGER, b"42")
    assert cache.get("answer", version=1) is None
    assert cache.incr_version("answer") == 3
    assert cache.get("answer") is None and cache.get("answer", version=3) == 42
    assert node.raw("site:2:answer") is None and node.raw("site:3:answer") == (FLAG_INTEGER, b"42")
    assert cache.decr_version("answer", version=3) == 2
    assert cache.get("answer") == 42
    with pytest.raises(ValueError):
        cache.incr_version("does_not_exist")


def test_the_end_of_a_request_closes_the_connection_and_the_next_reconnects(node, cache):
    cache.set("key", "value")
    watcher = Session(node.port)  # one connection for the stats, so that only the cache's come and go

    def total_connections():
        return int(re.search(rb"STAT total_connections (\d+)\r\n", watcher.ask(b"stats\r\n")).group(1))

    opened = total_connections()
    assert cache.get("key") == "value"
    assert total_connections() == opened  # the connection is kept between calls
    request_finished.send(sender=None)  # django.core.cache closes the caches at the end of each request
    assert cache.get("key") == "value"
    assert total_connections() == opened + 1  # a new one for the next request
    watcher.close()


def test_a_cache_over_two_servers_spreads_the_keys(start_node, make_cache):
    nodes = [start_node(), start_node()]
    cache = make_cache(*nodes)  # LOCATION "127.0.0.1:p1;127.0.0.1:p2"
    data = {f"key{i}": i for i in range(200)}
    assert cache.set_many(data) == []
    for i in range(200, 220):
        cache.set(f"key{i}", i)
        data[f"key{i}"] = i
    assert cache.get_many(data.keys()) == data
    counts = [n.stat("curr_items") for n in nodes]
    assert sum(counts) == len(data) and min(counts) > 40, counts
    for n, count in zip(nodes, counts):
        if n.server is not None:
            assert n.server.client().dbsize() == count
    # Each key is on the one node HashClient picks for it, and on no other.
    ring = cache._cache
    for n in nodes:
        direct = Client(("127.0.0.1", n.port))
        held = direct.get_many([cache.make_key(k) for k in data])
        direct.close()
        expected = {cache.make_key(k) for k in data if ring._get_client(cache.make_key(k)).server[1] == n.port}
        assert set(held) == expected and len(held) == n.stat("curr_items")
    assert cache.incr("key7", 3) == 10 and cache.get("key7") == 10
    assert cache.delete("key8") is True and cache.get("key8") is None
    cache.clear()
    assert cache.get_many(data.keys()) == {}
    for n in nodes:
        if n.server is not None:
            assert n.server.client().dbsize() == 0


def test_django_values_are_strata_strings_over_resp(start_server, make_cache):
    node = start_strata(start_server)
    r = node.server.client()
    cache = make_cache(node)
    cache.set("greeting", "héllo wörld")
    assert r.get(":1:greeting") == "héllo wörld".encode()
    assert node.server.cli("GET", ":1:greeting") == "héllo wörld\n".encode()
    assert 290 <= r.ttl(":1:greeting") <= 300
    cache.set("raw", b"\x00\r\nbytes\xff", timeout=None)
    assert r.get(":1:raw") == b"\x00\r\nbytes\xff" and r.ttl(":1:raw") == -1
    cache.set("year", "v", 60 * 60 * 24 * 365)
    assert abs(r.pexpiretime(":1:year") / 1000 - (time.time() + 60 * 60 * 24 * 365)) < 30
    cache.set("counter", 10)
    assert r.incr(":1:counter") == 11
    assert cache.get("counter") == b"11"  # a RESP write leaves flags 0: pymemcache reads bytes
    r.set(":1:from-resp", "plain")
    assert cache.get("from-resp") == b"plain"
    assert cache.get_many(["greeting", "from-resp"]) == {"greeting": "héllo wörld", "from-resp": b"plain"}
    assert cache.delete("from-resp") is True and r.exists(":1:from-resp") == 0
    cache.clear()
    assert r.dbsize() == 0
