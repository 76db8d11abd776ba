"""Sorted sets with the Python client: a leaderboard checked against a plain model,
blocking pops woken by ZADD (also inside MULTI/EXEC), and a large set that converts to
the skiplist encoding and still answers ranks and ranges."""
import random

import pytest
import redis

from test_blocking import blocked_call


def test_leaderboard_matches_a_model(server):
    r = server.client()
    rng = random.Random(5)
    model = {}
    pipe = r.pipeline(transaction=False)
    for step in range(20000):
        player = f"player:{rng.randrange(3000)}"
        points = rng.randrange(1, 100)
        model[player] = model.get(player, 0) + points
        pipe.zincrby("board", points, player)
        if step % 1000 == 999:
            pipe.execute()
    pipe.execute()
    # Redis orders equal scores by member bytes; ZREVRANGE reverses the whole order.
    ranking = sorted(model.items(), key=lambda kv: (kv[1], kv[0].encode()), reverse=True)
    assert r.zcard("board") == len(model)
    assert r.object("encoding", "board") == b"skiplist"
    top = r.zrevrange("board", 0, 9, withscores=True)
    assert [(m.decode(), s) for m, s in top] == [(m, float(s)) for m, s in ranking[:10]]
    for player in rng.sample(sorted(model), 200):
        expected_rank = [m for m, _ in ranking].index(player)
        assert r.zrevrank("board", player) == expected_rank
        assert r.zscore("board", player) == model[player]
    middle = len(ranking) // 2
    low, high = ranking[middle + 50][1], ranking[middle][1]
    assert r.zcount("board", low, high) == sum(1 for s in model.values() if low <= s <= high)
    page = r.zrevrangebyscore("board", high, low, start=5, num=10)
    expected_page = [m.encode() for m, s in ranking if low <= s <= high][5:15]
    assert page == expected_page


def test_bzpopmin_is_woken_by_zadd(server):
    finish = blocked_call(server, lambda: server.client().bzpopmin(["tasks"], timeout=30))
    assert server.client().info("clients")["blocked_clients"] == 1
    server.client().zadd("tasks", {"low": 1, "high": 9})
    assert finish() == (b"tasks", b"low", 1.0)
    assert server.client().zrange("tasks", 0, -1) == [b"high"]


def test_bzmpop_is_woken_by_exec_and_times_out(server):
    finish = blocked_call(server, lambda: server.client().execute_command("BZMPOP", 30, 2, "a", "b", "MAX", "COUNT", 2))
    pipe = server.client().pipeline(transaction=True)
    pipe.zadd("b", {"x": 1, "y": 2, "z": 3})
    pipe.execute()
    assert finish() == [b"b", [[b"z", b"3"], [b"y", b"2"]]]
    assert server.client().bzpopmax(["nothing"], timeout=0.2) is None


def test_wrong_type_and_nan_errors_reach_the_client(server):
    r = server.client()
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.zadd("s", {"a": 1})
    r.zadd("z", {"a": float("inf")})
    with pytest.raises(redis.ResponseError, match="resulting score is not a number"):
        r.zincrby("z", float("-inf"), "a")
    assert r.zscore("z", "a") == float("inf")
