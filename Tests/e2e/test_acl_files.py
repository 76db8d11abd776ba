"""ACL files and config directives, Strata against Redis 7.0: a server started with
`--aclfile` (users, blank lines, CRLF, extra spaces, selectors), ACL SAVE's file format,
ACL LOAD after an edit (and who gets disconnected), a bad file keeping the old users,
`user` directives in a config file and CONFIG REWRITE, and the start-up failures (missing
or bad aclfile, bad or duplicate `user` directive, both aclfile and `user`): exit codes
and the key log phrases compared. Each server has its own directory; file paths in
replies are replaced by <aclfile>/<dir> before comparing."""
import os

import pytest

from test_acl_support import (OK, PONG, Diff, Err, binaries, norm_acl_list, norm_list_line, run_to_exit,
                              sha)


class PathNorm:
    """Replaces each server's own paths with placeholders in replies (bytes, errors, lists)."""

    def __init__(self, mapping):
        self.mapping = mapping  # [(path, placeholder)], longest first

    def __call__(self, reply):
        if isinstance(reply, list):
            return [self(r) for r in reply]
        if isinstance(reply, bytes):
            text = reply.decode()
            for path, placeholder in self.mapping:
                text = text.replace(path, placeholder)
            return text.encode()
        return reply

    def text(self, text):
        for path, placeholder in self.mapping:
            text = text.replace(path, placeholder)
        return text


def side_directory(tmp_path, side, files, args_for, config):
    """Makes tmp_path/<side> holding `files` ({name: bytes}); returns it and the server's
    arguments, `args_for(dir)` (after the config file named `config`, when given)."""
    d = tmp_path / side
    d.mkdir()
    for name, content in files.items():
        (d / name).write_bytes(content)
    args = list(args_for(str(d)))
    if config is not None:
        args.insert(0, str(d / config))
    return d, args


def start_pair(start_server, tmp_path, files, args_for, config=None):
    """Starts Strata and Redis, each in tmp_path/<side> holding `files` ({name: bytes}),
    with `args_for(dir)` as arguments (a config file named `config` goes first).
    Returns (strata, redis, dirs)."""
    servers, dirs = [], []
    for side, binary in binaries():
        d, args = side_directory(tmp_path, side, files, args_for, config)
        extra = [] if side == "strata" else ["--save", "", "--appendonly", "no"]
        servers.append(start_server(*args, *extra, binary=binary, workdir=str(d)))
        dirs.append(str(d))
    return servers[0], servers[1], dirs


class PathDiff(Diff):
    """A Diff whose replies have each server's own directory replaced by <dir>."""

    def __init__(self, strata, redis_server, dirs):
        super().__init__(strata, redis_server)
        self.norms = (PathNorm([(dirs[0], "<dir>")]), PathNorm([(dirs[1], "<dir>")]))


def err_text(reply, norm):
    return Err(norm.text(str(reply))) if isinstance(reply, Err) else norm(reply)


def run_paths(diff, pair, *args, expect=None, label=None, post=None):
    """Runs a command on both sides with each side's directory replaced by <dir>."""
    ours = err_text(pair.s.cmd(*args), diff.norms[0])
    theirs = err_text(pair.r.cmd(*args), diff.norms[1])
    if post is not None:
        ours, theirs = post(ours), post(theirs)
    label = label or f"[{pair.name}] {' '.join(map(str, args))}"
    if expect is not None and theirs != expect:
        pytest.fail(f"Redis itself answered {theirs!r} to {label}, the test expected {expect!r}")
    diff.note(label, ours, theirs)
    return ours, theirs


USERS_FILE = (b"user alice on >pw ~* &* +@all\r\n"
              b"user bob  off ~b* &ch +get\n"
              b"\n"
              b"   user carol on nopass (~x +set) %R~r*\n"
              b"user dave on #" + sha("d").encode() + b" (~y  +get ) resetchannels &d\n")


def test_aclfile_startup_list_and_save(start_server, tmp_path):
    strata, redis_server, dirs = start_pair(start_server, tmp_path, {"users.acl": USERS_FILE},
                                            lambda d: ["--aclfile", os.path.join(d, "users.acl")])
    diff = PathDiff(strata, redis_server, dirs)
    c = diff.conn("admin")
    c.run("ACL", "LIST", norm=norm_acl_list, expect=[
        f"user alice on #{sha('pw')} ~* &* +@all", "user bob off ~b* resetchannels &ch -@all +get",
        "user carol on nopass %R~r* resetchannels -@all (~x resetchannels -@all +set)",
        f"user dave on #{sha('d')} resetchannels &d -@all (~y resetchannels -@all +get)",
        "user default on nopass ~* &* +@all"])
    run_paths(diff, c, "CONFIG", "GET", "aclfile", expect=[b"aclfile", b"<dir>/users.acl"])
    c.run("CONFIG", "SET", "aclfile", "/tmp/elsewhere.acl",
          expect=Err("ERR CONFIG SET failed (possibly related to argument 'aclfile') - can't set immutable config"))
    u = diff.conn("users")
    u.run("AUTH", "alice", "pw", expect=OK)
    u.run("ACL", "WHOAMI", expect=b"alice")
    u.run("AUTH", "bob", "pw", expect=Err("WRONGPASS invalid username-password pair or user is disabled."))
    u.run("AUTH", "dave", "d", expect=OK)
    u.run("GET", "y", expect=None)
    u.run("SET", "y", "v", expect=Err("NOPERM this user has no permissions to run the 'set' command"))
    # ACL SAVE writes ACL LIST's lines, sorted and LF-terminated.
    c.run("ACL", "SETUSER", "erin", "on", ">e", "+get", "~e*", "(%W~w* +set)", expect=OK)
    c.run("ACL", "DELUSER", "bob", expect=1)
    c.run("ACL", "SAVE", expect=OK)
    expected_file = [
        f"user alice on #{sha('pw')} ~* &* +@all",
        "user carol on nopass %R~r* resetchannels -@all (~x resetchannels -@all +set)",
        f"user dave on #{sha('d')} resetchannels &d -@all (~y resetchannels -@all +get)",
        "user default on nopass ~* &* +@all",
        f"user erin on #{sha('e')} ~e* resetchannels -@all +get (%W~w* resetchannels -@all +set)"]
    files = [read_acl(os.path.join(d, "users.acl")) for d in dirs]
    diff.same("ACL SAVE file content", files[0], files[1], expect=(True, expected_file))
    # ACL SAVE creates the file when it has gone.
    for d in dirs:
        os.remove(os.path.join(d, "users.acl"))
    c.run("ACL", "SAVE", expect=OK)
    files = [read_acl(os.path.join(d, "users.acl")) for d in dirs]
    diff.same("ACL SAVE re-created file", files[0], files[1], expect=(True, expected_file))
    diff.check()


def read_acl(path):
    """(ends with LF and has no CR, [lines with command rules normalised])."""
    if not os.path.exists(path):
        return ("missing", path)
    data = open(path, "rb").read()
    text = data.decode()
    return (data.endswith(b"\n") and b"\r" not in data,
            [norm_list_line(line) for line in text.split("\n") if line])


def test_acl_load(start_server, tmp_path):
    strata, redis_server, dirs = start_pair(
        start_server, tmp_path, {"users.acl": b"user alice on >pw ~* +@all\nuser bob on >pw ~* +@all\n"},
        lambda d: ["--aclfile", os.path.join(d, "users.acl")])
    diff = PathDiff(strata, redis_server, dirs)
    admin = diff.conn("admin")
    alice, bob, anon = diff.conn("alice"), diff.conn("bob"), diff.conn("default")
    alice.run("AUTH", "alice", "pw", expect=OK)
    bob.run("AUTH", "bob", "pw", expect=OK)
    anon.run("PING", expect=PONG)
    admin.run("ACL", "SETUSER", "temp", "on", expect=OK)
    admin.run("ACL", "SETUSER", "default", ">set-before-load", expect=OK)
    write_all(dirs, b"user alice on >pw ~* +@all\nuser frank on >f +@all ~f*\n")
    admin.run("ACL", "LOAD", expect=OK)
    # No `default` line: the default user is back to on nopass ~* &* +@all; temp and bob are gone.
    admin.run("ACL", "LIST", norm=norm_acl_list, expect=[
        f"user alice on #{sha('pw')} ~* resetchannels +@all", "user default on nopass ~* &* +@all",
        f"user frank on #{sha('f')} ~f* resetchannels +@all"])
    # Clients of users other than default are disconnected, even alice (unchanged).
    alice.closed("alice's client after ACL LOAD")
    bob.closed("bob's client after ACL LOAD")
    anon.run("PING", expect=PONG)
    admin.run("PING", expect=PONG)
    frank = diff.conn("frank")
    frank.run("AUTH", "frank", "f", expect=OK)
    frank.run("SET", "f1", "v", expect=OK)
    # A bad file: every error is reported, nothing changes.
    write_all(dirs, b"user ok on\nuser bad +nosuch\n# comment\nusr x\nuser ok off\nuser a b\nuser\n")
    run_paths(diff, admin, "ACL", "LOAD", expect=Err(
        "ERR <dir>/users.acl:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. "
        "<dir>/users.acl:3 should start with user keyword followed by the username. "
        "<dir>/users.acl:4 should start with user keyword followed by the username. "
        "WARNING: Duplicate user 'ok' found on line 5. <dir>/users.acl:6: Syntax error. "
        "<dir>/users.acl:7 should start with user keyword followed by the username. "
        "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"))
    admin.run("ACL", "USERS", expect=[b"alice", b"default", b"frank"])
    frank.run("PING", expect=PONG)  # a failed load disconnects nobody
    write_all(dirs, b"user ok on\nuser ok off\n")
    run_paths(diff, admin, "ACL", "LOAD", expect=Err(
        "ERR WARNING: Duplicate user 'ok' found on line 2. WARNING: ACL errors detected, no change to the previously "
        "active ACL rules was performed"))
    for d in dirs:
        os.remove(os.path.join(d, "users.acl"))
    run_paths(diff, admin, "ACL", "LOAD", expect=Err(
        "ERR Error loading ACLs, opening file '<dir>/users.acl': No such file or directory"))
    admin.run("ACL", "USERS", expect=[b"alice", b"default", b"frank"])
    # Leading spaces, tabs, CRLF and blank lines are fine; a `default` line replaces the default user.
    write_all(dirs, b"\r\n  user default on >secret ~* &* +@all\r\n\tuser zed on nopass +ping\n\n")
    admin.run("ACL", "LOAD", expect=OK)
    admin.run("ACL", "LIST", norm=norm_acl_list, expect=[
        f"user default on #{sha('secret')} ~* &* +@all", "user zed on nopass resetchannels -@all +ping"])
    frank.closed("frank's client after ACL LOAD (frank removed)")
    anon.run("PING")  # the default user's existing clients stay (authenticated)
    fresh = diff.conn("fresh")
    fresh.run("PING", expect=Err("NOAUTH Authentication required."))
    fresh.run("AUTH", "secret", expect=OK)
    diff.check()


def write_all(dirs, content):
    for d in dirs:
        with open(os.path.join(d, "users.acl"), "wb") as f:
            f.write(content)


def test_user_directives_in_a_config_file_and_config_rewrite(start_server, tmp_path):
    conf = b"user bob on >pw +@all ~*\nuser carol off (~x +get) &c\n"
    strata, redis_server, dirs = start_pair(start_server, tmp_path, {"acl.conf": conf}, lambda d: [],
                                            config="acl.conf")
    diff = PathDiff(strata, redis_server, dirs)
    c = diff.conn("admin")
    c.run("ACL", "LIST", norm=norm_acl_list, expect=[
        f"user bob on #{sha('pw')} ~* resetchannels +@all",
        "user carol off resetchannels &c -@all (~x resetchannels -@all +get)", "user default on nopass ~* &* +@all"])
    c.run("ACL", "SAVE")
    c.run("CONFIG", "GET", "aclfile", expect=[b"aclfile", b""])
    u = diff.conn("bob")
    u.run("AUTH", "bob", "pw", expect=OK)
    c.run("ACL", "SETUSER", "dave", "on", ">x", "+get", "~d*", expect=OK)
    c.run("ACL", "DELUSER", "carol", expect=1)
    c.run("CONFIG", "REWRITE", expect=OK)
    lines = [user_lines(os.path.join(d, "acl.conf")) for d in dirs]
    diff.same("the `user` lines CONFIG REWRITE wrote", lines[0], lines[1], expect=[
        f"user bob on #{sha('pw')} ~* resetchannels +@all", f"user dave on #{sha('x')} ~d* resetchannels -@all +get",
        "user default on nopass ~* &* +@all"])
    diff.check()
    # The rewritten file starts a server with the same users; a `user default` directive
    # is applied after a `reset`, so the default user gains the sanitize-payload flag.
    restarted = [start_server(os.path.join(d, "acl.conf"), binary=b, workdir=d)
                 for d, (_, b) in zip(dirs, binaries())]
    again = Diff(*restarted)
    again.conn("restarted").run("ACL", "LIST", norm=norm_acl_list, expect=[
        f"user bob on #{sha('pw')} ~* resetchannels +@all", f"user dave on #{sha('x')} ~d* resetchannels -@all +get",
        "user default on nopass sanitize-payload ~* &* +@all"])
    again.check()


def user_lines(path):
    with open(path) as f:
        return [norm_list_line(line.rstrip("\n")) for line in f if line.startswith("user ")]


def test_a_default_user_with_a_password_in_the_config_file(start_server, tmp_path):
    conf = b"user default on >topsecret ~* &* +@all\nuser ro on nopass ~* +@read\n"
    strata, redis_server, dirs = start_pair(start_server, tmp_path, {"acl.conf": conf}, lambda d: [],
                                            config="acl.conf")
    diff = PathDiff(strata, redis_server, dirs)
    c = diff.conn("c")
    c.run("PING", expect=Err("NOAUTH Authentication required."))
    c.run("AUTH", "ro", "anything", expect=OK)
    c.run("GET", "k", expect=None)
    c.run("SET", "k", "v", expect=Err("NOPERM this user has no permissions to run the 'set' command"))
    c.run("AUTH", "topsecret", expect=OK)
    c.run("CONFIG", "GET", "requirepass", expect=[b"requirepass", b""])
    c.run("ACL", "GETUSER", "default", expect=[
        b"flags", [b"on", b"sanitize-payload"], b"passwords", [sha("topsecret").encode()], b"commands", b"+@all",
        b"keys", b"~*", b"channels", b"&*", b"selectors", []])
    diff.check()


# (name, files, args(dir), config file name or None, phrases Redis logs; <dir> stands for the directory)
STARTUP_FAILURES = [
    ("missing aclfile", {}, lambda d: ["--aclfile", f"{d}/missing.acl"], None,
     ["Aborting Redis startup because of ACL errors: Error loading ACLs, opening file '<dir>/missing.acl': "
      "No such file or directory"]),
    ("bad aclfile", {"bad.acl": b"user a on\nuser b +nosuch\nfoo\n"}, lambda d: ["--aclfile", f"{d}/bad.acl"], None,
     ["Aborting Redis startup because of ACL errors: <dir>/bad.acl:2: Error in applying operation '+nosuch': "
      "Unknown command or category name in ACL. <dir>/bad.acl:3 should start with user keyword followed by the "
      "username. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"]),
    ("duplicate user in aclfile", {"dup.acl": b"user alice on\nuser alice off\n"},
     lambda d: ["--aclfile", f"{d}/dup.acl"], None,
     ["Aborting Redis startup because of ACL errors: WARNING: Duplicate user 'alice' found on line 2. "
      "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"]),
    ("bad user directive", {"c.conf": b"user bob on +nosuch\n"}, lambda d: [], "c.conf",
     ["Error loading ACL rule '+nosuch' for the user named 'bob': Unknown command or category name in ACL",
      "Critical error while loading ACLs. Exiting."]),
    ("duplicate user directive", {"c.conf": b"user bob on >pw +@all ~*\nuser bob off\n"}, lambda d: [], "c.conf",
     ["*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***", ">>> 'user bob off'",
      "Error in user declaration 'bob': Duplicate user found. A user can only be defined once in config files"]),
    ("user directive and aclfile", {"c.conf": b"user bob on\n", "users.acl": b"user alice on\n"},
     lambda d: ["--aclfile", f"{d}/users.acl"], "c.conf",
     ["Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. "
      "This setup is very likely to lead to configuration errors and security holes, please define either an ACL "
      "file or declare users directly in your redis.conf, but not both."]),
    ("aclfile directive and user directive", {"c.conf": b"aclfile users.acl\nuser bob on\n",
                                              "users.acl": b"user alice on\n"}, lambda d: [], "c.conf",
     ["Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid."]),
]


@pytest.mark.parametrize("name,files,args_for,config,phrases", STARTUP_FAILURES, ids=[c[0] for c in STARTUP_FAILURES])
def test_startup_failures(tmp_path, name, files, args_for, config, phrases):
    results = {}
    for side, binary in binaries():
        d, args = side_directory(tmp_path, side, files, args_for, config)
        # A relative aclfile in the config is relative to the working directory, `d`.
        code, output = run_to_exit(binary, args, str(d))
        results[side] = (code, output.replace(str(d), "<dir>"))
    redis_code, redis_output = results["redis"]
    missing_in_redis = [p for p in phrases if p not in redis_output]
    assert redis_code == 1 and not missing_in_redis, (
        f"Redis itself exited {redis_code} without {missing_in_redis}:\n{redis_output}")
    strata_code, strata_output = results["strata"]
    missing = [p for p in phrases if p not in strata_output]
    assert strata_code == redis_code and not missing, (
        f"{name}: Redis exits {redis_code} and logs {phrases}; Strata exited {strata_code}"
        f"{' without ' + repr(missing) if missing else ''}:\n{strata_output}")
