"""strata-dump end to end: the built binary on fixtures, on files written by strata-server
and redis-server, on damaged copies, with full output and exit codes asserted."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, free_port, wait_until
from test_aof import wait_rewrite
from test_snapshots import contents, populate, same_contents, wait_loaded, wait_next_second

DUMP = os.environ.get("STRATA_DUMP", os.path.join(ROOT, ".build", "release", "strata-dump"))
FIXTURE = os.path.join(ROOT, "Fixtures", "redis-7.0-types.rdb")
FIXTURE_BYTES = os.path.getsize(FIXTURE)


def run(*args, stdin=None):
    return subprocess.run([DUMP, *args], capture_output=True, text=True, input=stdin, timeout=300)


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="strata-dump-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def loaded(server):
    """`server` once it has loaded the files in its directory."""
    wait_loaded(server.client())
    return server


def fixture_in_redis(start_server, path=FIXTURE):
    d = tempfile.mkdtemp(prefix="strata-dump-redis-")
    shutil.copy(path, os.path.join(d, "dump.rdb"))
    return loaded(start_server("--save", "", binary=shutil.which("redis-server"), workdir=d))


def test_inspect_a_redis_dump_reads_it_through(workdir):
    out = run("inspect", FIXTURE)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        f"{FIXTURE}: Redis RDB file, RDB version 10, 71.6 KB\n"
        "created 2026-11-27T22:50:33Z, written by redis 7.0.15, 71.6 KB of records, read through\n"
        "db     keys  with TTL  string  list  set  zset  hash  stream\n"
        "db0      18         1       7     3    3     3     2       0\n"
        "db5       2         0       1     0    0     0     1       0\n"
        "db15      1         0       0     1    0     0     0       0\n"
        "total    21         1       8     4    3     3     3       0\n")
    summary = json.loads(run("inspect", FIXTURE, "--json").stdout)
    assert summary["source"] == "scan" and summary["format"] == "rdb" and summary["keys"] == 21
    assert summary["databases"]["0"] == {
        "keys": 18, "expires": 1, "types": {"string": 7, "list": 3, "set": 3, "zset": 3, "hash": 2}}
    assert summary["fileBytes"] == FIXTURE_BYTES and summary["writer"] == "redis 7.0.15"
    assert run("inspect", FIXTURE, "--csv").stdout == (
        "db,keys,expires,string,list,set,zset,hash,stream\n0,18,1,7,3,3,3,2,0\n5,2,0,1,0,0,0,1,0\n15,1,0,0,1,0,0,0,0\n")


@pytest.mark.parametrize("codec,layout", [("lz4", "lz4"), ("zlib", "gzip")])
def test_a_converted_snapshot_is_inspected_from_its_index_and_verifies(workdir, codec, layout):
    path = os.path.join(workdir, f"fixture-{codec}.sdb")
    out = run("convert", FIXTURE, path, "--codec", codec)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"wrote {path} (sdb): 21 keys, ")
    summary = json.loads(run("inspect", path, "--json").stdout)
    assert summary["source"] == "index" and summary["layout"] == layout and summary["codec"] == codec
    assert summary["keys"] == 21 and summary["expires"] == 1 and summary["chunks"] >= 1
    assert summary["databases"]["5"] == {"keys": 2, "expires": 0, "types": {"string": 1, "hash": 1}}
    text = run("inspect", path).stdout.splitlines()
    assert text[0].startswith(f"{path}: Strata snapshot, {codec}, layout 1, RDB version ")
    assert text[1].endswith("read from the index")
    verify = run("verify", path)
    assert verify.returncode == 0
    assert verify.stdout.startswith(f"{path}: OK, 21 keys, RDB version ") and "checksum ok" in verify.stdout


def test_inspect_from_the_index_does_not_read_the_body(workdir):
    """A snapshot whose body is destroyed but whose index is intact still inspects from
    the index (and verify reports the damage)."""
    path = os.path.join(workdir, "fixture.sdb")
    assert run("convert", FIXTURE, path).returncode == 0
    index = json.loads(run("inspect", path, "--json").stdout)
    data = bytearray(open(path, "rb").read())
    for i in range(16, len(data) // 2):
        data[i] = 0
    open(path, "wb").write(bytes(data))
    again = run("inspect", path, "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["keys"] == index["keys"]
    verify = run("verify", path)
    assert verify.returncode == 1 and verify.stdout.startswith(f"DAMAGED: {path} at offset ")


def test_converted_rdb_and_resp_rebuild_the_same_keyspace_in_redis(start_server, workdir):
    reference = contents(fixture_in_redis(start_server))
    rdb = os.path.join(workdir, "plain.rdb")
    assert run("convert", FIXTURE, rdb).returncode == 0
    same_contents(reference, contents(fixture_in_redis(start_server, rdb)))
    resp = os.path.join(workdir, "fixture.resp")
    out = run("convert", FIXTURE, resp)
    assert out.returncode == 0 and out.stdout.startswith(f"wrote {resp} (resp): 21 keys")
    redis = start_server("--save", "", binary=shutil.which("redis-server"))
    with open(resp, "rb") as f:
        piped = subprocess.run(["redis-cli", "-p", str(redis.port), "--pipe"], stdin=f, capture_output=True,
                               text=True, check=True)
    assert "errors: 0" in piped.stdout
    same_contents(reference, contents(redis))
    # To standard output, piped (members of sets and hashes come in hash order, which
    # differs from run to run, so the keyspaces are compared, not the bytes).
    streamed = subprocess.run([DUMP, "convert", FIXTURE, "-", "--format", "resp"], capture_output=True)
    assert streamed.returncode == 0 and len(streamed.stdout) == os.path.getsize(resp)
    assert streamed.stderr.startswith(b"wrote - (resp): 21 keys")
    again = start_server("--save", "", binary=shutil.which("redis-server"))
    subprocess.run(["redis-cli", "-p", str(again.port), "--pipe"], input=streamed.stdout, capture_output=True,
                   check=True)
    same_contents(reference, contents(again))


def test_jsonl_holds_every_key_with_unambiguous_bytes(workdir):
    path = os.path.join(workdir, "fixture.jsonl")
    assert run("convert", FIXTURE, path).returncode == 0
    rows = {(row["db"], row["key"]): row for row in map(json.loads, open(path))}
    assert len(rows) == 21
    assert rows[(0, "zset:inf")]["value"] == [["bottom", "-inf"], ["top", "inf"]]
    assert rows[(0, "int:negative")] == {"db": 0, "key": "int:negative", "type": "string", "value": "-123456"}
    binary = rows[(0, "str:binary")]["value"]
    assert set(binary) == {"base64"} and len(binary["base64"]) == 344
    assert "expiresAt" in rows[(0, "str:ttl")] and len(rows[(0, "list:large")]["value"]) == 3000


def test_keys_listing_with_filters(workdir):
    out = run("inspect", FIXTURE, "--keys", "--type", "zset", "--json")
    assert out.returncode == 0
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert sorted(r["key"] for r in rows) == ["zset:inf", "zset:large", "zset:small"]
    large = next(r for r in rows if r["key"] == "zset:large")
    assert large["elements"] == 1000 and large["type"] == "zset" and large["db"] == 0
    assert large["encodedBytes"] > 1000 and "ttlMs" not in large
    csv = run("inspect", FIXTURE, "--keys", "--db", "5", "--csv")
    lines = csv.stdout.splitlines()
    assert lines[0] == "db,type,key,ttl_ms,expires_at_ms,encoded_bytes,elements"
    assert sorted(line.split(",")[2] for line in lines[1:]) == ["db5:hash", "db5:key"]
    assert all(line.split(",")[3] == "-1" for line in lines[1:])
    table = run("inspect", FIXTURE, "--keys", "--match", "str:*").stdout.splitlines()
    assert table[0].split() == ["db", "type", "key", "ttl", "size", "elements"]
    assert sorted(line.split()[2] for line in table[1:]) == ["str:binary", "str:lzf", "str:short", "str:ttl"]


def test_expired_filters_on_a_dump_with_past_deadlines(start_server, workdir):
    redis = start_server("--save", "", binary=shutil.which("redis-server"))
    r = redis.client()
    r.set("soon", "x", px=300)
    r.set("later", "y", ex=3600)
    r.set("never", "z")
    r.save()
    # The 300 ms TTL of "soon" passes: Redis, on the clock strata-dump reads, has dropped it.
    wait_until(lambda: r.exists("soon") == 0, 30, "the 300 ms TTL of 'soon' to pass")
    path = os.path.join(redis.workdir, "dump.rdb")
    expired = [json.loads(line)["key"] for line in run("inspect", path, "--keys", "--expired", "--json").stdout.splitlines()]
    assert expired == ["soon"]
    alive = sorted(json.loads(line)["key"]
                   for line in run("inspect", path, "--keys", "--no-expired", "--json").stdout.splitlines())
    assert alive == ["later", "never"]
    out = run("convert", path, os.path.join(workdir, "alive.sdb"))
    assert out.returncode == 0 and out.stdout.endswith("; 1 expired keys left out\n")


def test_memory_report_matches_memory_usage_in_strata(start_server, workdir):
    out = run("inspect", FIXTURE, "--memory", "--json", "--top", "3")
    assert out.returncode == 0
    report = json.loads(out.stdout)
    assert report["total"]["keys"] == 21
    assert sum(t["keys"] for t in report["types"].values()) == 21
    assert sum(t["memory"] for t in report["databases"].values()) == report["total"]["memory"]
    biggest = report["biggest"]
    assert [b["key"] for b in biggest] == ["list:large", "set:large", "zset:large"]
    prefixes = {p["prefix"]: p for p in report["prefixes"]}
    assert prefixes["list:*"]["keys"] == 3 and prefixes["db5:*"]["keys"] == 2
    d = tempfile.mkdtemp(prefix="strata-dump-mem-")
    shutil.copy(FIXTURE, os.path.join(d, "dump.rdb"))
    strata = loaded(start_server("--dbfilename", "dump.rdb", workdir=d))
    r = strata.client()
    for b in biggest:
        assert r.memory_usage(b["key"]) == b["memory"], b
    table = run("inspect", FIXTURE, "--memory", "--top", "2", "--separator", ":", "--depth", "1").stdout
    assert table.startswith("21 keys, ") and "\nprefix " in table and "\nbiggest keys " in table


def test_memory_by_slot_counts_what_a_redis_cluster_node_counts_per_slot(start_server, workdir):
    """A redis-server 7.0 cluster node holding every slot counts the keys of each slot
    (CLUSTER COUNTKEYSINSLOT); `--by-slot` on its dump must find the same counts."""
    node = start_server("--cluster-enabled", "yes", "--cluster-port", str(free_port()), "--save", "",
                        "--appendonly", "no", binary=shutil.which("redis-server"))
    r = node.client()
    r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    wait_until(lambda: r.cluster("info")["cluster_state"] == "ok", message="the one-node cluster is ok")
    pipe = r.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(f"user:{i}", "x" * (i % 50))
        pipe.hset(f"{{tag{i % 7}}}:h{i}", "f", i)
    pipe.execute()
    assert r.save() is True
    out = run("inspect", os.path.join(node.workdir, "dump.rdb"), "--memory", "--by-slot", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    counted = {s["slot"]: s["keys"] for s in report["slots"]}
    assert sum(counted.values()) == 6000 == report["total"]["keys"]
    assert sum(s["memory"] for s in report["slots"]) == report["total"]["memory"]
    for slot in set(counted) | {0, 1, 16383}:
        assert r.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == counted.get(slot, 0), slot
    assert len(counted) == sum(1 for slot in range(16384) if r.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot))
    table = run("inspect", os.path.join(node.workdir, "dump.rdb"), "--memory", "--by-slot", "--top", "3").stdout
    assert f"\n{len(counted)} of 16384 hash slots hold keys\n" in table
    assert "\nslot " in table
    refused = run("inspect", FIXTURE, "--by-slot")
    assert refused.returncode != 0 and "--by-slot is an option of --memory" in refused.stderr


def test_damaged_copies_are_reported_with_offset_and_last_good_key(start_server, workdir):
    strata = start_server()
    r = strata.client()
    pipe = r.pipeline(transaction=False)
    for i in range(30000):
        pipe.set(f"key:{i:05d}", f"value {i} " * 8)
    pipe.execute()
    assert r.save() is True
    path = os.path.join(strata.workdir, "dump.sdb")
    index = json.loads(run("inspect", path, "--json").stdout)
    assert index["chunks"] >= 3
    good = open(path, "rb").read()
    # A bit flipped in a middle chunk.
    flipped = bytearray(good)
    middle = len(good) // 2
    flipped[middle] ^= 0x10
    damaged = os.path.join(workdir, "flipped.sdb")
    open(damaged, "wb").write(bytes(flipped))
    verify = run("verify", damaged, "--json")
    assert verify.returncode == 1
    result = json.loads(verify.stdout)
    assert result["ok"] is False and 0 < result["offset"] <= middle and result["keysRead"] > 0
    assert result["lastGoodKey"]["key"].startswith("key:") and damaged in result["error"]
    salvaged = os.path.join(workdir, "salvaged.sdb")
    salvage = run("verify", "--salvage", salvaged, damaged)
    assert salvage.returncode == 1 and salvage.stdout.startswith("lost ")
    kept = json.loads(run("inspect", salvaged, "--json").stdout)["keys"]
    assert 0 < kept < 30000 and run("verify", salvaged).returncode == 0
    # Truncated: the index is gone too; inspect falls back to reading and names the damage.
    truncated = os.path.join(workdir, "truncated.sdb")
    open(truncated, "wb").write(good[: len(good) * 2 // 3])
    out = run("inspect", truncated)
    assert out.returncode == 1 and out.stderr.startswith(f"strata-dump: {truncated} at offset ")
    assert run("verify", truncated).returncode == 1
    assert index["keys"] == 30000


def test_aof_directory_inspect_verify_and_convert(start_server, workdir):
    strata = start_server("--appendonly", "yes")
    r = strata.client()
    populate(r)
    r.bgrewriteaof()
    wait_rewrite(r)
    r.set("after-rewrite", "1")
    live = contents(strata)
    aofdir = os.path.join(strata.workdir, "appendonlydir")
    out = run("inspect", aofdir)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"{aofdir}: append-only file, 2 parts"
    assert lines[1].split() == ["file", "size", "commands", "snapshot", "keys", "state"]
    parts = json.loads(run("inspect", aofdir, "--json").stdout)["parts"]
    assert parts[0]["snapshotKeys"] == len(live) - 1 and parts[1]["commands"] >= 1
    assert run("verify", aofdir).returncode == 0
    one = os.path.join(workdir, "one.sdb")
    converted = run("convert", aofdir, one)
    assert converted.returncode == 0, converted.stderr
    d = tempfile.mkdtemp(prefix="strata-dump-aof-")
    shutil.copy(one, os.path.join(d, "dump.sdb"))
    same_contents(live, contents(loaded(start_server(workdir=d))))
    manifest = os.path.join(aofdir, "appendonly.aof.manifest")
    open(manifest, "a").write("this is not a manifest line\n")
    bad = run("verify", aofdir)
    assert bad.returncode == 1 and "manifest" in bad.stderr


@pytest.mark.parametrize("args,message", [
    ([], "no command given"),
    (["frobnicate"], "unknown command frobnicate"),
    (["inspect"], "inspect takes one FILE or directory"),
    (["inspect", FIXTURE, "--bogus"], "unknown option --bogus"),
    (["inspect", FIXTURE, "--json", "--csv"], "--json and --csv exclude each other"),
    (["inspect", FIXTURE, "--keys", "--top"], "--top needs a value"),
    (["inspect", FIXTURE, "--memory", "--top", "zero"], "--top takes an integer in 1...100000, not zero"),
    (["inspect", FIXTURE, "--keys", "--type", "blob"], "--type takes one of hash, list, set, stream, string, zset"),
    (["convert", FIXTURE, "out.unknown"], "cannot tell the format from out.unknown's name"),
    (["convert", FIXTURE, "out.rdb", "--codec", "lz4"], "--format rdb is uncompressed"),
    (["verify", FIXTURE, "--fix"], "--fix is for AOF files"),
])
def test_usage_errors_exit_2(args, message):
    out = run(*args)
    assert out.returncode == 2
    assert out.stderr.startswith(f"strata-dump: {message}")
    assert "usage: strata-dump inspect" in out.stderr and out.stdout == ""


def test_missing_and_foreign_files_exit_1(workdir):
    missing = os.path.join(workdir, "nope.sdb")
    out = run("inspect", missing)
    assert out.returncode == 1 and out.stderr.startswith(f"strata-dump: {missing} at offset 0: cannot open")
    foreign = os.path.join(workdir, "notes.txt")
    open(foreign, "w").write("hello\n")
    out = run("verify", foreign)
    assert out.returncode == 1 and "not a snapshot" in out.stdout


def test_restore_into_a_running_server_with_and_without_replace(start_server, workdir):
    reference = contents(fixture_in_redis(start_server))
    for binary in (None, shutil.which("redis-server")):
        target = start_server("--save", "") if binary is None else start_server("--save", "", binary=binary)
        address = f"127.0.0.1:{target.port}"
        out = run("restore", FIXTURE, "--to", address)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"restored 21 keys into {address} in ")
        same_contents(reference, contents(target))
        r = target.client()
        r.set("str:short", "changed")
        again = run("restore", FIXTURE, "--to", address)
        assert again.returncode == 0
        assert again.stdout.startswith(f"restored 0 keys into {address}")
        assert "21 keys already there left alone (use --replace to overwrite)" in again.stdout
        assert r.get("str:short") == b"changed"
        replaced = run("restore", FIXTURE, "--to", address, "--replace", "--match", "str:*")
        assert replaced.returncode == 0 and replaced.stdout.startswith(f"restored 4 keys into {address}")
        same_contents(reference, contents(target))


def test_restore_with_a_password_and_a_database_filter(start_server):
    target = start_server("--requirepass", "s3cret")
    address = f"127.0.0.1:{target.port}"
    denied = run("restore", FIXTURE, "--to", address)
    assert denied.returncode == 1 and "NOAUTH" in denied.stderr
    wrong = run("restore", FIXTURE, "--to", address, "--password", "nope")
    assert wrong.returncode == 1 and "WRONGPASS" in wrong.stderr
    out = run("restore", FIXTURE, "--to", address, "--password", "s3cret", "--db", "5")
    assert out.returncode == 0 and out.stdout.startswith(f"restored 2 keys into {address}")
    r = target.client(password="s3cret", db=5)
    assert sorted(r.keys()) == [b"db5:hash", b"db5:key"]
    assert target.client(password="s3cret").dbsize() == 0
    refused = run("restore", FIXTURE, "--to", "127.0.0.1:1")
    assert refused.returncode == 1 and "127.0.0.1:1: Connection refused" in refused.stderr


def test_restore_into_a_directory_is_atomic_and_refuses_a_non_empty_one(workdir, start_server):
    # workdir first: its servers (whose directories are in it) are stopped before it is
    # removed; a server whose final save fails on SIGTERM does not exit (as Redis).
    reference = contents(fixture_in_redis(start_server))
    target = os.path.join(workdir, "data")
    out = run("restore", FIXTURE, "--into", target)
    assert out.returncode == 0 and out.stdout.startswith(f"installed {target}/dump.sdb: 21 keys")
    assert os.listdir(target) == ["dump.sdb"]
    refused = run("restore", FIXTURE, "--into", target)
    assert refused.returncode == 1 and "is not empty (dump.sdb); give --force" in refused.stderr
    forced = run("restore", FIXTURE, "--into", target, "--force", "--dbfilename", "dump.rdb")
    assert forced.returncode == 0 and sorted(os.listdir(target)) == ["dump.rdb", "dump.sdb"]
    same_contents(reference, contents(loaded(start_server(workdir=target))))
    redis_dir = tempfile.mkdtemp(prefix="strata-dump-into-")
    shutil.copy(os.path.join(target, "dump.rdb"), redis_dir)
    same_contents(reference, contents(loaded(start_server("--save", "", binary=shutil.which("redis-server"),
                                                          workdir=redis_dir))))


def test_point_in_time_restore_from_an_aof_with_timestamps(workdir, start_server):
    # workdir first: its servers (whose directories are in it) are stopped before it is
    # removed; a server whose final save fails on SIGTERM does not exit (as Redis).
    strata = start_server("--appendonly", "yes", "--aof-timestamp-enabled", "yes")
    r = strata.client()
    r.set("first", "1")
    r.rpush("queue", "a", "b")
    # Time passing, not a wait for the server: `#TS:` annotations count whole seconds, so
    # `middle` is a later second than the first writes' and the later writes are sent in a
    # second after `middle` (the server stamps commands with the clock read here too).
    wait_next_second(time.time())
    middle = int(time.time())
    wait_next_second(middle)
    r.set("second", "2")
    r.lpop("queue")
    r.delete("first")
    aofdir = os.path.join(strata.workdir, "appendonlydir")
    before = {name: open(os.path.join(aofdir, name), "rb").read() for name in os.listdir(aofdir)}
    past = os.path.join(workdir, "past")
    out = run("restore", aofdir, "--into", past, "--until", str(middle))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"installed {past}/dump.sdb: 2 keys")
    assert "stopped before the log of " in out.stdout
    old = loaded(start_server(workdir=past)).client()
    assert sorted(old.keys()) == [b"first", b"queue"] and old.lrange("queue", 0, -1) == [b"a", b"b"]
    now = os.path.join(workdir, "now")
    assert run("restore", aofdir, "--into", now).returncode == 0
    new = loaded(start_server(workdir=now)).client()
    assert sorted(new.keys()) == [b"queue", b"second"] and new.lrange("queue", 0, -1) == [b"b"]
    after = {name: open(os.path.join(aofdir, name), "rb").read() for name in os.listdir(aofdir)}
    assert before == after  # the source is only read
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(middle))
    assert run("restore", aofdir, "--into", os.path.join(workdir, "iso"), "--until", iso).stdout.startswith(
        f"installed {workdir}/iso/dump.sdb: 2 keys")
    bad = run("restore", aofdir, "--into", os.path.join(workdir, "x"), "--until", "yesterday")
    assert bad.returncode == 2 and "--until takes Unix seconds or an ISO 8601 time" in bad.stderr
    snapshot_until = run("restore", FIXTURE, "--into", os.path.join(workdir, "y"), "--until", str(middle))
    assert snapshot_until.returncode == 2


def test_redis_cli_rdb_works_against_strata_and_redis_loads_the_file(start_server, workdir):
    strata = start_server()
    r = strata.client()
    populate(r)
    live = contents(strata)
    path = os.path.join(workdir, "from-strata.rdb")
    cli = subprocess.run(["redis-cli", "-p", str(strata.port), "--rdb", path], capture_output=True, text=True,
                         timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert "Transfer finished with success" in cli.stdout + cli.stderr
    assert r.ping() is True  # the server goes on serving
    d = tempfile.mkdtemp(prefix="strata-dump-rdb-")
    shutil.copy(path, os.path.join(d, "dump.rdb"))
    same_contents(live, contents(loaded(start_server("--save", "", binary=shutil.which("redis-server"), workdir=d))))
    assert strata.cli("replconf", "bogus", "1").strip() == b"ERR Unrecognized REPLCONF option: bogus"


@pytest.mark.parametrize("kind", ["strata", "redis-diskless", "redis-disk"])
def test_backup_keeps_the_newest_verified_files(start_server, workdir, kind):
    if kind == "strata":
        source = start_server()
    else:
        diskless = "yes" if kind == "redis-diskless" else "no"
        source = start_server("--save", "", "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0",
                              binary=shutil.which("redis-server"))
    r = source.client()
    populate(r)
    live = contents(source)
    out_dir = os.path.join(workdir, "backups")
    made = []
    for _ in range(3):
        out = run("backup", "--from", f"127.0.0.1:{source.port}", "--out", out_dir, "--keep", "2", "--json")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["verified"] is True and result["keys"] == len(live)
        made.append(os.path.basename(result["file"]))
    assert sorted(os.listdir(out_dir)) == sorted(made[1:])
    restored = start_server()
    assert run("restore", os.path.join(out_dir, made[-1]), "--to", f"127.0.0.1:{restored.port}").returncode == 0
    same_contents(live, contents(restored))


def test_backup_failures_exit_1_and_leave_no_file(workdir):
    out_dir = os.path.join(workdir, "backups")
    out = run("backup", "--from", "127.0.0.1:1", "--out", out_dir)
    assert out.returncode == 1 and "backup from 127.0.0.1:1 failed" in out.stderr
    assert os.listdir(out_dir) == []
    assert run("backup", "--out", out_dir).returncode == 2


def test_the_cron_script_backs_up_and_reports_failures(start_server, workdir):
    source = start_server()
    source.client().set("k", "v")
    script = os.path.join(ROOT, "Tools", "strata-backup-cron.sh")
    env = dict(os.environ, STRATA_HOST=f"127.0.0.1:{source.port}", BACKUP_DIR=os.path.join(workdir, "b"), KEEP="1",
               STRATA_DUMP=DUMP)
    for _ in range(2):
        ok = subprocess.run([script], env=env, capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stderr
        assert " strata-backup: ok: backup " in ok.stdout and "1 keys" in ok.stdout and "verified" in ok.stdout
    assert len(os.listdir(os.path.join(workdir, "b"))) == 1
    env["STRATA_HOST"] = "127.0.0.1:1"
    failed = subprocess.run([script], env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "strata-backup: FAILED (exit 1)" in failed.stderr
    del env["BACKUP_DIR"]
    assert subprocess.run([script], env=env, capture_output=True, timeout=60).returncode != 0


def test_progress_only_on_a_terminal(start_server, workdir):
    strata = start_server()
    r = strata.client()
    pipe = r.pipeline(transaction=False)
    for i in range(20000):
        pipe.set(f"key:{i:05d}", "v")
    pipe.execute()
    assert r.save() is True
    path = os.path.join(strata.workdir, "dump.sdb")
    env = dict(os.environ, STRATA_DUMP_PROGRESS_AFTER="0")
    piped = subprocess.run([DUMP, "verify", path], capture_output=True, text=True, env=env)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith(f"{path}: OK, 20000 keys")
    # Under a pseudo-terminal (util-linux `script`), the progress line is drawn and cleared.
    tty = subprocess.run(["script", "-qefc", f"{DUMP} verify {path}", "/dev/null"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert tty.returncode == 0
    assert " keys/s" in tty.stdout and "ETA " in tty.stdout and "\x1b[K" in tty.stdout
    assert f"{path}: OK, 20000 keys" in tty.stdout


@pytest.mark.parametrize("codec", ["lz4", "zlib", "none"])
def test_randomly_damaged_dumps_never_crash_the_tool(workdir, codec):
    """Bit flips, overwritten runs and truncations anywhere: every subcommand ends with
    exit code 0 or 1 and a message, never a signal or a hang."""
    import random
    source = os.path.join(workdir, "source")
    assert run("convert", FIXTURE, source, "--format", "rdb" if codec == "none" else "sdb",
               *([] if codec == "none" else ["--codec", codec])).returncode == 0
    data = open(source, "rb").read()
    rng = random.Random(codec)
    for trial in range(24):
        damaged = bytearray(data)
        if trial % 3 == 0:
            damaged = damaged[:rng.randrange(len(damaged))]
        elif trial % 3 == 1:
            for _ in range(rng.randint(1, 8)):
                damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        else:
            at = rng.randrange(len(damaged))
            damaged[at:at + 32] = bytes(rng.randrange(256) for _ in range(32))
        path = os.path.join(workdir, f"damaged-{trial}")
        open(path, "wb").write(bytes(damaged))
        for args in (["inspect", path], ["verify", path], ["inspect", path, "--memory", "--json"],
                     ["convert", path, os.path.join(workdir, "out.jsonl")]):
            out = run(*args)
            assert out.returncode in (0, 1), (trial, args, out.stderr)
            if out.returncode == 1:
                assert path in out.stdout + out.stderr, (trial, args)


def test_an_aof_converts_in_partitions_to_the_servers_keyspace(start_server, workdir):
    """With the AOF replayed in hash partitions (forced to 8 here; large logs pick the count
    from a memory budget), multi-key commands included, the result is the server's keyspace."""
    strata = start_server("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    r = strata.client()
    populate(r)
    r.bgrewriteaof()
    wait_rewrite(r)
    for i in range(300):
        r.set(f"s{i}", i)
        r.sadd(f"set{i % 7}", i)
        r.rpush(f"list{i % 5}", i)
    r.rename("s1", "renamed")
    r.smove("set1", "set2", "1")
    r.lmove("list1", "list2", "LEFT", "RIGHT")
    r.zunionstore("union", ["zset:small", "zset:large"])
    r.sort("list3", store="sorted")
    r.swapdb(1, 2)
    r.execute_command("SELECT", 3)
    r.flushdb()
    r.expire("s7", 3600)
    live = contents(strata)
    aofdir = os.path.join(strata.workdir, "appendonlydir")
    env = dict(os.environ, STRATA_DUMP_AOF_PARTITIONS="8")
    out_path = os.path.join(workdir, "parts.sdb")
    out = subprocess.run([DUMP, "convert", aofdir, out_path], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    d = tempfile.mkdtemp(prefix="strata-dump-parts-")
    shutil.copy(out_path, os.path.join(d, "dump.sdb"))
    same_contents(live, contents(loaded(start_server(workdir=d))))
    target = start_server()
    restored = subprocess.run([DUMP, "restore", aofdir, "--to", f"127.0.0.1:{target.port}"], capture_output=True,
                              text=True, env=env)
    assert restored.returncode == 0, restored.stderr
    same_contents(live, contents(target))


def test_a_single_aof_file_is_a_source_too(start_server, workdir):
    """An old-style single appendonly.aof (here: RESP commands written by convert) converts,
    verifies and restores like a directory."""
    reference = contents(fixture_in_redis(start_server))
    single = os.path.join(workdir, "appendonly.aof")
    assert run("convert", FIXTURE, single).returncode == 0
    verify = run("verify", single)
    assert verify.returncode == 0 and verify.stdout.startswith(f"{single}: ") and verify.stdout.endswith(", OK\n")
    out = os.path.join(workdir, "from-single.sdb")
    assert run("convert", single, out).returncode == 0
    d = tempfile.mkdtemp(prefix="strata-dump-single-")
    shutil.copy(out, os.path.join(d, "dump.sdb"))
    same_contents(reference, contents(loaded(start_server(workdir=d))))
