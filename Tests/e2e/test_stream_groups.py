"""Stream reads and consumer groups end to end (issue 10): replies compared with
redis-server 7.0, blocking reads, several consumers sharing a group's work exactly once,
a dead consumer's entries claimed with XAUTOCLAIM, a restart from the AOF in the middle,
and groups carried through snapshots, AOF rewrites, strata-dump and Redis itself."""
import json
import os
import subprocess
import threading

import redis

from conftest import clients_blocked, hang_up, raw_connection, send_command, wait_blocked, wait_until
from test_streams import rewrite_aof, run, started, through_redis_and_back

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DUMP = os.environ.get("STRATA_DUMP", os.path.join(ROOT, ".build", "release", "strata-dump"))

# Replies that carry times (idle, seen-time, delivery times) are compared with the times
# masked, see `masked`.
CORPUS = [
    "XADD s 1-1 a 1", "XADD s 2-1 a 2", "XADD s 3-1 a 3", "XADD s 4-1 a 4", "XADD s 5-1 a 5",
    "XGROUP CREATE s g 0", "XGROUP CREATE s g 0", "XGROUP CREATE nokey g 0", "XGROUP CREATE nokey g $ MKSTREAM",
    "XGROUP CREATE s g2 $ ENTRIESREAD 3", "XGROUP CREATE s g3 $ ENTRIESREAD -2", "XGROUP CREATE s g4 bad",
    "XGROUP CREATE s g5 0 BAD", "XGROUP CREATE s", "XGROUP FOO s g", "XGROUP HELP", "XINFO GROUPS s",
    "XREADGROUP GROUP g alice COUNT 2 STREAMS s >", "XREADGROUP GROUP g bob COUNT 1 STREAMS s >",
    "XREADGROUP GROUP g alice STREAMS s 0", "XREADGROUP GROUP g alice STREAMS s 1-1", "XREADGROUP GROUP g bob STREAMS s $",
    "XREADGROUP GROUP nog x STREAMS s >", "XREADGROUP GROUP g x STREAMS nokey2 >", "XREADGROUP GROUP g x STREAMS s",
    "XREADGROUP GROUP g x STREAMS s > >", "XREADGROUP STREAMS s >", "XREADGROUP GROUP g x COUNT y STREAMS s >",
    "XREAD STREAMS s 0", "XREAD COUNT 2 STREAMS s 2-1", "XREAD STREAMS s nokey 0 0", "XREAD STREAMS s $",
    "XREAD STREAMS s >", "XREAD GROUP g c STREAMS s 0", "XREAD NOACK STREAMS s 0", "XREAD BLOCK x STREAMS s 0",
    "XREAD BLOCK -1 STREAMS s 0", "XREAD COUNT -1 STREAMS s 0", "XREAD FOO STREAMS s 0", "XREAD COUNT 1",
    "XPENDING s g", "XPENDING s g - + 10", "XPENDING s g - + 10 alice", "XPENDING s g - + 10 nobody",
    "XPENDING s g (1-1 (3-1 10", "XPENDING s g - + 0", "XPENDING s g - + -3", "XPENDING s g IDLE 100000 - + 10",
    "XPENDING s g - + x", "XPENDING s g x + 10", "XPENDING s g - + 10 alice extra", "XPENDING s g -",
    "XPENDING s nog", "XPENDING nokey g", "XACK s g 2-1 9-9", "XACK s g 2-1", "XACK s g bad", "XACK nokey g bad",
    "XACK s nog 1-1", "XCLAIM s g carol 0 1-1 3-1", "XCLAIM s g carol 0 1-1 JUSTID", "XCLAIM s g dave 3600000 3-1",
    "XCLAIM s g dave 0 4-1 FORCE", "XCLAIM s g dave 0 5-1 RETRYCOUNT 9 JUSTID", "XCLAIM s g dave 0 1-1 LASTID 9-9",
    "XINFO GROUPS s", "XCLAIM s g dave 0 1-1 IDLE x", "XCLAIM s g dave 0 1-1 TIME x", "XCLAIM s g dave 0 1-1 FOO",
    "XCLAIM s g dave x 1-1", "XCLAIM s nog dave 0 1-1", "XCLAIM s g dave 0 1-1 RETRYCOUNT x", "XDEL s 3-1",
    "XCLAIM s g erin 0 3-1 4-1", "XPENDING s g", "XAUTOCLAIM s g frank 0 0 COUNT 1",
    "XAUTOCLAIM s g frank 0 0 COUNT 2 JUSTID", "XAUTOCLAIM s g frank 0 0", "XAUTOCLAIM s g frank 0 (1-1",
    "XAUTOCLAIM s g frank 0 0 COUNT 0", "XAUTOCLAIM s g frank 0 0 COUNT x", "XAUTOCLAIM s g frank 0 0 BAD",
    "XAUTOCLAIM s g frank x 0", "XAUTOCLAIM s g frank 0 x", "XAUTOCLAIM s nog frank 0 0", "XDEL s 4-1",
    "XAUTOCLAIM s g gina 0 0", "XPENDING s g - + 10", "XINFO CONSUMERS s g", "XINFO CONSUMERS s nog",
    "XGROUP CREATECONSUMER s g hank", "XGROUP CREATECONSUMER s g hank", "XGROUP CREATECONSUMER s nog hank",
    "XGROUP DELCONSUMER s g gina", "XGROUP DELCONSUMER s g gina", "XGROUP DELCONSUMER s nog gina",
    "XGROUP SETID s g 0", "XGROUP SETID s g $ ENTRIESREAD 2", "XGROUP SETID s nog 0", "XGROUP SETID nokey3 g 0",
    "XINFO GROUPS s", "XADD s 6-1 a 6", "XREADGROUP GROUP g ivy NOACK STREAMS s >", "XPENDING s g", "XINFO GROUPS s",
    "XINFO STREAM s", "XINFO STREAM s FULL", "XINFO STREAM s FULL COUNT 1", "XINFO STREAM s FULL COUNT",
    "XINFO STREAM s BAD", "XINFO STREAM nokey", "XINFO GROUPS nokey", "XINFO HELP", "XGROUP DESTROY s g",
    "XGROUP DESTROY s g", "XGROUP DESTROY nokey4 g", "XINFO GROUPS s", "SET str x", "XREADGROUP GROUP g x STREAMS str >",
    "XREAD STREAMS str 0", "XGROUP CREATE str g 0", "XINFO STREAM str", "XACK str g 1-1", "XPENDING str g",
    "XGROUP CREATE e g $ MKSTREAM", "XINFO STREAM e", "XREADGROUP GROUP g c STREAMS e >", "XINFO CONSUMERS e g",
    "MULTI", "XREAD BLOCK 0 STREAMS e $", "XREADGROUP GROUP g c BLOCK 0 STREAMS e >", "EXEC",
    "XADD a 1-1 f 1", "XADD a 2-1 f 2", "XADD b 1-1 f 1", "XGROUP CREATE a g 0", "XGROUP CREATE b g $",
    "XREADGROUP GROUP g c STREAMS a b > >", "XADD b 3-1 f 3", "XREADGROUP GROUP g c COUNT 0 STREAMS a b > >",
    "XREADGROUP GROUP g c COUNT 1 STREAMS a b 0 0", "XREADGROUP GROUP g c COUNT 1 STREAMS a b 1-1 0",
    "XREADGROUP GROUP g c STREAMS a 18446744073709551615-18446744073709551615",
    "XREADGROUP GROUP g c STREAMS a 18446744073709551615-18446744073709551614",
    "XREAD STREAMS a nokey 0 0", "XREAD STREAMS nokey a 0 0", "XREAD COUNT 0 STREAMS a 0", "XINFO GROUPS a",
    "XADD a 3-1 f 3", "XINFO GROUPS a", "XDEL a 1-1", "XINFO GROUPS a", "XTRIM a MAXLEN 1", "XINFO GROUPS a",
    "XGROUP SETID a g 100-0", "XINFO GROUPS a", "XADD a 50-0 f 5", "XREADGROUP GROUP g c STREAMS a >",
    "XSETID a 99-0", "XINFO STREAM a", "XCLAIM a g d 0 7-7", "XCLAIM a g d 0 7-7 FORCE", "XAUTOCLAIM a g d 0 999-0",
    "RENAME a a2", "XINFO GROUPS a2", "COPY a2 a3", "XACK a3 g 2-1", "XPENDING a2 g", "XPENDING a3 g", "DEL a2",
    "XINFO GROUPS a2", "OBJECT ENCODING a3", "XREADGROUP GROUP g c COUNT -1 STREAMS a3 0",
    "XREADGROUP GROUP g c BLOCK 10 STREAMS a3 0",
    # Extreme numbers: Redis's answers (its counters wrap), never a crash.
    "XADD w 1-0 f v", "XGROUP CREATE w g 0 ENTRIESREAD 9223372036854775807", "XREADGROUP GROUP g c STREAMS w >",
    "XINFO GROUPS w", "XCLAIM w g d 0 1-0 IDLE -9223372036854775808 JUSTID",
    "XCLAIM w g d -9223372036854775808 1-0 TIME -9223372036854775808 RETRYCOUNT -1 JUSTID",
    "XPENDING w g IDLE -9223372036854775808 - + 10", "XAUTOCLAIM w g e 9223372036854775807 0",
    "XCLAIM w g d 0 1-0 RETRYCOUNT 9223372036854775807", "XPENDING w g - + 10", "PING",
]

TIME_FIELDS = {b"idle", b"seen-time"}


def masked(reply):
    """The reply with times replaced: XINFO's idle/seen-time values, XPENDING's idle
    column and XINFO FULL's delivery times."""
    if isinstance(reply, dict):
        return {key: "<time>" if key in TIME_FIELDS else masked(value) for key, value in reply.items()}
    if isinstance(reply, list):
        out = []
        hide = False
        for item in reply:
            out.append("<time>" if hide else masked(item))
            hide = isinstance(item, bytes) and item in TIME_FIELDS
        return out
    if isinstance(reply, int) and reply > 1_000_000_000_000:
        return "<time>"
    return reply


def mask_pending(line, reply):
    if line.startswith("XPENDING") and len(line.split()) > 3 and isinstance(reply, list):
        return [[row[0], row[1], "<idle>", row[3]] if isinstance(row, list) else row for row in reply]
    return reply


def raw(target):
    """A client that leaves replies as the server sent them (no redis-py parsing)."""
    client = target.client()
    client.response_callbacks = {}
    return client


def test_group_commands_reply_as_redis(server, redis_server):
    ours, theirs = raw(server), raw(redis_server)
    for line in CORPUS:
        a = mask_pending(line, masked(run(ours, line)))
        b = mask_pending(line, masked(run(theirs, line)))
        if line.startswith("XINFO STREAM") and isinstance(a, list):
            # radix-tree-keys/nodes describe Redis's rax; Strata's blocks differ.
            for reply in (a, b):
                for index in (2, 4):
                    if index < len(reply) and reply[index - 1] in (b"radix-tree-keys", b"radix-tree-nodes"):
                        reply[index] = "<rax>"
        assert a == b, line


def test_resp3_reads_reply_with_maps(server, redis_server):
    replies = []
    for target in (server, redis_server):
        r = target.client(protocol=3)
        r.xadd("s", {"a": "1"}, id="1-1")
        r.xgroup_create("s", "g", "0")
        replies.append([
            r.execute_command("XREAD", "STREAMS", "s", "0"),
            r.execute_command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
            masked(r.execute_command("XINFO", "GROUPS", "s")),
            masked(r.execute_command("XINFO", "STREAM", "s")),
        ])
    for reply in replies:
        reply[3].pop(b"radix-tree-nodes", None)
        reply[3].pop(b"radix-tree-keys", None)
    assert replies[0] == replies[1]


WATCH_CASES = [
    ["XGROUP", "CREATE", "s", "g3", "0"], ["XGROUP", "CREATE", "new", "g", "0", "MKSTREAM"],
    ["XGROUP", "CREATE", "s", "g4", "0", "MKSTREAM"],
    ["XGROUP", "SETID", "s", "g", "0"], ["XGROUP", "CREATECONSUMER", "s", "g", "q"],
    ["XGROUP", "DELCONSUMER", "s", "g", "c"], ["XGROUP", "DESTROY", "s", "g2"],
    ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
    ["XACK", "s", "g", "1-1"], ["XCLAIM", "s", "g", "d", "0", "1-1"], ["XAUTOCLAIM", "s", "g", "d", "0", "0"],
    ["XADD", "s", "*", "a", "1"], ["XDEL", "s", "1-1"], ["XSETID", "s", "99-0"], ["XTRIM", "s", "MAXLEN", "0"],
]


def watch_outcomes(target):
    """Which stream commands abort a transaction WATCHing their key (Redis 7.0: only those
    that change entries, or make the stream)."""
    r, other = target.client(), target.client()
    outcomes = []
    for command in WATCH_CASES:
        r.delete("new", "s")
        r.xadd("s", {"a": 1}, id="1-1")
        r.xgroup_create("s", "g", "0")
        r.xgroup_create("s", "g2", "0")
        r.xreadgroup("g", "c", {"s": ">"})
        pipe = r.pipeline()
        pipe.watch(command[2] if command[0] == "XGROUP" else "s")
        other.execute_command(*command)
        pipe.multi()
        pipe.set("x", 1)
        try:
            pipe.execute()
            outcomes.append("kept")
        except redis.WatchError:
            outcomes.append("aborted")
    return outcomes


def test_watch_sees_the_stream_changes_redis_sees(server, redis_server):
    assert watch_outcomes(server) == watch_outcomes(redis_server)
    for target in (server, redis_server):
        r = raw(target)
        assert r.execute_command("COMMAND", "GETKEYS", "XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0") == [
            b"a", b"b"]
        assert r.execute_command("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">") == [b"a"]


def blocking_scenario(target):
    r = target.client()
    r.xadd("s", {"a": 1}, id="1-1")
    r.xgroup_create("s", "g", "$")
    results = {}

    def reader(name, read):
        results[name] = read(target.client())

    # The BLOCK times only bound a hang: every reader here is woken by a write.
    threads = [
        threading.Thread(target=reader, args=("x1", lambda c: c.xread({"s": "$"}, block=30_000))),
        threading.Thread(target=reader, args=("g1", lambda c: c.xreadgroup("g", "c1", {"s": ">"}, block=30_000))),
        threading.Thread(target=reader, args=("g2", lambda c: c.xreadgroup("g", "c2", {"s": ">"}, block=30_000))),
        threading.Thread(target=reader, args=("x2", lambda c: c.xread({"s": "$", "t": "$"}, block=30_000))),
    ]
    for count, thread in enumerate(threads, start=1):
        thread.start()
        wait_blocked(r, count)  # parked in this order: g1 is served before g2
    r.xadd("s", {"b": 2}, id="2-1")
    # 2-1 is served to x1, g1 and x2; g2 finds nothing new in the group and stays parked.
    wait_until(lambda: len(results) == 3 and clients_blocked(r) == 1, message="the readers of 2-1 to be served")
    r.xadd("s", {"b": 3}, id="3-1")
    for thread in threads:
        thread.join()
    out = [sorted(results.items())]
    out.append(target.client().xread({"s": "$"}, block=100))  # times out
    outcomes = []

    def expect_error(action):
        try:
            outcomes.append(action())
        except redis.ResponseError as error:
            outcomes.append(str(error))

    def later(action):
        """Runs `action` on another thread once the read that follows is parked."""
        observer = target.client()

        def act():
            wait_blocked(observer, 1)
            action()

        thread = threading.Thread(target=act)
        thread.start()
        return thread

    # The BLOCK times only bound a hang: `later` acts on each read while it is parked.
    acting = later(lambda: r.xgroup_destroy("s", "g"))
    expect_error(lambda: target.client().xreadgroup("g", "c1", {"s": ">"}, block=30_000))
    acting.join()
    r.xgroup_create("s", "g", "$")
    acting = later(lambda: r.delete("s"))
    expect_error(lambda: target.client().xreadgroup("g", "c1", {"s": ">"}, block=30_000))
    acting.join()
    acting = later(lambda: r.xadd("n", {"z": 1}, id="5-5"))
    expect_error(lambda: target.client().xread({"n": "$"}, block=30_000))
    acting.join()
    out.append(outcomes)
    return out


def test_blocking_reads_behave_as_redis(server, redis_server):
    assert blocking_scenario(server) == blocking_scenario(redis_server)


def test_a_blocked_reader_is_released_on_disconnect(server):
    r = server.client()
    r.xgroup_create("s", "g", "$", mkstream=True)
    # A raw socket, closed by the test itself: "the client went away" must not depend on
    # a client library's pool semantics.
    blocked = raw_connection(server.port)
    send_command(blocked, "XREADGROUP", "GROUP", "g", "gone", "BLOCK", 0, "STREAMS", "s", ">")
    wait_blocked(r, 1)
    assert any(b"xreadgroup" in line for line in r.execute_command("CLIENT", "LIST").split(b"\n"))
    hang_up(blocked)
    wait_until(lambda: clients_blocked(r) == 0 and not any(
        b"xreadgroup" in line for line in r.execute_command("CLIENT", "LIST").split(b"\n")),
        message="the hung-up reader to be released")
    r.xadd("s", {"f": "v"}, id="1-1")
    # Nobody took the entry: the disconnected reader was released, not served.
    assert r.xpending("s", "g")["pending"] == 0
    assert r.xreadgroup("g", "alive", {"s": ">"}) == [[b"s", [(b"1-1", {b"f": b"v"})]]]


ENTRIES = 20_000


def produce(r, start, stop):
    pipe = r.pipeline(transaction=False)
    for i in range(start, stop):
        pipe.xadd("jobs", {"n": i}, id=f"{i + 1}-0")
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def consume(port, name, acked, stop_after=None, die=False):
    """Reads batches of 50 and acknowledges them, recording ids XACK confirmed; stops when
    the group is drained, after `stop_after` entries, or (with `die`) without acking."""
    r = redis.Redis(port=port)
    done = 0
    while True:
        try:
            reply = r.xreadgroup("workers", name, {"jobs": ">"}, count=50, block=200)
        except redis.ConnectionError:
            return
        if not reply:
            return
        ids = [entry_id for entry_id, _ in reply[0][1]]
        if die:
            return  # took the entries and never acknowledges them
        for entry_id in ids:
            try:
                if r.xack("jobs", "workers", entry_id) == 1:
                    acked.append(entry_id)
            except redis.ConnectionError:
                return
        done += len(ids)
        if stop_after is not None and done >= stop_after:
            return


def drain_with_autoclaim(r, name, acked):
    cursor = "0-0"
    while True:
        cursor, claimed, _deleted = r.xautoclaim("jobs", "workers", name, min_idle_time=0, start_id=cursor,
                                                 count=100)
        for entry_id, _ in claimed:
            if r.xack("jobs", "workers", entry_id) == 1:
                acked.append(entry_id)
        if cursor in (b"0-0", "0-0"):
            break


def test_consumers_share_the_work_exactly_once(server):
    r = server.client()
    r.xgroup_create("jobs", "workers", "0", mkstream=True)
    produce(r, 0, ENTRIES)
    acked = []
    workers = [threading.Thread(target=consume, args=(server.port, f"w{i}", acked)) for i in range(4)]
    dead = threading.Thread(target=consume, args=(server.port, "dead", acked, None, True))
    dead.start()
    dead.join()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # The dead consumer's batch is still pending on it; a survivor claims it.
    summary = r.xpending("jobs", "workers")
    assert summary["pending"] == 50
    assert summary["consumers"] == [{"name": b"dead", "pending": 50}]
    drain_with_autoclaim(r, "w0", acked)
    assert len(acked) == ENTRIES
    assert len(set(acked)) == ENTRIES
    assert r.xpending("jobs", "workers")["pending"] == 0
    groups = r.xinfo_groups("jobs")
    assert groups[0]["lag"] == 0 and groups[0]["entries-read"] == ENTRIES
    counts = {c["name"]: c["pending"] for c in r.xinfo_consumers("jobs", "workers")}
    assert set(counts) == {b"w0", b"w1", b"w2", b"w3", b"dead"}


def test_a_restart_from_the_aof_in_the_middle_loses_no_work(start_server, tmp_path):
    workdir = str(tmp_path)
    first = started(start_server("--appendonly", "yes", "--save", "", workdir=workdir))
    r = first.client()
    r.xgroup_create("jobs", "workers", "0", mkstream=True)
    produce(r, 0, ENTRIES)
    acked = []
    workers = [threading.Thread(target=consume, args=(first.port, f"w{i}", acked, 2000)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    consume(first.port, "dead", acked, die=True)  # 50 delivered, never acknowledged
    before = (r.xpending("jobs", "workers"), r.xinfo_groups("jobs"))
    first.proc.kill()
    first.proc.wait()
    second = started(start_server("--appendonly", "yes", "--save", "", workdir=workdir))
    r = second.client()
    assert (r.xpending("jobs", "workers"), r.xinfo_groups("jobs")) == before
    workers = [threading.Thread(target=consume, args=(second.port, f"w{i}", acked)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    drain_with_autoclaim(r, "w1", acked)
    assert len(acked) == ENTRIES and len(set(acked)) == ENTRIES
    assert r.xpending("jobs", "workers")["pending"] == 0


def field(reply, name):
    """A field of an XINFO reply, whether redis-py made it a dict or left it a flat list."""
    if isinstance(reply, dict):
        return reply.get(name, reply.get(name.encode()))
    return reply[reply.index(name.encode()) + 1]


def group_state(r, key, seen_times=True):
    """Entries, XINFO GROUPS (lag, entries read) and XINFO STREAM FULL's groups with their
    pending entries' delivery times and counts; consumers' seen times unless `seen_times`
    is false (the AOF does not carry them, as in Redis)."""
    r.response_callbacks = {}
    state = {"entries": r.execute_command("XRANGE", key, "-", "+"),
             "groups": r.execute_command("XINFO", "GROUPS", key)}
    full = r.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", "0")
    groups = field(full, "groups")
    if not seen_times:
        for group in groups:
            for consumer in field(group, "consumers"):
                if isinstance(consumer, dict):
                    consumer[b"seen-time" if b"seen-time" in consumer else "seen-time"] = "<time>"
                else:
                    consumer[consumer.index(b"seen-time") + 1] = "<time>"
    state["full"] = groups
    return state


def fill_groups(r):
    for i in range(300):
        r.xadd("q", {"n": i}, id=f"{i + 1}-0")
    r.xgroup_create("q", "a", "0")
    r.xgroup_create("q", "b", "$")
    r.execute_command("XGROUP", "CREATE", "q", "c", "100-0", "ENTRIESREAD", "100")
    r.xreadgroup("a", "x", {"q": ">"}, count=120)
    r.xreadgroup("a", "y", {"q": ">"}, count=30)
    r.xreadgroup("c", "z", {"q": ">"}, count=5, noack=True)
    r.xack("q", "a", *[f"{i}-0" for i in range(1, 60)])
    r.xclaim("q", "a", "w", 0, ["100-0", "101-0"])
    r.xgroup_createconsumer("q", "b", "idle")
    r.xdel("q", "110-0")


def test_groups_survive_snapshots_and_aof_rewrites(start_server, tmp_path):
    snapshot_dir, aof_dir = tmp_path / "snap", tmp_path / "aof"
    snapshot_dir.mkdir()
    aof_dir.mkdir()
    first = start_server("--save", "", workdir=str(snapshot_dir))
    fill_groups(first.client())
    before = group_state(first.client(), "q")
    first.client().save()
    first.stop()
    second = started(start_server("--save", "", workdir=str(snapshot_dir)))
    assert group_state(second.client(), "q") == before

    for preamble in ("yes", "no"):  # a snapshot base, or a base of commands
        workdir = aof_dir / preamble
        workdir.mkdir()
        args = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
        first = started(start_server(*args, workdir=str(workdir)))
        fill_groups(first.client())
        rewrite_aof(first.client())
        first.client().xreadgroup("a", "late", {"q": ">"}, count=3)
        before = group_state(first.client(), "q", seen_times=False)
        first.stop()
        second = started(start_server(*args, workdir=str(workdir)))
        assert group_state(second.client(), "q", seen_times=False) == before, preamble


def test_groups_move_between_redis_and_strata(start_server, tmp_path):
    through_redis_and_back(start_server, tmp_path, fill_groups, lambda r: group_state(r, "q"),
                           lambda r: r.xreadgroup("a", "from-redis", {"q": ">"}, count=2))


def test_strata_dump_inspects_and_restores_streams(start_server, tmp_path):
    source = start_server("--save", "")
    fill_groups(source.client())
    expected_without_seen_times = group_state(source.client(), "q", seen_times=False)
    source.client().save()
    snapshot = os.path.join(source.workdir, "dump.sdb")
    summary = json.loads(subprocess.run([DUMP, "inspect", "--json", snapshot], capture_output=True, check=True,
                                        text=True).stdout)
    assert summary["databases"]["0"]["types"] == {"stream": 1}
    keys = subprocess.run([DUMP, "inspect", "--keys", "--type", "stream", "--csv", snapshot], capture_output=True,
                          check=True, text=True).stdout
    assert "stream" in keys and ",q," in keys
    target = start_server("--save", "")
    subprocess.run([DUMP, "restore", snapshot, "--to", f"127.0.0.1:{target.port}"], capture_output=True, check=True)
    assert group_state(target.client(), "q", seen_times=False) == expected_without_seen_times


def unblock_outcomes(target):
    """CLIENT UNBLOCK on a parked XREAD (default, TIMEOUT, ERROR), on nobody, with bad
    arguments, and on a parked BLPOP."""
    r = target.client()
    outcomes = []
    for mode in (None, "TIMEOUT", "ERROR"):
        blocked = target.client()
        client_id = blocked.client_id()
        result = {}

        def read():
            try:
                result["reply"] = blocked.xread({"s": "$"}, block=0)
            except redis.ResponseError as error:
                result["reply"] = str(error)

        thread = threading.Thread(target=read)
        thread.start()
        wait_until(lambda: clients_blocked(r) == 1, message="the XREAD to be parked")
        outcomes.append(r.execute_command("CLIENT", "UNBLOCK", client_id, *([mode] if mode else [])))
        thread.join(timeout=30)
        outcomes.append(result.get("reply", "still blocked"))
    outcomes.append(r.execute_command("CLIENT", "UNBLOCK", 99999))
    for bad in (["CLIENT", "UNBLOCK", "x"], ["CLIENT", "UNBLOCK", "1", "FOO"]):
        try:
            outcomes.append(r.execute_command(*bad))
        except redis.ResponseError as error:
            outcomes.append(str(error))
    blocked = target.client()
    client_id = blocked.client_id()
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("reply", blocked.blpop("l", 0)))
    thread.start()
    wait_until(lambda: clients_blocked(r) == 1, message="the BLPOP to be parked")
    outcomes.append(r.execute_command("CLIENT", "UNBLOCK", client_id))
    thread.join(timeout=30)
    outcomes.append(result.get("reply", "still blocked"))
    return outcomes


def test_client_unblock_releases_parked_readers_as_redis(server, redis_server):
    assert unblock_outcomes(server) == unblock_outcomes(redis_server)
