"""Failing disks under the snapshot writer, the AOF writer, the AOF rewrite and the manifest
update, injected with `DEBUG FAULT` (enable-debug-command): each failure is reported (log,
INFO status fields, MISCONF as Redis), no acknowledged write is lost, every file left on
disk loads, and service resumes once the fault clears."""
import os
import subprocess
import threading

import pytest
import redis

from conftest import wait_until
from test_aof import AOF, DUMP, kill9, wait_rewrite
from test_snapshots import wait_loaded

DEBUG = ("--enable-debug-command", "yes")
STRERROR = {"ENOSPC": "No space left on device", "EIO": "Input/output error", "EROFS": "Read-only file system"}


def wait_for(condition, timeout=30, message="condition"):
    return wait_until(condition, timeout, message)


def write_until_refused(r, prefix, limit=200):
    """SETs keys until a MISCONF refusal; returns the acknowledged keys and the error."""
    acked = []
    for i in range(limit):
        try:
            r.set(f"{prefix}:{i}", f"value-{i}")
        except redis.ResponseError as error:
            return acked, str(error)
        acked.append(f"{prefix}:{i}")
    return acked, None


def test_debug_command_is_gated_as_in_redis(start_server):
    r = start_server().client()
    with pytest.raises(redis.ResponseError, match="DEBUG command not allowed"):
        r.execute_command("DEBUG", "FAULT", "LIST")
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("enable-debug-command", "yes")


SNAPSHOT_FAULTS = [
    ("write", "ENOSPC"), ("write", "EIO"), ("fsync", "EIO"), ("open", "EROFS"), ("rename", "EIO"),
]


@pytest.mark.parametrize("operation,error", SNAPSHOT_FAULTS)
def test_snapshot_failure_refuses_writes_keeps_the_old_file_and_retries(start_server, operation, error):
    server = start_server(*DEBUG, "--save", "3600 1")
    r = server.client()
    for i in range(100):
        r.set(f"saved:{i}", i)
    r.save()
    dump = os.path.join(server.workdir, "dump.sdb")
    saved_size = os.path.getsize(dump)
    path = "dump.sdb" if operation == "rename" else "temp-"
    r.execute_command("DEBUG", "FAULT", "SET", operation, error, "PATH", path)
    r.set("before-failure", "x")
    r.bgsave()
    wait_for(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, message="bgsave")
    assert r.info("persistence")["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.ResponseError, match="^MISCONF Redis is configured to save RDB snapshots"):
        r.set("refused", "x")
    assert r.get("saved:1") == b"1"  # reads are served
    assert f"Background saving error: {operation} " in server.output() and STRERROR[error] in server.output()
    # The previous snapshot is untouched and loads; no temp file is left behind.
    assert os.path.getsize(dump) == saved_size
    assert subprocess.run([DUMP, "verify", dump], capture_output=True).returncode == 0
    assert not [n for n in os.listdir(server.workdir) if n.startswith("temp-")]
    # The fault clears: the save is retried after its back-off and writes resume.
    r.execute_command("DEBUG", "FAULT", "CLEAR")
    r.execute_command("CONFIG", "SET", "save", "1 1")
    wait_for(lambda: r.info("persistence")["rdb_last_bgsave_status"] == "ok", message="retry")
    r.set("after", "ok")
    r.save()
    server.stop()
    again = start_server(*DEBUG, workdir=server.workdir)
    a = again.client()
    wait_loaded(a)
    assert a.get("before-failure") == b"x" and a.get("after") == b"ok" and a.get("saved:99") == b"99"
    assert a.get("refused") is None


def test_short_writes_are_completed_under_every_writer(start_server):
    server = start_server(*DEBUG, *AOF)
    r = server.client()
    # Fewer short writes than the writers make: all of them are used up by the end.
    r.execute_command("DEBUG", "FAULT", "SET", "write", "SHORT", "TIMES", "500")
    for i in range(2000):
        r.set(f"k:{i}", "v" * (i % 300))
    r.save()
    r.execute_command("BGREWRITEAOF")
    assert wait_rewrite(r)["aof_last_bgrewrite_status"] == "ok"
    for i in range(2000, 2500):
        r.set(f"k:{i}", "w")
    info = r.info("persistence")
    assert info["aof_last_write_status"] == "ok" and info["rdb_last_bgsave_status"] == "ok"
    assert r.execute_command("DEBUG", "FAULT", "LIST") == [], "the short writes were not all made"
    kill9(server)
    dump = os.path.join(server.workdir, "dump.sdb")
    assert subprocess.run([DUMP, "verify", dump], capture_output=True).returncode == 0
    again = start_server(*AOF, workdir=server.workdir)
    a = again.client()
    wait_loaded(a)
    assert a.dbsize() == 2500 and a.get("k:299") == b"v" * 299


@pytest.mark.parametrize("fsync_policy", ["everysec", "always"])
@pytest.mark.parametrize("operation,error", [("write", "ENOSPC"), ("write", "EIO"), ("fsync", "EIO")])
def test_aof_failure_refuses_writes_loses_nothing_acknowledged_and_resumes(
        start_server, fsync_policy, operation, error):
    server = start_server(*DEBUG, *AOF, "--appendfsync", fsync_policy, "--auto-aof-rewrite-percentage", "0")
    r = server.client(socket_timeout=30)
    acked = [f"pre:{i}" for i in range(50)]
    for key in acked:
        r.set(key, "v")
    r.execute_command("DEBUG", "FAULT", "SET", operation, error, "PATH", ".incr.aof")
    held = {}
    if fsync_policy == "always":
        # The write's reply is held until it is on disk; meanwhile other writes are refused.
        thread = threading.Thread(target=lambda: held.update(reply=server.client(socket_timeout=60).set("held", "x")))
        thread.start()
        wait_for(lambda: r.info("persistence")["aof_last_write_status"] == "err", message="aof_last_write_status:err")
        assert "reply" not in held, "a write that is not on disk was acknowledged"
        more, refusal = write_until_refused(r, "during", limit=1)
    else:
        more, refusal = write_until_refused(r, "during")
        wait_for(lambda: r.info("persistence")["aof_last_write_status"] == "err", message="aof_last_write_status:err")
        if refusal is None:
            acked += more
            more, refusal = write_until_refused(r, "during2")
    acked += more
    assert refusal is not None and refusal.startswith("MISCONF Errors writing to the AOF file")
    assert r.get("pre:1") == b"v"
    assert ("Error writing to the AOF file" in server.output() or "Error syncing the AOF file" in server.output())
    r.execute_command("DEBUG", "FAULT", "CLEAR")
    wait_for(lambda: r.info("persistence")["aof_last_write_status"] == "ok", message="recovery")
    if fsync_policy == "always":
        thread.join(30)
        assert held.get("reply") is True
        acked.append("held")
    if operation == "fsync":
        # A later fsync of the same file proves nothing (Linux may have dropped the pages of
        # the failed one): the data was made durable again by a rewrite.
        assert r.info("persistence")["aof_rewrites"] >= 1
        assert "made the data durable again" in server.output()
    r.set("after", "ok")
    acked.append("after")
    if fsync_policy == "everysec":
        # "after" is written, maybe not yet synced: wait for an everysec fsync that started
        # after it. One running at this INFO may have started before it, hence the +1; the
        # write after the INFO leaves something to sync, so fsyncs go on until one covers
        # "after". (Under `always` its reply was held until it was synced.)
        persistence = r.info("persistence")
        r.set("unsynced-marker", "x")
        target = persistence["strata_aof_fsyncs"] + 1 + persistence["aof_pending_bio_fsync"]
        wait_for(lambda: r.info("persistence")["strata_aof_fsyncs"] >= target, message="the everysec fsync")
    kill9(server)
    again = start_server(*AOF, workdir=server.workdir)
    a = again.client()
    wait_loaded(a)
    assert a.exists(*acked) == len(acked), "an acknowledged write was lost"
    verify = subprocess.run([DUMP, "verify", os.path.join(server.workdir, "appendonlydir")], capture_output=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


REWRITE_FAULTS = [
    ("write", "ENOSPC", "temp-rewriteaof"),   # the new base
    ("fsync", "EIO", "temp-rewriteaof"),
    ("rename", "EIO", ".base."),             # publishing the base
    ("open", "EROFS", ".incr.aof"),          # the new incremental file
    ("write", "ENOSPC", ".manifest"),        # the manifest naming the new incremental file
    ("rename", "EIO", ".manifest"),
    ("write", "ENOSPC", ".manifest SKIP 1"),  # the manifest naming the new base
    ("rename", "EIO", ".manifest SKIP 1"),
]


@pytest.mark.parametrize("operation,error,path", REWRITE_FAULTS)
def test_rewrite_failure_keeps_the_directory_loadable_and_retries(start_server, operation, error, path):
    server = start_server(*DEBUG, *AOF, "--auto-aof-rewrite-percentage", "0")
    r = server.client()
    acked = []
    for i in range(300):
        r.set(f"k:{i}", i)
        acked.append(f"k:{i}")
    r.execute_command("DEBUG", "FAULT", "SET", operation, error, "PATH", *path.split())
    if operation == "open" or path == ".manifest":
        # The new incremental file is opened, and named in the manifest, before the rewrite
        # starts: refused at once, as Redis.
        with pytest.raises(redis.ResponseError, match="Can't execute an AOF background rewriting"):
            r.execute_command("BGREWRITEAOF")
    else:
        r.execute_command("BGREWRITEAOF")
    info = wait_rewrite(r)
    assert info["aof_last_bgrewrite_status"] == "err"
    # Writes go on while the rewrite failed (as in Redis), logged to the current file.
    for i in range(300, 400):
        r.set(f"k:{i}", i)
        acked.append(f"k:{i}")
    assert r.info("persistence")["aof_last_write_status"] == "ok"
    directory = os.path.join(server.workdir, "appendonlydir")
    assert not [n for n in os.listdir(directory) if n.startswith("temp-")]
    r.execute_command("DEBUG", "FAULT", "CLEAR")
    kill9(server)
    # What the failure left on disk loads with everything acknowledged.
    again = start_server(*DEBUG, *AOF, "--auto-aof-rewrite-percentage", "0", workdir=server.workdir)
    a = again.client()
    wait_loaded(a)
    assert a.exists(*acked) == len(acked)
    # And with the fault gone, a rewrite succeeds and the result loads too.
    a.execute_command("BGREWRITEAOF")
    assert wait_rewrite(a)["aof_last_bgrewrite_status"] == "ok"
    a.set("after", "rewrite")
    kill9(again)
    third = start_server(*AOF, workdir=server.workdir)
    t = third.client()
    wait_loaded(t)
    assert t.exists(*acked) == len(acked) and t.get("after") == b"rewrite"


def test_read_only_directory_refuses_writes_until_it_is_writable_again(start_server):
    server = start_server(*DEBUG, *AOF, "--auto-aof-rewrite-percentage", "0", "--save", "3600 1")
    r = server.client()
    r.set("before", "x")
    # Every new file fails as on a read-only file system; the open AOF file can't be written.
    r.execute_command("DEBUG", "FAULT", "SET", "open", "EROFS")
    r.execute_command("DEBUG", "FAULT", "SET", "write", "EROFS")
    acked, refusal = write_until_refused(r, "ro")
    assert refusal is not None and "Read-only file system" in refusal
    r.bgsave()
    wait_for(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, message="bgsave")
    assert r.info("persistence")["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.ResponseError, match="Can't execute an AOF background rewriting"):
        r.execute_command("BGREWRITEAOF")
    assert wait_rewrite(r)["aof_last_bgrewrite_status"] == "err"
    r.execute_command("DEBUG", "FAULT", "CLEAR")
    wait_for(lambda: r.info("persistence")["aof_last_write_status"] == "ok", message="AOF writes resume")
    r.save()
    r.set("after", "y")
    kill9(server)
    again = start_server(*AOF, workdir=server.workdir)
    a = again.client()
    wait_loaded(a)
    assert a.get("before") == b"x" and a.get("after") == b"y"
    assert not acked or a.exists(*acked) == len(acked)
