"""`strata-dump backup --compress lz4|zlib`: the snapshot taken over the network is kept
as a compressed Strata snapshot (verified before the plain copy goes and before old
backups rotate out), with function libraries and memcached metadata; the command says
what it kept and removed; the cron script passes COMPRESS and logs each run to syslog."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import fill
from test_strata_dump import DUMP, ROOT, run

LIBRARY = "#!lua name=backuplib\nredis.register_function('answer', function() return 42 end)"


@pytest.mark.parametrize("codec", ["lz4", "zlib"])
def test_compressed_backups_keep_keys_functions_and_rotate(start_server, tmp_path, codec):
    source = start_server("--save", "")
    r = source.client()
    fill(r, 5_000, prefix="k:", value="x" * 100)
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.set("ttl", "v", ex=3600)
    r.function_load(LIBRARY)
    out_dir = tmp_path / "backups"
    made = []
    for _ in range(3):
        out = run("backup", "--from", f"127.0.0.1:{source.port}", "--out", str(out_dir), "--keep", "2",
                  "--compress", codec, "--json")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["verified"] is True and result["keys"] == 5_002 and result["file"].endswith(".sdb")
        assert result["bytes"] < result["received"]  # compressed
        made.append(os.path.basename(result["file"]))
        assert result["kept"] == made[-2:]
    assert result["removed"] == [made[0]]
    assert sorted(os.listdir(out_dir)) == sorted(made[1:])  # no plain .rdb left behind
    newest = out_dir / made[-1]
    summary = json.loads(run("inspect", str(newest), "--json").stdout)
    assert summary["codec"] == codec
    # The snapshot starts a server with every key and the function library.
    shutil.copy(newest, tmp_path / "dump.sdb")
    restored = start_server("--save", "", workdir=str(tmp_path))
    c = restored.client()
    assert c.dbsize() == 5_002 and c.hgetall("h") == {b"a": b"1", b"b": b"2"} and 3500 < c.ttl("ttl") <= 3600
    assert c.fcall("answer", 0) == 42


def test_the_text_line_says_what_was_kept_and_removed(start_server, tmp_path):
    source = start_server("--save", "")
    source.client().set("k", "v")
    out_dir = tmp_path / "b"
    lines = [run("backup", "--from", f"127.0.0.1:{source.port}", "--out", str(out_dir), "--keep", "1",
                 "--compress", "lz4").stdout for _ in range(2)]
    assert "; kept 1: backup-" in lines[0] and "; removed none" in lines[0]
    assert "; removed backup-" in lines[1] and ".sdb" in lines[1]
    assert run("backup", "--from", "127.0.0.1:1", "--out", str(out_dir), "--compress", "none").returncode == 2


def test_the_cron_script_compresses_and_logs_to_syslog(start_server, tmp_path):
    source = start_server("--save", "")
    source.client().set("k", "v")
    # A stand-in for logger(1) that records how it was called.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "logger-calls"
    (bin_dir / "logger").write_text(f"#!/bin/sh\nprintf '%s|' \"$@\" >> {calls}\necho >> {calls}\n")
    (bin_dir / "logger").chmod(0o755)
    script = os.path.join(ROOT, "Tools", "strata-backup-cron.sh")
    env = dict(os.environ, STRATA_HOST=f"127.0.0.1:{source.port}", BACKUP_DIR=str(tmp_path / "b"), KEEP="2",
               STRATA_DUMP=DUMP, COMPRESS="zlib", PATH=f"{bin_dir}:{os.environ['PATH']}")
    ok = subprocess.run([script], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert [name[-4:] for name in os.listdir(tmp_path / "b")] == [".sdb"]
    env["STRATA_HOST"] = "127.0.0.1:1"
    assert subprocess.run([script], env=env, capture_output=True, text=True, timeout=120).returncode == 1
    logged = calls.read_text().splitlines()
    assert logged[0].startswith("-t|strata-backup|-p|user.info|--|ok: backup ")
    assert logged[1].startswith("-t|strata-backup|-p|user.err|--|FAILED (exit 1): ")
    env["SYSLOG"] = "no"
    subprocess.run([script], env=env, capture_output=True, text=True, timeout=120)
    assert len(calls.read_text().splitlines()) == 2
