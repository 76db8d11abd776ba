"""TLS throughput: redis-server 7.0 and strata-server, both serving TLS on loopback with
the same certificates (Tools/gen-test-certs.sh, client certificates required), measured
with `redis-benchmark --tls` (50 clients, SET and GET at -P 1 and -P 16), the two servers
interleaved run by run, the best of BENCH_ROUNDS runs kept for each. Prints ops/s and the
Strata/Redis ratio, and the same workload over plain TCP for scale (TLS cost = TLS / TCP).
Only loopback addresses and only the processes it starts (stopped by PID).

    python3 Tools/bench_tls.py [.build/release/strata-server]
    BENCH_ROUNDS=3 BENCH_REQUESTS_P1=100000 BENCH_REQUESTS_P16=500000 ...
"""
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_aof import Process, free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "strata-server")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REQUESTS = {1: int(os.environ.get("BENCH_REQUESTS_P1", "100000")),
            16: int(os.environ.get("BENCH_REQUESTS_P16", "500000"))}
TESTS = os.environ.get("BENCH_TESTS", "set,get").split(",")


def start(name, binary, certs):
    """A server (bench_aof.Process: a free plain port, its own directory, stopped by PID)
    with a TLS port beside it."""
    tls_port = free_port()
    server = Process(binary, ["--tls-port", str(tls_port), "--bind", "127.0.0.1",
                              "--tls-cert-file", f"{certs}/server.crt", "--tls-key-file", f"{certs}/server.key",
                              "--tls-ca-cert-file", f"{certs}/ca.crt", "--appendonly", "no"])
    server.name = name
    server.tls_port = tls_port
    return server


def bench(server, certs, test, pipeline, tls):
    args = ["redis-benchmark", "-h", "127.0.0.1", "-n", str(REQUESTS[pipeline]), "-c", "50", "-r", "1000000",
            "-d", "32", "-P", str(pipeline), "-t", test, "--csv"]
    if tls:
        args += ["-p", str(server.tls_port), "--tls", "--cacert", f"{certs}/ca.crt", "--cert", f"{certs}/client.crt",
                 "--key", f"{certs}/client.key"]
    else:
        args += ["-p", str(server.port)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(next(csv.DictReader(io.StringIO(out)))["rps"])


def main():
    if shutil.which("redis-server") is None or shutil.which("redis-benchmark") is None:
        sys.exit("redis-server and redis-benchmark are required (make test-deps)")
    work = tempfile.mkdtemp(prefix="bench-tls-")
    certs = os.path.join(work, "certs")
    subprocess.run(["bash", os.path.join(ROOT, "Tools", "gen-test-certs.sh"), certs], check=True,
                   capture_output=True)
    servers = []
    try:
        for name, binary in (("redis", shutil.which("redis-server")), ("strata", STRATA)):
            servers.append(start(name, binary, certs))
        redis_server, strata = servers
        best = {}
        for _ in range(ROUNDS):
            for tls in (True, False):
                for pipeline in (1, 16):
                    for test in TESTS:
                        for server in (redis_server, strata):  # interleaved
                            key = (server.name, tls, pipeline, test)
                            best[key] = max(best.get(key, 0.0), bench(server, certs, test, pipeline, tls))
        print(f"best of {ROUNDS} rounds, 50 clients, 32-byte values, client certificates required")
        print(f"{'test':<10}{'transport':<10}{'redis ops/s':>14}{'strata ops/s':>14}{'strata/redis':>14}")
        for tls in (True, False):
            for pipeline in (1, 16):
                for test in TESTS:
                    r, s = best[("redis", tls, pipeline, test)], best[("strata", tls, pipeline, test)]
                    label = f"{test.upper()} -P{pipeline}"
                    print(f"{label:<10}{'tls' if tls else 'tcp':<10}{r:>14,.0f}{s:>14,.0f}{s / r:>14.2f}")
        print("TLS throughput as a share of plain TCP's (1.00 = TLS costs nothing):")
        for pipeline in (1, 16):
            for test in TESTS:
                shares = [best[(n, True, pipeline, test)] / best[(n, False, pipeline, test)] for n in ("redis", "strata")]
                print(f"  {test.upper()} -P{pipeline}: redis {shares[0]:.2f}, strata {shares[1]:.2f}")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
