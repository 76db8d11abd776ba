"""MONITOR side by side with Redis 7.0: the same commands sent to both servers while a
monitor listens; the lines must be equal once timestamps and client ports are masked."""
import re
import socket
import time


from conftest import wait_until

PAYLOAD = (
    b"SELECT 2\r\nSET a 1\r\nMULTI\r\nSET a 2\r\nINCR a\r\nEXEC\r\nAUTH foo\r\nAUTH user pass\r\n"
    b"HELLO 2 AUTH default xx\r\nEVAL \"return redis.call('get','a')\" 0\r\nCLIENT SETNAME nm\r\nGET\r\n"
    b"NOSUCH\r\nCONFIG GET maxmemory\r\nSLOWLOG LEN\r\n*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$10\r\na b\x01\"c\\\n\t\xff\r\n"
    b"BLPOP nol 0.01\r\nSELECT 0\r\nPING\r\nECHO done\r\n"
)




class Monitor:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(b"MONITOR\r\n")
        self.data = b""
        self.read_until(b"+OK\r\n")

    def read_until(self, marker):
        deadline = time.monotonic() + 10
        while marker not in self.data and time.monotonic() < deadline:
            self.data += self.sock.recv(65536)
        assert marker in self.data, self.data

    def lines(self):
        return [line for line in self.data.split(b"\r\n") if line]


def masked(line):
    line = re.sub(rb"\+\d+\.\d{6} ", b"+T ", line)
    return re.sub(rb"127\.0\.0\.1:\d+", b"ADDR", line)


def monitored(server):
    monitor = Monitor(server.port)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(PAYLOAD)
        monitor.read_until(b'"ECHO" "done"')
    return [masked(line) for line in monitor.lines()]


def test_monitor_lines_as_redis(strata_and_redis):
    strata, reference = strata_and_redis
    strata_lines = monitored(strata)
    assert strata_lines == monitored(reference)
    assert b'+T [2 lua] "get" "a"' in strata_lines
    assert b'+T [2 ADDR] "AUTH" "(redacted)" "(redacted)"' in strata_lines
    assert not any(b"CONFIG" in line or b"SLOWLOG" in line or b"NOSUCH" in line for line in strata_lines)


def raw_reply(port, payload, marker):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        data = b""
        deadline = time.monotonic() + 10
        while marker not in data and time.monotonic() < deadline:
            data += sock.recv(65536)
        return data


def test_monitor_refusals_as_redis(strata_and_redis):
    strata, reference = strata_and_redis
    for payload, marker in (
        (b"MULTI\r\nMONITOR\r\nEXEC\r\n", b"BLOCKING client\r\n"),
        (b"SUBSCRIBE x\r\nMONITOR\r\n", b"context\r\n"),
        (b"EVAL \"return redis.call('monitor')\" 0\r\n", b"script"),
        (b"MONITOR\r\nMONITOR\r\nECHO x\r\n", b"$1\r\nx\r\n"),
    ):
        got = [raw_reply(server.port, payload, marker) for server in strata_and_redis]
        assert masked(got[0]) == masked(got[1]), payload


def test_reset_and_disconnect_end_monitoring(server):
    monitor = Monitor(server.port)
    client = server.client()
    monitor.sock.sendall(b"RESET\r\n")
    monitor.read_until(b"+RESET\r\n")
    client.set("after", "reset")
    monitor.sock.sendall(b"PING\r\n")
    monitor.read_until(b"+PONG\r\n")
    assert b"after" not in monitor.data
    again = Monitor(server.port)
    again.sock.close()
    client.set("still", "fine")
    assert client.get("still") == b"fine"
