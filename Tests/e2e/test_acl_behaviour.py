"""ACL behaviour on connected clients, checked on one server at a time: clients of a
deleted user are disconnected, clients of a disabled user keep working, subscribers whose
channels are no longer allowed are killed, CLIENT KILL USER and CLIENT LIST `user=`, and
`acl-pubsub-default`. Each test runs on Strata and, as a control that the expectations
are Redis 7.0's, on redis-server."""
import pytest

from test_acl_support import OK, PONG, REDIS, Conn, Err, Status

WRONGPASS = Err("WRONGPASS invalid username-password pair or user is disabled.")


@pytest.fixture(params=["strata", "redis"], ids=["strata", "redis-control"])
def target(request, start_server):
    if request.param == "strata":
        return start_server()
    if REDIS is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    return start_server("--save", "", "--appendonly", "no", binary=REDIS)


def connect(server, user=None, password="pw"):
    """A raw connection, authenticated as `user` if given. It makes one round trip either
    way, so the server has registered the client before the test looks at CLIENT LIST."""
    c = Conn(server.port)
    if user is not None:
        reply = c.cmd("AUTH", user, password)
        assert reply == OK, f"AUTH {user}: {reply!r}"
    else:
        assert c.cmd("ECHO", "registered") is not None
    return c


def client_users(admin):
    """{client id: user} from CLIENT LIST."""
    listing = admin.cmd("CLIENT", "LIST")
    assert isinstance(listing, bytes), listing
    out = {}
    for line in listing.decode().splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        out[int(fields["id"])] = fields.get("user")
    return out


def test_deleting_a_user_disconnects_its_clients(target):
    admin = connect(target)
    assert admin.cmd("ACL", "SETUSER", "k1", "on", ">pw", "+@all", "~*", "&*") == OK
    assert admin.cmd("ACL", "SETUSER", "k2", "on", ">pw", "+@all", "~*", "&*") == OK
    a, b, sub = connect(target, "k1"), connect(target, "k1"), connect(target, "k1")
    assert sub.cmd("SUBSCRIBE", "news") == [b"subscribe", b"news", 1]
    other = connect(target, "k2")
    plain = connect(target)
    assert sorted(u for u in client_users(admin).values()) == ["default", "default", "k1", "k1", "k1", "k2"]
    assert admin.cmd("ACL", "DELUSER", "k1", "nosuch") == 1
    for c in (a, b, sub):
        assert c.wait_closed(10), "a client of the deleted user is still connected"
    assert other.cmd("PING") == PONG
    assert other.cmd("ACL", "WHOAMI") == b"k2"
    assert plain.cmd("PING") == PONG
    assert sorted(client_users(admin).values()) == ["default", "default", "k2"]
    # Re-creating the user does not bring anything back; a new AUTH works.
    assert admin.cmd("ACL", "SETUSER", "k1", "on", ">pw", "+@all") == OK
    assert connect(target, "k1").cmd("ACL", "WHOAMI") == b"k1"
    # A client that AUTHed as k2 and then as default is not k2's any more.
    switched = connect(target, "k2")
    assert switched.cmd("AUTH", "default", "x") == OK
    assert admin.cmd("ACL", "DELUSER", "k2") == 1
    assert other.wait_closed(10)
    assert switched.cmd("PING") == PONG


def test_disabled_user_keeps_its_connections(target):
    admin = connect(target)
    assert admin.cmd("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*") == OK
    c = connect(target, "u")
    assert admin.cmd("ACL", "SETUSER", "u", "off") == OK
    assert c.cmd("PING") == PONG
    assert c.cmd("ACL", "WHOAMI") == b"u"
    assert c.cmd("SET", "k", "v") == OK
    assert Conn(target.port).cmd("AUTH", "u", "pw") == WRONGPASS
    # Password changes do not touch existing connections either...
    assert admin.cmd("ACL", "SETUSER", "u", "on", "resetpass", ">new") == OK
    assert c.cmd("GET", "k") == b"v"
    assert Conn(target.port).cmd("AUTH", "u", "pw") == WRONGPASS
    assert Conn(target.port).cmd("AUTH", "u", "new") == OK
    # ...but permission changes apply to them at once.
    assert admin.cmd("ACL", "SETUSER", "u", "-@all") == OK
    assert c.cmd("PING") == Err("NOPERM this user has no permissions to run the 'ping' command")
    assert admin.cmd("ACL", "SETUSER", "u", "+ping", "resetkeys") == OK
    assert c.cmd("PING") == PONG
    assert c.cmd("GET", "k") == Err("NOPERM this user has no permissions to run the 'get' command")
    # `reset` (which includes off) does not disconnect.
    assert admin.cmd("ACL", "SETUSER", "u", "reset") == OK
    assert not c.wait_closed(0.3)
    assert c.cmd("PING") == Err("NOPERM this user has no permissions to run the 'ping' command")


def test_subscribers_are_killed_when_their_channels_are_revoked(target):
    admin = connect(target)
    assert admin.cmd("ACL", "SETUSER", "ps", "on", ">pw", "resetchannels", "&foo", "&fo*", "&bar", "+@all") == OK
    assert admin.cmd("ACL", "SETUSER", "other", "on", ">pw", "allchannels", "+@all") == OK
    exact = connect(target, "ps")
    assert exact.cmd("SUBSCRIBE", "foo") == [b"subscribe", b"foo", 1]
    pattern = connect(target, "ps")
    assert pattern.cmd("PSUBSCRIBE", "fo*") == [b"psubscribe", b"fo*", 1]
    bar = connect(target, "ps")
    assert bar.cmd("SUBSCRIBE", "bar") == [b"subscribe", b"bar", 1]
    idle = connect(target, "ps")
    stranger = connect(target, "other")
    assert stranger.cmd("SUBSCRIBE", "foo") == [b"subscribe", b"foo", 1]
    assert stranger.cmd("PSUBSCRIBE", "fo*") == [b"psubscribe", b"fo*", 2]
    # Adding a channel kills nobody.
    assert admin.cmd("ACL", "SETUSER", "ps", "&baz") == OK
    # Dropping the fo* pattern: the pattern subscriber goes, the others stay.
    assert admin.cmd("ACL", "SETUSER", "ps", "resetchannels", "&foo", "&bar") == OK
    assert pattern.wait_closed(10), "the fo* pattern subscriber was not disconnected"
    assert not exact.wait_closed(0.3)
    assert exact.cmd("PING") == [b"pong", b""]
    assert bar.cmd("PING") == [b"pong", b""]
    assert idle.cmd("PING") == PONG
    assert stranger.cmd("PING") == [b"pong", b""]
    # A publish still reaches the surviving subscribers.
    assert admin.cmd("PUBLISH", "foo", "hi") == 3
    assert exact.read() == [b"message", b"foo", b"hi"]
    # resetchannels alone: every subscriber of the user goes, the idle client stays.
    assert admin.cmd("ACL", "SETUSER", "ps", "resetchannels") == OK
    assert exact.wait_closed(10) and bar.wait_closed(10)
    assert idle.cmd("PING") == PONG
    assert idle.cmd("SUBSCRIBE", "foo") == Err(
        "NOPERM this user has no permissions to access one of the channels used as arguments")
    assert stranger.read() == [b"message", b"foo", b"hi"]
    assert stranger.read() == [b"pmessage", b"fo*", b"foo", b"hi"]
    assert stranger.cmd("PING") == [b"pong", b""]
    # allchannels, then a restriction that still covers the subscription: nobody is killed.
    assert admin.cmd("ACL", "SETUSER", "ps", "allchannels") == OK
    again = connect(target, "ps")
    assert again.cmd("SUBSCRIBE", "foo") == [b"subscribe", b"foo", 1]
    assert admin.cmd("ACL", "SETUSER", "ps", "resetchannels", "&f*") == OK
    assert not again.wait_closed(0.3)
    assert again.cmd("PING") == [b"pong", b""]
    assert sorted(client_users(admin).values()) == ["default", "other", "ps", "ps"]


def test_sharded_subscribers_are_killed_when_their_channels_are_revoked(target):
    admin = connect(target)
    assert admin.cmd("ACL", "SETUSER", "ps", "on", ">pw", "resetchannels", "&foo", "&bar", "+@all") == OK
    shard = connect(target, "ps")
    assert shard.cmd("SSUBSCRIBE", "foo") == [b"ssubscribe", b"foo", 1]
    kept = connect(target, "ps")
    assert kept.cmd("SSUBSCRIBE", "bar") == [b"ssubscribe", b"bar", 1]
    assert admin.cmd("ACL", "SETUSER", "ps", "resetchannels", "&bar") == OK
    assert shard.wait_closed(10), "the sharded subscriber of a revoked channel was not disconnected"
    assert kept.cmd("PING") == [b"pong", b""]


def test_client_kill_user(target):
    admin = connect(target)
    assert admin.cmd("ACL", "SETUSER", "k2", "on", ">pw", "+@all") == OK
    assert admin.cmd("ACL", "SETUSER", "k3", "on", ">pw", "+@all") == OK
    first, second, third = connect(target, "k2"), connect(target, "k2"), connect(target, "k3")
    assert admin.cmd("CLIENT", "KILL", "USER", "k2") == 2
    assert first.wait_closed(10) and second.wait_closed(10)
    assert third.cmd("PING") == PONG
    assert admin.cmd("CLIENT", "KILL", "USER", "k2") == 0
    assert admin.cmd("CLIENT", "KILL", "USER", "nosuch") == Err("ERR No such user 'nosuch'")
    assert admin.cmd("CLIENT", "KILL", "USER", "k3", "SKIPME", "yes") == 1
    assert third.wait_closed(10)
    # SKIPME (default yes) spares the caller, SKIPME no does not.
    mine = connect(target)
    assert admin.cmd("CLIENT", "KILL", "USER", "default") == 1
    assert mine.wait_closed(10)
    assert admin.cmd("PING") == PONG
    assert admin.cmd("CLIENT", "KILL", "USER", "default", "SKIPME", "no") == 1
    assert admin.wait_closed(10)


def test_client_list_and_info_show_the_user(target):
    admin = connect(target)
    assert admin.cmd("ACL", "SETUSER", "alice", "on", ">pw", "+@all") == OK
    c = connect(target)
    my_id = c.cmd("CLIENT", "ID")
    assert client_users(admin)[my_id] == "default"
    assert c.cmd("AUTH", "alice", "pw") == OK
    assert client_users(admin)[my_id] == "alice"
    info = c.cmd("CLIENT", "INFO")
    assert isinstance(info, bytes) and b" user=alice " in info and b" cmd=client|info " in info, info
    assert c.cmd("AUTH", "alice", "wrong") == WRONGPASS
    assert client_users(admin)[my_id] == "alice"
    assert c.cmd("HELLO", "2", "AUTH", "default", "x")[:2] == [b"server", b"redis"]
    assert client_users(admin)[my_id] == "default"
    # RESET goes back to the default user.
    assert c.cmd("AUTH", "alice", "pw") == OK
    assert c.cmd("RESET") == Status("RESET")
    assert c.cmd("ACL", "WHOAMI") == b"default"
    assert client_users(admin)[my_id] == "default"


def test_acl_pubsub_default(target):
    admin = connect(target)
    assert admin.cmd("CONFIG", "GET", "acl-pubsub-default") == [b"acl-pubsub-default", b"resetchannels"]
    assert admin.cmd("ACL", "SETUSER", "before", "on") == OK
    assert admin.cmd("CONFIG", "SET", "acl-pubsub-default", "allchannels") == OK
    assert admin.cmd("CONFIG", "GET", "acl-pubsub-default") == [b"acl-pubsub-default", b"allchannels"]
    assert admin.cmd("ACL", "SETUSER", "after", "on") == OK
    # A new user now starts with &*, so adding a channel pattern is the "after *" error.
    assert admin.cmd("ACL", "SETUSER", "refused", "&x") == Err(
        "ERR Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is "
        "not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
    assert admin.cmd("ACL", "SETUSER", "wasreset", "on", "resetchannels", "&x", "reset") == OK
    assert admin.cmd("ACL", "SETUSER", "narrowed", "on", "resetchannels", "&n") == OK
    assert admin.cmd("ACL", "LIST") == [
        b"user after on &* -@all", b"user before on resetchannels -@all", b"user default on nopass ~* &* +@all",
        b"user narrowed on resetchannels &n -@all", b"user wasreset off sanitize-payload &* -@all"]
    assert admin.cmd("ACL", "GETUSER", "after")[9] == b"&*"
    assert admin.cmd("ACL", "GETUSER", "before")[9] == b""
    # A selector added now gets the default channels too.
    assert admin.cmd("ACL", "SETUSER", "before", "(+get)") == OK
    assert admin.cmd("ACL", "GETUSER", "before")[11] == [[b"commands", b"-@all +get", b"keys", b"", b"channels",
                                                           b"&*"]]
    assert admin.cmd("CONFIG", "SET", "acl-pubsub-default", "resetchannels") == OK
    assert admin.cmd("ACL", "SETUSER", "later", "on", "(+get)") == OK
    assert b"user later on resetchannels -@all (resetchannels -@all +get)" in admin.cmd("ACL", "LIST")
    assert admin.cmd("CONFIG", "SET", "acl-pubsub-default", "bogus") == Err(
        "ERR CONFIG SET failed (possibly related to argument 'acl-pubsub-default') - argument(s) must be one of the "
        "following: allchannels, resetchannels")
    assert admin.cmd("CONFIG", "SET", "acl-pubsub-default", "ALLCHANNELS") == OK
    assert admin.cmd("CONFIG", "GET", "acl-pubsub-default") == [b"acl-pubsub-default", b"allchannels"]


def test_acl_pubsub_default_from_the_command_line(start_server):
    for binary in (None, REDIS):
        kwargs = {} if binary is None else {"binary": binary}
        server = start_server("--acl-pubsub-default", "allchannels", **kwargs)
        admin = connect(server)
        assert admin.cmd("ACL", "SETUSER", "u", "on") == OK
        assert admin.cmd("ACL", "LIST") == [b"user default on nopass ~* &* +@all", b"user u on &* -@all"], binary
