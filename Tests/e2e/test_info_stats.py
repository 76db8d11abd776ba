"""INFO stats against Redis 7.0 (Debian's redis-server): the same fields in the same order,
which exporters and dashboards read by name, and the counters Strata keeps behind them
(client tracking totals, socket reads and writes, full syncs, active expiry)."""
import subprocess

from conftest import info_field, wait_until


def stats_fields(client):
    """The field names of INFO stats, in the order the server prints them (redis-py keeps
    the order in the dictionary it parses)."""
    return list(client.info("stats").keys())


# Redis 7.2's ACL denial counters, which Strata prints last (Redis 7.0 has none; see
# test_acl_differential.py's test_acl_denial_counters_in_info).
ACL_COUNTERS = ["acl_access_denied_auth", "acl_access_denied_cmd", "acl_access_denied_key",
                "acl_access_denied_channel"]


def test_stats_fields_and_order_match_redis(strata_and_redis):
    strata, redis_server = strata_and_redis
    ours = stats_fields(strata.client())
    assert ours[-len(ACL_COUNTERS):] == ACL_COUNTERS
    assert ours[:-len(ACL_COUNTERS)] == stats_fields(redis_server.client())


def tracking_totals(client):
    return [int(info_field(client, "stats", name))
            for name in ("tracking_total_keys", "tracking_total_items", "tracking_total_prefixes")]


def test_tracking_totals_follow_the_tracking_table_as_in_redis(strata_and_redis):
    for server in strata_and_redis:
        admin = server.client()
        admin.mset({"a": 1, "b": 2, "c": 3})
        readers = [server.client(protocol=3) for _ in range(2)]
        for reader in readers:
            reader.execute_command("CLIENT", "TRACKING", "ON")
        readers[0].get("a")
        readers[0].get("b")
        readers[1].get("a")
        broadcaster = server.client(protocol=3)
        broadcaster.execute_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "session:")
        # Two keys remembered, three (key, client) pairs, two prefixes.
        assert tracking_totals(admin) == [2, 3, 2], server
        admin.set("a", 10)  # invalidates "a": its two readers are forgotten
        assert tracking_totals(admin) == [1, 1, 2], server
        for client in readers + [broadcaster]:
            client.close()


def test_socket_reads_and_writes_are_counted(server):
    r = server.client()
    reads = int(info_field(r, "stats", "total_reads_processed"))
    writes = int(info_field(r, "stats", "total_writes_processed"))
    for i in range(5):
        r.set(f"k{i}", i)
    # Each command is its own read and its own reply, plus the INFO calls themselves.
    assert int(info_field(r, "stats", "total_reads_processed")) >= reads + 5
    assert int(info_field(r, "stats", "total_writes_processed")) >= writes + 5


def test_a_full_sync_is_counted(server, tmp_path):
    r = server.client()
    r.set("key", "value")
    assert int(info_field(r, "stats", "sync_full")) == 0
    target = tmp_path / "dump.rdb"
    subprocess.run(["redis-cli", "-p", str(server.port), "--rdb", str(target)], check=True, capture_output=True,
                   timeout=60)
    assert target.stat().st_size > 0
    assert int(info_field(r, "stats", "sync_full")) == 1


def test_active_expiry_feeds_the_stale_estimate_and_its_time(server):
    r = server.client()
    count = 100_000
    pipe = r.pipeline(transaction=False)
    for i in range(count):
        pipe.set(f"short:{i}", "x", px=100)
        if i % 10_000 == 9_999:
            pipe.execute()
    # Nothing reads the keys: only the active cycle removes them once their deadlines pass.
    wait_until(lambda: int(info_field(r, "stats", "expired_keys")) == count, message="active expiry")
    stale = float(info_field(r, "stats", "expired_stale_perc"))
    assert 0 < stale <= 100
    # Deleting a hundred thousand keys takes the cycle well over a millisecond.
    assert int(info_field(r, "stats", "expire_cycle_cpu_milliseconds")) >= 1


def test_instantaneous_network_rates_follow_the_traffic(server):
    r = server.client()
    payload = b"x" * 100_000

    def busy():
        # Traffic keeps flowing while the once-a-second samples are taken.
        r.set("big", payload)
        r.get("big")
        return (float(info_field(r, "stats", "instantaneous_input_kbps")) > 0
                and float(info_field(r, "stats", "instantaneous_output_kbps")) > 0)

    wait_until(busy, timeout=30, message="network rates")
