"""`strata-dump diff A B` between any two dumps (Strata snapshots, Redis RDB files, AOF
directories): keys only in A, only in B, and changed (type, value, TTL), summarised by
prefix, each key with `--keys`, as JSON or CSV; the same answer whatever the formats."""
import json
import os
import shutil

from test_strata_dump import run


def dump_of(server, name):
    path = os.path.join(server.workdir, name)
    assert server.client().save()
    return path


def test_diff_names_what_was_added_removed_and_changed(start_server, tmp_path):
    strata = start_server("--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    r = strata.client()
    for i in range(3000):
        r.set(f"user:{i}", f"v{i}")
    r.hset("cart:1", mapping={"a": "1"})
    r.set("ttl:1", "x", ex=1000)
    r.set("type:1", "string")
    r.save()
    older = tmp_path / "a.sdb"
    shutil.copy(os.path.join(strata.workdir, "dump.sdb"), older)
    # The changes: 10 removed, 5 added, 3 values, 1 TTL, 1 type.
    r.delete(*[f"user:{i}" for i in range(10)])
    for i in range(5):
        r.set(f"new:{i}", "n")
    for i in range(100, 103):
        r.set(f"user:{i}", "changed")
    r.expire("ttl:1", 5000)
    r.delete("type:1")
    r.rpush("type:1", "now a list")
    r.save()
    newer = tmp_path / "b.sdb"
    shutil.copy(os.path.join(strata.workdir, "dump.sdb"), newer)
    aof = os.path.join(strata.workdir, "appendonlydir")
    for b in (str(newer), aof):
        out = run("diff", str(older), b, "--json")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert (result["onlyInA"], result["onlyInB"], result["changed"]) == (10, 5, 5), b
        prefixes = {p["prefix"]: p for p in result["prefixes"]}
        assert prefixes["user:*"]["onlyInA"] == 10 and prefixes["user:*"]["changed"] == 3
        assert prefixes["new:*"]["onlyInB"] == 5
    lines = [json.loads(line) for line in run("diff", str(older), str(newer), "--keys", "--json").stdout.splitlines()]
    changes = {(line["change"], line["key"]): line.get("what") for line in lines if "change" in line}
    assert changes[("removed", "user:0")] is None and ("added", "new:4") in changes
    assert changes[("changed", "user:101")] == ["value"]
    assert changes[("changed", "ttl:1")] == ["ttl"]
    assert changes[("changed", "type:1")] == ["type"]
    table = run("diff", str(older), str(newer)).stdout
    assert "only in A: 10, only in B: 5, changed: 5" in table
    same = json.loads(run("diff", str(newer), str(newer), "--json").stdout)
    assert (same["onlyInA"], same["onlyInB"], same["changed"]) == (0, 0, 0)
    assert run("diff", str(older)).returncode == 2


def test_diff_reads_a_redis_rdb_against_a_strata_snapshot(start_server, redis_server, tmp_path):
    strata = start_server("--save", "")
    for server in (strata, redis_server):
        r = server.client()
        for i in range(500):
            r.set(f"k:{i}", i)
        r.zadd("z", {"a": 1, "b": 2})
    redis_server.client().set("only:redis", "1")
    redis_server.client().save()
    strata.client().save()
    out = run("diff", os.path.join(strata.workdir, "dump.sdb"), os.path.join(redis_server.workdir, "dump.rdb"),
              "--json")
    result = json.loads(out.stdout)
    assert (result["onlyInA"], result["onlyInB"], result["changed"]) == (0, 1, 0), out.stdout
