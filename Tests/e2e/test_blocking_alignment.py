"""Blocking pops where Redis 7.0's behaviour is subtle, side by side with Redis: a key made
a list and replaced by a string in one MULTI does not answer the waiter WRONGTYPE; SORT
STORE wakes list waiters; a move done for a blocked BLMOVE invalidates WATCH on its
destination."""
import threading

import redis

from conftest import wait_blocked




def blocked(server, *command):
    client = server.client()
    result = {}

    def run():
        try:
            result["reply"] = client.execute_command(*command)
        except redis.ResponseError as error:
            result["reply"] = ("error", str(error))

    thread = threading.Thread(target=run)
    thread.start()
    wait_blocked(server.client())
    return thread, result


def scenario(server):
    r = server.client()
    out = []
    thread, result = blocked(server, "BLPOP", "k1", "0.5")
    pipe = r.pipeline(transaction=True)
    pipe.lpush("k1", "a").delete("k1").set("k1", "str").execute()
    thread.join()
    out.append(result["reply"])
    thread, result = blocked(server, "BZPOPMIN", "z1", "list", "0.5")
    pipe = r.pipeline(transaction=True)
    pipe.zadd("z1", {"m": 1}).delete("z1").set("z1", "str").rpush("list", "x").execute()
    thread.join()
    out.append(result["reply"])
    thread, result = blocked(server, "BLPOP", "s1", "list2", "2")
    pipe = r.pipeline(transaction=True)
    pipe.rpush("s1", "a").delete("s1").set("s1", "str").rpush("list2", "y").execute()
    thread.join()
    out.append(result["reply"])
    r.rpush("src", 3, 1, 2)
    thread, result = blocked(server, "BLPOP", "dst", "2")
    r.execute_command("SORT", "src", "STORE", "dst")
    thread.join()
    out.append(result["reply"])
    thread, result = blocked(server, "BLMOVE", "from", "to", "LEFT", "RIGHT", "2")
    watcher = server.client().pipeline(transaction=True)
    watcher.watch("to")
    r.lpush("from", "x")
    thread.join()
    watcher.multi()
    watcher.set("zz", "1")
    try:
        watcher.execute()
        out.append((result["reply"], "executed"))
    except redis.WatchError:
        out.append((result["reply"], "aborted"))
    out.append(sorted(r.keys()))
    return out


def test_blocking_edge_cases_as_redis(strata_and_redis):
    strata, reference = strata_and_redis
    assert scenario(strata) == scenario(reference)
