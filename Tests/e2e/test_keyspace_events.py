"""Keyspace notifications compared with Redis 7: the same commands run against both
servers with `notify-keyspace-events` set, and the streams of events a pattern
subscriber receives must be identical (channels, payloads, order). Plus expiry events
for a session store, and the configuration's flag syntax."""
import shlex
import time

import pytest
import redis

COMMANDS = [
    "SET s v", "SET s v EX 100", "SETNX s2 v", "SETEX s3 100 v", "MSET m1 a m2 b", "GETSET s w", "APPEND s x",
    "SETRANGE s 0 y", "INCR n", "INCRBY n 5", "DECR n", "INCRBYFLOAT f 1.5", "SETBIT b 3 1", "GETDEL s2",
    "EXPIRE s 100", "PERSIST s", "EXPIRE s3 -1", "GETEX s EX 50", "GETEX s PERSIST", "RENAME s r", "COPY r c",
    "MOVE c 1", "DEL r nosuch m1", "UNLINK m2",
    "SETBIT b 3 1", "SETBIT b 3 0", "BITFIELD bf SET u8 0 1 GET u8 0", "BITFIELD bf GET u8 0",
    "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 1000", "BITFIELD bf SET u8 0 1", "BITFIELD bf OVERFLOW FAIL SET u8 16 999",
    "BITOP OR bo bf", "BITOP AND bo nosuch", "BITOP AND bo nosuch", "SADD sm1 a b", "SADD sm2 a", "SMOVE sm1 sm2 a",
    "SMOVE sm1 sm2 b",
    "LPUSH l a b c", "RPUSH l d", "LPUSHX l e", "RPUSHX nosuch e", "LPOP l", "RPOP l 2", "LSET l 0 z", "LINSERT l BEFORE z y",
    "LREM l 0 y", "LTRIM l 0 0", "RPUSH l2 a", "LMOVE l2 l3 LEFT RIGHT", "RPOPLPUSH l3 l4", "LMPOP 1 l4 LEFT", "LPOP l",
    "BLPOP nosuch l 0.01",
    "HSET h a 1 b 2", "HSETNX h a 3", "HSETNX h c 3", "HINCRBY h a 1", "HINCRBYFLOAT h b 0.5", "HDEL h a nosuch", "HDEL h b c",
    "SADD st a b c", "SREM st a", "SPOP st", "SMOVE st st2 b", "SMOVE st st2 c", "SADD sa 1 2", "SADD sb 2 3",
    "SINTERSTORE si sa sb", "SUNIONSTORE su sa sb", "SDIFFSTORE sd sa sa", "SDIFFSTORE si sa sa",
    "ZADD z 1 a 2 b 3 c", "ZADD z 1 a", "ZADD z INCR 5 a", "ZINCRBY z 1 b", "ZINCRBY z 0 b", "ZREM z c nosuch",
    "ZADD z 7 d 8 e", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYSCORE z 7 7", "ZADD zl 0 a 0 b", "ZREMRANGEBYLEX zl - +",
    "ZPOPMIN z", "ZPOPMAX z", "ZADD za 1 x", "ZUNIONSTORE zu 1 za", "ZINTERSTORE zu 2 za nosuch", "ZRANGESTORE zr za 0 -1",
    "ZDIFFSTORE zd 1 za", "ZMPOP 1 zd MAX", "BZPOPMIN za 0.01", "RPUSH sl 3 1 2", "SORT sl STORE so", "SORT nosuch STORE so",
    "XADD x 1-1 a 1", "XADD x 2-1 a 2", "XADD x MAXLEN 1 3-1 a 3", "XADD x 4-1 a 4", "XADD nx NOMKSTREAM 1-1 a 1",
    "XDEL x 4-1 9-9", "XTRIM x MAXLEN 0", "XSETID x 9-9", "XADD x 10-1 a 1", "XADD x 11-1 a 1",
    "XGROUP CREATE x g 0", "XGROUP CREATE xm g $ MKSTREAM", "XGROUP CREATECONSUMER x g c0",
    "XREADGROUP GROUP g c1 STREAMS x >", "XREADGROUP GROUP g c1 STREAMS x 0", "XACK x g 10-1",
    "XCLAIM x g c2 0 11-1", "XAUTOCLAIM x g c3 0 0", "XGROUP DELCONSUMER x g c1", "XGROUP SETID x g 0",
    "XGROUP DESTROY x g", "XGROUP DESTROY x g",
    "GEOADD g 13.361389 38.115556 p 15.087269 37.502669 c", "GEOADD g 13.361389 38.115556 p", "GEOADD g XX 1 1 nosuch",
    "GEORADIUS g 15 37 200 km STORE gr", "GEORADIUSBYMEMBER g p 1 km STOREDIST gd", "GEOSEARCHSTORE gs g FROMMEMBER p BYRADIUS 200 km",
    "GEOSEARCHSTORE gs g FROMLONLAT 0 0 BYRADIUS 1 km", "GEORADIUS g 0 0 1 km STORE gr", "GEORADIUS_RO g 15 37 200 km",
    "PFADD hl a b c", "PFADD hl a", "PFADD hl2", "PFMERGE hm hl nosuch", "PFCOUNT hl", "PFCOUNT hl hm",
    "MULTI", "SET tx 1", "LPUSH tl a", "EXEC", "FLUSHALL",
]


def collect(server, flags, commands):
    subscriber = server.client().pubsub()
    subscriber.psubscribe("__key*__:*")
    subscriber.subscribe("done")
    for _ in range(2):
        assert subscriber.get_message(timeout=30)["type"] in ("psubscribe", "subscribe")
    r = server.client()
    r.config_set("notify-keyspace-events", flags)
    for command in commands:
        try:
            r.execute_command(*shlex.split(command))
        except redis.ResponseError:
            pass
    r.publish("done", "x")
    events = []
    deadline = time.time() + 30  # polled until "done" arrives: the deadline only bounds a hang
    while time.time() < deadline:
        message = subscriber.get_message(timeout=1)
        if message is None:
            continue
        if message["channel"] == b"done":
            break
        events.append((message["channel"], message["data"]))
    subscriber.close()
    r.config_set("notify-keyspace-events", "")
    return events


@pytest.mark.parametrize("flags", ["KEA", "KA", "E$lshz", "Egx", "KEn"])
def test_event_streams_match_redis_7(server, redis_server, flags):
    server.client().flushall()
    redis_server.client().flushall()
    theirs = collect(redis_server, flags, COMMANDS)
    ours = collect(server, flags, COMMANDS)
    assert theirs, "redis-server published nothing: the test would prove nothing"
    assert ours == theirs


def test_no_events_by_default(server):
    subscriber = server.client().pubsub()
    subscriber.psubscribe("__key*__:*")
    subscriber.get_message(timeout=30)
    server.client().set("quiet", "v")
    # Time passing, not a wait for the server: nothing may arrive within half a second.
    assert subscriber.get_message(timeout=0.5) is None


def test_session_expiry_is_announced(server):
    r = server.client()
    r.config_set("notify-keyspace-events", "Ex")
    subscriber = server.client().pubsub()
    subscriber.subscribe("__keyevent@0__:expired")
    subscriber.get_message(timeout=30)
    r.set("session:42", "data", px=100)
    r.set("session:43", "data", px=100)
    expired = set()
    deadline = time.time() + 30  # polled until both arrive: the deadline only bounds a hang
    while len(expired) < 2 and time.time() < deadline:
        message = subscriber.get_message(timeout=1)
        if message and message["type"] == "message":
            expired.add(message["data"])
    assert expired == {b"session:42", b"session:43"}
    r.config_set("notify-keyspace-events", "")


def test_flags_round_trip_and_errors_match_redis(server, redis_server):
    for flags in ["KEA", "AKE", "Kg$lshzxetd", "Elm", "g", "", "n", "KEAmn"]:
        server.client().config_set("notify-keyspace-events", flags)
        redis_server.client().config_set("notify-keyspace-events", flags)
        assert (server.client().config_get("notify-keyspace-events")
                == redis_server.client().config_get("notify-keyspace-events"))
    for client in (server.client(), redis_server.client()):
        with pytest.raises(redis.ResponseError) as error:
            client.config_set("notify-keyspace-events", "Q")
        client.config_set("notify-keyspace-events", "")
        assert "Invalid event class character" in str(error.value)
