"""Differential ACL tests: the same ACL commands against Strata and Redis 7.0, replies
compared exactly (see test_acl_support for the raw connections and the normalisation).
Covers the ACL SETUSER rule grammar (GETUSER, LIST and DRYRUN after every rule list),
ACL CAT, NOPERM texts and DRYRUN, key permissions with %R~/%W~ and selectors, AUTH and
HELLO, NOAUTH and requirepass, ACL LOG, and the small subcommands. Scripts, MULTI,
pub/sub and SORT are in test_acl_differential_contexts.py."""
from test_acl_support import (OK, PONG, Diff, Err, Tagged, client_info_fields, norm_acl_list,
                              norm_commands, norm_getuser, norm_log, sha)

SYNTAX = "Syntax error"
UNKNOWN = "Unknown command or category name in ACL"
FIRSTARG = "Allowing first-arg of a subcommand is not supported"
HASH = ("The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
        "characters")
NOPW = "The password you are trying to remove from the user does not exist"
KEYS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
                  "any effect. Try 'resetkeys' to start with an empty list of patterns")
CHANNELS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
                      "have any effect. Try 'resetchannels' to start with an empty list of channels")


NO_KEY = Err("NOPERM this user has no permissions to access one of the keys used as arguments")


def bad(rule, reason):
    return Err(f"ERR Error in ACL SETUSER modifier '{rule}': {reason}")


def unmatched(start):
    return Err(f"ERR Unmatched parenthesis in acl selector starting at '{start}'.")


HX = sha("x")
HY = sha("y")
MASK = "mask"  # the category choice depends on the command table: compare commands by DRYRUN only

# (rules, what Redis answers, mode); a 4th element is a rule list applied first (an existing user).
CORPUS = [
    # users, flags, passwords
    ([], OK), (["on"], OK), (["off"], OK), (["on", "off"], OK), (["off", "on"], OK),
    (["ON", "NOPASS", "+GET", "~K*"], OK), (["On", "AllKeys", "AllChannels", "AllCommands"], OK),
    (["on", ">p1", ">p2", ">p1"], OK), (["nopass", ">x"], OK), ([">x", "nopass"], OK),
    ([">x", "resetpass"], OK), (["nopass", "resetpass"], OK), (["resetpass", "nopass"], OK),
    ([">a b"], OK), ([">"], OK), ([">x", ">y", "<x"], OK), ([">x", "<x"], OK),
    (["#" + HX], OK), (["#" + HX, ">x"], OK), (["#" + HX, "!" + HX], OK), ([">x", "!" + HX], OK),
    (["nopass", "#" + HY], OK), ([">y", "#" + HX, "<y"], OK),
    (["skip-sanitize-payload"], OK), (["sanitize-payload"], OK), (["skip-sanitize-payload", "sanitize-payload"], OK),
    (["skip-sanitize-payload", "on", "nopass"], OK), ([""], OK), (["", "on", ""], OK),
    # keys
    (["~k*", "~k*"], OK), (["~K*"], OK), (["%R~r*", "%W~w*", "%RW~rw*", "%WR~wr*"], OK),
    (["%r~a", "%w~b", "%Rw~c"], OK), (["%R~a", "%W~a"], OK), (["%R~a", "~a"], OK), (["~a", "%R~a"], OK),
    (["%W~a", "%R~b", "%R~a"], OK), (["%R~"], OK), (["%R"], OK), (["~"], OK),
    (["~foo", "allkeys"], OK), (["allkeys", "resetkeys", "~foo"], OK), (["~*"], OK), (["~*", "resetkeys"], OK),
    (["%R~*"], OK), (["%R~*", "~x"], OK), (["%R~*", "allkeys"], OK), (["~k1", "~k2", "resetkeys"], OK),
    # channels
    (["&ch*", "&ch*"], OK), (["&a", "allchannels"], OK), (["allchannels", "resetchannels", "&x"], OK),
    (["&*"], OK), (["&c1", "resetchannels", "&c2"], OK), (["&"], OK),
    # commands
    (["+get"], OK), (["+get", "+get", "+get"], OK), (["+@string"], OK), (["+@string", "+get"], OK),
    (["+get", "+@string"], OK), (["+@string", "-@string"], OK), (["-@all", "+@all"], OK),
    (["+@all", "-get"], OK), (["+@all", "-get", "+get"], OK), (["+get", "-get"], OK),
    (["+@all", "-@string", "+get"], OK), (["+@string", "-set", "+config|get"], OK),
    (["+@hash", "-hset", "+@list"], OK), (["+config|get"], OK), (["+config|get", "+config"], OK),
    (["+config", "-config|get"], OK), (["+@all", "-config|get"], OK), (["-config|get"], OK),
    (["+Config|Get"], OK), (["-CONFIG|GET"], OK), (["+select|0"], OK), (["+select|0", "+select|1"], OK),
    (["+select|0", "+select|1", "-select"], OK), (["+select|0", "+select"], OK),
    (["+@all", "-select", "+select|0"], OK), (["+SELECT|Db"], OK), (["+select|DB", "+select|db"], OK),
    (["+GET|foo"], OK), (["allcommands"], OK), (["nocommands"], OK), (["allcommands", "nocommands"], OK),
    (["nocommands", "+@all"], OK), (["+@ALL"], OK), (["+@all", "-@ALL"], OK),
    (["allcommands", "-config|get", "+config|get"], OK), (["-@all", "+get", "-@all"], OK),
    (["+client"], OK), (["-client|kill"], OK), (["+client|kill", "-client"], OK), (["+acl|whoami"], OK),
    (["+auth"], OK), (["-auth"], OK), (["+debug|digest"], OK),
    (["+@all", "-@dangerous"], OK, MASK), (["+@read", "+@write", "-@dangerous"], OK, MASK),
    (["+@all", "-@keyspace", "+del"], OK, MASK), (["-@all", "+@fast", "-@write"], OK, MASK),
    (["+@pubsub", "+@connection", "-ping", "+config|get", "+acl", "-wait", "+@transaction"], OK, MASK),
    (["+@admin", "-@dangerous", "+@scripting"], OK, MASK),
    # reset
    (["reset"], OK), (["on", "nopass", "~*", "&*", "+@all", "skip-sanitize-payload", "(~x +get)", "reset"], OK),
    # selectors
    (["(~x +set)"], OK), (["(~x", "+set)"], OK), (["()", "()"], OK), (["(  ~x   +get  )"], OK),
    (["(~x +get)", "clearselectors"], OK), (["(~x +get)", "clearselectors", "(%R~y +@read)"], OK),
    (["(&ch +publish)"], OK), (["(allkeys allchannels allcommands)"], OK), (["(resetkeys ~a)"], OK),
    (["(+@all -get)"], OK), (["(+select|0)"], OK), (["(%R~r* %W~w*)"], OK),
    (["~a", "+get", "(~b +set)", "(&c +publish)"], OK),
    # errors: syntax
    (["foo"], bad("foo", SYNTAX)), (["%X~foo"], bad("%X~foo", SYNTAX)), (["%~foo"], bad("%~foo", SYNTAX)),
    (["%RR~x*"], bad("%RR~x*", SYNTAX)), (["%"], bad("%", SYNTAX)), (["~a b"], bad("~a b", SYNTAX)),
    (["&a b"], bad("&a b", SYNTAX)), (["@all"], bad("@all", SYNTAX)), ([")"], bad(")", SYNTAX)),
    (["a(b)"], bad("a(b)", SYNTAX)), (["((+get)"], bad("((+get)", SYNTAX)), (["+config|"], bad("+config|", SYNTAX)),
    (["+get|"], bad("+get|", SYNTAX)), (["+select|"], bad("+select|", SYNTAX)), (["(foo)"], bad("(foo)", SYNTAX)),
    (["(on)"], bad("(on)", SYNTAX)), (["(nopass)"], bad("(nopass)", SYNTAX)), (["(reset)"], bad("(reset)", SYNTAX)),
    (["(clearselectors)"], bad("(clearselectors)", SYNTAX)),
    (["(sanitize-payload)"], bad("(sanitize-payload)", SYNTAX)), (["(~a b)"], bad("(~a b)", SYNTAX)),
    # errors: selectors
    (["(+get"], unmatched("(+get")), (["(+get", "~x"], unmatched("(+get")),
    (["(+get)", "(+set"], unmatched("(+set")), (["(~x +get) extra"], unmatched("(~x +get) extra")),
    (["(+get))"], bad("(+get))", UNKNOWN)),
    # errors: commands and categories
    (["+nosuchcmd"], bad("+nosuchcmd", UNKNOWN)), (["-nosuchcmd"], bad("-nosuchcmd", UNKNOWN)),
    (["+@nosuch"], bad("+@nosuch", UNKNOWN)), (["-@nosuch"], bad("-@nosuch", UNKNOWN)),
    (["+config|foo"], bad("+config|foo", UNKNOWN)), (["-get|foo"], bad("-get|foo", UNKNOWN)),
    (["-select|0"], bad("-select|0", UNKNOWN)), (["(-select|0)"], bad("(-select|0)", UNKNOWN)),
    (["+@read|x"], bad("+@read|x", UNKNOWN)), (["+|"], bad("+|", UNKNOWN)), (["+"], bad("+", UNKNOWN)),
    (["-"], bad("-", UNKNOWN)), (["+@"], bad("+@", UNKNOWN)), (["-select|"], bad("-select|", UNKNOWN)),
    (["+get|x|y"], bad("+get|x|y", UNKNOWN)), (["+acl|nosuch"], bad("+acl|nosuch", UNKNOWN)),
    (["+config|get|x"], bad("+config|get|x", FIRSTARG)), (["+client|kill|x"], bad("+client|kill|x", FIRSTARG)),
    (["+acl|whoami|x"], bad("+acl|whoami|x", FIRSTARG)),
    # errors: passwords
    (["#abc"], bad("#abc", HASH)), (["#" + HX.upper()], bad("#" + HX.upper(), HASH)),
    (["#z" + HX[1:]], bad("#z" + HX[1:], HASH)), (["#" + HX + "0"], bad("#" + HX + "0", HASH)),
    (["!abc"], bad("!abc", HASH)), (["#"], bad("#", HASH)), (["!"], bad("!", HASH)),
    (["<nothere"], bad("<nothere", NOPW)), (["<"], bad("<", NOPW)), (["!" + HY], bad("!" + HY, NOPW)),
    (["nopass", "<x"], bad("<x", NOPW)), ([">x", "resetpass", "<x"], bad("<x", NOPW)),
    # errors: patterns after * (keys and channels)
    (["allkeys", "~foo"], bad("~foo", KEYS_AFTER_ALL)), (["~*", "~foo"], bad("~foo", KEYS_AFTER_ALL)),
    (["allkeys", "%R~x"], bad("%R~x", KEYS_AFTER_ALL)), (["~*", "%W~y"], bad("%W~y", KEYS_AFTER_ALL)),
    (["allkeys", "%R~*"], bad("%R~*", KEYS_AFTER_ALL)), (["(~* ~b)"], bad("(~* ~b)", KEYS_AFTER_ALL)),
    (["allchannels", "&b"], bad("&b", CHANNELS_AFTER_ALL)), (["&*", "&b"], bad("&b", CHANNELS_AFTER_ALL)),
    (["(allchannels &b)"], bad("(allchannels &b)", CHANNELS_AFTER_ALL)),
    # a failing rule list creates nothing...
    (["on", "+get", "bogus"], bad("bogus", SYNTAX)),
    # ...and changes nothing in an existing user
    (["off", "resetpass", "+del", "~b", "bogus"], bad("bogus", SYNTAX), None,
     ["on", ">p", "~a", "+get", "(~s +set)"]),
    (["reset", "+nosuch"], bad("+nosuch", UNKNOWN), None, ["on", ">p", "~a", "+get", "(~s +set)"]),
    (["clearselectors", "(+get"], unmatched("(+get"), None, ["on", ">p", "~a", "+get", "(~s +set)"]),
    (["(~x +hget)", ">q"], OK, None, ["on", ">p", "~a", "+get", "(~s +set)"]),
    (["-@all", "+get"], OK, None, ["on", "nopass", "+@all", "~*"]),
    (["reset"], OK, None, ["on", ">p", "~a", "&c", "+get", "(~s +set)"]),
    (["nopass"], OK, None, ["on", ">p", ">q"]),
    (["~b", "&d", "+set"], OK, None, ["on", "~a", "&c", "+get"]),
    (["allkeys"], OK, None, ["~a", "%R~b"]),
    (["~c"], bad("~c", KEYS_AFTER_ALL), None, ["allkeys"]),
]

# ACL DRYRUN probes run for every user the corpus creates.
PROBES = [
    ["get", "k1"], ["get", "x"], ["get", "r1"], ["get", "K1"], ["set", "k1", "v"], ["set", "w1", "v"],
    ["set", "r1", "v"], ["set", "a", "v"], ["del", "k1"], ["hset", "h1", "f", "v"], ["hget", "a", "f"],
    ["lpush", "l1", "a"], ["select", "0"], ["select", "1"], ["select", "db"], ["config", "get", "maxmemory"],
    ["config", "set", "maxmemory", "0"], ["client", "list"], ["client", "kill", "id", "1"], ["client", "id"],
    ["ping"], ["echo", "x"], ["publish", "ch", "m"], ["publish", "c1", "m"], ["publish", "foo", "m"],
    ["subscribe", "ch"], ["psubscribe", "ch*"], ["incr", "k1"], ["mget", "k1", "x"], ["eval", "return 1", "0"],
    ["acl", "whoami"], ["acl", "setuser", "z"], ["flushall"], ["keys", "*"], ["info"], ["sadd", "s1", "m"],
    ["zadd", "z1", "1", "m"], ["xadd", "x1", "*", "f", "v"], ["pfadd", "p1", "a"], ["blpop", "l1", "0"],
    ["multi"], ["exec"], ["debug", "digest"], ["object", "encoding", "k1"], ["copy", "r1", "w1"],
    ["sort", "l1"], ["bgsave"], ["monitor"], ["wait", "0", "0"], ["function", "list"], ["auth", "a", "b"],
    ["hello"], ["get", "foo"], ["get", "b"], ["get", "y"], ["set", "y", "v"], ["set", "s", "v"],
]


def user_exists(reply):
    return isinstance(reply, list)


def test_setuser_rule_corpus(strata_and_redis):
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    for i, case in enumerate(CORPUS):
        rules, expected = case[0], case[1]
        mask = len(case) > 2 and case[2] == MASK
        pre = case[3] if len(case) > 3 else None
        user = f"rule{i:03d}"
        tag = f"#{i} {rules!r}" + (f" (after {pre!r})" if pre else "")
        if pre is not None:
            c.run("ACL", "SETUSER", user, *pre, expect=OK, label=f"{tag}: the existing user")
        c.run("ACL", "SETUSER", user, *rules, expect=expected, label=f"{tag}: ACL SETUSER")
        _, theirs = c.run("ACL", "GETUSER", user, norm=lambda r: norm_getuser(r, mask), label=f"{tag}: ACL GETUSER")
        c.run("ACL", "LIST", norm=lambda r: norm_acl_list(r, mask), label=f"{tag}: ACL LIST")
        if user_exists(theirs):
            for probe in PROBES:
                c.run("ACL", "DRYRUN", user, *probe, label=f"{tag}: ACL DRYRUN {' '.join(probe)}")
        c.run("ACL", "DELUSER", user, label=f"{tag}: ACL DELUSER")
    diff.check(minimum_steps=len(CORPUS) * 4)


def test_setuser_reference_examples_read_back(strata_and_redis):
    """The worked examples of the reference, pinned: what GETUSER and LIST show."""
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    h = sha("hello")
    c.run("ACL", "SETUSER", "u2", "on", ">p1", ">p2", "#" + h, "~a*", "%R~r*", "%W~w*", "&ch*", "+@string", "-set",
          "+config|get", "nopass", expect=OK)
    c.run("ACL", "GETUSER", "u2", norm=norm_getuser,
          expect=[b"flags", [b"on", b"nopass"], b"passwords", [], b"commands", "-@all +@string +config|get -set",
                  b"keys", b"~a* %R~r* %W~w*", b"channels", b"&ch*", b"selectors", []])
    c.run("ACL", "SETUSER", "u3", "on", ">p1", ">p2", "~a*", "%R~r*", "%W~w*", "&ch*", "-@all", "+get", "(~x +set)",
          expect=OK)
    c.run("ACL", "GETUSER", "u3", norm=norm_getuser,
          expect=[b"flags", [b"on"], b"passwords", [sha("p1").encode(), sha("p2").encode()], b"commands",
                  "-@all +get", b"keys", b"~a* %R~r* %W~w*", b"channels", b"&ch*", b"selectors",
                  [[b"commands", "-@all +set", b"keys", b"~x", b"channels", b""]]])
    c.run("ACL", "LIST", expect=[
        b"user default on nopass ~* &* +@all",
        b"user u2 on nopass ~a* %R~r* %W~w* resetchannels &ch* -@all +@string +config|get -set",
        f"user u3 on #{sha('p1')} #{sha('p2')} ~a* %R~r* %W~w* resetchannels &ch* -@all +get "
        f"(~x resetchannels -@all +set)".encode()], norm=norm_acl_list_exact)
    c.run("ACL", "GETUSER", "default",
          expect=[b"flags", [b"on", b"nopass"], b"passwords", [], b"commands", b"+@all", b"keys", b"~*",
                  b"channels", b"&*", b"selectors", []])
    c.run("ACL", "GETUSER", "nosuch", expect=None)
    c.run("ACL", "SETUSER", "u4", "reset", expect=OK)
    c.run("ACL", "GETUSER", "u4", expect=[b"flags", [b"off", b"sanitize-payload"], b"passwords", [], b"commands",
                                         b"-@all", b"keys", b"", b"channels", b"", b"selectors", []])
    # RESP3: GETUSER is a map, selectors are maps too.
    c.run("HELLO", "3", norm=lambda r: r[1][:6] if isinstance(r, Tagged) else r)
    c.run("ACL", "GETUSER", "u3", norm=resp3_getuser)
    c.run("ACL", "GETUSER", "nosuch", expect=None)
    c.run("ACL", "LIST", norm=norm_acl_list)
    diff.check()


def norm_acl_list_exact(reply):
    """ACL LIST with its command rules normalised, compared as bytes lines."""
    return [line.encode() for line in norm_acl_list(reply)] if isinstance(reply, list) else reply


def resp3_getuser(reply):
    if isinstance(reply, Tagged) and reply[0] == "map":
        items = list(reply[1])
        for i in range(0, len(items) - 1, 2):
            if items[i] == b"commands":
                items[i + 1] = norm_commands(items[i + 1])
            elif items[i] == b"selectors":
                items[i + 1] = [resp3_getuser(s) for s in items[i + 1]]
        return Tagged(("map", items))
    return reply


def test_usernames(strata_and_redis):
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    c.run("ACL", "SETUSER", "BigName", "on", expect=OK)
    c.run("ACL", "GETUSER", "bigname", expect=None)
    c.run("ACL", "GETUSER", "BigName", norm=norm_getuser)
    c.run("ACL", "SETUSER", "a@b", "on", expect=OK)
    c.run("ACL", "SETUSER", "", "on", "+get", expect=OK)
    c.run("ACL", "GETUSER", "", norm=norm_getuser)
    c.run("ACL", "SETUSER", "a b", expect=Err("ERR Usernames can't contain spaces or null characters"))
    c.run("ACL", "SETUSER", "a\x00b", expect=Err("ERR Usernames can't contain spaces or null characters"))
    c.run("ACL", "SETUSER", " lead", "on")
    c.run("ACL", "SETUSER", "t\u00e9st", "on", expect=OK)
    c.run("ACL", "SETUSER", "x" * 300, "on", expect=OK)
    c.run("ACL", "SETUSER", expect=Err("ERR wrong number of arguments for 'acl|setuser' command"))
    c.run("ACL", "USERS")
    c.run("ACL", "LIST", norm=norm_acl_list)
    c.run("ACL", "DELUSER", "", "a@b", "BigName", "bigname", expect=3)
    c.run("ACL", "USERS")
    diff.check()


def test_acl_cat_categories_and_commands(strata_and_redis):
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    categories, theirs = c.run("ACL", "CAT", expect=[
        b"keyspace", b"read", b"write", b"set", b"sortedset", b"list", b"hash", b"string", b"bitmap",
        b"hyperloglog", b"geo", b"stream", b"pubsub", b"admin", b"fast", b"slow", b"blocking", b"dangerous",
        b"connection", b"transaction", b"scripting"])
    ours_commands = set(c.s.cmd("COMMAND", "LIST"))
    theirs_commands = set(c.r.cmd("COMMAND", "LIST"))
    common = ours_commands & theirs_commands
    assert len(common) > 200, f"COMMAND LIST has only {len(common)} names in common"
    for category in theirs:
        ours = c.s.cmd("ACL", "CAT", category)
        redis_reply = c.r.cmd("ACL", "CAT", category)
        assert isinstance(redis_reply, list) and redis_reply, f"Redis ACL CAT {category!r}: {redis_reply!r}"
        ours_set = set(ours) & common if isinstance(ours, list) else ours
        diff.same(f"ACL CAT {category.decode()} (commands both servers have)", ours_set, set(redis_reply) & common)
    # Category names are case-insensitive; errors.
    c.run("ACL", "CAT", "STRING", norm=lambda r: set(r) & common if isinstance(r, list) else r)
    c.run("ACL", "CAT", "nosuch", expect=Err("ERR Unknown category 'nosuch'"))
    c.run("ACL", "CAT", "", expect=Err("ERR Unknown category ''"))
    c.run("ACL", "CAT", "string", "extra",
          expect=Err("ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP."))
    diff.check(minimum_steps=22)


LIMITED = ["on", "nopass", "~k*", "&ch*", "+get", "+set", "+mget", "+config|get", "+client|id", "+publish",
           "+spublish", "+subscribe", "+ssubscribe", "+psubscribe", "+object", "+acl|dryrun"]


def test_noperm_texts_at_top_level(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("ACL", "SETUSER", "lim", *LIMITED, expect=OK)
    admin.run("SET", "x", "1")
    c = diff.conn("lim")
    c.run("AUTH", "lim", "anything", expect=OK)
    no_cmd = lambda name: Err(f"NOPERM this user has no permissions to run the '{name}' command")
    no_channel = Err("NOPERM this user has no permissions to access one of the channels used as arguments")
    c.run("SET", "k1", "v", expect=OK)
    c.run("GET", "k1", expect=b"v")
    c.run("GET", "x", expect=NO_KEY)
    c.run("GET", "K1", expect=NO_KEY)
    c.run("MGET", "k1", "x", expect=NO_KEY)
    c.run("MGET", "x", "k1")
    c.run("DEL", "k1", expect=no_cmd("del"))
    c.run("PING", expect=no_cmd("ping"))
    c.run("ACL", "WHOAMI", expect=no_cmd("acl|whoami"))
    c.run("CONFIG", "GET", "maxmemory", expect=[b"maxmemory", b"0"])
    c.run("CONFIG", "SET", "maxmemory", "0", expect=no_cmd("config|set"))
    c.run("CONFIG", "RESETSTAT", expect=no_cmd("config|resetstat"))
    c.run("CLIENT", "LIST", expect=no_cmd("client|list"))
    c.run("CLIENT", "KILL", "ID", "999999", expect=no_cmd("client|kill"))
    c.run("OBJECT", "ENCODING", "k1", expect=b"embstr")
    c.run("OBJECT", "ENCODING", "x", expect=NO_KEY)
    c.run("PUBLISH", "ch1", "m", expect=0)
    c.run("PUBLISH", "other", "m", expect=no_channel)
    c.run("SPUBLISH", "other", "m", expect=no_channel)
    c.run("SPUBLISH", "ch1", "m", expect=0)
    # The checks that come before ACL: unknown commands, arity, unknown subcommands.
    c.run("NOSUCHCMD", "a", expect=Err("ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' "))
    c.run("DEL", expect=Err("ERR wrong number of arguments for 'del' command"))
    c.run("GET", expect=Err("ERR wrong number of arguments for 'get' command"))
    c.run("CONFIG", "FOO")
    c.run("CONFIG")
    c.run("CLIENT", "NOSUCH")
    # AUTH and HELLO are never denied.
    c.run("HELLO", "2", norm=lambda r: r[:6] if isinstance(r, list) else r)
    c.run("ACL", "DRYRUN", "lim", "del", "k1", expect=b"This user has no permissions to run the 'del' command")
    c.run("AUTH", "default", "x", expect=OK)
    c.run("ACL", "WHOAMI", expect=b"default")
    # Permission changes apply to the connected client at once.
    c.run("AUTH", "lim", "x", expect=OK)
    admin.run("ACL", "SETUSER", "lim", "-get", expect=OK)
    c.run("GET", "k1", expect=no_cmd("get"))
    admin.run("ACL", "SETUSER", "lim", "+get", "resetkeys", "~x", expect=OK)
    c.run("GET", "k1", expect=NO_KEY)
    c.run("GET", "x", expect=b"1")
    admin.run("INFO", "errorstats", norm=errorstats("NOPERM"))
    diff.check(minimum_steps=30)


def errorstats(*names):
    """The errorstat lines for these error codes, from an INFO errorstats reply."""
    def pick(reply):
        if not isinstance(reply, bytes):
            return reply
        return [line for line in reply.decode().split("\r\n")
                if any(line.startswith(f"errorstat_{name}:") for name in names)]
    return pick


def test_dryrun_replies(strata_and_redis):
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    c.run("ACL", "SETUSER", "lim", *LIMITED, expect=OK)
    c.run("ACL", "SETUSER", "offuser", "off", "+@all", "~*", expect=OK)
    c.run("ACL", "LOG", "RESET", expect=OK)
    c.run("ACL", "DRYRUN", "lim", "get", "k1", expect=OK)
    c.run("ACL", "DRYRUN", "lim", "GET", "k1", expect=OK)
    c.run("ACL", "DRYRUN", "lim", "get", "x1", expect=b"This user has no permissions to access the 'x1' key")
    c.run("ACL", "DRYRUN", "lim", "mget", "k1", "x1", "x2")
    c.run("ACL", "DRYRUN", "lim", "del", "k1", expect=b"This user has no permissions to run the 'del' command")
    c.run("ACL", "DRYRUN", "lim", "config", "set", "maxmemory", "0",
          expect=b"This user has no permissions to run the 'config|set' command")
    c.run("ACL", "DRYRUN", "lim", "config", "get", "maxmemory", expect=OK)
    c.run("ACL", "DRYRUN", "lim", "CONFIG", "GET", "maxmemory", expect=OK)
    c.run("ACL", "DRYRUN", "lim", "publish", "x", "m", expect=b"This user has no permissions to access the 'x' channel")
    c.run("ACL", "DRYRUN", "lim", "publish", "ch1", "m", expect=OK)
    c.run("ACL", "DRYRUN", "lim", "subscribe", "ch1", "x", "ch2")
    c.run("ACL", "DRYRUN", "lim", "psubscribe", "ch*", expect=OK)
    c.run("ACL", "DRYRUN", "lim", "psubscribe", "c*", expect=b"This user has no permissions to access the 'c*' channel")
    c.run("ACL", "DRYRUN", "lim", "psubscribe", "ch1")
    c.run("ACL", "DRYRUN", "lim", "ping", expect=b"This user has no permissions to run the 'ping' command")
    c.run("ACL", "DRYRUN", "lim", "auth", "a", "b", expect=OK)
    c.run("ACL", "DRYRUN", "offuser", "flushall", expect=OK)
    c.run("ACL", "DRYRUN", "default", "flushall", expect=OK)
    c.run("ACL", "DRYRUN", "nouser", "get", "x", expect=Err("ERR User 'nouser' not found"))
    c.run("ACL", "DRYRUN", "lim", "nocmd", expect=Err("ERR Command 'nocmd' not found"))
    c.run("ACL", "DRYRUN", "lim", "get", expect=Err("ERR wrong number of arguments for 'get' command"))
    c.run("ACL", "DRYRUN", "lim", "get", "a", "b", expect=Err("ERR wrong number of arguments for 'get' command"))
    c.run("ACL", "DRYRUN", "lim", "config", expect=Err("ERR wrong number of arguments for 'config' command"))
    c.run("ACL", "DRYRUN", "lim", "config", "foo")
    c.run("ACL", "DRYRUN", "lim", expect=Err("ERR wrong number of arguments for 'acl|dryrun' command"))
    c.run("ACL", "DRYRUN", expect=Err("ERR wrong number of arguments for 'acl|dryrun' command"))
    c.run("ACL", "LOG", expect=[])  # DRYRUN writes no log entry
    diff.check(minimum_steps=25)


# resetkeys %R~r* %W~w* ~k* +@all: (command, allowed?) as Redis 7.0 answers ACL DRYRUN.
KEY_SEMANTICS = [
    (["copy", "r1", "w1"], True), (["sort", "r1", "store", "w1"], True), (["sunionstore", "w1", "r1", "r2"], True),
    (["bitop", "and", "w1", "r1", "r2"], True), (["zrangestore", "w1", "r1", "0", "1"], True),
    (["georadius", "r1", "0", "0", "1", "km", "store", "w1"], True), (["set", "w1", "v"], True),
    (["append", "w1", "x"], True), (["del", "w1"], True), (["expire", "w1", "10"], True),
    (["restore", "w1", "0", "x"], True), (["xadd", "w1", "*", "f", "v"], True), (["exists", "w1"], True),
    (["exists", "r1"], True), (["touch", "w1"], True), (["type", "r1"], True), (["object", "encoding", "w1"], True),
    (["memory", "usage", "w1"], True), (["ttl", "r1"], True), (["dump", "r1"], True), (["get", "k1"], True),
    (["incr", "k1"], True), (["rename", "k1", "w2"], True), (["lmove", "k1", "w1", "left", "right"], True),
    (["copy", "w1", "r1"], False), (["sort", "r1", "store", "r2"], False),
    (["lmove", "r1", "w1", "left", "right"], False), (["rpoplpush", "r1", "w1"], False), (["getdel", "r1"], False),
    (["getdel", "w1"], False), (["getex", "r1"], False), (["set", "w1", "v", "get"], False), (["ttl", "w1"], False),
    (["mget", "r1", "k1", "w1"], False), (["mset", "w1", "v", "r1", "v"], False), (["rename", "w1", "w2"], False),
    (["smove", "r1", "w1", "m"], False), (["pfcount", "w1"], False), (["pfmerge", "w1", "r1"], False),
    (["incr", "w1"], False), (["hget", "w1", "f"], False), (["hset", "r1", "f", "v"], False),
    (["blpop", "r1", "0"], False), (["lcs", "w1", "r2"], False), (["get", "x"], False),
    (["xreadgroup", "group", "g", "c", "streams", "w1", ">"], False),
    (["migrate", "127.0.0.1", "1", "w1", "0", "1000"], False), (["eval", "return 1", "2", "r1", "w1"], False),
    (["eval", "return 1", "1", "k1"], True), (["eval", "return 1", "0"], True),
    (["sintercard", "2", "r1", "r2"], True), (["lmpop", "1", "w1", "left"], False),
    (["zunionstore", "w1", "1", "r1"], True), (["zunionstore", "r1", "1", "w1"], False),
    (["setrange", "w1", "0", "x"], True), (["getrange", "w1", "0", "1"], False),
    (["pfadd", "w1", "a"], True), (["setbit", "w1", "0", "1"], False), (["strlen", "r1"], True),
    (["hsetnx", "w1", "f", "v"], True), (["linsert", "w1", "before", "a", "b"], True),
]


def test_key_permissions_with_read_and_write_patterns(strata_and_redis):
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    c.run("ACL", "SETUSER", "rw", "on", "nopass", "resetkeys", "%R~r*", "%W~w*", "~k*", "+@all", expect=OK)
    for command, allowed in KEY_SEMANTICS:
        c.run("ACL", "DRYRUN", "rw", *command, expect=OK if allowed else denied_key)
    # The same at top level: allowed commands run, denied ones get the key NOPERM.
    u = diff.conn("rw")
    u.run("AUTH", "rw", "x", expect=OK)
    c.run("SET", "r1", "from-admin", expect=OK)
    u.run("GET", "r1", expect=b"from-admin")
    u.run("SET", "r1", "v", expect=NO_KEY)
    u.run("SET", "w1", "v", expect=OK)
    u.run("GET", "w1", expect=NO_KEY)
    u.run("COPY", "r1", "w2", expect=1)
    u.run("SET", "w1", "v", "GET")
    u.run("EXISTS", "w1", "w2", "r1", expect=3)
    u.run("MGET", "r1", "k1", "w1")
    c.run("ACL", "LOG", norm=norm_log)
    diff.check(minimum_steps=len(KEY_SEMANTICS))


def denied_key(reply):
    return isinstance(reply, bytes) and reply.startswith(b"This user has no permissions to access the '")


def test_selectors_are_alternatives(strata_and_redis):
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    c.run("ACL", "SETUSER", "sel", "on", "nopass", "~a*", "+get", "(~b* +set)", "(%R~c* &ch +publish +get)", expect=OK)
    for command in (["get", "a1"], ["get", "b1"], ["get", "c1"], ["get", "d1"], ["set", "a1", "v"], ["set", "b1", "v"],
                    ["set", "c1", "v"], ["set", "d1", "v"], ["del", "a1"], ["publish", "ch", "m"],
                    ["publish", "no", "m"], ["mget", "a1", "b1"], ["mget", "a1", "c1"], ["mget", "c1", "a1", "d1"]):
        c.run("ACL", "DRYRUN", "sel", *command)
    c.run("ACL", "DRYRUN", "sel", "get", "a1", expect=OK)
    c.run("ACL", "DRYRUN", "sel", "set", "b1", "v", expect=OK)
    c.run("ACL", "DRYRUN", "sel", "get", "c1", expect=OK)
    c.run("ACL", "DRYRUN", "sel", "del", "a1", expect=b"This user has no permissions to run the 'del' command")
    u = diff.conn("sel")
    u.run("AUTH", "sel", "x", expect=OK)
    u.run("SET", "b1", "v", expect=OK)
    u.run("GET", "b1", expect=NO_KEY)
    u.run("SET", "a1", "v", expect=NO_KEY)
    u.run("DEL", "a1", expect=Err("NOPERM this user has no permissions to run the 'del' command"))
    u.run("PUBLISH", "ch", "m", expect=0)
    u.run("PUBLISH", "no", "m")
    c.run("ACL", "LOG", norm=norm_log)
    c.run("ACL", "SETUSER", "sel", "clearselectors", expect=OK)
    u.run("SET", "b1", "v", expect=Err("NOPERM this user has no permissions to run the 'set' command"))
    diff.check()


WRONGPASS = Err("WRONGPASS invalid username-password pair or user is disabled.")
NOAUTH = Err("NOAUTH Authentication required.")


def hello_map(reply):
    """HELLO's reply with the client id masked."""
    items = reply[1] if isinstance(reply, Tagged) else reply
    if not isinstance(items, list):
        return reply
    items = list(items)
    for i in range(0, len(items) - 1, 2):
        if items[i] == b"id":
            items[i + 1] = "<id>"
    return Tagged((reply[0], items)) if isinstance(reply, Tagged) else items


def test_auth_and_hello(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("ACL", "SETUSER", "alice", "on", ">secret", ">other", "~*", "+@all", expect=OK)
    admin.run("ACL", "SETUSER", "bob", "off", ">pw", "~*", "+@all", expect=OK)
    admin.run("ACL", "SETUSER", "np", "on", "nopass", "+acl|whoami", expect=OK)
    admin.run("ACL", "SETUSER", "nokeys", "on", ">pw", "+@all", expect=OK)
    c = diff.conn("c")
    c.run("AUTH", "x", expect=Err("ERR AUTH <password> called without any password configured for the default user. "
                                  "Are you sure your configuration is correct?"))
    c.run("AUTH", "alice", "secret", expect=OK)
    c.run("ACL", "WHOAMI", expect=b"alice")
    c.run("AUTH", "alice", "other", expect=OK)
    c.run("AUTH", "alice", "wrong", expect=WRONGPASS)
    c.run("ACL", "WHOAMI", expect=b"alice")  # a failed AUTH keeps the current user
    c.run("AUTH", "bob", "pw", expect=WRONGPASS)
    c.run("AUTH", "nosuch", "pw", expect=WRONGPASS)
    c.run("AUTH", "np", "", expect=OK)
    c.run("ACL", "WHOAMI", expect=b"np")
    c.run("AUTH", "Alice", "secret", expect=WRONGPASS)
    c.run("AUTH", "nokeys", "pw", expect=OK)
    c.run("GET", "a", expect=NO_KEY)
    c.run("AUTH", expect=Err("ERR wrong number of arguments for 'auth' command"))
    c.run("AUTH", "a", "b", "c", expect=Err("ERR syntax error"))
    c.run("HELLO", "3", "AUTH", "alice", "secret", norm=hello_map)
    c.run("ACL", "WHOAMI", expect=b"alice")
    c.run("HELLO", "3", "AUTH", "alice", "wrong", expect=WRONGPASS)
    c.run("HELLO", "2", "AUTH", "bob", "pw", expect=WRONGPASS)
    c.run("HELLO", "2", "AUTH", "np", "whatever", norm=hello_map)
    c.run("ACL", "WHOAMI", expect=b"np")
    c.run("HELLO", "3", "AUTH", "alice", norm=hello_map)
    c.run("HELLO", "AUTH", "alice", "secret")
    c.run("HELLO", "2", "AUTH", "alice", "secret", "SETNAME", "named", norm=hello_map)
    c.run("CLIENT", "GETNAME", expect=b"named")
    c.run("HELLO", "2", "AUTH", "nosuch", "pw", "SETNAME", "other", expect=WRONGPASS)
    c.run("CLIENT", "GETNAME", expect=b"named")
    # A disabled user's password is still checked the same way (no hint it exists).
    admin.run("ACL", "SETUSER", "bob", "on", expect=OK)
    c.run("AUTH", "bob", "pw", expect=OK)
    admin.run("INFO", "errorstats", norm=errorstats("WRONGPASS", "NOPERM"))
    diff.check()


def test_noauth_requirepass_and_default_user(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("CONFIG", "SET", "requirepass", "foo", expect=OK)
    admin.run("ACL", "GETUSER", "default", expect=[
        b"flags", [b"on"], b"passwords", [sha("foo").encode()], b"commands", b"+@all", b"keys", b"~*",
        b"channels", b"&*", b"selectors", []])
    admin.run("ACL", "LIST", expect=[f"user default on #{sha('foo')} ~* &* +@all".encode()])
    admin.run("CONFIG", "GET", "requirepass", expect=[b"requirepass", b"foo"])
    admin.run("PING", expect=PONG)  # an existing connection stays authenticated
    c = diff.conn("new")
    c.run("PING", expect=NOAUTH)
    c.run("GET", "x", expect=NOAUTH)
    c.run("NOSUCHCMD")
    c.run("ACL", "WHOAMI", expect=NOAUTH)
    c.run("HELLO", "3")
    c.run("HELLO", "2", "SETNAME", "x")
    c.run("AUTH", "bar", expect=WRONGPASS)
    c.run("AUTH", "default", "bar", expect=WRONGPASS)
    c.run("AUTH", "foo", expect=OK)
    c.run("PING", expect=PONG)
    # A second password, then requirepass replaces all of them.
    admin.run("ACL", "SETUSER", "default", ">second", expect=OK)
    admin.run("ACL", "GETUSER", "default")
    admin.run("CONFIG", "SET", "requirepass", "third", expect=OK)
    admin.run("ACL", "GETUSER", "default", expect=[
        b"flags", [b"on"], b"passwords", [sha("third").encode()], b"commands", b"+@all", b"keys", b"~*",
        b"channels", b"&*", b"selectors", []])
    c2 = diff.conn("new2")
    c2.run("AUTH", "second", expect=WRONGPASS)
    c2.run("AUTH", "default", "third", expect=OK)
    admin.run("CONFIG", "SET", "requirepass", "", expect=OK)
    admin.run("ACL", "GETUSER", "default", expect=[
        b"flags", [b"on", b"nopass"], b"passwords", [], b"commands", b"+@all", b"keys", b"~*",
        b"channels", b"&*", b"selectors", []])
    c3 = diff.conn("new3")
    c3.run("PING", expect=PONG)
    # Passwords set with ACL SETUSER do not show in CONFIG GET requirepass.
    admin.run("ACL", "SETUSER", "default", "resetpass", ">x", expect=OK)
    admin.run("CONFIG", "GET", "requirepass", expect=[b"requirepass", b""])
    c4 = diff.conn("new4")
    c4.run("PING", expect=NOAUTH)
    c4.run("HELLO", "3", "AUTH", "default", "x", norm=hello_map)
    c4.run("PING", expect=PONG)
    # A disabled default user: new connections are not authenticated either.
    admin.run("ACL", "SETUSER", "default", "nopass", "off", expect=OK)
    c5 = diff.conn("new5")
    c5.run("PING", expect=NOAUTH)
    c5.run("AUTH", "default", "x", expect=WRONGPASS)
    c5.run("AUTH", "x", expect=Err("ERR AUTH <password> called without any password configured for the default user. "
                                   "Are you sure your configuration is correct?"))
    admin.run("ACL", "WHOAMI", expect=b"default")
    admin.run("PING", expect=PONG)
    admin.run("ACL", "SETUSER", "default", "on", expect=OK)
    c6 = diff.conn("new6")
    c6.run("PING", expect=PONG)
    admin.run("ACL", "LOG", norm=norm_log)
    diff.check()


def log_entry_reasons(reply):
    return [(e[1], e[3], e[5], e[7], e[9]) for e in reply] if isinstance(reply, list) else reply


def test_acl_log(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("ACL", "LOG", expect=[])
    admin.run("ACL", "SETUSER", "lg", "on", "nopass", "~k*", "&ch", "+get", "+set", "+publish", "+subscribe",
              "+config|get", expect=OK)
    u = diff.conn("lg")
    u.run("AUTH", "lg", "x", expect=OK)
    u.run("DEL", "k1")
    u.run("GET", "x")
    u.run("PUBLISH", "other", "m")
    u.run("CONFIG", "SET", "maxmemory", "0")
    u.run("DEL", "k1")  # the same entry again: count 2, moved to the head
    u.run("GET", "y")
    other = diff.conn("other")
    other.run("AUTH", "nosuch", "pw", expect=WRONGPASS)
    other.run("HELLO", "2", "AUTH", "nosuch2", "pw", expect=WRONGPASS)
    other.run("AUTH", "lg", "pw", expect=OK)  # nopass: no entry
    other.run("AUTH", "default", "pw", expect=OK)  # nopass: no entry
    other.run("AUTH", "pw", expect=Err("ERR AUTH <password> called without any password configured for the default "
                                       "user. Are you sure your configuration is correct?"))
    _, theirs = admin.run("ACL", "LOG", norm=norm_log)
    assert log_entry_reasons(theirs) == [
        (1, b"auth", b"toplevel", b"HELLO", b"nosuch2"), (1, b"auth", b"toplevel", b"AUTH", b"nosuch"),
        (1, b"key", b"toplevel", b"y", b"lg"), (2, b"command", b"toplevel", b"del", b"lg"),
        (1, b"command", b"toplevel", b"config|set", b"lg"), (1, b"channel", b"toplevel", b"other", b"lg"),
        (1, b"key", b"toplevel", b"x", b"lg")], theirs
    assert [e[::2] for e in theirs] == [[b"count", b"reason", b"context", b"object", b"username", b"age-seconds",
                                         b"client-info"]] * 7
    admin.run("ACL", "LOG", "2", norm=norm_log)
    admin.run("ACL", "LOG", "100", norm=log_entry_reasons)
    admin.run("ACL", "LOG", "0", expect=[])
    admin.run("ACL", "LOG", "-1", expect=[])
    admin.run("ACL", "LOG", "x", expect=Err("ERR value is not an integer or out of range"))
    admin.run("ACL", "LOG", "1", "2",
              expect=Err("ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP."))
    admin.run("ACL", "LOG", "RESET", "now",
              expect=Err("ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP."))
    # The client-info is the denied client's CLIENT LIST line.
    ours, theirs = admin.s.cmd("ACL", "LOG", "1"), admin.r.cmd("ACL", "LOG", "1")
    info_fields = client_info_fields(admin.r.cmd("CLIENT", "INFO"))
    diff.same("ACL LOG client-info field names = CLIENT INFO's", client_info_fields(ours[0][13]) if
              isinstance(ours, list) and ours and len(ours[0]) == 14 else ours, client_info_fields(theirs[0][13]),
              expect=info_fields)
    diff.same("ACL LOG client-info user= of the denied AUTH",
              user_field(ours[0][13]) if isinstance(ours, list) and ours and len(ours[0]) == 14 else ours,
              user_field(theirs[0][13]), expect="default")
    # RESP3: each entry is a map and the age a double.
    r3 = diff.conn("resp3")
    r3.run("HELLO", "3", norm=hello_map)
    r3.run("ACL", "LOG", "1", norm=resp3_log)
    admin.run("ACL", "LOG", "reset", expect=OK)
    admin.run("ACL", "LOG", expect=[])
    u.run("SET", "x", "v")
    admin.run("ACL", "LOG", norm=log_entry_reasons, expect=[(1, b"key", b"toplevel", b"x", b"lg")])
    # Redis 7.0 has no acl_access_denied_* INFO fields (they came in 7.2); Strata has them
    # (test_acl_denial_counters_in_info), so only Redis's side is pinned here.
    assert acl_info_fields(admin.r.cmd("INFO", "everything")) == []
    diff.check()


def test_acl_denial_counters_in_info(server):
    """Strata's INFO stats count denials as Redis 7.2 does: failed AUTH/HELLO, and commands
    refused for the command, a key or a channel."""
    import redis as redis_py
    admin = server.client()
    admin.execute_command("ACL", "SETUSER", "cnt", "on", ">pw", "~k*", "&ch", "+get", "+publish", "+auth")
    fields = ("acl_access_denied_auth", "acl_access_denied_cmd", "acl_access_denied_key",
              "acl_access_denied_channel")
    assert [admin.info("stats")[f] for f in fields] == [0, 0, 0, 0]
    user = server.client(username="cnt", password="pw")
    for command in (("SET", "k", "v"), ("GET", "x"), ("PUBLISH", "other", "m"), ("GET", "x2")):
        try:
            user.execute_command(*command)
            raise AssertionError(f"{command} was allowed")
        except redis_py.exceptions.NoPermissionError:
            pass
    assert user.execute_command("GET", "k") is None
    # A raw socket: redis-py retries a command that failed with an authentication error.
    import socket
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        raw.sendall(b"AUTH cnt wrong\r\n")
        assert raw.recv(100).startswith(b"-WRONGPASS")
    assert [admin.info("stats")[f] for f in fields] == [1, 1, 2, 1]


def acl_info_fields(reply):
    if not isinstance(reply, bytes):
        return reply
    return [line.split(":", 1)[0] for line in reply.decode().split("\r\n") if line.startswith("acl")]


def user_field(text):
    for part in text.decode().split(" "):
        if part.startswith("user="):
            return part[5:]
    return None


def resp3_log(reply):
    if not isinstance(reply, list):
        return reply
    out = []
    for entry in reply:
        if isinstance(entry, Tagged) and entry[0] == "map":
            items = list(entry[1])
            for i in range(0, len(items) - 1, 2):
                if items[i] == b"age-seconds":
                    items[i + 1] = ("age type", items[i + 1][0] if isinstance(items[i + 1], Tagged) else
                                    type(items[i + 1]).__name__)
                elif items[i] == b"client-info":
                    items[i + 1] = tuple(client_info_fields(items[i + 1]))
            out.append(Tagged(("map", items)))
        else:
            out.append(entry)
    return out


def test_acllog_max_len(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("CONFIG", "GET", "acllog-max-len", expect=[b"acllog-max-len", b"128"])
    admin.run("CONFIG", "SET", "acllog-max-len", "3", expect=OK)
    u = diff.conn("u")
    for i in range(6):
        u.run("AUTH", f"nosuch{i}", "pw", expect=WRONGPASS)
    admin.run("ACL", "LOG", norm=log_entry_reasons)
    admin.run("CONFIG", "SET", "acllog-max-len", "1", expect=OK)
    admin.run("ACL", "LOG", norm=log_entry_reasons)  # trimmed when the next entry arrives, or at once?
    u.run("AUTH", "again", "pw", expect=WRONGPASS)
    admin.run("ACL", "LOG", norm=log_entry_reasons)
    admin.run("CONFIG", "SET", "acllog-max-len", "0", expect=OK)
    u.run("AUTH", "zero", "pw", expect=WRONGPASS)
    admin.run("ACL", "LOG", norm=log_entry_reasons)
    admin.run("CONFIG", "SET", "acllog-max-len", "-1")
    admin.run("CONFIG", "SET", "acllog-max-len", "x")
    admin.run("CONFIG", "GET", "acllog-max-len", expect=[b"acllog-max-len", b"0"])
    diff.check()


def test_small_subcommands(strata_and_redis):
    diff = Diff(*strata_and_redis)
    c = diff.conn("admin")
    c.run("ACL", "WHOAMI", expect=b"default")
    for name in ("zed", "abe", "Mid", "abe2", "_x", "0"):
        c.run("ACL", "SETUSER", name, expect=OK)
    c.run("ACL", "USERS", expect=[b"0", b"Mid", b"_x", b"abe", b"abe2", b"default", b"zed"])
    c.run("ACL", "LIST", norm=norm_acl_list)
    c.run("ACL", "DELUSER", "abe", "nosuch", expect=1)
    c.run("ACL", "DELUSER", "zed", "Mid", "zed", expect=2)
    c.run("ACL", "DELUSER", "nosuch", expect=0)
    c.run("ACL", "DELUSER", "default", expect=Err("ERR The 'default' user cannot be removed"))
    c.run("ACL", "DELUSER", "abe2", "default", expect=Err("ERR The 'default' user cannot be removed"))
    c.run("ACL", "USERS", expect=[b"0", b"_x", b"abe2", b"default"])  # nothing was deleted
    c.run("ACL", "DELUSER", expect=Err("ERR wrong number of arguments for 'acl|deluser' command"))
    genpass = lambda r: ("hex chars", len(r), all(ch in b"0123456789abcdef" for ch in r)) if isinstance(r, bytes) else r
    c.run("ACL", "GENPASS", norm=genpass, expect=("hex chars", 64, True))
    for bits, length in (("32", 8), ("5", 2), ("1", 1), ("4096", 1024), ("255", 64), ("64", 16)):
        c.run("ACL", "GENPASS", bits, norm=genpass, expect=("hex chars", length, True))
    bad_bits = Err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number "
                   "up to 4096")
    for bits in ("0", "-1", "4097", "-9223372036854775808"):
        c.run("ACL", "GENPASS", bits, expect=bad_bits)
    c.run("ACL", "GENPASS", "x", expect=Err("ERR value is not an integer or out of range"))
    c.run("ACL", "GENPASS", "1.5", expect=Err("ERR value is not an integer or out of range"))
    c.run("ACL", "GENPASS", "1", "2",
          expect=Err("ERR unknown subcommand or wrong number of arguments for 'GENPASS'. Try ACL HELP."))
    _, help_lines = c.run("ACL", "HELP", norm=lambda r: ("lines", len(r), r[:2]) if isinstance(r, list) else r)
    assert help_lines[1] == 29, help_lines
    c.run("ACL", "HELP", norm=lambda r: [line.split(" ")[0] for line in r if not line.startswith(" ")]
          if isinstance(r, list) else r)
    c.run("ACL", "help", norm=len)
    no_aclfile = Err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via "
                     "the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration "
                     "file set) in order to store users in the Redis configuration.")
    c.run("ACL", "SAVE", expect=no_aclfile)
    c.run("ACL", "LOAD", expect=no_aclfile)
    for args in (["FOO"], ["foo", "bar"], ["WHOAMI", "x"], ["USERS", "x"], ["LIST", "x"], ["GETUSER"],
                 ["GETUSER", "a", "b"], ["HELP", "x"], ["SAVE", "x"], ["LOAD", "x"], ["CAT", "a", "b"], []):
        c.run("ACL", *args)
    c.run("ACL", "FOO", expect=Err("ERR unknown subcommand 'FOO'. Try ACL HELP."))
    c.run("COMMAND", "INFO", "acl", norm=lambda r: r[0][:6] if isinstance(r, list) and r and r[0] else r)
    c.run("COMMAND", "COUNT", norm=lambda r: "int" if isinstance(r, int) else r)
    diff.check()


def test_changing_the_default_user(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("ACL", "SETUSER", "admin", "on", ">adm", "+@all", "~*", "&*", expect=OK)
    admin.run("AUTH", "admin", "adm", expect=OK)
    admin.run("ACL", "SETUSER", "default", "-@all", "+get", "resetkeys", "~pub*", expect=OK)
    admin.run("ACL", "GETUSER", "default", norm=norm_getuser)
    admin.run("ACL", "LIST", norm=norm_acl_list)
    c = diff.conn("anon")
    c.run("GET", "pub1", expect=None)
    c.run("GET", "secret", expect=NO_KEY)
    c.run("SET", "pub1", "v", expect=Err("NOPERM this user has no permissions to run the 'set' command"))
    c.run("ACL", "WHOAMI", expect=Err("NOPERM this user has no permissions to run the 'acl|whoami' command"))
    c.run("AUTH", "admin", "adm", expect=OK)
    c.run("SET", "pub1", "v", expect=OK)
    admin.run("ACL", "SETUSER", "default", "reset", expect=OK)
    admin.run("ACL", "GETUSER", "default", expect=[
        b"flags", [b"off", b"sanitize-payload"], b"passwords", [], b"commands", b"-@all", b"keys", b"",
        b"channels", b"", b"selectors", []])
    c2 = diff.conn("anon2")
    c2.run("PING", expect=NOAUTH)
    diff.check()


def test_setuser_arguments_are_redacted_in_the_slow_log(strata_and_redis):
    """ACL SETUSER's name and rules (passwords among them) never reach SLOWLOG."""
    seen = []
    for server in strata_and_redis:
        c = server.client()
        c.config_set("slowlog-log-slower-than", 0)
        c.slowlog_reset()
        c.execute_command("ACL", "SETUSER", "zz", "on", ">secret", "~*")
        entries = c.execute_command("SLOWLOG", "GET", 10)
        seen.append([entry[3] for entry in entries if [a.lower() for a in entry[3][:2]] == [b"acl", b"setuser"]])
    assert seen[1] == [[b"ACL", b"SETUSER", b"(redacted)", b"(redacted)", b"(redacted)", b"(redacted)"]], seen[1]
    assert seen[0] == seen[1]
