"""Lua scripting end to end: EVAL / EVALSHA / SCRIPT / FUNCTION / FCALL against the real
server with the Python client and redis-cli, side by side with redis-server 7.0 where the
exact replies matter; the applications' uses (redis-py's Lock under contention, a sliding
window rate limiter, the NOSCRIPT fallback); SCRIPT KILL of a busy script; function
libraries surviving restarts through snapshots and the AOF."""
import multiprocessing
import os
import shutil
import subprocess
import threading

import pytest
import redis

from conftest import wait_until
from test_streams import rewrite_aof, started

# (script, keys, args): replies and error texts must equal redis-server's.
CORPUS = [
    ("return 1", [], []), ("return 3.99", [], []), ("return -3.99", [], []), ("return 'x'", [], []),
    ("return true", [], []), ("return false", [], []), ("return nil", [], []),
    ("return {1, 2, 3.7, 'x', nil, 5}", [], []), ("return {ok='fine'}", [], []), ("return {err='bad thing'}", [], []),
    ("return redis.error_reply('My Error')", [], []), ("return redis.status_reply('FINE')", [], []),
    ("return x", [], []), ("x = 1", [], []), ("_G.y = 2", [], []), ("return redis.call('nosuch')", [], []),
    ("return redis.pcall('nosuch')", [], []), ("return redis.call('set', 'k')", [], []),
    ("return redis.call('set', KEYS[1], ARGV[1])", ["str"], ["v"]), ("return redis.call('incr', 'str')", [], []),
    ("return redis.pcall('incr', 'str')", [], []), ("return redis.call('get', KEYS[1])", ["str"], []),
    ("return redis.call('get', 'missing')", [], []), ("return redis.call('get', 'missing') == false", [], []),
    ("return redis.call()", [], []), ("return redis.call('get', {})", [], []),
    ("return redis.sha1hex('')", [], []), ("return redis.sha1hex('abc')", [], []), ("return os.time()", [], []),
    ("return io", [], []), ("return print", [], []), ("return require", [], []), ("return debug", [], []),
    ("syntax error here", [], []), ("error('boom')", [], []), ("error({err='X y'})", [], []),
    ("return redis.call('multi')", [], []), ("return redis.call('eval', 'return 1', 0)", [], []),
    ("#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')", [], []), ("#!lua flags=no-writes,bogus\nreturn 1", [], []),
    ("#!lua\nreturn 1", [], []), ("#!js\nreturn 1", [], []), ("#!lua name=x\nreturn 1", [], []), ("#!lua", [], []),
    ("return cjson.encode({1, 2, {a=3}})", [], []), ("return cjson.decode('[1,2,3]')[2]", [], []),
    ("return bit.band(7, 3)", [], []), ("return bit.tohex(65535)", [], []),
    ("return redis.call('rpush', 'l', 'a', 'b', 'c')", [], []), ("return redis.call('lrange', 'l', 0, -1)", [], []),
    ("redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')", [], []),
    ("redis.call('zadd', 'z', 1.5, 'm') return redis.call('zscore', 'z', 'm')", [], []),
    ("return redis.call('zrange', 'z', 0, -1, 'withscores')", [], []),
    ("redis.setresp(3) return redis.call('hgetall', 'h')", [], []),
    ("redis.setresp(3) return redis.call('zscore', 'z', 'm')", [], []),
    ("redis.setresp(3) return redis.call('get', 'missing') == nil", [], []),
    ("return redis.setresp(4)", [], []), ("return redis.log(99, 'x')", [], []),
    ("return redis.call('select', 1)", [], []), ("return redis.call('ping')", [], []),
    ("return math.floor(2.5) + string.len('abc')", [], []), ("return table.concat({'a', 'b'}, '-')", [], []),
    ("return string.rep('x', 3)", [], []), ("return tostring(nil)", [], []), ("return type(loadstring)", [], []),
    ("local t = {} for i = 1, 5 do t[i] = i * i end return t", [], []),
    ("return {double=1.5}", [], []), ("return {1, {2, {3}}}", [], []),
    ("return redis.call('expire', 'str', 100)", [], []), ("return redis.call('ttl', 'str')", [], []),
]


def run(client, script, keys, args):
    try:
        return client.eval(script, len(keys), *keys, *args)
    except redis.ResponseError as error:
        return ("error", str(error))


def test_scripts_reply_exactly_as_redis(server, redis_server):
    ours, theirs = server.client(), redis_server.client()
    for script, keys, args in CORPUS:
        assert run(ours, script, keys, args) == run(theirs, script, keys, args), script


def test_script_errors_and_arguments_as_redis(server, redis_server):
    for target in (server, redis_server):
        target.client().set("k", "v")
    cases = [
        ["EVAL", "return 1", "-1"], ["EVAL", "return 1", "5", "a"], ["EVAL", "return 1", "abc"], ["EVAL", "return 1"],
        ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"], ["EVALSHA", "short", "0"],
        ["EVAL_RO", "return redis.call('set', 'a', 'b')", "0"], ["EVAL_RO", "return redis.call('get', 'k')", "0"],
        ["EVAL_RO", "#!lua\nreturn 1", "0"], ["SCRIPT", "LOAD", "return 'x'"], ["SCRIPT", "LOAD", "bad bad"],
        ["SCRIPT", "EXISTS", "573cd020e2fc941d149285df8b681959190edd09", "nope"], ["SCRIPT", "FLUSH", "BAD"],
        ["SCRIPT", "KILL"], ["FUNCTION", "KILL"], ["SCRIPT", "NOSUCH"], ["FCALL", "nosuch", "0"], ["FCALL", "f", "x"],
        ["FUNCTION", "DELETE", "nolib"], ["FUNCTION", "RESTORE", "junk"], ["FUNCTION", "LOAD", "return 1"],
        ["FUNCTION", "LOAD", "#!lua name=a\nreturn 1"], ["FUNCTION", "LOAD", "#!lua name=a b=c\nreturn 1"],
        ["FUNCTION", "LOAD", "#!py name=a\nreturn 1"],
        ["FUNCTION", "LOAD", "#!lua name=a\nredis.call('ping')"],
        ["FUNCTION", "LOAD", "#!lua name=a\nredis.register_function('f h', function() return 1 end)"],
        ["FUNCTION", "LOAD", "#!lua name=a\nredis.register_function{function_name='g', callback=function() end, flags={'bad'}}"],
        ["FUNCTION", "LOAD", "#!lua name=a\nx = 1"],
    ]
    for case in cases:
        replies = []
        for target in (server, redis_server):
            try:
                replies.append(target.client().execute_command(*case))
            except redis.ResponseError as error:
                replies.append(("error", str(error)))
        assert replies[0] == replies[1], case


def test_functions_as_redis(server, redis_server):
    library = """#!lua name=lib1
redis.register_function('setter', function(keys, args) return redis.call('set', keys[1], args[1]) end)
local function read(keys) return redis.call('get', keys[1]) end
redis.register_function{function_name='getter', callback=read, flags={'no-writes'}, description='reads'}"""
    replies = []
    for target in (server, redis_server):
        r = target.client()
        got = [r.function_load(library)]
        for command in (["FUNCTION", "LOAD", library], ["FCALL", "setter", "1", "k", "v"], ["FCALL", "getter", "1", "k"],
                        ["FCALL_RO", "getter", "1", "k"], ["FCALL_RO", "setter", "1", "k", "v"],
                        ["FUNCTION", "LIST"], ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "lib*"],
                        ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"], ["FUNCTION", "STATS"],
                        ["FUNCTION", "LOAD", "REPLACE", library], ["FUNCTION", "DELETE", "lib1"], ["FCALL", "getter", "1", "k"]):
            try:
                got.append(r.execute_command(*command))
            except redis.ResponseError as error:
                got.append(("error", str(error)))
        replies.append([normalize(reply) for reply in got])
    assert replies[0] == replies[1]


def function_name(item):
    """The name of a function entry of FUNCTION LIST, parsed to a dict or left a flat
    list (`name <name> description ...`); None for anything else."""
    if isinstance(item, dict):
        return item.get(b"name")
    if isinstance(item, list) and len(item) >= 2 and item[0] == b"name":
        return item[1]
    return None


def normalize(reply):
    """FUNCTION LIST's functions in name order (Redis lists them in hash order)."""
    if isinstance(reply, list):
        items = [normalize(item) for item in reply]
        if items and all(function_name(item) is not None for item in items):
            return sorted(items, key=function_name)
        return items
    if isinstance(reply, dict):
        return {key: normalize(value) for key, value in reply.items()}
    return reply


def test_function_dump_restores_in_both_directions(server, redis_server):
    ours, theirs = server.client(), redis_server.client()
    ours.function_load("#!lua name=ours\nredis.register_function('o', function() return 'ours' end)")
    theirs.function_load("#!lua name=theirs\nredis.register_function('t', function() return 'theirs' end)")
    ours_dump, theirs_dump = ours.function_dump(), theirs.function_dump()
    assert ours.function_restore(theirs_dump)
    assert theirs.function_restore(ours_dump)
    for r in (ours, theirs):
        assert r.fcall("o", 0) == b"ours" and r.fcall("t", 0) == b"theirs"
    with pytest.raises(redis.ResponseError, match="already exists"):
        ours.function_restore(theirs_dump)
    assert ours.function_restore(theirs_dump, "REPLACE")
    assert ours.function_restore(theirs_dump, "FLUSH")
    assert [lib[1] for lib in ours.function_list()] == [b"theirs"]


def test_resp3_conversions(server, redis_server):
    for target in (server, redis_server):
        target.client().hset("h", "f", "v")
    cases = ["return {double=3.5}", "redis.setresp(3) return true", "redis.setresp(3) return false", "return {map={a=1}}",
             "return {set={a=true}}", "return redis.call('hgetall', 'h')", "redis.setresp(3) return redis.call('hgetall', 'h')"]
    for case in cases:
        replies = [t.client(protocol=3).eval(case, 0) for t in (server, redis_server)]
        assert replies[0] == replies[1], case


def test_scripts_are_logged_as_their_effects(start_server):
    server = started(start_server("--appendonly", "yes", "--appendfsync", "always"))
    r = server.client()
    r.eval("redis.call('set', 'a', '1') redis.call('incr', 'a') return redis.call('expire', 'a', 100)", 0)
    r.eval("return redis.call('get', 'a')", 0)
    log = b"".join(open(os.path.join(server.workdir, "appendonlydir", name), "rb").read()
                   for name in sorted(os.listdir(os.path.join(server.workdir, "appendonlydir"))) if name.endswith(".incr.aof"))
    assert b"MULTI" in log and b"EXEC" in log and b"PEXPIREAT" in log
    assert b"redis.call" not in log
    assert b"$4\r\nEVAL\r\n" not in log.upper() and b"$7\r\nEVALSHA\r\n" not in log.upper()


def contend(port, rounds):
    client = redis.Redis(port=port)
    lock = client.lock("resource-lock", timeout=10, blocking_timeout=30, sleep=0.001)
    for _ in range(rounds):
        with lock:
            value = int(client.get("counter") or 0)
            client.set("counter", value + 1)


def test_redis_py_lock_under_contention_from_processes(server):
    processes = [multiprocessing.Process(target=contend, args=(server.port, 150)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    assert int(server.client().get("counter")) == 600


RATE_LIMITER = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return 1
"""


def test_sliding_window_rate_limiter(server):
    r = server.client()
    limiter = r.register_script(RATE_LIMITER)
    # The times passed in are made up (in ms); the window is also the key's real PEXPIRE, so
    # it is long (100 s) for the key not to expire between calls on a loaded machine.
    allowed = [limiter(keys=["rate:user"], args=[1_000_000 + 1000 * i, 100_000, 5, f"req{i}"]) for i in range(10)]
    assert allowed == [1] * 5 + [0] * 5
    # the window slid past the first ones
    assert limiter(keys=["rate:user"], args=[1_101_000, 100_000, 5, "late"]) == 1
    assert r.zcard("rate:user") <= 5
    assert 0 < r.pttl("rate:user") <= 100_000


def test_noscript_fallback_of_clients(server):
    r = server.client()
    script = r.register_script("return redis.call('incr', KEYS[1])")
    assert script(keys=["n"]) == 1  # EVALSHA, NOSCRIPT, then SCRIPT LOAD + EVALSHA
    r.script_flush()
    assert not r.script_exists(script.sha)[0]
    assert script(keys=["n"]) == 2
    with pytest.raises(redis.exceptions.NoScriptError, match="No matching script. Please use EVAL."):
        r.evalsha("0" * 40, 0)


def replies_busy(client):
    """Whether a command on `client` gets the BUSY reply of a running script (before the
    script starts, or while under busy-reply-threshold, it does not)."""
    try:
        client.exists("probe")
    except redis.ResponseError as error:
        if str(error).startswith("BUSY"):
            return True
        raise
    return False


def test_script_kill_of_a_busy_script(start_server):
    server = start_server("--busy-reply-threshold", "200")
    caller = server.client(socket_timeout=30)
    existing = server.client()
    existing.ping()
    probe = server.client()
    probe.ping()
    outcome = {}

    def busy():
        try:
            caller.eval("local i = 0 while true do i = i + 1 end", 0)
        except redis.ResponseError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=busy)
    thread.start()
    wait_until(lambda: replies_busy(probe), message="the script to be reported busy")
    with pytest.raises(redis.ResponseError, match="^BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.$"):
        existing.get("k")
    fresh = server.client()  # a connection made while the script runs
    with pytest.raises(redis.ResponseError, match="^BUSY"):
        fresh.ping()
    assert fresh.script_kill()
    thread.join(30)
    assert outcome["error"].startswith("Script killed by user with SCRIPT KILL...")
    assert existing.ping() and fresh.ping()
    with pytest.raises(redis.ResponseError, match="NOTBUSY"):
        fresh.script_kill()
    assert "Slow script detected" in server.output()


def test_a_script_that_wrote_cannot_be_killed_and_shutdown_nosave_stops_it(start_server):
    server = started(start_server("--busy-reply-threshold", "200", "--appendonly", "yes"))
    caller = server.client(socket_timeout=30)
    probe = server.client()
    probe.ping()
    threading.Thread(target=lambda: _swallow(lambda: caller.eval("redis.call('set', 'w', '1') while true do end", 0)),
                     daemon=True).start()
    wait_until(lambda: replies_busy(probe), message="the script to be reported busy")
    other = server.client()
    with pytest.raises(redis.ResponseError, match="^UNKILLABLE"):
        other.script_kill()
    with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
        other.shutdown()
    _swallow(lambda: other.shutdown(nosave=True))
    assert server.proc.wait(30) == 0
    log = b"".join(open(os.path.join(server.workdir, "appendonlydir", n), "rb").read()
                   for n in os.listdir(os.path.join(server.workdir, "appendonlydir")))
    assert b"\r\nw\r\n" not in log  # the unfinished script's write is not logged


def _swallow(call):
    try:
        call()
    except (redis.ConnectionError, redis.ResponseError):
        pass


def test_runaway_and_memory_hungry_scripts_do_not_take_the_server_down(start_server):
    server = start_server("--lua-heap-limit", "16mb", "--busy-reply-threshold", "100")
    r = server.client()
    with pytest.raises(redis.ResponseError, match="memory"):
        r.eval("local t = {} for i = 1, 100000000 do t[i] = i end return 1", 0)
    with pytest.raises(redis.ResponseError, match="memory"):
        r.eval("return string.rep('x', 1024 * 1024 * 1024)", 0)
    assert r.eval("return 'alive'", 0) == b"alive"
    r.config_set("lua-heap-limit", "0")
    assert r.eval("local t = {} for i = 1, 2000000 do t[i] = i end return #t", 0) == 2000000
    r.config_set("lua-heap-limit", "16mb")
    with pytest.raises(redis.ResponseError, match="memory"):
        r.eval("local t = {} for i = 1, 100000000 do t[i] = i end return 1", 0)
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        r.eval("string.upper = nil", 0)


LIBRARY = "#!lua name=counters\nredis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)"


def test_function_library_survives_restart_through_snapshot_and_aof(start_server, tmp_path):
    snapshot_dir, aof_dir = str(tmp_path / "snap"), str(tmp_path / "aof")
    os.makedirs(snapshot_dir)
    os.makedirs(aof_dir)
    first = start_server("--save", "", workdir=snapshot_dir)
    first.client().function_load(LIBRARY)
    first.client().fcall("bump", 1, "c")
    first.client().save()
    first.stop()
    second = started(start_server("--save", "", workdir=snapshot_dir))
    assert second.client().fcall("bump", 1, "c") == 2
    second.stop()

    first = started(start_server("--appendonly", "yes", workdir=aof_dir))
    first.client().function_load(LIBRARY)
    first.client().fcall("bump", 1, "c")
    first.proc.kill()  # no shutdown: the incremental log must carry it
    first.proc.wait()
    second = started(start_server("--appendonly", "yes", workdir=aof_dir))
    assert second.client().fcall("bump", 1, "c") == 2
    rewrite_aof(second.client())
    second.client().function_load(LIBRARY.replace("counters", "other").replace("bump", "other"))
    second.stop()
    third = started(start_server("--appendonly", "yes", workdir=aof_dir))
    assert third.client().fcall("bump", 1, "c") == 3  # from the rewritten base
    assert third.client().fcall("other", 1, "c") == 4  # from the new incremental file


def test_redis_loads_the_functions_of_a_strata_snapshot(start_server, tmp_path):
    strata = start_server("--save", "")
    strata.client().function_load(LIBRARY)
    strata.client().set("c", 41)
    strata.client().save()
    target = tmp_path / "redis"
    target.mkdir()
    with open(target / "dump.rdb", "wb") as out:
        subprocess.run(["lz4", "-dc", os.path.join(strata.workdir, "dump.sdb")], stdout=out, check=True)
    redis_server = start_server("--save", "", "--appendonly", "no", binary=shutil.which("redis-server"), workdir=str(target))
    assert redis_server.client().fcall("bump", 1, "c") == 42
