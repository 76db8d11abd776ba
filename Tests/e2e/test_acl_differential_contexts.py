"""Differential ACL tests for the places a command runs other than the top level: Lua
scripts and functions (redis.call / redis.pcall denials, the script's own KEYS), MULTI
(denials when queued, rules changed before EXEC), pub/sub channel permissions (SUBSCRIBE,
PSUBSCRIBE's literal matching, PUBLISH, the sharded commands) and SORT BY/GET. Replies
are compared exactly with Redis 7.0's, ACL LOG entries field by field (context `lua`,
`multi`)."""
from test_acl_support import OK, PONG, QUEUED, Diff, Err, Tagged, norm_log

NO_KEY = Err("NOPERM this user has no permissions to access one of the keys used as arguments")
NO_CHANNEL = Err("NOPERM this user has no permissions to access one of the channels used as arguments")


def no_cmd(name):
    return Err(f"NOPERM this user has no permissions to run the '{name}' command")


def log_summary(reply):
    """(count, reason, context, object, username) of each ACL LOG entry."""
    return [(e[1], e[3], e[5], e[7], e[9]) for e in reply] if isinstance(reply, list) else reply


SCRIPT_CMD = "The user executing the script can't run this command or subcommand"
SCRIPT_KEY = "The user executing the script can't access at least one of the keys mentioned in the command arguments"
SCRIPT_CHANNEL = "The user executing the script can't publish to the channel mentioned in the command"


def script_error(text, body, line=1):
    import hashlib
    digest = hashlib.sha1(body.encode()).hexdigest()
    return Err(f"ERR {text} script: {digest}, on @user_script:{line}.")


def test_scripts(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("ACL", "SETUSER", "sc", "on", "nopass", "~k*", "&ch", "+eval", "+evalsha", "+eval_ro", "+get", "+set",
              "+publish", "+script|load", "+fcall", "+fcall_ro", expect=OK)
    admin.run("SET", "x", "secret", expect=OK)
    admin.run("ACL", "LOG", "RESET", expect=OK)
    u = diff.conn("sc")
    u.run("AUTH", "sc", "pw", expect=OK)
    scripts = [
        ("return redis.call('del','k1')", script_error(SCRIPT_CMD, "return redis.call('del','k1')")),
        ("return redis.call('get','x')", script_error(SCRIPT_KEY, "return redis.call('get','x')")),
        ("return redis.call('publish','other','m')",
         script_error(SCRIPT_CHANNEL, "return redis.call('publish','other','m')")),
        ("return redis.call('config','set','maxmemory','0')", None),
        ("return redis.call('mget','k1','x')", None),
        ("local a = 1\nlocal b = 2\nreturn redis.call('get','x')",
         script_error(SCRIPT_KEY, "local a = 1\nlocal b = 2\nreturn redis.call('get','x')", 3)),
        ("redis.call('set','k1','v')\nreturn redis.call('get','k1')", b"v"),
        ("return redis.pcall('del','k1')", Err(f"ERR {SCRIPT_CMD}")),
        ("return redis.pcall('get','x')", Err(f"ERR {SCRIPT_KEY}")),
        ("return redis.pcall('publish','nope','m')", Err(f"ERR {SCRIPT_CHANNEL}")),
        ("local r = redis.pcall('del','k1'); return r['err']", None),
        ("local r = redis.pcall('get','x'); return type(r)", b"table"),
        # Not compared: what Lua's pcall catches from redis.call (a table here, the error's
        # text in Redis 7.0; docs/SCRIPTING.md lists the difference).
        ("return redis.call('publish','ch','m')", 0),
        ("return redis.call('acl','whoami')", None),
        # redis.acl_check_cmd: a boolean (true is 1 and false nil once returned), no arity check.
        ("return redis.acl_check_cmd('get','k1')", 1),
        ("return redis.acl_check_cmd('get','x')", None),
        ("return tostring(redis.acl_check_cmd('get','x'))", b"false"),
        ("return redis.acl_check_cmd('set','k1','v')", 1),
        ("return redis.acl_check_cmd('del','k1')", None),
        ("return redis.acl_check_cmd('GET')", 1),
        ("return redis.acl_check_cmd('config','get','x')", None),
        ("return redis.acl_check_cmd('publish','other','m')", None),
        ("return redis.acl_check_cmd('nosuch')", None),
        ("return redis.acl_check_cmd()", None),
    ]
    for body, expected in scripts:
        if expected is None:
            u.run("EVAL", body, "0")
        else:
            u.run("EVAL", body, "0", expect=expected)
    # The script's own KEYS are checked before it runs: a normal top-level NOPERM.
    u.run("EVAL", "return redis.call('get', KEYS[1])", "1", "x", expect=NO_KEY)
    u.run("EVAL", "return redis.call('get', KEYS[1])", "1", "k1", expect=b"v")
    u.run("EVAL", "return redis.call('get', 'x')", "1", "k1",
          expect=script_error(SCRIPT_KEY, "return redis.call('get', 'x')"))
    u.run("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "x", expect=NO_KEY)
    # EVALSHA of a script loaded by the user: the sha in the error is the script's.
    body = "return redis.call('del','k2')"
    u.run("SCRIPT", "LOAD", body)
    import hashlib
    u.run("EVALSHA", hashlib.sha1(body.encode()).hexdigest(), "0", expect=script_error(SCRIPT_CMD, body))
    u.run("SCRIPT", "FLUSH", expect=no_cmd("script|flush"))
    # Functions: the error names the function.
    admin.run("FUNCTION", "LOAD", "#!lua name=acllib\n"
              "redis.register_function('fdel', function(keys, args)\n  return redis.call('del', 'k1')\nend)\n"
              "redis.register_function('fget', function(keys, args)\n  return redis.call('get', keys[1])\nend)\n"
              "redis.register_function{function_name='fro', callback=function(keys, args)\n"
              "  return redis.pcall('get', 'x')\nend, flags={'no-writes'}}\n", expect=b"acllib")
    u.run("FCALL", "fdel", "0")
    u.run("FCALL", "fget", "1", "x", expect=NO_KEY)
    u.run("FCALL", "fget", "1", "k1", expect=b"v")
    u.run("FCALL_RO", "fro", "0", expect=Err(f"ERR {SCRIPT_KEY}"))
    _, theirs = admin.run("ACL", "LOG", norm=norm_log)
    assert {e[5] for e in theirs} == {b"lua", b"toplevel"}, theirs
    admin.run("ACL", "LOG", "100", norm=log_summary)
    admin.run("INFO", "errorstats", norm=errorstats)
    diff.check(minimum_steps=30)


def errorstats(reply):
    if not isinstance(reply, bytes):
        return reply
    return sorted(line for line in reply.decode().split("\r\n") if line.startswith("errorstat_"))


def test_multi(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("ACL", "SETUSER", "mu", "on", "nopass", "~k*", "&ch", "+multi", "+exec", "+discard", "+get", "+set",
              "+ping", "+incr", "+publish", "+watch", expect=OK)
    admin.run("ACL", "LOG", "RESET", expect=OK)
    u = diff.conn("mu")
    u.run("AUTH", "mu", "pw", expect=OK)
    # A denial while queueing flags the transaction.
    u.run("MULTI", expect=OK)
    u.run("SET", "k1", "v", expect=QUEUED)
    u.run("DEL", "k1", expect=no_cmd("del"))
    u.run("GET", "x", expect=NO_KEY)
    u.run("PUBLISH", "other", "m", expect=NO_CHANNEL)
    u.run("EXEC", expect=Err("EXECABORT Transaction discarded because of previous errors."))
    u.run("GET", "k1", expect=None)
    # An allowed transaction.
    u.run("MULTI", expect=OK)
    u.run("SET", "k1", "1", expect=QUEUED)
    u.run("INCR", "k1", expect=QUEUED)
    u.run("GET", "k1", expect=QUEUED)
    u.run("PING", expect=QUEUED)
    u.run("EXEC", expect=[OK, 2, b"2", PONG])
    # Rules changed between queueing and EXEC: each now-denied command fails in its slot.
    u.run("MULTI", expect=OK)
    u.run("SET", "k1", "v", expect=QUEUED)
    u.run("GET", "k2", expect=QUEUED)
    u.run("PUBLISH", "ch", "m", expect=QUEUED)
    u.run("PING", expect=QUEUED)
    u.run("INCR", "k3", expect=QUEUED)
    admin.run("ACL", "SETUSER", "mu", "-set", "resetkeys", "~k3", "resetchannels", expect=OK)
    changed = ("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. "
               "This command is no longer allowed for the following reason: ")
    u.run("EXEC", expect=[Err(changed + "no permission to execute the command or subcommand"),
                          Err(changed + "no permission to touch the specified keys"),
                          Err(changed + "no permission to access one of the channels used as arguments"), PONG, 1])
    # MULTI itself denied; EXEC without MULTI; DISCARD.
    admin.run("ACL", "SETUSER", "mu", "-multi", expect=OK)
    u.run("MULTI", expect=no_cmd("multi"))
    u.run("EXEC", expect=Err("ERR EXEC without MULTI"))
    admin.run("ACL", "SETUSER", "mu", "+multi", "-exec", expect=OK)
    u.run("MULTI", expect=OK)
    u.run("PING", expect=QUEUED)
    u.run("EXEC", expect=Err("EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run "
                             "the 'exec' command"))
    u.run("DISCARD", expect=Err("ERR DISCARD without MULTI"))
    # WATCH is key-checked too.
    u.run("WATCH", "x", expect=NO_KEY)
    u.run("WATCH", "k3", expect=OK)
    _, theirs = admin.run("ACL", "LOG", "100", norm=log_summary)
    assert (1, b"key", b"multi", b"k2", b"mu") in theirs and (1, b"command", b"multi", b"set", b"mu") in theirs, theirs
    admin.run("ACL", "LOG", "100", norm=norm_log)
    diff.check(minimum_steps=30)


def test_pubsub_channels(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("ACL", "SETUSER", "ps", "on", "nopass", "resetchannels", "&ch*", "&news", "+@pubsub", "+ping",
              expect=OK)
    admin.run("ACL", "LOG", "RESET", expect=OK)
    sub = diff.conn("sub")
    sub.run("AUTH", "ps", "pw", expect=OK)
    sub.run("SUBSCRIBE", "ch1", expect=[b"subscribe", b"ch1", 1])
    sub.run("SUBSCRIBE", "other", expect=NO_CHANNEL)
    sub.run("SUBSCRIBE", "ch2", "other", "ch3", expect=NO_CHANNEL)  # rejected whole: ch2 not subscribed
    sub.run("PSUBSCRIBE", "ch*", expect=[b"psubscribe", b"ch*", 2])
    sub.run("PSUBSCRIBE", "c*", expect=NO_CHANNEL)  # patterns are compared literally
    sub.run("PSUBSCRIBE", "ch1", expect=NO_CHANNEL)
    sub.run("PSUBSCRIBE", "news", expect=[b"psubscribe", b"news", 3])
    sub.run("PSUBSCRIBE", "ch?", expect=NO_CHANNEL)
    sub.run("SUBSCRIBE", "news", expect=[b"subscribe", b"news", 4])
    sub.run("PING", expect=[b"pong", b""])
    admin.run("PUBSUB", "NUMSUB", "ch1", "ch2", "ch3", "other", "news",
              expect=[b"ch1", 1, b"ch2", 0, b"ch3", 0, b"other", 0, b"news", 1])
    admin.run("PUBSUB", "NUMPAT", expect=2)
    # UNSUBSCRIBE is not channel-checked.
    sub.run("UNSUBSCRIBE", "other", expect=[b"unsubscribe", b"other", 4])
    sub.run("PUNSUBSCRIBE", "c*", expect=[b"punsubscribe", b"c*", 4])
    pub = diff.conn("pub")
    pub.run("AUTH", "ps", "pw", expect=OK)
    pub.run("PUBLISH", "ch1", "hello", expect=2)  # the channel and the ch* pattern
    sub.read("message on ch1", expect=[b"message", b"ch1", b"hello"])
    sub.read("pmessage on ch1", expect=[b"pmessage", b"ch*", b"ch1", b"hello"])
    pub.run("PUBLISH", "other", "m", expect=NO_CHANNEL)
    pub.run("PUBLISH", "news", "m", expect=2)  # the channel and the literal pattern `news`
    sub.read("message on news", expect=[b"message", b"news", b"m"])
    sub.read("pmessage on news", expect=[b"pmessage", b"news", b"news", b"m"])
    pub.run("SPUBLISH", "other", "m", expect=NO_CHANNEL)
    pub.run("SPUBLISH", "ch9", "m", expect=0)
    # PUBSUB introspection is not channel-checked.
    pub.run("PUBSUB", "NUMSUB", "other", expect=[b"other", 0])
    pub.run("PUBSUB", "CHANNELS", "*", norm=lambda r: sorted(r) if isinstance(r, list) else r,
            expect=[b"ch1", b"news"])
    pub.run("PUBSUB", "NUMPAT", expect=2)
    pub.run("SSUBSCRIBE", "other", expect=NO_CHANNEL)
    pub.run("SSUBSCRIBE", "ch5", "other", expect=NO_CHANNEL)
    pub.run("SSUBSCRIBE", "ch5", expect=[b"ssubscribe", b"ch5", 1])
    admin.run("PUBSUB", "SHARDNUMSUB", "ch5", "other", expect=[b"ch5", 1, b"other", 0])
    pub.run("SUNSUBSCRIBE", "other", expect=[b"sunsubscribe", b"other", 1])
    # RESP3 subscribe.
    r3 = diff.conn("resp3")
    r3.run("HELLO", "3", "AUTH", "ps", "pw", norm=lambda r: r[1][:6] if isinstance(r, Tagged) else r)
    r3.run("SUBSCRIBE", "x", expect=NO_CHANNEL)
    r3.run("SUBSCRIBE", "ch7")
    _, theirs = admin.run("ACL", "LOG", "100", norm=log_summary)
    # `other` was refused six times (SUBSCRIBE twice, PUBLISH, SPUBLISH, SSUBSCRIBE twice): one entry.
    assert (6, b"channel", b"toplevel", b"other", b"ps") in theirs, theirs
    admin.run("ACL", "LOG", "100", norm=norm_log)
    # A user whose channels are all allowed, from acl-pubsub-default at creation time.
    admin.run("CONFIG", "SET", "acl-pubsub-default", "allchannels", expect=OK)
    admin.run("ACL", "SETUSER", "ps2", "on", "nopass", "+@pubsub", expect=OK)
    admin.run("ACL", "DRYRUN", "ps2", "publish", "anything", "m", expect=OK)
    admin.run("ACL", "DRYRUN", "ps", "publish", "anything", "m",
              expect=b"This user has no permissions to access the 'anything' channel")
    diff.check(minimum_steps=40)


def test_sort_by_and_get(strata_and_redis):
    diff = Diff(*strata_and_redis)
    admin = diff.conn("admin")
    admin.run("RPUSH", "l1", "3", "1", "2", expect=3)
    admin.run("MSET", "w_1", "30", "w_2", "20", "w_3", "10", "o_1", "a", "o_2", "b", "o_3", "c", "l_1", "9", expect=OK)
    admin.run("ACL", "SETUSER", "so", "on", "nopass", "~l*", "+sort", "+sort_ro", "+lrange", expect=OK)
    admin.run("ACL", "SETUSER", "reader", "on", "nopass", "%R~*", "~l*", "+sort", "+sort_ro", expect=OK)
    admin.run("ACL", "LOG", "RESET", expect=OK)
    u = diff.conn("so")
    u.run("AUTH", "so", "pw", expect=OK)
    by_denied = Err("ERR BY option of SORT denied due to insufficient ACL permissions.")
    get_denied = Err("ERR GET option of SORT denied due to insufficient ACL permissions.")
    u.run("SORT", "l1", expect=[b"1", b"2", b"3"])
    u.run("SORT", "l1", "BY", "w_*", expect=by_denied)
    u.run("SORT", "l1", "GET", "o_*", expect=get_denied)
    u.run("SORT", "l1", "BY", "l_*")  # a pattern within the user's keys is still refused
    u.run("SORT", "l1", "BY", "nosort", expect=[b"3", b"1", b"2"])
    u.run("SORT", "l1", "GET", "#", expect=get_denied)  # even GET # needs read access to every key
    u.run("SORT", "l1", "BY", "nosort", "GET", "o_*", expect=get_denied)
    u.run("SORT", "l1", "BY", "w_*", "GET", "o_*")
    u.run("SORT_RO", "l1", "BY", "w_*", expect=by_denied)
    u.run("SORT_RO", "l1", "GET", "o_*", expect=get_denied)
    u.run("SORT", "l1", "STORE", "l2", expect=3)
    u.run("SORT", "l1", "STORE", "x", expect=NO_KEY)
    u.run("SORT", "x", expect=NO_KEY)
    u.run("LRANGE", "l2", "0", "-1", expect=[b"1", b"2", b"3"])
    # DRYRUN does not see the run-time checks.
    admin.run("ACL", "DRYRUN", "so", "sort", "l1", "by", "w_*", expect=OK)
    admin.run("ACL", "DRYRUN", "so", "sort", "l1", "get", "o_*", expect=OK)
    r = diff.conn("reader")
    r.run("AUTH", "reader", "pw", expect=OK)
    r.run("SORT", "l1", "BY", "w_*", expect=[b"3", b"2", b"1"])
    r.run("SORT", "l1", "BY", "w_*", "GET", "o_*", expect=[b"c", b"b", b"a"])
    r.run("SORT_RO", "l1", "GET", "o_*", "GET", "#", expect=[b"a", b"1", b"b", b"2", b"c", b"3"])
    admin.run("ACL", "LOG", "100", norm=norm_log)
    diff.check(minimum_steps=20)
