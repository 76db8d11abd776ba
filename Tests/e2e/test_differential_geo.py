"""Differential test for the geo commands: the same commands against Redis 7.0 and Strata,
replies compared byte for byte as they came off the wire (RESP2, and RESP3 after HELLO 3:
distances, coordinates printed as Redis prints them, error texts), the sorted sets left
behind compared with ZRANGE WITHSCORES, and a randomized corpus of points and searches."""
import random
import shlex
import threading

from conftest import raw_connection, send_command, wait_blocked
from test_differential import raw_client, run


class WireSession:
    """One raw connection that returns each reply as its exact bytes."""

    def __init__(self, server, protocol=2):
        self.sock = raw_connection(server.port)
        self.stream = self.sock.makefile("rb")
        if protocol == 3:
            send_command(self.sock, "HELLO", "3")
            self.reply()

    def reply(self):
        line = self.stream.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind in b"$=!":
            length = int(rest)
            return line if length < 0 else line + self.stream.read(length + 2)
        if kind in b"*~>%|":
            count = int(rest)
            if kind in b"%|":
                count *= 2
            return line + b"".join(self.reply() for _ in range(max(count, 0)))
        return line

    def run(self, command):
        args = shlex.split(command) if isinstance(command, str) else command
        send_command(self.sock, *args)
        return self.reply()

    def close(self):
        self.sock.close()


def mismatches(redis_server, server, corpus, protocol):
    theirs, ours = WireSession(redis_server, protocol), WireSession(server, protocol)
    found = []
    for command in corpus:
        expected, actual = theirs.run(command), ours.run(command)
        if expected != actual:
            found.append(f"{command!r}: redis={expected!r} strata={actual!r}")
    theirs.close()
    ours.close()
    return found


def keyspace(server):
    """Every key with its type, and every sorted set's members with their scores."""
    r = raw_client(server)
    state = {}
    for key in sorted(r.keys("*")):
        kind = r.type(key)
        state[key] = (kind, r.zrange(key, 0, -1, withscores=True) if kind == b"zset" else None)
    return state


SICILY = "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento"

CORPUS = [
    # GEOADD: options, replies, errors (in Redis's order) and the scores it stores
    SICILY, "ZRANGE Sicily 0 -1 WITHSCORES", "GEOADD Sicily 13.361389 38.115556 Palermo",
    "GEOADD Sicily CH 13.361389 38.115556 Palermo 13.4 38.1 Palermo2", "GEOADD Sicily CH 13.5 38.2 Palermo2",
    "GEOADD Sicily NX 1 1 Palermo 2 2 newone", "GEOADD Sicily XX 3 3 newone 4 4 never", "GEOADD Sicily XX CH 5 5 newone",
    "GEOADD Sicily NX XX 1 1 x", "GEOADD Sicily xx nx 1 1 x", "GEOADD Sicily CH CH NX 6 6 ch2", "GEOADD Sicily 1 2",
    "GEOADD Sicily 1 2 a 3", "GEOADD Sicily NX CH XX", "GEOADD Sicily NX CH", "GEOADD Sicily BOGUS 1 2 a",
    "GEOADD Sicily 200 10 x", "GEOADD Sicily -180.0001 10 x", "GEOADD Sicily 10 85.05112879 x",
    "GEOADD Sicily 10 -85.05112879 x", "GEOADD Sicily abc 10 x", "GEOADD Sicily 10 abc x", "GEOADD Sicily inf 0 x",
    "GEOADD Sicily 0 -inf x", "GEOADD Sicily nan 0 x", "GEOADD Sicily 1e400 0 x", "GEOADD Sicily 1 1 ok 200 0 bad",
    "EXISTS ok", "GEOADD Sicily ' 1' 1 x", "GEOADD Sicily 1e300 1e300 x", "GEOADD Sicily -1e-300 0 tiny",
    "GEOADD edges 180 85.05112878 ne -180 -85.05112878 sw 180 -85.05112878 se -180 85.05112878 nw 0 0 origin",
    "GEOADD edges 179.9999999 0 am1 -179.9999999 0 am2 0 85 pole1 0 -85 pole2 0.0000001 -0.0000001 tiny",
    "ZRANGE edges 0 -1 WITHSCORES", "GEOADD newkey XX 1 1 a", "EXISTS newkey", "SET str v", "GEOADD str 1 1 a",
    "GEOADD str 200 1 a", "GEOADD long 1 1 " + "m" * 100, "OBJECT ENCODING long", "TYPE Sicily",
    # GEOPOS, GEOHASH, GEODIST
    "GEOPOS Sicily Palermo Catania nosuch Agrigento", "GEOPOS Sicily", "GEOPOS nosuch a b", "GEOPOS str a",
    "GEOPOS edges ne sw se nw origin am1 am2 pole1 pole2 tiny", "GEOHASH Sicily Palermo Catania nosuch",
    "GEOHASH Sicily", "GEOHASH nosuch a", "GEOHASH str a", "GEOHASH edges ne sw se nw origin am1 am2 pole1 pole2",
    "GEODIST Sicily Palermo Catania", "GEODIST Sicily Palermo Catania km", "GEODIST Sicily Palermo Catania KM",
    "GEODIST Sicily Palermo Catania mi", "GEODIST Sicily Palermo Catania Ft", "GEODIST Sicily Palermo Catania m",
    "GEODIST Sicily Palermo Catania furlong", "GEODIST Sicily Palermo Catania km extra", "GEODIST Sicily Palermo nosuch",
    "GEODIST nosuch a b", "GEODIST nosuch a b furlong", "GEODIST str a b", "GEODIST str a b bad",
    "GEODIST Sicily Palermo Palermo", "GEODIST edges ne sw", "GEODIST edges am1 am2 km", "GEODIST edges pole1 pole2 mi",
    # scores that are not geohashes decode as Redis decodes them
    "ZADD odd -1 neg 1e30 big inf pinf -inf ninf 1.5 frac 9223372036854775808 two63 4503599627370496 two52 0 zero",
    "GEOPOS odd neg big pinf ninf frac two63 two52 zero", "GEOHASH odd neg big pinf ninf frac two63 two52 zero",
    "GEODIST odd neg ninf", "GEORADIUS odd 0 0 20000 km WITHHASH WITHCOORD WITHDIST", "GEORADIUSBYMEMBER odd neg 100 km",
    # GEORADIUS and GEORADIUSBYMEMBER
    "GEORADIUS Sicily 15 37 200 km", "GEORADIUS Sicily 15 37 200 km WITHDIST", "GEORADIUS Sicily 15 37 200 km ASC",
    "GEORADIUS Sicily 15 37 200 km DESC WITHDIST WITHCOORD WITHHASH", "GEORADIUS Sicily 15 37 200 km COUNT 1",
    "GEORADIUS Sicily 15 37 200 km COUNT 2 DESC", "GEORADIUS Sicily 15 37 200 km COUNT 1 ANY",
    "GEORADIUS Sicily 15 37 200 km COUNT 5 ANY ASC", "GEORADIUS Sicily 15 37 200 km ANY",
    "GEORADIUS Sicily 15 37 200 km COUNT 0", "GEORADIUS Sicily 15 37 200 km COUNT -1",
    "GEORADIUS Sicily 15 37 200 km COUNT x", "GEORADIUS Sicily 15 37 200 km COUNT", "GEORADIUS Sicily 15 37 200 km BOGUS",
    "GEORADIUS Sicily 15 37 200 furlong", "GEORADIUS Sicily 15 37 -1 km", "GEORADIUS Sicily 15 37 x km",
    "GEORADIUS Sicily 200 37 1 km", "GEORADIUS Sicily x 37 1 km", "GEORADIUS Sicily 15 37 0 km",
    "GEORADIUS Sicily 15 37 inf km", "GEORADIUS Sicily 15 37 1e308 mi WITHDIST", "GEORADIUS Sicily 15 37 200 KM WITHDIST",
    "GEORADIUS Sicily 15 37 200000 M WITHDIST", "GEORADIUS Sicily 15 37 200 Mi WITHDIST",
    "GEORADIUS Sicily 15 37 656168 fT WITHDIST", "GEORADIUS nosuch 15 37 200 km", "GEORADIUS str 15 37 200 km",
    "GEORADIUS str 200 37 200 km", "GEORADIUS nosuch 200 37 200 km", "GEORADIUS Sicily 15 37 200 km FROMMEMBER a",
    "GEORADIUS Sicily 15 37 200 km STORE dst", "ZRANGE dst 0 -1 WITHSCORES", "GEORADIUS Sicily 15 37 200 km STOREDIST dd",
    "ZRANGE dd 0 -1 WITHSCORES", "GEORADIUS Sicily 15 37 200 km COUNT 1 STOREDIST dd", "ZRANGE dd 0 -1 WITHSCORES",
    "GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST", "GEORADIUS Sicily 15 37 200 km WITHCOORD STORE dst",
    "GEORADIUS Sicily 15 37 200 km STORE", "GEORADIUS Sicily 15 37 200 km STOREDIST",
    "GEORADIUS Sicily 15 37 200 km STORE a STOREDIST b", "ZRANGE b 0 -1 WITHSCORES", "EXISTS a",
    "GEORADIUS Sicily 0 0 1 km STORE dst", "EXISTS dst", "GEORADIUS nosuch 0 0 1 km STORE dd", "EXISTS dd",
    "SET strdst v", "GEORADIUS Sicily 15 37 200 km STORE strdst", "TYPE strdst", "EXPIRE dst2 100",
    "GEORADIUS Sicily 15 37 200 km STORE dst2", "TTL dst2", "GEORADIUS_RO Sicily 15 37 200 km WITHDIST ASC",
    "GEORADIUS_RO Sicily 15 37 200 km STORE dst", "GEORADIUS_RO Sicily 15 37 200 km STOREDIST dst",
    "GEORADIUSBYMEMBER Sicily Agrigento 100 km", "GEORADIUSBYMEMBER Sicily Agrigento 100 km WITHDIST WITHCOORD ASC",
    "GEORADIUSBYMEMBER Sicily Palermo 200 km DESC COUNT 2 WITHHASH", "GEORADIUSBYMEMBER Sicily nosuch 100 km",
    "GEORADIUSBYMEMBER Sicily nosuch -1 km", "GEORADIUSBYMEMBER Sicily Palermo -1 km",
    "GEORADIUSBYMEMBER Sicily Palermo 1 parsec", "GEORADIUSBYMEMBER nosuch nosuch 1 km",
    "GEORADIUSBYMEMBER nosuch nosuch x parsec", "GEORADIUSBYMEMBER nosuch nosuch x parsec BOGUS",
    "GEORADIUSBYMEMBER nosuch nosuch 1 km ANY", "GEORADIUSBYMEMBER nosuch nosuch 1 km STORE dst WITHDIST",
    "GEORADIUSBYMEMBER nosuch a 1 km STORE b", "EXISTS b", "GEORADIUSBYMEMBER str a 1 km",
    "GEORADIUSBYMEMBER Sicily Palermo 300 km STOREDIST gd", "ZRANGE gd 0 -1 WITHSCORES",
    "GEORADIUSBYMEMBER_RO Sicily Palermo 300 km WITHDIST", "GEORADIUSBYMEMBER_RO Sicily Palermo 300 km STORE x",
    # GEOSEARCH and GEOSEARCHSTORE
    "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC", "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km",
    "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH",
    "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 300 100 km DESC", "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 100 300 km",
    "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2 ANY",
    "GEOSEARCH Sicily BYRADIUS 200 km FROMLONLAT 15 37", "GEOSEARCH Sicily FROMLONLAT 15 37",
    "GEOSEARCH Sicily BYRADIUS 200 km", "GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km",
    "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km",
    "GEOSEARCH Sicily FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 1 km",
    "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km BYBOX 1 1 km", "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1 km BYRADIUS 1 km",
    "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km BYRADIUS 300 km", "GEOSEARCH Sicily FROMMEMBER nosuch BYRADIUS 1 km",
    "GEOSEARCH Sicily FROMMEMBER nosuch BYRADIUS -1 km", "GEOSEARCH Sicily BYRADIUS -1 km FROMMEMBER nosuch",
    "GEOSEARCH nosuch FROMMEMBER nosuch BYRADIUS 1 km", "GEOSEARCH nosuch FROMMEMBER nosuch BYRADIUS 1 parsec",
    "GEOSEARCH nosuch FROMMEMBER a FROMMEMBER b", "GEOSEARCH nosuch FROMLONLAT 1 1 BYRADIUS 1 km ANY",
    "GEOSEARCH Sicily FROMLONLAT 200 37 BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 15 x BYRADIUS 1 km",
    "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 -1 km",
    "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX x -1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 x km",
    "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 parsec", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1",
    "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1", "GEOSEARCH Sicily FROMLONLAT 15 BYRADIUS 1 km",
    "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km STORE x", "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km STOREDIST",
    "geosearch Sicily BYRADIUS 1 km WITHDIST", "GeoSearch Sicily FROMLONLAT 1 1 WITHDIST ASC",
    "GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY DESC",
    "GEOSEARCHSTORE gs Sicily FROMLONLAT 15 37 BYRADIUS 200 km", "ZRANGE gs 0 -1 WITHSCORES",
    "GEOSEARCHSTORE gs Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST ASC COUNT 2", "ZRANGE gs 0 -1 WITHSCORES",
    "GEOSEARCHSTORE gs Sicily FROMLONLAT 15 37 BYRADIUS 200 mi STOREDIST", "ZRANGE gs 0 -1 WITHSCORES",
    "GEOSEARCHSTORE gs Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST", "GEOSEARCHSTORE gs Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
    "GEOSEARCHSTORE gs Sicily FROMLONLAT 0 0 BYRADIUS 1 km", "EXISTS gs", "GEOSEARCHSTORE gs nosuch FROMLONLAT 0 0 BYRADIUS 1 km",
    "GEOSEARCHSTORE Sicily2 Sicily FROMMEMBER Catania BYRADIUS 500 km", "GEOSEARCHSTORE Sicily2 Sicily2 FROMMEMBER Catania BYRADIUS 100 km",
    "ZRANGE Sicily2 0 -1 WITHSCORES", "GEOSEARCHSTORE gs str FROMLONLAT 0 0 BYRADIUS 1 km",
    "GEOSEARCHSTORE gs Sicily BYRADIUS 1 km", "GEOSEARCHSTORE gs Sicily FROMLONLAT 0 0",
    # edges: antimeridian, poles, whole-earth areas
    "GEORADIUS edges 180 0 100 km WITHDIST", "GEORADIUS edges -180 0 100 km WITHDIST ASC",
    "GEOSEARCH edges FROMLONLAT 179.99 0 BYBOX 100 100 km WITHDIST", "GEORADIUS edges 0 85 1000 km WITHDIST ASC",
    "GEORADIUS edges 0 -85 1000 km WITHDIST ASC", "GEORADIUS edges 0 0 20000 km WITHDIST ASC",
    "GEORADIUS edges 0 0 40000 km WITHDIST DESC", "GEOSEARCH edges FROMLONLAT 0 0 BYBOX 40000 40000 km ASC WITHCOORD",
    "GEOSEARCH edges FROMLONLAT 0 0 BYBOX 1e10 1 km ASC", "GEORADIUS edges 0 0 0 m WITHDIST", "GEORADIUS edges 0 0 1e-300 m",
    "GEORADIUS edges 90 84 5000 km WITHDIST ASC", "GEORADIUS edges -90 -84 6000 km WITHDIST ASC COUNT 3",
    # equal distances: identical positions, sorted fully and partially
    "GEOADD same 1 1 a 1 1 b 1 1 c 1 1 d 1 1 e 1 1 f 1 1 g 1 1 h 2 2 far 0.5 0.5 near",
    "GEORADIUS same 1 1 500 km ASC", "GEORADIUS same 1 1 500 km DESC", "GEORADIUS same 1 1 500 km COUNT 3",
    "GEORADIUS same 1 1 500 km COUNT 9 DESC", "GEORADIUS same 0 0 500 km COUNT 4 WITHDIST",
    "GEOSEARCH same FROMMEMBER a BYRADIUS 500 km COUNT 7 DESC", "GEOSEARCH same FROMMEMBER a BYRADIUS 500 km COUNT 2 ANY",
]

RESP3_CORPUS = [
    SICILY, "GEOPOS Sicily Palermo nosuch", "GEOPOS nosuch a", "GEOHASH Sicily Palermo nosuch",
    "GEODIST Sicily Palermo Catania", "GEODIST Sicily Palermo nosuch", "GEODIST nosuch a b",
    "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH", "GEORADIUS Sicily 15 37 200 km",
    "GEORADIUS nosuch 15 37 200 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD",
    "GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km", "GEOSEARCHSTORE gs Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
    "ZRANGE gs 0 -1 WITHSCORES", "GEOADD Sicily 200 0 x", "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km WITHCOORD",
]


def test_geo_replies_match_redis_7(server, redis_server):
    found = mismatches(redis_server, server, CORPUS, 2)
    assert not found, "\n".join(found)
    assert keyspace(server) == keyspace(redis_server)


def test_geo_resp3_replies_match_redis_7(server, redis_server):
    found = mismatches(redis_server, server, RESP3_CORPUS, 3)
    assert not found, "\n".join(found)
    assert keyspace(server) == keyspace(redis_server)


def test_geo_replies_through_redis_py_resp3(server, redis_server):
    theirs, ours = raw_client(redis_server, protocol=3), raw_client(server, protocol=3)
    found = []
    for command in RESP3_CORPUS:
        expected, actual = run(theirs, command), run(ours, command)
        if expected != actual:
            found.append(f"{command!r}: redis={expected!r} strata={actual!r}")
    assert not found, "\n".join(found)


def random_coordinate(rng):
    """Longitude, latitude: mostly clustered (so searches find many), some anywhere, some
    on the edges, printed with varied precision."""
    roll = rng.random()
    if roll < 0.6:
        lon, lat = rng.gauss(13.5, 1.5), rng.gauss(37.8, 1.0)
    elif roll < 0.9:
        lon, lat = rng.uniform(-180, 180), rng.uniform(-85.05112878, 85.05112878)
    else:
        lon = rng.choice([-180, 180, 179.9999, -179.9999, 0])
        lat = rng.choice([85.05112878, -85.05112878, 85, -85, 0, 60.5])
    lon = max(-180.0, min(180.0, lon))
    lat = max(-85.05112878, min(85.05112878, lat))
    digits = rng.choice([0, 2, 6, 9])
    return f"{lon:.{digits}f}", f"{lat:.{digits}f}"


def random_search(rng, key, members):
    unit = rng.choice(["m", "km", "mi", "ft", "KM"])
    scale = {"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048, "KM": 1000}[unit]
    meters = rng.choice([1_000, 20_000, 100_000, 400_000, 2_000_000, 8_000_000, 30_000_000])
    size = f"{rng.uniform(0, meters) / scale:.3f}"
    options = []
    if rng.random() < 0.5:
        options.append(rng.choice(["ASC", "DESC"]))
    if rng.random() < 0.4:
        options += ["COUNT", str(rng.choice([1, 2, 3, 5, 10, 50]))]
        if rng.random() < 0.3:
            options.append("ANY")
    options += [flag for flag in ("WITHDIST", "WITHCOORD", "WITHHASH") if rng.random() < 0.4]
    lon, lat = random_coordinate(rng)
    member = rng.choice(members)
    form = rng.randrange(5)
    if form == 0:
        return ["GEORADIUS", key, lon, lat, size, unit] + options
    if form == 1:
        return ["GEORADIUSBYMEMBER", key, member, size, unit] + options
    centre = ["FROMLONLAT", lon, lat] if rng.random() < 0.5 else ["FROMMEMBER", member]
    if form == 2:
        return ["GEOSEARCH", key] + centre + ["BYRADIUS", size, unit] + options
    if form == 3:
        height = f"{rng.uniform(0, meters) / scale:.3f}"
        return ["GEOSEARCH", key] + centre + ["BYBOX", size, height, unit] + options
    stored = [o for o in options if not o.startswith("WITH")] + (["STOREDIST"] if rng.random() < 0.5 else [])
    return ["GEOSEARCHSTORE", "stored", key] + centre + ["BYRADIUS", size, unit] + stored + ["ZRANGE", "stored"]


def test_random_points_and_searches_match_redis_7(server, redis_server):
    rng = random.Random(20260523)
    theirs, ours = WireSession(redis_server), WireSession(server)
    found = []

    def both(command):
        expected, actual = theirs.run(command), ours.run(command)
        if expected != actual:
            found.append(f"{command!r}: redis={expected!r} strata={actual!r}")

    for key, count in (("small", 40), ("big", 400)):  # listpack and skiplist encodings
        members = []
        for i in range(count):
            lon, lat = random_coordinate(rng)
            members.append(f"m{i}")
            both(["GEOADD", key, lon, lat, f"m{i}"])
        both(["ZRANGE", key, "0", "-1", "WITHSCORES"])
        both(["GEOPOS", key] + members[:50])
        both(["GEOHASH", key] + members[:50])
        for _ in range(20):
            both(["GEODIST", key, rng.choice(members), rng.choice(members), rng.choice(["m", "km", "mi", "ft"])])
        for _ in range(200):
            command = random_search(rng, key, members)
            if command[-2:] == ["ZRANGE", "stored"]:
                both(command[:-2])
                both(["ZRANGE", "stored", "0", "-1", "WITHSCORES"])
            else:
                both(command)
    theirs.close()
    ours.close()
    assert not found, "\n".join(found[:20])
    assert keyspace(server) == keyspace(redis_server)


def test_stores_wake_sorted_set_waiters_as_in_redis_7(server, redis_server):
    """GEORADIUS STORE and GEOSEARCHSTORE write a sorted set: a client parked in BZPOPMIN
    on the destination gets the nearest result, in both servers."""
    outcomes = []
    for target in (redis_server, server):
        r = target.client()
        r.execute_command(*shlex.split(SICILY))
        popped = []
        for store in ("GEORADIUS Sicily 15 37 200 km STOREDIST d1", "GEOSEARCHSTORE d2 Sicily FROMMEMBER Palermo "
                      "BYRADIUS 300 km"):
            key = "d1" if "d1" in store else "d2"
            waiter = threading.Thread(target=lambda k=key: popped.append(target.client().bzpopmin([k], timeout=30)))
            waiter.start()
            wait_blocked(r)
            r.execute_command(*shlex.split(store))
            waiter.join()
        outcomes.append((popped, keyspace(target)))
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0][0] is not None
