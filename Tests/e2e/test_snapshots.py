"""Snapshots with real programs: Strata's dump.sdb decompressed by lz4/zcat is accepted by
redis-check-rdb and loaded by redis-server 7.0 with every key, type, value and TTL; a
Redis-written dump.rdb loads into Strata; restarts keep data; SAVE/BGSAVE/LASTSAVE and
INFO persistence; save points; MISCONF after a failed save; a damaged file stops start-up
with a message naming the file, the offset and the repair command; -LOADING while
loading; kill -9 during BGSAVE leaves the previous file intact."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import ROOT, SERVER, fill, wait_loaded, wait_until

FIXTURES = os.path.join(ROOT, "Fixtures")


def contents(server):
    """Every key of every database: type, value and whether it has a TTL (with PTTL)."""
    out = {}
    for db in range(16):
        r = server.client(db=db)
        for key in r.scan_iter(count=1000):
            kind = r.type(key).decode()
            if kind == "string":
                value = r.get(key)
            elif kind == "list":
                value = r.lrange(key, 0, -1)
            elif kind == "hash":
                value = r.hgetall(key)
            elif kind == "set":
                value = sorted(r.smembers(key))
            elif kind == "zset":
                value = r.zrange(key, 0, -1, withscores=True)
            else:
                value = None
            out[(db, key)] = (kind, value, r.pttl(key))
    return out


def same_contents(a, b):
    assert a.keys() == b.keys()
    for key in a:
        kind_a, value_a, ttl_a = a[key]
        kind_b, value_b, ttl_b = b[key]
        assert (kind_a, value_a) == (kind_b, value_b), key
        assert (ttl_a < 0) == (ttl_b < 0), key
        assert abs(ttl_a - ttl_b) < 5000, key


def populate(r):
    pipe = r.pipeline(transaction=False)
    pipe.set("string", "hello")
    pipe.set("empty", "")
    pipe.set("int", 12345)
    pipe.set("bigint", 2**62)
    pipe.set(b"\x00binary\xff\r\n", b"\x01\x02\x00")
    pipe.set("big", "x" * 1_000_000)
    pipe.set("ttl", "v", ex=1000)
    pipe.rpush("list", *[f"e{i}" for i in range(10000)])
    pipe.hset("hash:small", mapping={"a": "1", "b": "2"})
    pipe.hset("hash:large", mapping={f"f{i}": f"v{i}" for i in range(1000)})
    pipe.sadd("set:ints", *range(100))
    pipe.sadd("set:strings", *[f"m{i}" for i in range(1000)])
    pipe.zadd("zset:small", {"a": 1, "b": 2.5, "c": -1})
    pipe.zadd("zset:large", {f"p{i}": i / 3 for i in range(1000)})
    pipe.zadd("zset:inf", {"top": float("inf"), "bottom": float("-inf")})
    pipe.expire("zset:large", 5000)
    pipe.execute()
    for db in range(1, 16):
        r2 = redis.Redis(host="127.0.0.1", port=r.connection_pool.connection_kwargs["port"], db=db)
        r2.set(f"key-in-{db}", db)


def wait_bgsave(r, timeout=60):
    """Waits until no background save runs; returns `INFO persistence` then."""
    def finished():
        info = r.info("persistence")
        return info if info["rdb_bgsave_in_progress"] == 0 else None

    return wait_until(finished, timeout, "the background save to finish")


def wait_next_second(since):
    """Waits until the wall clock reads a later whole second than `since` (Unix seconds).
    Time passing, not a wait for the server: LASTSAVE and `#TS:` annotations have a
    resolution of one second, and the server reads the same clock (CLOCK_REALTIME) once it
    has received a command, so a command sent after this returns is stamped later than
    `since`. At most one second, whatever the load."""
    return wait_until(lambda: int(time.time()) > int(since), 5, f"the wall clock to pass second {since}")


@pytest.mark.parametrize("codec,decompress", [("lz4", ["lz4", "-dc"]), ("zlib", ["zcat"])])
def test_strata_snapshot_is_a_redis_dump_after_decompression(start_server, codec, decompress):
    strata = start_server("--snapshot-compression", codec)
    r = strata.client()
    populate(r)
    assert r.bgsave() is True
    info = wait_bgsave(r)
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_changes_since_last_save"] == 0
    workdir = tempfile.mkdtemp(prefix="strata-interop-")
    try:
        rdb = os.path.join(workdir, "dump.rdb")
        with open(rdb, "wb") as out:
            subprocess.run(decompress + [os.path.join(strata.workdir, "dump.sdb")], stdout=out, check=True)
        check = subprocess.run(["redis-check-rdb", rdb], capture_output=True, text=True)
        assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout
        theirs = start_server("--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb",
                              binary=shutil.which("redis-server"), workdir=workdir)
        wait_loaded(theirs.client())
        same_contents(contents(strata), contents(theirs))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("fixture", ["redis-7.0-types.rdb", "redis-7.0-uncompressed.rdb", "redis-7.0-no-checksum.rdb"])
def test_a_redis_written_dump_loads_into_strata(start_server, fixture):
    dirs = [tempfile.mkdtemp(prefix="strata-fixture-") for _ in range(2)]
    try:
        for d in dirs:
            shutil.copy(os.path.join(FIXTURES, fixture), os.path.join(d, "dump.rdb"))
        ours = start_server("--dbfilename", "dump.rdb", workdir=dirs[0])
        theirs = start_server("--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb",
                              binary=shutil.which("redis-server"), workdir=dirs[1])
        wait_loaded(ours.client())
        wait_loaded(theirs.client())
        expected = contents(theirs)
        assert len(expected) == 21
        same_contents(contents(ours), expected)
        assert ours.client().get("str:lzf") == b"compressible text " * 200
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def test_restart_keeps_every_type_and_ttl(start_server):
    strata = start_server()
    populate(strata.client())
    before = contents(strata)
    assert strata.stop() == 0  # SIGTERM with save points: saves first
    again = start_server(workdir=strata.workdir)
    wait_loaded(again.client())
    same_contents(contents(again), before)
    assert "DB loaded from disk" in again.output()


def test_save_bgsave_lastsave_and_info(server):
    r = server.client()
    r.set("k", "v")
    first = r.lastsave()
    wait_next_second(r.info("persistence")["rdb_last_save_time"])  # LASTSAVE counts whole seconds
    assert r.info("persistence")["rdb_changes_since_last_save"] >= 1
    assert r.save() is True
    assert r.lastsave() > first
    assert r.info("persistence")["rdb_changes_since_last_save"] == 0
    assert server.cli("BGSAVE", "SCHEDULE").strip() in (b"Background saving started", b"Background saving scheduled")
    info = wait_bgsave(r)
    for field in ["loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
                  "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec",
                  "rdb_saves", "rdb_last_cow_size"]:
        assert field in info
    assert info["rdb_saves"] >= 2
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("BGSAVE", "LATER")
    assert os.path.exists(os.path.join(server.workdir, "dump.sdb"))


def test_save_points_trigger_a_background_save(start_server):
    strata = start_server("--save", "1 2")
    r = strata.client()
    assert r.config_get("save") == {"save": "1 2"}
    r.set("a", 1)
    r.set("b", 2)
    wait_until(lambda: r.info("persistence")["rdb_saves"] >= 1, 30, "the save point's background save")
    assert os.path.exists(os.path.join(strata.workdir, "dump.sdb"))
    r.config_set("save", "")
    assert r.config_get("save") == {"save": ""}


def test_failed_save_refuses_writes_until_a_save_succeeds(server):
    r = server.client()
    blocker = os.path.join(server.workdir, "dump.sdb")
    os.makedirs(os.path.join(blocker, "occupied"))  # rename over a non-empty directory fails
    r.set("before", "1")
    r.bgsave()
    info = wait_bgsave(r)
    assert info["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.ResponseError, match="^MISCONF"):
        r.set("k", "v")
    assert r.get("before") == b"1"  # reads still work
    assert not [n for n in os.listdir(server.workdir) if n.startswith("temp-")]
    shutil.rmtree(blocker)
    r.bgsave()
    assert wait_bgsave(r)["rdb_last_bgsave_status"] == "ok"
    assert r.set("k", "v") is True


def test_a_damaged_snapshot_stops_startup_with_file_offset_and_repair_command(start_server):
    strata = start_server()
    r = strata.client()
    pipe = r.pipeline(transaction=False)
    for i in range(50000):
        pipe.set(f"key:{i}", f"value {i} " * 5)
    pipe.execute()
    assert r.save() is True
    assert strata.stop() == 0
    path = os.path.join(strata.workdir, "dump.sdb")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))
    proc = subprocess.run([SERVER, "--port", "0", "--dir", strata.workdir], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert "dump.sdb" in log and "offset" in log and "strata-dump verify --salvage" in log, log
    assert open(path, "rb").read() == bytes(data)  # left untouched
    dump = os.environ.get("STRATA_DUMP", os.path.join(ROOT, ".build", "release", "strata-dump"))
    verify = subprocess.run([dump, "verify", path], capture_output=True, text=True)
    assert verify.returncode == 1 and "offset" in verify.stdout
    repaired = os.path.join(strata.workdir, "repaired.sdb")
    salvage = subprocess.run([dump, "verify", "--salvage", repaired, path], capture_output=True, text=True)
    assert salvage.returncode == 1 and "lost" in salvage.stdout
    assert subprocess.run([dump, "verify", repaired], capture_output=True).returncode == 0


def test_commands_get_loading_while_a_large_snapshot_loads(start_server):
    strata = start_server()
    r = strata.client()
    fill(r, 2_000_000)
    assert r.save() is True
    assert strata.stop() == 0
    again = start_server(workdir=strata.workdir)
    client = again.client()
    # redis-cli, not redis-py: redis-py retries a LOADING reply until loading ends.
    assert again.cli("GET", "k1").startswith(b"LOADING Redis is loading the dataset in memory")
    wait_loaded(client)
    assert client.dbsize() == 2_000_000
    assert client.get("k1999999") == b"1999999"


def test_kill_9_during_bgsave_leaves_the_previous_snapshot(start_server):
    strata = start_server()
    r = strata.client()
    fill(r, 2_000_000, "old:", "x" * 50)
    assert r.save() is True
    path = os.path.join(strata.workdir, "dump.sdb")
    saved = open(path, "rb").read()
    killed_mid_save = 0
    for delay in (0.0, 0.05, 0.2):
        r.set("new", "value")
        r.bgsave()
        # Deliberate: kill -9 at a few points of the save (at once, early, later), not a
        # wait for the server; the assertion below needs one of them to land mid-save.
        time.sleep(delay)
        in_progress = r.info("persistence")["rdb_bgsave_in_progress"] == 1
        strata.proc.send_signal(signal.SIGKILL)
        strata.proc.wait()
        if in_progress:
            killed_mid_save += 1
            assert open(path, "rb").read() == saved
        strata = start_server(workdir=strata.workdir)
        r = strata.client()
        wait_loaded(r)
        assert r.dbsize() in (2_000_000, 2_000_001)  # the previous snapshot, or the one that completed
        assert not [n for n in os.listdir(strata.workdir) if n.startswith("temp-")]
        saved = open(path, "rb").read()
    assert killed_mid_save >= 1


def test_full_disk_during_bgsave_fails_cleanly_and_recovers(start_server):
    workdir = tempfile.mkdtemp(prefix="strata-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", workdir], check=True)
    try:
        strata = start_server(workdir=workdir)
        r = strata.client()
        r.mset({f"first:{i}": os.urandom(500).hex() for i in range(1500)})  # ~1.5 MB, incompressible
        assert r.save() is True
        path = os.path.join(workdir, "dump.sdb")
        saved = open(path, "rb").read()
        r.mset({f"second:{i}": os.urandom(500).hex() for i in range(2500)})  # old file + new one > 4 MB
        r.bgsave()
        info = wait_bgsave(r)
        assert info["rdb_last_bgsave_status"] == "err"
        assert open(path, "rb").read() == saved
        assert not [n for n in os.listdir(workdir) if n.startswith("temp-")]
        assert r.get("first:0") is not None  # reads are served
        with pytest.raises(redis.ResponseError, match="^MISCONF"):
            r.set("k", "v")
        assert "No space left on device" in strata.output()
        subprocess.run(["mount", "-o", "remount,size=64m", workdir], check=True)
        r.bgsave()
        assert wait_bgsave(r)["rdb_last_bgsave_status"] == "ok"
        assert r.set("k", "v") is True
        strata.stop()
    finally:
        subprocess.run(["umount", "-l", workdir], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def test_huge_values_round_trip(start_server):
    """A 512 MB string and a 10,000,000-member set survive BGSAVE and a restart."""
    strata = start_server()
    r = strata.client()
    chunk = bytes(range(256)) * 4096  # 1 MiB, not compressible to nothing
    r.set("huge", chunk)
    for _ in range(511):
        r.append("huge", chunk)
    assert r.strlen("huge") == 512 * 1024 * 1024
    pipe = r.pipeline(transaction=False)
    for start in range(0, 10_000_000, 10_000):
        pipe.sadd("members", *range(start, start + 10_000))
        if start % 1_000_000 == 990_000:
            pipe.execute()
    pipe.execute()
    assert r.scard("members") == 10_000_000
    r.bgsave()
    assert wait_bgsave(r, timeout=300)["rdb_last_bgsave_status"] == "ok"
    assert strata.stop() == 0
    again = start_server(workdir=strata.workdir)
    r = again.client()
    wait_loaded(r, timeout=300)
    assert r.strlen("huge") == 512 * 1024 * 1024
    assert r.getrange("huge", 0, 1023) == chunk[:1024]
    assert r.getrange("huge", 300 * 1024 * 1024, 300 * 1024 * 1024 + 4095) == chunk[:4096]
    assert r.scard("members") == 10_000_000
    assert r.smismember("members", [0, 4_999_999, 9_999_999, 10_000_000]) == [1, 1, 1, 0]


def test_shutdown_save_and_nosave(start_server):
    quiet = start_server("--save", "")
    quiet.client().set("k", "v")
    assert quiet.cli("SHUTDOWN", "SAVE") == b""
    quiet.proc.wait(timeout=20)
    assert os.path.exists(os.path.join(quiet.workdir, "dump.sdb"))
    again = start_server(workdir=quiet.workdir)
    wait_loaded(again.client())
    assert again.client().get("k") == b"v"
    again.client().set("k", "changed")
    before = open(os.path.join(quiet.workdir, "dump.sdb"), "rb").read()
    assert again.cli("SHUTDOWN", "NOSAVE") == b""
    again.proc.wait(timeout=20)
    assert open(os.path.join(quiet.workdir, "dump.sdb"), "rb").read() == before
