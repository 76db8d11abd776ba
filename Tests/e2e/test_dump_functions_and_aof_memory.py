"""strata-dump over AOF directories and function libraries: `inspect --memory` and
`--keys` read an AOF directory as they read a snapshot and list the function libraries;
`convert` carries the libraries into snapshots and RESP, `restore` into a server and into
a data directory."""
import json
import os
import shutil

from test_strata_dump import run

LIBRARY = "#!lua name=mylib\nredis.register_function('double', function(keys, args) return args[1] * 2 end)"


def source(start_server, *args):
    server = start_server("--save", "", *args)
    r = server.client()
    for i in range(200):
        r.set(f"user:{i}", "x" * 50)
    r.hset("cart:1", mapping={"a": "1", "b": "2"})
    r.function_load(LIBRARY)
    return server


def test_inspect_reads_an_aof_directory_and_lists_function_libraries(start_server):
    server = source(start_server, "--appendonly", "yes")
    aof = os.path.join(server.workdir, "appendonlydir")
    memory = json.loads(run("inspect", aof, "--memory", "--json").stdout)
    assert memory["total"]["keys"] == 201 and memory["types"]["hash"]["keys"] == 1
    assert {p["prefix"]: p["keys"] for p in memory["prefixes"]}["user:*"] == 200
    assert memory["functions"] == [{"library": "mylib", "bytes": len(LIBRARY)}]
    table = run("inspect", aof, "--memory").stdout
    assert "function library" in table and "mylib" in table
    keys = [json.loads(line) for line in run("inspect", aof, "--keys", "--json", "--match", "cart:*").stdout.splitlines()]
    assert [k["key"] for k in keys] == ["cart:1"] and keys[0]["type"] == "hash"
    server.client().save()
    snapshot = json.loads(run("inspect", os.path.join(server.workdir, "dump.sdb"), "--memory", "--json").stdout)
    assert snapshot["functions"] == memory["functions"] and snapshot["total"]["keys"] == 201


def test_convert_and_restore_carry_function_libraries(start_server, tmp_path):
    server = source(start_server, "--appendonly", "yes")
    aof = os.path.join(server.workdir, "appendonlydir")
    converted = tmp_path / "one.sdb"
    assert run("convert", aof, str(converted)).returncode == 0
    resp = tmp_path / "one.resp"
    assert run("convert", aof, str(resp)).returncode == 0
    assert b"FUNCTION" in resp.read_bytes() and b"mylib" in resp.read_bytes()
    # A server started on the converted snapshot has the library.
    shutil.copy(converted, tmp_path / "dump.sdb")
    started = start_server("--save", "", workdir=str(tmp_path))
    assert started.client().fcall("double", 0, 21) == 42
    # restore --to loads it into a running server, --into installs it with the keys.
    target = start_server("--save", "")
    out = run("restore", str(converted), "--to", f"127.0.0.1:{target.port}")
    assert out.returncode == 0 and "1 function libraries" in out.stdout, out.stdout + out.stderr
    assert target.client().fcall("double", 0, 5) == 10 and target.client().dbsize() == 201
    into = tmp_path / "data"
    assert run("restore", aof, "--into", str(into)).returncode == 0
    installed = start_server("--save", "", workdir=str(into))
    assert installed.client().fcall("double", 0, 1) == 2 and installed.client().dbsize() == 201
