"""ACL checks on the hot path: throughput of a restricted user against the default user on
the same server, Strata and redis-server 7.0 side by side in one run (loopback ports only,
only processes it starts, stopped by PID):

  python3 Tools/bench_acl.py [--rounds N]

The restricted user `app` has key patterns, a channel pattern and categories
(`~key:* ~counter:* ~mylist* &news.* -@all +@read +@write +@fast -@dangerous`), so each
command is checked against its bit, and each key against the patterns with the key's
read/write flags. redis-benchmark (50 clients, 32-byte values, -r 100000) runs SET, GET,
INCR, LPUSH and MSET at -P 1 and -P 16 as the default user and as `app`, alternating,
for --rounds rounds (default 3), the best of each kept. Printed: ops/s per user and the
restricted/default ratio for each server (the bar: Strata's ratio at least 0.95).

Binaries: STRATA_SERVER (default .build/release/strata-server), REDIS_SERVER (default
redis-server on PATH)."""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_aof import Process  # noqa: E402

RULES = ["on", ">app-pw", "~key:*", "~counter:*", "~mylist*", "&news.*", "-@all", "+@read", "+@write", "+@fast",
         "-@dangerous"]
TESTS = "set,get,incr,lpush,mset"


def bench(port, pipeline, user, tests=TESTS):
    requests = 1_000_000 if pipeline > 1 else 200_000
    auth = ["--user", "app", "-a", "app-pw"] if user == "app" else []
    args = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), *auth, "-n", str(requests), "-c", "50",
            "-r", "100000", "-d", "32", "-P", str(pipeline), "--csv", "-t", tests]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return {row["test"]: float(row["rps"]) for row in csv.DictReader(io.StringIO(out))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tests", default=TESTS, help=f"redis-benchmark -t list (default {TESTS})")
    parser.add_argument("--pipelines", default="1,16", help="pipeline depths (default 1,16)")
    options = parser.parse_args()
    binaries = {"redis": os.environ.get("REDIS_SERVER") or shutil.which("redis-server"),
                "strata": os.environ.get("STRATA_SERVER", ".build/release/strata-server")}
    servers = {name: Process(binary, ["--appendonly", "no"]) for name, binary in binaries.items()}
    try:
        for server in servers.values():
            subprocess.run(["redis-cli", "-p", str(server.port), "ACL", "SETUSER", "app", *RULES], check=True,
                           capture_output=True)
        best = {}
        pipelines = [int(p) for p in options.pipelines.split(",")]
        for _ in range(options.rounds):
            for pipeline in pipelines:
                for user in ("default", "app"):
                    for name, server in servers.items():
                        for test, rps in bench(server.port, pipeline, user, options.tests).items():
                            key = (name, pipeline, user, test)
                            best[key] = max(best.get(key, 0), rps)
        tests = sorted({key[3] for key in best})
        print(f"{'test':<28} {'P':>3} {'server':>7} {'default ops/s':>14} {'app ops/s':>12} {'app/default':>12}")
        for pipeline in pipelines:
            for test in tests:
                for name in servers:
                    default, app = best[(name, pipeline, "default", test)], best[(name, pipeline, "app", test)]
                    print(f"{test:<28} {pipeline:>3} {name:>7} {default:>14.0f} {app:>12.0f} {app / default:>12.3f}")
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
