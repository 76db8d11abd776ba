"""TLS: `tls-port` served by Strata to redis-cli, redis-py and redis-benchmark with client
certificates (`tls-auth-clients yes|optional|no`); refused handshakes (no certificate, another
CA, plaintext) logged and harmless to other clients; the handshake timeout; `CONFIG SET` of a new
certificate serving new connections while old ones go on; a bad certificate at start-up or in
`CONFIG SET` refused as Redis refuses it; replication over TLS Strata to Strata and both ways
with redis-server 7.0; strata-dump restore/backup over TLS. Certificates are made per module by
Tools/gen-test-certs.sh (a CA, a server certificate for 127.0.0.1, a client certificate, and a
second, unrelated set)."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import ROOT, SERVER, free_port, wait_until

GEN = os.path.join(ROOT, "Tools", "gen-test-certs.sh")
DUMP = os.environ.get("STRATA_DUMP", os.path.join(ROOT, ".build", "release", "strata-dump"))
REFUSED = "Unable to update TLS configuration. Check server logs."


@pytest.fixture(scope="module")
def certs():
    """Two independent certificate sets: `a` (the servers' own) and `b` (another CA)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is required (apt-get install openssl)")
    base = tempfile.mkdtemp(prefix="strata-tls-")
    for name in ("a", "b"):
        subprocess.run(["bash", GEN, os.path.join(base, name)], check=True, capture_output=True)
    yield {name: (lambda f, d=os.path.join(base, name): os.path.join(d, f)) for name in ("a", "b")}
    shutil.rmtree(base, ignore_errors=True)


def tls_args(c, port, *extra):
    return ["--tls-port", str(port), "--tls-cert-file", c("server.crt"), "--tls-key-file", c("server.key"),
            "--tls-ca-cert-file", c("ca.crt"), *extra]


def tls_client(port, c=None, ca=None, **kwargs):
    """A redis-py client over TLS: CA from `ca` (else `c`'s), client certificate from `c`."""
    options = dict(ssl=True, ssl_ca_certs=ca or c("ca.crt"), ssl_cert_reqs="required", socket_timeout=10)
    if c is not None:
        options.update(ssl_certfile=c("client.crt"), ssl_keyfile=c("client.key"))
    options.update(kwargs)
    return redis.Redis(host="127.0.0.1", port=port, **options)


def tls_ping(port, c=None, ca=None):
    """True when a fresh TLS connection answers PING; False when it is refused. (Python's ssl
    directly: redis-py would retry a refused connection.)"""
    context = ssl.create_default_context(cafile=ca or c("ca.crt"))
    if c is not None:
        context.load_cert_chain(c("client.crt"), c("client.key"))
    try:
        with context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                 server_hostname="127.0.0.1") as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64) == b"+PONG\r\n"
    except (ssl.SSLError, OSError):
        return False


def start_tls(start_server, c, *extra, **kwargs):
    """A Strata server with a TLS listener, once that listener answers."""
    port = free_port()
    server = start_server(*tls_args(c, port), *extra, **kwargs)
    server.tls_port = port
    wait_until(lambda: tls_ping(port, c), 30, "the TLS listener")
    return server


def cli_tls(port, c, *args, check=True):
    return subprocess.run(["redis-cli", "-p", str(port), "--tls", "--cacert", c("ca.crt"), "--cert", c("client.crt"),
                           "--key", c("client.key"), *args], capture_output=True, check=check, timeout=30)


def test_redis_cli_ping_set_get(start_server, certs):
    a = certs["a"]
    server = start_tls(start_server, a)
    assert cli_tls(server.tls_port, a, "PING").stdout == b"PONG\n"
    assert cli_tls(server.tls_port, a, "SET", "k", "over tls").stdout == b"OK\n"
    assert cli_tls(server.tls_port, a, "GET", "k").stdout == b"over tls\n"
    # The same keyspace as the plain port.
    assert server.client().get("k") == b"over tls"
    assert "Ready to accept connections tls on port" in server.output()


def test_client_certificates_and_tls_auth_clients(start_server, certs):
    a, b = certs["a"], certs["b"]
    server = start_tls(start_server, a)
    port = server.tls_port
    r = tls_client(port, a)
    r.set("x", "1")
    assert r.get("x") == b"1"
    # yes (the default): a certificate signed by the CA is required.
    assert not tls_ping(port, None, ca=a("ca.crt"))
    assert not tls_ping(port, b, ca=a("ca.crt"))
    # optional: none is fine, one presented must verify.
    assert server.client().config_set("tls-auth-clients", "optional")
    assert tls_ping(port, None, ca=a("ca.crt"))
    assert tls_ping(port, a)
    assert not tls_ping(port, b, ca=a("ca.crt"))
    # no: none asked for.
    assert server.client().config_set("tls-auth-clients", "no")
    assert tls_ping(port, None, ca=a("ca.crt"))
    assert server.client().config_get("tls-auth-clients") == {"tls-auth-clients": "no"}
    # The server's own certificate is checked by the client against its CA.
    assert not tls_ping(port, a, ca=a("other-ca.crt"))
    assert r.get("x") == b"1"


def test_refused_handshakes_are_logged_and_harmless(start_server, certs):
    a, b = certs["a"], certs["b"]
    server = start_tls(start_server, a)
    port = server.tls_port
    steady = tls_client(port, a, single_connection_client=True)
    steady.set("steady", "yes")
    assert not tls_ping(port, None, ca=a("ca.crt"))
    wait_until(lambda: "Error accepting a client connection" in server.output() and "CERTIFICATE" in server.output(),
               10, "the log line of the refused handshake")
    before = server.output().count("Error accepting a client connection")
    assert not tls_ping(port, b, ca=a("ca.crt"))
    wait_until(lambda: server.output().count("Error accepting a client connection") > before, 10, "a second log line")
    # Plaintext RESP to the TLS port: refused, logged, and nothing else disturbed.
    before = server.output().count("Error accepting a client connection")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"*1\r\n$4\r\nPING\r\n")
        received = b""
        while True:
            chunk = raw.recv(4096)
            if not chunk:
                break
            received += chunk
    assert b"PONG" not in received
    wait_until(lambda: server.output().count("Error accepting a client connection") > before, 10, "the plaintext log")
    # Garbage, then a hang-up mid-handshake: no crash.
    for junk in (os.urandom(2048), b"\x16\x03\x01\xff\xff" + os.urandom(64), b"\x16\x03\x03\x00\x05\x01\x00"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(junk)
    assert steady.get("steady") == b"yes"
    assert steady.incr("n") == 1
    assert server.client().ping()
    assert server.proc.poll() is None


def test_handshake_timeout(start_server, certs):
    a = certs["a"]
    server = start_tls(start_server, a, "--tls-handshake-timeout", "300")
    assert server.client().config_get("tls-handshake-timeout") == {"tls-handshake-timeout": "300"}
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as silent:
        started = time.monotonic()
        assert silent.recv(1) == b""  # closed by the server, not by the 10 s socket timeout
        assert time.monotonic() - started < 8
    wait_until(lambda: "tls-handshake-timeout" in server.output(), 10, "the timeout's log line")
    assert tls_ping(server.tls_port, a)


def test_config_set_new_certificate(start_server, certs):
    a, b = certs["a"], certs["b"]
    server = start_tls(start_server, a)
    port = server.tls_port
    old = tls_client(port, a, single_connection_client=True)
    old.set("k", "before")
    plain = server.client()
    assert plain.config_set("tls-cert-file", b("server.crt"), "tls-key-file", b("server.key"),
                            "tls-ca-cert-file", b("ca.crt"))
    # The connection made before keeps working.
    assert old.get("k") == b"before"
    old.set("k", "after")
    # New connections get the new certificate (CA b), and the old CA no longer verifies it.
    assert not tls_ping(port, a)
    assert tls_ping(port, b)
    context = ssl.create_default_context(cafile=b("ca.crt"))
    context.load_cert_chain(b("client.crt"), b("client.key"))
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost") as s:
        presented = s.getpeercert(binary_form=True)
    with open(b("server.crt")) as f:
        assert presented == ssl.PEM_cert_to_DER_cert(f.read())
    # A bad value: Redis's error, the reason logged, the previous context kept.
    with pytest.raises(redis.exceptions.ResponseError) as error:
        plain.config_set("tls-cert-file", "/nonexistent/server.crt")
    assert str(error.value) == f"CONFIG SET failed (possibly related to argument 'tls-cert-file') - {REFUSED}"
    assert "Failed to load certificate: /nonexistent/server.crt" in server.output()
    assert plain.config_get("tls-cert-file") == {"tls-cert-file": b("server.crt")}
    with pytest.raises(redis.exceptions.ResponseError) as error:
        plain.config_set("tls-key-file", a("server.key"))
    assert "tls-key-file" in str(error.value) and REFUSED in str(error.value)
    for name, value in [("tls-ciphers", "NO-SUCH-CIPHER"), ("tls-ciphers", "ALL:!ALL"),
                        ("tls-ciphersuites", "TLS_NOPE"), ("tls-protocols", "TLSv1.9"),
                        ("tls-dh-params-file", "/nonexistent/dh.pem")]:
        with pytest.raises(redis.exceptions.ResponseError) as error:
            plain.config_set(name, value)
        assert str(error.value) == f"CONFIG SET failed (possibly related to argument '{name}') - {REFUSED}", name
    assert plain.config_set("tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")
    assert plain.config_set("tls-protocols", "TLSv1.2")
    assert tls_ping(port, b)
    assert old.get("k") == b"after"
    # tls-port moves the listener (a port in use is refused, as in Redis).
    moved = free_port()
    assert plain.config_set("tls-port", moved)
    wait_until(lambda: tls_ping(moved, b), 10, "the moved TLS listener")
    assert not tls_ping(port, b)
    with pytest.raises(redis.exceptions.ResponseError) as error:
        plain.config_set("tls-port", server.port)
    assert "Unable to listen on this port" in str(error.value)
    assert plain.config_get("tls-port") == {"tls-port": str(moved)}
    assert old.get("k") == b"after"


def test_start_refused_with_a_bad_certificate(certs, tmp_path):
    a = certs["a"]
    cases = [
        (["--tls-cert-file", "/nonexistent.crt", "--tls-key-file", a("server.key"), "--tls-ca-cert-file", a("ca.crt")],
         "Failed to load certificate: /nonexistent.crt"),
        (["--tls-cert-file", a("server.crt"), "--tls-key-file", a("client.key"), "--tls-ca-cert-file", a("ca.crt")],
         "key values mismatch"),
        (["--tls-cert-file", a("server.crt"), "--tls-key-file", a("server.key")],
         "Either tls-ca-cert-file or tls-ca-cert-dir must be specified"),
        ([], "No tls-cert-file configured!"),
    ]
    for args, line in cases:
        done = subprocess.run([SERVER, "--port", str(free_port()), "--tls-port", str(free_port()), "--dir",
                               str(tmp_path), *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 1, args
        assert line in done.stdout + done.stderr, args
        assert "Failed to configure TLS. Check logs for more info." in done.stdout + done.stderr


def test_tls_only_with_port_zero(certs, tmp_path):
    a = certs["a"]
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([SERVER, "--port", "0", *tls_args(a, port), "--dir", str(tmp_path)], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: tls_ping(port, a), 30, "the TLS listener")
        assert tls_client(port, a).config_get("port") == {"port": "0"}
        with open(tmp_path / "server.log") as f:
            assert "Ready to accept connections tcp" not in f.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_redis_benchmark_over_tls(start_server, certs):
    a = certs["a"]
    server = start_tls(start_server, a)
    done = subprocess.run(["redis-benchmark", "-p", str(server.tls_port), "--tls", "--cacert", a("ca.crt"),
                           "--cert", a("client.crt"), "--key", a("client.key"), "-n", "4000", "-c", "10", "-P", "4",
                           "-t", "set,get", "-q"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "SET:" in done.stdout and "GET:" in done.stdout, done.stdout
    assert server.client().dbsize() == 1


def wait_synced(replica, primary_client, key, value):
    wait_until(lambda: replica.get(key) == value, 30, f"{key} on the replica")
    assert replica.info("replication")["master_link_status"] == "up"


def test_replication_strata_to_strata(start_server, certs):
    a = certs["a"]
    primary = start_tls(start_server, a)
    primary.client().set("before", "1")
    replica = start_tls(start_server, a, "--tls-replication", "yes", "--replicaof", f"127.0.0.1 {primary.tls_port}")
    wait_synced(replica.client(), primary.client(), "before", b"1")
    primary.client().set("after", "2")
    wait_synced(replica.client(), primary.client(), "after", b"2")
    info = primary.client().info("replication")
    assert info["connected_slaves"] == 1
    # The replica announced its TLS port, as Redis's replicas do with tls-replication.
    assert info["slave0"]["port"] == replica.tls_port


def test_replication_with_a_redis_replica(start_server, certs):
    a = certs["a"]
    # From a file (repl-diskless-sync no): the snapshot goes through the TLS file reader.
    primary = start_tls(start_server, a, "--repl-diskless-sync", "no")
    primary.client().mset({f"k{i}": "v" * 100 for i in range(3000)})
    port = free_port()
    start_server("--save", "", *tls_args(a, port), "--tls-replication", "yes", "--replicaof", "127.0.0.1",
                 str(primary.tls_port), binary=shutil.which("redis-server"))
    replica = tls_client(port, a)
    wait_until(lambda: replica.dbsize() == 3000 and replica.info("replication")["master_link_status"] == "up", 30,
               "the Redis replica's full sync")
    primary.client().set("live", "yes")
    wait_until(lambda: replica.get("live") == b"yes", 30, "the stream on the Redis replica")


def test_replication_from_a_redis_primary(start_server, certs):
    a = certs["a"]
    port = free_port()
    redis_primary = start_server("--save", "", *tls_args(a, port), "--repl-diskless-sync-delay", "0",
                                 binary=shutil.which("redis-server"))
    redis_primary.client().set("from", "redis")
    replica = start_tls(start_server, a, "--tls-replication", "yes", "--replicaof", f"127.0.0.1 {port}")
    wait_synced(replica.client(), redis_primary.client(), "from", b"redis")
    redis_primary.client().set("stream", "too")
    wait_synced(replica.client(), redis_primary.client(), "stream", b"too")


def test_strata_dump_backup_and_restore_over_tls(start_server, certs, tmp_path):
    a, b = certs["a"], certs["b"]
    server = start_tls(start_server, a)
    plain = server.client()
    plain.mset({f"key:{i}": i for i in range(500)})
    flags = ["--tls", "--cacert", a("ca.crt"), "--cert", a("client.crt"), "--key", a("client.key")]
    out = tmp_path / "backups"
    done = subprocess.run([DUMP, "backup", "--from", f"127.0.0.1:{server.tls_port}", "--out", str(out), *flags],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "500 keys" in done.stdout and "verified" in done.stdout
    backup = str(out / os.listdir(out)[0])
    plain.flushall()
    done = subprocess.run([DUMP, "restore", backup, "--to", f"127.0.0.1:{server.tls_port}", *flags],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert plain.dbsize() == 500 and plain.get("key:7") == b"7"
    # A server certificate from another CA is refused; so is TLS without --tls.
    done = subprocess.run([DUMP, "restore", backup, "--to", f"127.0.0.1:{server.tls_port}", "--tls", "--cacert",
                           b("ca.crt"), "--cert", a("client.crt"), "--key", a("client.key")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in done.stderr
    done = subprocess.run([DUMP, "restore", backup, "--to", f"127.0.0.1:{server.port}", "--cacert", a("ca.crt")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "need --tls" in done.stderr
