"""Command statistics, the slow log and the latency monitor, side by side with Redis 7.0:
the same commands against both servers, then INFO commandstats / errorstats /
latencystats, SLOWLOG and LATENCY compared (counts and texts exactly, timings by shape)."""
import re
import shutil
import socket

import pytest
import redis

from conftest import wait_until


@pytest.fixture
def pair(start_server):
    strata = start_server("--enable-debug-command", "yes")
    reference = start_server(
        "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", binary=shutil.which("redis-server")
    )
    return strata, reference


def raw(port, payload):
    """Sends raw RESP/inline bytes and reads until the server has answered `count` lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload + b"PING\r\n")
        data = b""
        while not data.endswith(b"+PONG\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


WORKLOAD = [
    b"SET foo bar\r\n", b"GET foo\r\n", b"NOSUCHCMD x\r\n", b"GET\r\n", b"INCR foo\r\n", b"LPUSH foo x\r\n",
    b"CONFIG GET nosuch\r\n", b"MULTI\r\nSET a 1\r\nINCR a\r\nEXEC\r\n", b"CLIENT NOSUCH\r\n",
    b"EVAL \"return redis.call('get','a')\" 0\r\n", b"EVAL \"return redis.call('nosuch')\" 0\r\n",
    b"HSET h f v\r\nHGET h f\r\nHGET h\r\n",
]


def info_text(port, *sections):
    """INFO's text as sent (redis-py would parse it into a dict)."""
    command = b"*%d\r\n" % (len(sections) + 1) + b"$4\r\nINFO\r\n" + b"".join(
        b"$%d\r\n%s\r\n" % (len(s), s.encode()) for s in sections)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(command)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            header, _, rest = data.partition(b"\r\n")
            if header.startswith(b"$") and len(rest) >= int(header[1:]) + 2:
                return rest[: int(header[1:])].decode()


def counters(server, section):
    fields = {}
    for line in info_text(server.port, section).splitlines():
        if ":" in line and not line.startswith("#"):
            name, value = line.split(":", 1)
            fields[name] = value
    return fields


def without_timing(stats):
    """cmdstat values without usec and usec_per_call."""
    return {name: re.sub(r"usec=\d+,usec_per_call=[\d.]+,", "", value) for name, value in stats.items()}


def test_commandstats_and_errorstats_count_as_redis(pair):
    strata, reference = pair
    for server in pair:
        raw(server.port, b"".join(WORKLOAD))
    s = strata.client(decode_responses=True)
    r = reference.client(decode_responses=True)
    assert without_timing(counters(strata, "commandstats")) == without_timing(counters(reference, "commandstats"))
    assert counters(strata, "errorstats") == counters(reference, "errorstats")
    assert s.info("stats")["total_error_replies"] == r.info("stats")["total_error_replies"]
    for name, value in counters(strata, "commandstats").items():
        assert re.fullmatch(r"calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+", value)
    # latencystats: the same commands, each with the configured percentiles.
    strata_latency = counters(strata, "latencystats")
    assert set(strata_latency) == set(counters(reference, "latencystats"))
    for value in strata_latency.values():
        assert re.fullmatch(r"p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", value)
    for client in (s, r):
        client.config_set("latency-tracking-info-percentiles", "0 99.99 100")
    strata_latency = counters(strata, "latencystats")["latency_percentiles_usec_set"]
    assert re.fullmatch(r"p0=\d+\.\d{3},p99\.99=\d+\.\d{3},p100=\d+\.\d{3}", strata_latency)
    # CONFIG RESETSTAT forgets them, as in Redis.
    for client in (s, r):
        client.config_resetstat()
    assert counters(strata, "commandstats").keys() == counters(reference, "commandstats").keys()
    assert counters(strata, "errorstats") == counters(reference, "errorstats") == {}


def test_info_sections_are_redis_sections(pair):
    strata, reference = pair

    def sections(server, *args):
        return [line for line in info_text(server.port, *args).splitlines() if line.startswith("#")]

    for args in ((), ("all",), ("everything",), ("commandstats", "errorstats"), ("default",)):
        assert sections(strata, *args) == sections(reference, *args), args


def test_slowlog_as_redis(pair):
    strata, reference = pair
    payload = (
        b"CONFIG SET slowlog-log-slower-than 0\r\nSLOWLOG RESET\r\n"
        b"CLIENT SETNAME slow\r\nMULTI\r\nSET a 1\r\nINCR a\r\nEXEC\r\nAUTH foo\r\nAUTH user pass\r\n"
        b"HELLO 2 AUTH default xx\r\nEVAL \"return redis.call('get','a')\" 0\r\n"
        b"SET big " + b"x" * 200 + b"\r\n"
        b"RPUSH l " + b" ".join(str(i).encode() for i in range(40)) + b"\r\n"
    )
    for server in pair:
        raw(server.port, payload)

    def entries(server):
        client = server.client()
        got = client.execute_command("SLOWLOG", "GET", "-1")
        # id, time and duration vary; arguments, peer (port aside) and name must match.
        return [
            (entry[3], re.sub(rb":\d+$", b"", entry[4]), entry[5])
            for entry in got
            if entry[3][:1] != [b"PING"] and entry[3][:2] != [b"SLOWLOG", b"GET"]
        ]

    strata_entries = entries(strata)
    assert strata_entries == entries(reference)
    commands = [entry[0][0] for entry in strata_entries]
    assert b"EXEC" not in commands and b"MULTI" in commands and b"get" in commands
    for server in pair:
        client = server.client(decode_responses=True)
        assert client.execute_command("SLOWLOG", "LEN") >= 10
    s = strata.client(decode_responses=True)
    r = reference.client(decode_responses=True)
    for args in (["SLOWLOG", "HELP"], ["SLOWLOG", "GET", "0"], ["SLOWLOG", "GET", "-2"], ["SLOWLOG", "GET", "x"],
                 ["SLOWLOG", "LEN", "x"], ["SLOWLOG", "NOSUCH"], ["SLOWLOG"]):
        assert reply_of(s, args) == reply_of(r, args), args
    for client in (s, r):
        client.config_set("slowlog-max-len", "2")
        client.set("k", "v")
    assert len(s.execute_command("SLOWLOG", "GET", "-1")) == len(r.execute_command("SLOWLOG", "GET", "-1")) == 2
    for client in (s, r):
        client.config_set("slowlog-log-slower-than", "-1")
        client.execute_command("SLOWLOG", "RESET")
        client.set("k", "v")
    assert s.execute_command("SLOWLOG", "LEN") == r.execute_command("SLOWLOG", "LEN") == 0


def reply_of(client, args):
    try:
        reply = client.execute_command(*args)
        if args[:2] == ["CONFIG", "GET"]:
            return dict(zip(reply[0::2], reply[1::2]))  # Redis's order is its hash table's
        return reply
    except redis.ResponseError as error:
        return ("error", str(error))


def test_latency_monitor_as_redis(pair):
    strata, reference = pair
    s = strata.client(decode_responses=True)
    r = reference.client(decode_responses=True)
    for args in (["LATENCY", "HELP"], ["LATENCY", "LATEST"], ["LATENCY", "HISTORY", "command"],
                 ["LATENCY", "RESET"], ["LATENCY", "GRAPH", "command"], ["LATENCY", "DOCTOR"],
                 ["LATENCY", "NOSUCH"], ["LATENCY", "HISTORY"], ["LATENCY"],
                 ["CONFIG", "SET", "latency-monitor-threshold", "-1"],
                 ["CONFIG", "SET", "latency-tracking-info-percentiles", "101"],
                 ["CONFIG", "SET", "latency-tracking-info-percentiles", "abc"],
                 ["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
                 ["CONFIG", "GET", "latency*"], ["CONFIG", "GET", "slowlog*"]):
        assert reply_of(s, args) == reply_of(r, args), args
    for client in (s, r):
        client.config_set("latency-monitor-threshold", "5")
        client.execute_command("DEBUG", "SLEEP", "0.03")
    for client in (s, r):
        latest = client.execute_command("LATENCY", "LATEST")
        assert len(latest) == 1 and latest[0][0] == "command" and latest[0][2] >= 30 and latest[0][3] >= 30
        history = client.execute_command("LATENCY", "HISTORY", "command")
        assert len(history) == 1 and history[0][1] >= 30
    def shape(graph):
        # The header's figures and the sample ages under the graph depend on timing (the
        # two sleeps can fall either side of a second): compare the rest.
        header, *rest = graph.splitlines()
        return [re.sub(r"\d+ ms", "N ms", header)] + [re.sub(r"\d", "N", line) for line in rest]

    assert shape(s.execute_command("LATENCY", "GRAPH", "command")) == shape(
        r.execute_command("LATENCY", "GRAPH", "command"))
    assert s.execute_command("LATENCY", "DOCTOR").splitlines()[0] == r.execute_command("LATENCY", "DOCTOR").splitlines()[0]
    assert reply_of(s, ["LATENCY", "RESET", "command", "nosuch"]) == reply_of(r, ["LATENCY", "RESET", "command", "nosuch"]) == 1
    assert s.execute_command("LATENCY", "LATEST") == r.execute_command("LATENCY", "LATEST") == []


def test_latency_histogram_as_redis(pair):
    strata, reference = pair
    for server in pair:
        client = server.client()
        for i in range(50):
            client.set(f"k{i}", "v")
        client.get("k1")
        client.config_get("maxmemory")
    s = strata.client(decode_responses=True)
    r = reference.client(decode_responses=True)

    def shape(client, *names):
        reply = client.execute_command("LATENCY", "HISTOGRAM", *names)
        # redis-py gives RESP2 maps as flat lists: name, [calls, n, histogram_usec, [...]].
        result = {}
        for name, body in zip(reply[0::2], reply[1::2]):
            assert body[0] == "calls" and body[2] == "histogram_usec"
            buckets = body[3]
            counts = buckets[1::2]
            assert counts == sorted(counts) and counts[-1] == body[1]
            # Each bound is the top of the HDR sub-bucket (two significant figures) that
            # begins at a power of two times 1024 ns, in whole microseconds: 65,536 ns
            # prints 66.
            tops = {((1024 << k) + (1 << max(0, (1024 << k).bit_length() - 8)) - 1) // 1000 for k in range(21)}
            assert all(bound in tops for bound in buckets[0::2]), buckets
            result[name] = body[1]
        return result

    assert shape(s, "set", "get", "nosuch") == shape(r, "set", "get", "nosuch") == {"set": 50, "get": 1}
    assert shape(s, "config") == shape(r, "config") == {"config|get": 1}
    three = strata.client(protocol=3, decode_responses=True)
    reply = three.execute_command("LATENCY", "HISTOGRAM", "set")
    assert reply["set"]["calls"] == 50 and isinstance(reply["set"]["histogram_usec"], dict)


def test_blocked_calls_count_once_when_answered(pair):
    for server in pair:
        client = server.client()
        assert client.execute_command("BLPOP", "nolist", "0.05") is None
        client.execute_command("BLPOP", "nolist", "0.05")
        client.lpush("full", "x")
        client.execute_command("BLPOP", "full", "0")
    strata, reference = pair
    assert without_timing(counters(strata, "commandstats"))["cmdstat_blpop"] == without_timing(
        counters(reference, "commandstats"))["cmdstat_blpop"]
