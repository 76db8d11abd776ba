"""`DEBUG POPULATE count [prefix] [size]` as Redis 7.0 answers it, side by side: the keys
and values it makes (cut or padded with zero bytes), keys already there left alone, and
its refusals."""
import shutil

REQUESTS = [
    ("debug", "populate", "3"),
    ("debug", "populate", "3", "pre", "12"),
    ("debug", "populate", "2", "pre", "0"),
    ("debug", "populate", "4", "short", "3"),
    ("debug", "populate", "0"),
    ("debug", "populate", "-1"),
    ("debug", "populate", "x"),
    ("debug", "populate", "2", "pre", "-5"),
    ("debug", "populate", "1", "2", "3", "4"),
    ("debug", "populate"),
]
KEYS = ["key:0", "key:2", "key:3", "pre:0", "pre:1", "pre:2", "short:3"]


def answers(server):
    r = server.client()
    out = []
    for request in REQUESTS:
        try:
            out.append(r.execute_command(*request))
        except Exception as error:  # the error text is what is compared
            out.append(f"error: {error}")
    out.append([r.get(key) for key in KEYS])
    out.append(r.dbsize())
    return out


def test_debug_populate_matches_redis(start_server):
    strata = start_server("--save", "", "--enable-debug-command", "yes")
    redis = start_server("--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
                         binary=shutil.which("redis-server"))
    ours, theirs = answers(strata), answers(redis)
    assert ours == theirs
    assert theirs[-2][3] == b"value:0\x00\x00\x00\x00\x00" and theirs[-2][6] == b"val"
