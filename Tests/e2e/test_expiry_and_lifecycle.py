"""Active expiry in the real process, authentication, and the daemon's life cycle."""
import os
import random
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from conftest import SERVER, free_port, raw_connection, wait_until


# redis-py retries a refused AUTH and a closed connection (subclasses of ConnectionError)
# three times with back-off, seconds of sleeping for an answer that is already final.
NO_RETRY = {"retry": Retry(NoBackoff(), 0)}


def info(r, field, section="memory"):
    return int(r.info(section)[field])


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_a_million_untouched_keys_expire_within_ten_seconds_with_low_latency(server):
    r = server.client()
    for i in range(1000):
        r.set(f"live:{i}", "v")
    baseline_used = info(r, "used_memory")
    payload = b"".join(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$2\r\nPX\r\n$4\r\n1000\r\n" % (len(k), k)
                       for k in (b"ttl:%d" % i for i in range(1_000_000)))
    out = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=payload, capture_output=True,
                         check=True).stdout
    assert b"errors: 0, replies: 1000000" in out
    loaded_at = time.time()
    peak_used = info(r, "used_memory")
    peak_rss = rss(server.proc.pid)
    assert peak_used - baseline_used > 50_000_000

    latencies = []
    stop = threading.Event()

    def reader():
        c = server.client()
        while not stop.is_set():
            key = f"live:{random.randrange(1000)}"
            start = time.perf_counter()
            assert c.get(key) == b"v"
            latencies.append(time.perf_counter() - start)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        gone_at = None
        while time.time() - loaded_at < 10:
            if r.dbsize() == 1000:
                gone_at = time.time()
                break
            time.sleep(0.1)  # the poll interval of a loop whose deadline is the test's bound
    finally:
        stop.set()
        thread.join()
    assert gone_at is not None, f"{r.dbsize() - 1000} keys still present 10 s after loading"
    assert info(r, "expired_keys", "stats") >= 900_000
    # Memory returned: the allocator's figure is back near the baseline, and the process
    # gave most of the pages back to the system (freed in the background: waited for).
    def memory_returned():
        used = info(r, "used_memory")
        returned = (used - baseline_used < (peak_used - baseline_used) * 0.1
                    and rss(server.proc.pid) < peak_rss - (peak_used - baseline_used) * 0.5)
        return used if returned else None

    used_after = wait_until(memory_returned, 30, "the expired keys' memory to be returned")
    assert used_after - baseline_used < (peak_used - baseline_used) * 0.1, (baseline_used, peak_used, used_after)
    assert rss(server.proc.pid) < peak_rss - (peak_used - baseline_used) * 0.5
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"\nexpiry wave: all gone {gone_at - loaded_at:.2f} s after loading; used_memory "
          f"{baseline_used} -> {peak_used} -> {used_after}; GET p99 {p99 * 1000:.3f} ms over {len(latencies)} GETs")
    assert len(latencies) > 1000
    assert p99 < 0.005, f"GET p99 {p99 * 1000:.2f} ms during the expiry wave"


def test_requirepass_gates_every_command(start_server):
    s = start_server("--requirepass", "s3cret")
    r = s.client(**NO_RETRY)
    with pytest.raises(redis.AuthenticationError):
        r.get("x")
    raw = raw_connection(s.port)
    raw.sendall(b"GET x\r\nAUTH wrong\r\nHELLO 3\r\nAUTH s3cret\r\nGET x\r\n")
    data = b""
    while data.count(b"\r\n") < 5:  # five one-line replies; recv waits for them (30 s timeout)
        chunk = raw.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    raw.close()
    assert data.startswith(b"-NOAUTH Authentication required.\r\n"
                           b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                           b"-NOAUTH HELLO must be called with the client already authenticated")
    assert data.endswith(b"+OK\r\n$-1\r\n")
    good = s.client(password="s3cret")
    assert good.set("k", "v")
    resp3 = s.client(password="s3cret", username="default", protocol=3)
    assert resp3.get("k") == b"v"
    with pytest.raises(redis.AuthenticationError):
        s.client(password="nope", **NO_RETRY).ping()


def test_auth_without_password_configured(server):
    with pytest.raises(redis.AuthenticationError, match="called without any password configured"):
        server.client(**NO_RETRY).execute_command("AUTH", "x")


def test_sigterm_finishes_and_exits_zero(server):
    r = server.client()
    r.set("k", "v")
    assert server.stop() == 0
    assert "ready to exit" in server.output()


def test_shutdown_command_exits_zero(server):
    r = server.client(**NO_RETRY)
    r.shutdown(nosave=True)  # redis-py raises if the server replies instead of closing
    assert server.proc.wait(timeout=10) == 0


def test_bad_config_file_names_the_line(tmp_path):
    conf = tmp_path / "strata.conf"
    conf.write_text("port 7000\nnot-a-directive yes\n")
    out = subprocess.run([SERVER, str(conf)], capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert "at line 2" in out.stderr and "not-a-directive" in out.stderr
    assert "Bad directive or wrong number of arguments" in out.stderr
    out = subprocess.run([SERVER, "--port", "notaport"], capture_output=True, text=True, timeout=20)
    assert out.returncode != 0 and "argument couldn't be parsed into an integer" in out.stderr


def test_config_file_is_read(tmp_path):
    port = free_port()
    conf = tmp_path / "strata.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\nrequirepass \"pw\"\ndatabases 4\ndir {tmp_path}\n"
                    f"pidfile {tmp_path}/strata.pid\n")
    proc = subprocess.Popen([SERVER, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                r = redis.Redis(port=port, password="pw", **NO_RETRY)
                r.ping()
                break
            except redis.ConnectionError:
                assert time.time() < deadline
                time.sleep(0.05)  # the poll interval while the server starts
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            r.execute_command("SELECT", "4")
        assert r.config_get("databases") == {"databases": "4"} or r.config_get("databases") == {b"databases": b"4"}
        assert (tmp_path / "strata.pid").read_text().strip() == str(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert not (tmp_path / "strata.pid").exists()


def test_idle_clients_are_closed_after_timeout(start_server):
    s = start_server("--timeout", "1")
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.settimeout(5)
    start = time.time()
    assert sock.recv(10) == b""
    assert 0.9 < time.time() - start < 4
    sock.close()


def test_maxclients_refuses_extra_connections(start_server):
    s = start_server("--maxclients", "2")
    a, b = s.client(), s.client()
    assert a.ping() and b.ping()
    extra = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    assert extra.recv(100) == b"-ERR max number of clients reached\r\n"
    extra.close()
    assert a.info("stats")["rejected_connections"] == 1
