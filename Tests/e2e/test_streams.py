"""Streams end to end (issue 10, the commands without consumer groups so far): replies
compared with redis-server 7.0, and streams surviving restarts through snapshots and the
AOF, in both directions between Strata and Redis."""
import os
import shutil
import subprocess

import pytest
import redis

from conftest import wait_loaded, wait_until

CORPUS = [
    "XADD st 1-1 f v", "XADD st 1-1 f v", "XADD st 1-0 f v", "XADD st 0-0 f v", "XADD st 2-* a b", "XADD st 2-* a b",
    "XADD st 1-* a b", "XADD st 3 a b c d", "XADD st 5-5 a", "XADD st bad a b", "XADD st 4-x a b", "XLEN st",
    "XRANGE st - +", "XRANGE st - + COUNT 2", "XRANGE st (1-1 +", "XRANGE st 2 2", "XRANGE st 2 (2-1",
    "XREVRANGE st + -", "XREVRANGE st + - COUNT 1", "XREVRANGE st (3-0 -", "XRANGE st + -", "XRANGE st x +",
    "XRANGE st - (0-0", "XRANGE st (18446744073709551615-18446744073709551615 +", "XRANGE st - + COUNT -1",
    "XRANGE st - + COUNT x", "XRANGE st - + BAD 1", "XRANGE nost - +", "XDEL st 1-1 9-9", "XDEL st bad", "XDEL nost 1-1",
    "XLEN st", "XTRIM st MAXLEN 10", "XTRIM st MAXLEN -1", "XTRIM st MAXLEN = 1 LIMIT 5", "XTRIM st BAD 1",
    "XTRIM st MAXLEN ~ 1", "XTRIM st MINID 3", "XLEN st", "XRANGE st - +", "XTRIM st MAXLEN 0", "XLEN st", "EXISTS st",
    "XADD st NOMKSTREAM 9-0 a b", "XADD nost NOMKSTREAM 9-0 a b", "EXISTS nost", "XADD st MAXLEN 2 10-0 a b",
    "XADD st MAXLEN 2 11-0 a b", "XADD st MAXLEN ~ 2 12-0 a b", "XADD st MINID = 12 13-0 a b", "XRANGE st - +",
    "XADD st LIMIT 5 14-0 a b", "XADD st MAXLEN 2 LIMIT 5 14-0 a b", "XADD st MAXLEN ~ 2 LIMIT -1 14-0 a b",
    "XSETID st 1-0", "XSETID st 99-0", "XSETID nost 1-0", "XADD st 50-0 a b", "XADD st 100-0 a b",
    "XSETID st 100-0 ENTRIESADDED 1", "XSETID st 100-0 MAXDELETEDID 200-0", "XSETID st 200-0 BAD 1",
    "XADD st 150-0 a b", "TYPE st", "OBJECT ENCODING st", "SET s str", "XLEN s", "XADD s 1-0 a b", "XRANGE s - +",
    "XADD st 18446744073709551615-18446744073709551615 a b", "XADD st * a b", "XADD st 18446744073709551615-* a b",
    "XADD big 1-0 " + " ".join(f"f{i} v{i}" for i in range(40)), "XRANGE big - +", "DEL st", "XADD st MAXLEN 0 5-0 x y",
    "XLEN st", "EXISTS st", "XADD st 5-0 a b", "XADD st 6-0 a b", "COPY st st2", "XADD st2 7-0 c d", "XRANGE st - +",
    "XRANGE st2 - +", "RENAME st2 st3", "XLEN st3", "SORT st", "TYPE st3",
    "MULTI", "XADD st 8-0 e f", "XLEN st", "EXEC",
    "CONFIG SET stream-node-max-entries 10", "CONFIG GET stream-node-max-*",
] + [f"XADD nodes {i}-0 f v" for i in range(1, 26)] + [
    "XTRIM nodes MAXLEN ~ 12", "XLEN nodes", "XADD nodes MAXLEN ~ 3 26-0 f v", "XLEN nodes", "XRANGE nodes - + COUNT 2",
    "CONFIG SET stream-node-max-entries 100", "CONFIG SET stream-node-max-bytes 1kb", "CONFIG GET stream-node-max-bytes",
    "CONFIG SET stream-node-max-bytes 4096",
]


def run(client, line):
    try:
        reply = client.execute_command(*line.split())
    except redis.ResponseError as error:
        return ("error", str(error))
    if line.upper().startswith("CONFIG GET") and isinstance(reply, list):
        # A pattern's parameters come in the order of Redis's hash table, which changes from
        # one process to the next: compare them as a mapping.
        return dict(zip(reply[::2], reply[1::2]))
    return reply


def test_stream_commands_reply_as_redis(server, redis_server):
    ours, theirs = server.client(), redis_server.client()
    for line in CORPUS:
        assert run(ours, line) == run(theirs, line), line


def fill(r):
    pipe = r.pipeline(transaction=False)
    for i in range(3000):
        pipe.xadd("events", {"user": f"u{i % 17}", "action": "click" if i % 3 else "view", "n": i})
    for i in range(50):
        pipe.xadd("other", {"k": "v" * i}, id=f"{i + 1}-{i}")
    pipe.execute()
    r.xdel("events", *[entry[0] for entry in r.xrange("events", count=20)[::2]])
    r.xtrim("other", minid="10")


def started(server, timeout=60.0):
    """Returns `server` once it has loaded its data set (conftest `wait_loaded`)."""
    wait_loaded(server.client(), timeout)
    return server


def snapshot_of(r):
    return {key: r.xrange(key) for key in ("events", "other")}


def test_streams_survive_snapshots_and_the_aof(start_server, tmp_path):
    snapshot_dir, aof_dir = str(tmp_path / "snap"), str(tmp_path / "aof")
    os.makedirs(snapshot_dir)
    os.makedirs(aof_dir)
    first = start_server("--save", "", workdir=snapshot_dir)
    fill(first.client())
    before = snapshot_of(first.client())
    first.client().save()
    first.stop()
    second = started(start_server("--save", "", workdir=snapshot_dir))
    assert snapshot_of(second.client()) == before
    second.stop()

    first = started(start_server("--appendonly", "yes", workdir=aof_dir))
    fill(first.client())
    before = snapshot_of(first.client())
    first.proc.kill()
    first.proc.wait()
    second = started(start_server("--appendonly", "yes", workdir=aof_dir))
    assert snapshot_of(second.client()) == before
    rewrite_aof(second.client())
    second.client().xadd("events", {"after": "rewrite"}, id="*")
    before = snapshot_of(second.client())
    second.stop()
    third = started(start_server("--appendonly", "yes", workdir=aof_dir))
    assert snapshot_of(third.client()) == before


def rewrite_aof(r, timeout=60.0):
    """BGREWRITEAOF, then waits until that rewrite has completed: INFO persistence counts
    one more successful rewrite and none is running or scheduled (a failed one fails the
    test at once)."""
    before = r.info("persistence")["aof_rewrites"]
    r.bgrewriteaof()

    def finished():
        info = r.info("persistence")
        if info["aof_rewrite_in_progress"] or info["aof_rewrite_scheduled"]:
            return None
        if info["aof_last_bgrewrite_status"] != "ok":
            pytest.fail(f"the AOF rewrite failed: {info}")
        return info["aof_rewrites"] > before and info

    return wait_until(finished, timeout, "the AOF rewrite to finish")


def through_redis_and_back(start_server, tmp_path, fill_data, state, change):
    """Fills a Strata server with `fill_data`, loads its snapshot into redis-server
    (`lz4 -dc`) and compares `state`, lets Redis `change` the data and save, then loads
    Redis's dump into Strata and compares `state` again."""
    strata = start_server("--save", "")
    fill_data(strata.client())
    expected = state(strata.client())
    strata.client().save()
    target = tmp_path / "redis"
    target.mkdir()
    with open(target / "dump.rdb", "wb") as out:
        subprocess.run(["lz4", "-dc", os.path.join(strata.workdir, "dump.sdb")], stdout=out, check=True)
    redis_server = start_server("--save", "", "--appendonly", "no", binary=shutil.which("redis-server"),
                                workdir=str(target))
    assert state(redis_server.client()) == expected
    change(redis_server.client())
    expected = state(redis_server.client())
    redis_server.client().save()
    redis_server.stop()
    back = tmp_path / "back"
    back.mkdir()
    shutil.copy(target / "dump.rdb", back / "dump.rdb")
    again = started(start_server("--save", "", "--dbfilename", "dump.rdb", workdir=str(back)))
    assert state(again.client()) == expected


def test_streams_move_between_redis_and_strata(start_server, tmp_path):
    through_redis_and_back(start_server, tmp_path, fill, snapshot_of,
                           lambda r: r.xadd("other", {"from": "redis"}, id="*"))
