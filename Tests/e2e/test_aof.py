"""The append-only file with real processes: kill -9 under `appendfsync always` loses no
acknowledged write and never half a MULTI/EXEC; kill -9 during a rewrite leaves a valid
manifest; a full disk refuses writes (MISCONF, INFO) instead of losing them and service
resumes when space returns; redis-server 7.0 starts from a Strata AOF directory and
Strata from one Redis wrote; a truncated tail is cut and reported; damage in the middle
stops start-up naming the file, the offset and the repair command; an old single-file
appendonly.aof is upgraded; CONFIG SET appendonly, BGREWRITEAOF, automatic rewrites,
timestamps, and the logged effect forms."""
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from conftest import ROOT, SERVER, fill, wait_blocked, wait_until
from test_snapshots import contents, populate, same_contents, wait_loaded, wait_next_second

DUMP = os.environ.get("STRATA_DUMP", os.path.join(ROOT, ".build", "release", "strata-dump"))
AOF = ("--appendonly", "yes", "--save", "")


def aof_dir(server):
    return os.path.join(server.workdir, "appendonlydir")


def manifest(server):
    with open(os.path.join(aof_dir(server), "appendonly.aof.manifest")) as f:
        return f.read()


def incr_path(server):
    last = [line.split()[1] for line in manifest(server).splitlines() if line.endswith("type i")][-1]
    return os.path.join(aof_dir(server), last)


def kill9(server):
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()


def wait_rewrite(r, timeout=120):
    """Waits until no AOF rewrite runs or is scheduled; returns `INFO persistence` then."""
    def finished():
        info = r.info("persistence")
        done = info["aof_rewrite_in_progress"] == 0 and info["aof_rewrite_scheduled"] == 0
        return info if done else None

    return wait_until(finished, timeout, "the AOF rewrite to finish")


def redis_binary():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    return binary


# -- crash safety ---------------------------------------------------------------------------


def test_kill_9_under_appendfsync_always_loses_no_acknowledged_write(start_server):
    workdir = tempfile.mkdtemp(prefix="strata-aof-crash-")
    try:
        carried = [0] * 4  # the counters as the previous run left them on disk
        for run in range(20):
            strata = start_server(*AOF, "--appendfsync", "always", workdir=workdir)
            wait_loaded(strata.client())  # the writers would get -LOADING while it replays the log
            stop = threading.Event()
            acked = [dict(counter=carried[t], keys=[], pairs=[]) for t in range(4)]

            def writer(t):
                # No retries: a command is sent once, so at most one INCR is in flight, and
                # a writer ends as soon as the server is killed (redis-py's default retries
                # with back-off took ~10 s each time).
                r = strata.client(socket_timeout=10, retry=Retry(NoBackoff(), 0))
                i = 0
                try:
                    while not stop.is_set():
                        i += 1
                        acked[t]["counter"] = r.incr(f"counter:{t}")
                        key = f"key:{run}:{t}:{i}"
                        r.set(key, i)
                        acked[t]["keys"].append(key)
                        pipe = r.pipeline(transaction=True)
                        pipe.set(f"a:{run}:{t}:{i}", i)
                        pipe.set(f"b:{run}:{t}:{i}", i)
                        pipe.execute()
                        acked[t]["pairs"].append(i)
                except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
                    pass

            threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
            for thread in threads:
                thread.start()
            wait_until(lambda: all(a["pairs"] for a in acked), 30, "every writer to have its writes acknowledged")
            # Deliberate chaos, not a wait for the server: kill -9 at an arbitrary moment
            # of the writers' traffic.
            time.sleep(random.uniform(0.1, 0.6))
            kill9(strata)
            stop.set()
            for thread in threads:
                thread.join()
            again = start_server(*AOF, "--appendfsync", "always", workdir=workdir)
            r = again.client()
            wait_loaded(r)
            for t in range(4):
                counter = int(r.get(f"counter:{t}") or 0)
                # Every acknowledged INCR is there; at most the one in flight besides.
                assert acked[t]["counter"] <= counter <= acked[t]["counter"] + 1, (run, t)
                carried[t] = counter
                if acked[t]["keys"]:
                    assert r.exists(*acked[t]["keys"]) == len(acked[t]["keys"]), (run, t)
                last = (acked[t]["pairs"] or [0])[-1]
                for i in range(1, last + 3):
                    a, b = r.exists(f"a:{run}:{t}:{i}"), r.exists(f"b:{run}:{t}:{i}")
                    assert a == b, ("half a transaction", run, t, i)
                    if i <= last:
                        assert a == 1, (run, t, i)
            assert again.stop() == 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_kill_9_during_a_rewrite_keeps_every_acknowledged_write(start_server):
    strata = start_server(*AOF, "--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "0")
    r = strata.client()
    fill(r, 1_000_000, "old:", "x" * 40)
    killed_mid_rewrite = 0
    written = 0
    for delay in (0.0, 0.1, 0.3):
        r.bgrewriteaof()
        # Deliberate: kill -9 at a few points of the rewrite (at once, early, later), not a
        # wait for the server; the assertion at the end needs one of them mid-rewrite.
        time.sleep(delay)
        for _ in range(200):
            written += 1
            r.set(f"new:{written}", written)
        in_progress = r.info("persistence")["aof_rewrite_in_progress"] == 1
        kill9(strata)
        killed_mid_rewrite += in_progress
        strata = start_server(*AOF, "--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "0",
                              workdir=strata.workdir)
        r = strata.client()
        wait_loaded(r)
        assert r.dbsize() == 1_000_000 + written
        assert r.get(f"new:{written}") == str(written).encode()
        assert not [n for n in os.listdir(aof_dir(strata)) if n.startswith("temp-")]
        listed = {line.split()[1] for line in manifest(strata).splitlines()}
        assert set(os.listdir(aof_dir(strata))) == listed | {"appendonly.aof.manifest"}
    assert killed_mid_rewrite >= 1


def fill_disk(workdir, leave):
    """Fills the file system of `workdir` up to `leave` free bytes; returns the filler."""
    path = os.path.join(workdir, "filler")
    st = os.statvfs(workdir)
    free = st.f_bavail * st.f_frsize
    with open(path, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return path


def test_full_disk_refuses_writes_and_recovers(start_server):
    workdir = tempfile.mkdtemp(prefix="strata-aof-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", workdir], check=True)
    try:
        strata = start_server(*AOF, "--auto-aof-rewrite-percentage", "0", workdir=workdir)
        r = strata.client()
        acked = []
        for i in range(300):
            r.set(f"fill:{i}", os.urandom(4000).hex())
            acked.append(i)
        # Room for appends, not for a new 2.4 MB base: the rewrite fails cleanly.
        filler = fill_disk(workdir, 600_000)
        r.execute_command("BGREWRITEAOF")
        info = wait_rewrite(r)
        assert info["aof_last_bgrewrite_status"] == "err"
        assert not [n for n in os.listdir(aof_dir(strata)) if n.startswith("temp-")]
        assert r.set("still", "writable") is True
        # Appends until the disk is full: refused, never acknowledged and lost.
        with pytest.raises(redis.ResponseError, match="^MISCONF Errors writing to the AOF file: No space left"):
            for i in range(300, 10_000):
                r.set(f"fill:{i}", os.urandom(4000).hex())
                acked.append(i)
        info = r.info("persistence")
        assert info["aof_last_write_status"] == "err"
        assert "No space left on device" in strata.output()
        assert r.get("fill:0") is not None  # reads are served
        os.unlink(filler)
        wait_until(lambda: r.info("persistence")["aof_last_write_status"] == "ok", 30, "AOF writes to resume")
        assert r.set("after", "space") is True
        r.execute_command("BGREWRITEAOF")
        assert wait_rewrite(r)["aof_last_bgrewrite_status"] == "ok"
        assert r.set("after2", "rewrite") is True
        kill9(strata)
        again = start_server(*AOF, workdir=workdir)
        r = again.client()
        wait_loaded(r)
        assert r.exists(*[f"fill:{i}" for i in acked]) == len(acked)
        assert r.get("after") == b"space" and r.get("after2") == b"rewrite" and r.get("still") == b"writable"
        again.stop()
    finally:
        subprocess.run(["umount", "-l", workdir], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def test_full_disk_under_always_holds_the_reply_until_the_write_is_on_disk(start_server):
    workdir = tempfile.mkdtemp(prefix="strata-aof-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", workdir], check=True)
    try:
        strata = start_server(*AOF, "--appendfsync", "always", "--auto-aof-rewrite-percentage", "0",
                              workdir=workdir)
        r = strata.client()
        filler = fill_disk(workdir, 20_000)
        result = {}

        def held_write():
            result["reply"] = strata.client(socket_timeout=30).set("held", "x" * 100_000)

        thread = threading.Thread(target=held_write)
        thread.start()
        # The held write reached the disk and failed there: from then on it is refused.
        wait_until(lambda: r.info("persistence")["aof_last_write_status"] == "err", 30,
                   "the held write to fail on the full disk")
        assert thread.is_alive(), "a write that is not on disk must not be acknowledged"
        with pytest.raises(redis.ResponseError, match="^MISCONF Errors writing to the AOF file"):
            r.set("other", "x")
        assert r.info("persistence")["aof_last_write_status"] == "err"
        os.unlink(filler)
        thread.join(30)
        assert result.get("reply") is True
        assert r.set("other", "x") is True
        kill9(strata)
        again = start_server(*AOF, workdir=workdir)
        wait_loaded(again.client())
        assert again.client().get("held") == b"x" * 100_000
        again.stop()
    finally:
        subprocess.run(["umount", "-l", workdir], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


# -- interoperability with redis-server ---------------------------------------------------


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_starts_from_a_strata_aof_directory(start_server, preamble):
    strata = start_server(*AOF, "--snapshot-compression", "none", "--aof-use-rdb-preamble", preamble)
    r = strata.client()
    populate(r)
    r.xgroup_create("empty-stream", "g", id="$", mkstream=True)  # rebuilt as XADD 0-1, trimmed
    r.execute_command("BGREWRITEAOF")
    wait_rewrite(r)
    r.set("after-rewrite", "1", px=900_000)
    r.sadd("popped", *range(20))
    r.spop("popped", 5)
    r.incrbyfloat("float", 1.25)
    r.hincrbyfloat("hash:small", "f", 2.5)
    r.expire("list", 3000)
    r.lpush("queue", "a", "b")
    r.blpop("queue", timeout=1)
    expected = contents(strata)
    assert strata.stop() == 0
    check = subprocess.run(["redis-check-aof", os.path.join(aof_dir(strata), "appendonly.aof.manifest")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    redis_server = start_server("--appendonly", "yes", "--save", "", binary=redis_binary(), workdir=strata.workdir)
    wait_loaded(redis_server.client())
    same_contents(expected, contents(redis_server))


def test_strata_starts_from_an_aof_directory_redis_wrote(start_server):
    redis_server = start_server("--appendonly", "yes", "--save", "", binary=redis_binary())
    r = redis_server.client()
    populate(r)
    r.execute_command("BGREWRITEAOF")
    wait_rewrite(r)
    r.set("ttl2", "v", ex=500)
    r.sadd("s", *range(50))
    r.spop("s", 7)
    r.incrbyfloat("f", 3.5)
    pipe = r.pipeline(transaction=True)
    pipe.incr("tx")
    pipe.rpush("list", "tail")
    pipe.execute()
    expected = contents(redis_server)
    redis_server.stop()
    strata = start_server("--appendonly", "yes", "--save", "", workdir=redis_server.workdir)
    wait_loaded(strata.client())
    same_contents(expected, contents(strata))


COMMANDS = [
    lambda k, m: ("SET", k(), m()), lambda k, m: ("SET", k(), m(), "EX", "100"),
    lambda k, m: ("SET", k(), m(), "PX", "200000", "NX"), lambda k, m: ("SETEX", k(), "60", m()),
    lambda k, m: ("EXPIRE", k(), "500"), lambda k, m: ("PEXPIRE", k(), "900000", "GT"),
    lambda k, m: ("PERSIST", k()), lambda k, m: ("INCRBYFLOAT", k(), "1.1"),
    lambda k, m: ("HINCRBYFLOAT", k(), m(), "0.7"), lambda k, m: ("HSET", k(), m(), m()),
    lambda k, m: ("SADD", k(), m(), m(), m()), lambda k, m: ("SPOP", k()), lambda k, m: ("SPOP", k(), "2"),
    lambda k, m: ("LPUSH", k(), m(), m()), lambda k, m: ("RPOP", k()),
    lambda k, m: ("LMOVE", k(), k(), "LEFT", "RIGHT"), lambda k, m: ("BLPOP", k(), "0.01"),
    lambda k, m: ("ZADD", k(), "1.5", m(), "-2", m()), lambda k, m: ("ZINCRBY", k(), "0.25", m()),
    lambda k, m: ("BZPOPMIN", k(), "0.01"), lambda k, m: ("ZPOPMAX", k()), lambda k, m: ("DEL", k()),
    lambda k, m: ("RENAME", k(), k()), lambda k, m: ("APPEND", k(), m()), lambda k, m: ("INCR", k()),
    lambda k, m: ("GETEX", k(), "EX", "70"), lambda k, m: ("SELECT", random.choice("012")),
    lambda k, m: ("SUNIONSTORE", k(), k(), k()), lambda k, m: ("GETDEL", k()),
    lambda k, m: ("COPY", k(), k(), "DB", "1", "REPLACE"), lambda k, m: ("SET", k(), m(), "PX", "1"),
]


def test_random_commands_replay_identically_in_strata_and_redis(start_server):
    """Random writes (including random, relative-TTL, float and blocking ones) against
    Strata; the AOF rebuilds the same keyspace in a restarted Strata and in redis-server."""
    random.seed(7)
    strata = start_server(*AOF, "--snapshot-compression", "none", "--aof-use-rdb-preamble", "no")
    r = strata.client(single_connection_client=True)
    keys = [f"k{i}" for i in range(8)]
    members = ["a", "b", "c", "d", "1", "2", "30"]
    for step in range(4000):
        args = random.choice(COMMANDS)(lambda: random.choice(keys), lambda: random.choice(members))
        try:
            r.execute_command(*args)
        except redis.ResponseError:
            pass
        if step == 2000:
            r.execute_command("BGREWRITEAOF")
            wait_rewrite(r)
    expected = contents(strata)
    assert len(expected) > 5
    assert strata.stop() == 0
    again = start_server(*AOF, workdir=strata.workdir)
    wait_loaded(again.client())
    same_contents(expected, contents(again))
    assert again.stop() == 0
    redis_server = start_server("--appendonly", "yes", "--save", "", binary=redis_binary(), workdir=strata.workdir)
    wait_loaded(redis_server.client())
    same_contents(expected, contents(redis_server))


# -- damaged files --------------------------------------------------------------------------


def stopped_with_tail(start_server, tail):
    """A Strata that logged 100 SETs and stopped, with `tail` appended to its incremental
    file; returns the server, the file, and the file's size before the tail."""
    strata = start_server(*AOF)
    r = strata.client()
    for i in range(100):
        r.set(f"k{i}", i)
    assert strata.stop() == 0
    path = incr_path(strata)
    whole = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(tail)
    return strata, path, whole


def test_a_truncated_tail_is_cut_and_reported(start_server):
    strata, path, whole = stopped_with_tail(start_server, b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$5\r\nhal")
    refused = subprocess.run([SERVER, *AOF, "--aof-load-truncated", "no", "--port", "0", "--dir", strata.workdir],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert os.path.basename(path) in refused.stdout and f"offset {whole}" in refused.stdout, refused.stdout
    again = start_server(*AOF, workdir=strata.workdir)
    r = again.client()
    wait_loaded(r)
    assert r.dbsize() == 100 and r.get("z") is None
    assert os.path.getsize(path) == whole
    assert "Truncating the AOF" in again.output() and f"offset {whole}" in again.output()
    assert r.set("after", "cut") is True
    again.stop()
    third = start_server(*AOF, workdir=strata.workdir)
    wait_loaded(third.client())
    assert third.client().get("after") == b"cut"


def test_damage_in_the_middle_stops_startup_with_file_offset_and_repair_command(start_server):
    # Damage followed by a whole command: not a torn tail.
    strata, path, good = stopped_with_tail(
        start_server, b"this is not RESP\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n")
    proc = subprocess.run([SERVER, *AOF, "--port", "0", "--dir", strata.workdir], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert os.path.basename(path) in log and f"offset {good}" in log and "strata-dump verify --fix" in log, log
    verify = subprocess.run([DUMP, "verify", aof_dir(strata)], capture_output=True, text=True)
    assert verify.returncode == 1 and f"offset {good}" in verify.stdout, verify.stdout
    fix = subprocess.run([DUMP, "verify", "--fix", aof_dir(strata)], capture_output=True, text=True)
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert os.path.exists(path + ".broken") and os.path.getsize(path) == good
    again = start_server(*AOF, workdir=strata.workdir)
    r = again.client()
    wait_loaded(r)
    assert r.dbsize() == 100


# -- layout and administration --------------------------------------------------------------


def test_an_old_single_file_aof_is_upgraded_into_the_directory(start_server):
    workdir = tempfile.mkdtemp(prefix="strata-aof-old-")
    try:
        with open(os.path.join(workdir, "appendonly.aof"), "wb") as f:
            for args in (["SELECT", "0"], ["SET", "old", "style"], ["RPUSH", "l", "a", "b"], ["SELECT", "3"],
                         ["SET", "in3", "x"]):
                f.write(f"*{len(args)}\r\n".encode())
                for a in args:
                    f.write(f"${len(a)}\r\n{a}\r\n".encode())
        strata = start_server(*AOF, workdir=workdir)
        r = strata.client()
        wait_loaded(r)
        assert r.get("old") == b"style" and r.lrange("l", 0, -1) == [b"a", b"b"]
        assert strata.client(db=3).get("in3") == b"x"
        assert not os.path.exists(os.path.join(workdir, "appendonly.aof"))
        assert "file appendonly.aof seq 1 type b" in manifest(strata)
        r.set("new", "1")
        strata.stop()
        again = start_server(*AOF, workdir=workdir)
        wait_loaded(again.client())
        assert again.client().get("new") == b"1" and again.client().get("old") == b"style"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_config_set_appendonly_at_run_time_starts_with_a_rewrite(start_server):
    strata = start_server("--save", "")
    r = strata.client()
    populate(r)
    assert r.info("persistence")["aof_enabled"] == 0
    r.config_set("appendonly", "yes")
    info = wait_rewrite(r)
    assert info["aof_enabled"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    r.set("logged", "1")
    expected = contents(strata)
    kill9(strata)
    again = start_server(*AOF, workdir=strata.workdir)
    wait_loaded(again.client())
    same_contents(expected, contents(again))
    r = again.client()
    r.config_set("appendonly", "no")
    size = os.path.getsize(incr_path(again))
    r.set("not-logged", "1")
    # No wait: the server writes the AOF buffer before it flushes the replies of an
    # event-loop pass, so a SET that was logged would be in the file by its reply.
    assert os.path.getsize(incr_path(again)) == size
    assert r.info("persistence")["aof_enabled"] == 0


def test_bgrewriteaof_replaces_the_files_and_keeps_writes_made_meanwhile(start_server):
    strata = start_server(*AOF)
    r = strata.client()
    fill(r, 300_000)
    before = manifest(strata)
    assert strata.cli("BGREWRITEAOF") == b"Background append only file rewriting started\n"
    assert strata.cli("BGREWRITEAOF").startswith(b"ERR Background append only file rewriting already in progress")
    during = 0
    while r.info("persistence")["aof_rewrite_in_progress"] == 1:
        during += 1
        r.set(f"during{during}", during)
    info = wait_rewrite(r)
    assert info["aof_rewrites"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    assert info["aof_last_rewrite_time_sec"] >= 0 and info["aof_base_size"] > 0
    assert info["aof_current_size"] >= info["aof_base_size"]
    # The history files are unlinked in the background, as in Redis; the manifest lists
    # them (type h) until they are gone, so a crash meanwhile leaves no file it does not name.
    wait_until(lambda: "type h" not in manifest(strata), message="the history files forgotten")
    after = manifest(strata)
    assert "appendonly.aof.2.base.rdb seq 2 type b" in after, after
    expected = {line.split()[1] for line in after.splitlines()} | {"appendonly.aof.manifest"}
    assert set(os.listdir(aof_dir(strata))) == expected
    assert before != after
    kill9(strata)
    again = start_server(*AOF, workdir=strata.workdir)
    r = again.client()
    wait_loaded(r)
    assert r.dbsize() == 300_000 + during


def test_the_aof_is_rewritten_automatically_when_it_grows(start_server):
    strata = start_server(*AOF, "--auto-aof-rewrite-min-size", "200kb", "--auto-aof-rewrite-percentage", "100")
    r = strata.client()
    for i in range(2000):
        r.set("same-key", "x" * 200)
    wait_until(lambda: r.info("persistence")["aof_rewrites"] > 0, 30, "an automatic rewrite")
    assert "Starting automatic rewriting of AOF" in strata.output()
    info = wait_rewrite(r)
    # 2,000 logged SETs of 200 bytes; after the rewrite the base holds one key.
    assert info["aof_current_size"] < 2000 * 200
    assert os.path.getsize(os.path.join(aof_dir(strata), f"appendonly.aof.{info['aof_rewrites'] + 1}.base.rdb")) < 4096


def test_timestamp_annotations_are_written_and_skipped_when_loading(start_server):
    strata = start_server(*AOF, "--aof-timestamp-enabled", "yes", "--snapshot-compression", "none")
    r = strata.client()
    r.set("a", "1")
    # Time passing, not a wait for the server: `#TS:` annotations have a resolution of one
    # second, so "b" is sent in a later second than "a" to get an annotation of its own.
    wait_next_second(time.time())
    r.set("b", "2")
    strata.stop()
    text = open(incr_path(strata), "rb").read()
    assert text.count(b"#TS:") >= 2
    check = subprocess.run(["redis-check-aof", os.path.join(aof_dir(strata), "appendonly.aof.manifest")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    again = start_server(*AOF, workdir=strata.workdir)
    wait_loaded(again.client())
    assert again.client().mget("a", "b") == [b"1", b"2"]


def test_writes_are_logged_in_their_deterministic_form(start_server):
    strata = start_server(*AOF)
    r = strata.client()
    r.set("ex", "v", ex=100)
    r.expire("ex", 200)
    r.incrbyfloat("f", 1.5)
    r.hincrbyfloat("h", "x", 0.5)
    r.sadd("s", "only")
    r.spop("s")
    r.set("short", "v", px=1)
    # The 1 ms TTL passes; the GET that finds the key expired deletes it (logged as DEL).
    wait_until(lambda: r.get("short") is None, 30, "the 1 ms TTL of 'short' to pass")
    waiter = strata.client()
    popped = {}
    thread = threading.Thread(target=lambda: popped.update(reply=waiter.blpop("q", timeout=30)))
    thread.start()
    wait_blocked(r)
    r.rpush("q", "item")
    thread.join(30)
    assert popped.get("reply") == (b"q", b"item")
    pipe = r.pipeline(transaction=True)
    pipe.set("t1", "1")
    pipe.set("t2", "2")
    pipe.execute()
    strata.stop()
    log = open(incr_path(strata), "rb").read()
    assert b"$4\r\nPXAT\r\n" in log and b"$2\r\nEX\r\n" not in log
    assert b"$9\r\nPEXPIREAT\r\n$2\r\nex\r\n" in log
    assert b"$3\r\nSET\r\n$1\r\nf\r\n$3\r\n1.5\r\n$7\r\nKEEPTTL\r\n" in log
    assert b"$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nx\r\n$3\r\n0.5\r\n" in log
    assert b"$4\r\nSREM\r\n$1\r\ns\r\n$4\r\nonly\r\n" in log and b"SPOP" not in log.upper()
    assert b"$3\r\nDEL\r\n$5\r\nshort\r\n" in log
    assert b"$4\r\nLPOP\r\n$1\r\nq\r\n" in log and b"BLPOP" not in log.upper()
    assert b"*1\r\n$5\r\nMULTI\r\n" in log and b"*1\r\n$4\r\nEXEC\r\n" in log


def test_aof_directives_match_redis(start_server, redis_server):
    strata = start_server("--save", "")
    queries = [
        ("CONFIG", "GET", "appendfsync"), ("CONFIG", "GET", "appendonly"), ("CONFIG", "GET", "appenddirname"),
        ("CONFIG", "GET", "appendfilename"), ("CONFIG", "GET", "aof-use-rdb-preamble"),
        ("CONFIG", "GET", "auto-aof-rewrite-percentage"), ("CONFIG", "GET", "auto-aof-rewrite-min-size"),
        ("CONFIG", "GET", "aof-load-truncated"), ("CONFIG", "GET", "aof-timestamp-enabled"),
        ("CONFIG", "GET", "no-appendfsync-on-rewrite"),
        ("CONFIG", "SET", "appendfsync", "sometimes"), ("CONFIG", "SET", "appenddirname", "other"),
        ("CONFIG", "SET", "appendfilename", "x.aof"), ("CONFIG", "SET", "auto-aof-rewrite-percentage", "-1"),
        ("CONFIG", "SET", "appendfsync", "always"), ("CONFIG", "GET", "appendfsync"),
        ("CONFIG", "SET", "aof-timestamp-enabled", "maybe"), ("BGREWRITEAOF", "extra"),
    ]
    for query in queries:
        assert strata.cli(*query) == redis_server.cli(*query), query


def test_writes_while_appendonly_waits_for_its_first_rewrite_are_applied_once(start_server):
    """CONFIG SET appendonly yes while a BGSAVE runs schedules the first rewrite; INCRs
    made before it freezes the keyspace are in its base and must not be replayed again."""
    strata = start_server("--save", "")
    r = strata.client()
    fill(r, 1_000_000, "k", "x" * 50)
    r.bgsave()
    r.config_set("appendonly", "yes")
    assert r.info("persistence")["aof_rewrite_scheduled"] == 1
    count = 0
    while r.info("persistence")["aof_rewrite_in_progress"] == 0 and count < 100_000:
        r.incr("counter")
        count += 1
    info = wait_rewrite(r)
    assert info["aof_last_bgrewrite_status"] == "ok"
    for _ in range(10):
        r.incr("counter")
    count += 10
    assert int(r.get("counter")) == count
    kill9(strata)
    again = start_server(*AOF, workdir=strata.workdir)
    r = again.client()
    wait_loaded(r)
    assert int(r.get("counter")) == count
    assert r.dbsize() == 1_000_001


@pytest.mark.parametrize("skip", ["yes", "no"])
def test_no_appendfsync_on_rewrite_skips_fsyncs_while_a_rewrite_runs(start_server, skip):
    strata = start_server(*AOF, "--appendfsync", "always", "--no-appendfsync-on-rewrite", skip,
                          "--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "0")
    r = strata.client()
    fill(r, 1_000_000, "k", "x" * 40)
    r.execute_command("BGREWRITEAOF")
    before = r.info("persistence")["strata_aof_fsyncs"]
    writes = 0
    while r.info("persistence")["aof_rewrite_in_progress"] == 1 and writes < 200:
        r.set(f"during{writes}", 1)
        writes += 1
    during = r.info("persistence")["strata_aof_fsyncs"] - before
    assert writes >= 20, "the rewrite was too quick to observe"
    if skip == "yes":
        assert during == 0
    else:
        assert during >= writes
    wait_rewrite(r)
    assert r.set("after", 1) is True
    assert r.info("persistence")["strata_aof_fsyncs"] > before + during
