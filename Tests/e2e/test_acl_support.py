"""Shared machinery for the ACL tests (test_acl_*.py); this module holds no tests.

The differential tests send the same commands to Strata and to Redis 7.0 over raw RESP
sockets, so that nothing (no client library) reshapes a reply: a status reply, a bulk
string and an error stay distinct (ACL DRYRUN answers `+OK` or a *bulk* denial), and
RESP3 maps, sets and doubles keep their type. Every difference is collected and reported
at once (`Diff.check`), so one run shows everything Strata gets wrong.

Where a reply legitimately differs between the two servers (client ids, addresses, ages,
and the order of the single-command rules in ACL GETUSER/LIST, which Redis takes from its
randomly seeded command dict), the test normalises it; nothing else is touched.

`expect=` pins what Redis 7.0 itself must answer (the values docs/ACL-REFERENCE.md
records). A wrong pin fails the test as "Redis itself answered ...", which tells a test
bug (or a reference mistake) apart from a Strata difference.

To validate the corpus without Strata ACLs, run it with Redis on both sides:
    STRATA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest -q Tests/e2e/test_acl_*.py
and add ACL_TESTS_TRACE=1 (with pytest -s) to print every Redis reply next to its command.
"""
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import SERVER

REDIS = shutil.which("redis-server")
TRACE = bool(os.environ.get("ACL_TESTS_TRACE"))  # print every Redis reply (pytest -s) to read them


def sha(password):
    """The lowercase hex SHA-256 that ACL GETUSER shows for a password."""
    if isinstance(password, str):
        password = password.encode()
    return hashlib.sha256(password).hexdigest()


# ---------------------------------------------------------------------------------------
# Typed RESP replies


class Status(str):
    """A `+status` reply. Compares equal only to another Status."""

    def __eq__(self, other):
        return type(other) is Status and str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __repr__(self):
        return f"+{str(self)}"


class Err(str):
    """A `-ERROR` reply. Compares equal only to another Err with the same text."""

    def __eq__(self, other):
        return type(other) is Err and str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __repr__(self):
        return f"-{str(self)}"


OK = Status("OK")
QUEUED = Status("QUEUED")
PONG = Status("PONG")


class Tagged(tuple):
    """A RESP3 aggregate or scalar that has no RESP2 twin: ("map", [...]), ("set", [...]),
    ("push", [...]), ("double", b"..."), ("bool", True), ("verbatim", b"..."), ("big", b"...")."""

    def __repr__(self):
        return f"{self[0]}:{self[1]!r}"


class Closed:
    """Stands for "the connection is closed" (the server hung up, or the reply timed out
    and the connection was dropped so that later replies cannot be misattributed)."""

    def __init__(self, why):
        self.why = why

    def __eq__(self, other):
        return isinstance(other, Closed)

    def __hash__(self):
        return 0

    def __repr__(self):
        return f"<connection closed: {self.why}>"


class Conn:
    """One raw RESP connection. `cmd` sends a command and returns its typed reply;
    bulk strings are bytes, integers int, nil None, arrays lists. A closed connection
    answers `Closed(...)` from then on instead of raising, so a differential run goes on."""

    def __init__(self, port, timeout=10.0):
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.stream = self.sock.makefile("rb")
        self.closed = None

    def send(self, *args):
        if self.closed:
            return
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        try:
            self.sock.sendall(b"".join(parts))
        except OSError as error:
            self.closed = Closed(f"send failed: {error}")

    def read(self):
        if self.closed:
            return self.closed
        try:
            return self._read()
        except (ConnectionError, OSError) as error:  # socket.timeout is an OSError
            self.closed = Closed(f"{type(error).__name__}: {error}")
            try:
                self.sock.close()
            except OSError:
                pass
            return self.closed

    def _read(self):
        line = self.stream.readline()
        if not line:
            raise ConnectionError("EOF")
        if not line.endswith(b"\r\n"):
            raise ConnectionError(f"truncated reply line {line!r}")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return Status(rest.decode(errors="replace"))
        if kind == b"-":
            return Err(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind in (b"$", b"="):
            length = int(rest)
            if length < 0:
                return None
            data = self.stream.read(length + 2)
            if len(data) != length + 2:
                raise ConnectionError("EOF inside a bulk string")
            return data[:-2] if kind == b"$" else Tagged(("verbatim", data[:-2]))
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._read() for _ in range(count)]
        if kind == b"%":
            return Tagged(("map", [self._read() for _ in range(2 * int(rest))]))
        if kind == b"~":
            return Tagged(("set", [self._read() for _ in range(int(rest))]))
        if kind == b">":
            return Tagged(("push", [self._read() for _ in range(int(rest))]))
        if kind == b"_":
            return None
        if kind == b",":
            return Tagged(("double", rest))
        if kind == b"#":
            return Tagged(("bool", rest == b"t"))
        if kind == b"(":
            return Tagged(("big", rest))
        raise ConnectionError(f"unexpected reply line {line!r}")

    def cmd(self, *args):
        self.send(*args)
        return self.read()

    def wait_closed(self, timeout=10.0):
        """True once the server has closed this connection (EOF or reset), False if it is
        still open after `timeout` seconds. Pending replies (push messages) are skipped."""
        if self.closed:
            return True
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                if not self.sock.recv(65536):
                    self.closed = Closed("EOF")
                    return True
        except socket.timeout:
            return False
        except OSError as error:
            self.closed = Closed(str(error))
            return True
        finally:
            if not self.closed:
                self.sock.settimeout(self.timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------
# Differential runs

_UNSET = object()


class Diff:
    """Collects the differences between Strata's and Redis's replies in one test."""

    def __init__(self, strata, redis_server):
        self.strata = strata
        self.redis = redis_server
        self.mismatches = []
        self.conns = []
        self.steps = 0

    def conn(self, name="c"):
        pair = DualConn(self, name)
        self.conns.append(pair)
        return pair

    def note(self, label, strata_reply, redis_reply):
        self.steps += 1
        if TRACE:
            print(f"{label}\n    -> {redis_reply!r}")
        if strata_reply != redis_reply:
            self.mismatches.append(f"{label}\n      redis:  {redis_reply!r}\n      strata: {strata_reply!r}")

    def same(self, label, strata_value, redis_value, expect=_UNSET):
        """Records a comparison of two values computed outside `run` (sets, parsed files...)."""
        _pin(redis_value, expect, label)
        self.note(label, strata_value, redis_value)

    def check(self, minimum_steps=1):
        for pair in self.conns:
            pair.close()
        assert self.steps >= minimum_steps, f"only {self.steps} comparisons were made"
        if self.mismatches:
            shown = self.mismatches[:80]
            more = len(self.mismatches) - len(shown)
            text = "\n  ".join(shown) + (f"\n  ... and {more} more" if more > 0 else "")
            pytest.fail(f"{len(self.mismatches)} of {self.steps} replies differ from Redis 7.0:\n  {text}",
                        pytrace=False)


def _pin(theirs, expect, label):
    """Fails the test when Redis's own reply is not the pinned one (`expect` is a value, or
    a predicate for replies that vary, such as a denial naming whichever key failed)."""
    if expect is _UNSET:
        return
    matches = expect(theirs) if callable(expect) else theirs == expect
    if not matches:
        pytest.fail(f"Redis itself answered {theirs!r} to {label}, the test expected "
                    f"{getattr(expect, '__name__', None) if callable(expect) else repr(expect)}")


class DualConn:
    """The same connection opened on both servers; `run` sends a command to each."""

    def __init__(self, diff, name):
        self.diff = diff
        self.name = name
        self.s = Conn(diff.strata.port)
        self.r = Conn(diff.redis.port)

    def run(self, *args, norm=None, expect=_UNSET, label=None):
        """Sends `args` to both servers; returns (strata_reply, redis_reply) after `norm`."""
        ours = self.s.cmd(*args)
        theirs = self.r.cmd(*args)
        if norm is not None:
            ours = norm(ours) if not isinstance(ours, (Closed, Err)) else ours
            theirs = norm(theirs) if not isinstance(theirs, (Closed, Err)) else theirs
        label = label or f"[{self.name}] {show(args)}"
        _pin(theirs, expect, label)
        self.diff.note(label, ours, theirs)
        return ours, theirs

    def send(self, *args):
        self.s.send(*args)
        self.r.send(*args)

    def read(self, label, norm=None, expect=_UNSET):
        ours, theirs = self.s.read(), self.r.read()
        if norm is not None:
            ours = norm(ours) if not isinstance(ours, (Closed, Err)) else ours
            theirs = norm(theirs) if not isinstance(theirs, (Closed, Err)) else theirs
        _pin(theirs, expect, label)
        self.diff.note(f"[{self.name}] {label}", ours, theirs)
        return ours, theirs

    def closed(self, label, timeout=10.0):
        """Compares whether each side's server has closed the connection; waits up to
        `timeout` for the close on the side(s) where it is expected (Redis's answer)."""
        theirs = self.r.wait_closed(timeout)
        ours = self.s.wait_closed(timeout if theirs else 0.2)
        self.diff.note(f"[{self.name}] {label}: connection closed?", ours, theirs)
        return ours, theirs

    def close(self):
        self.s.close()
        self.r.close()


def show(args):
    return " ".join(repr(a) if (isinstance(a, str) and (" " in a or not a)) or isinstance(a, bytes) else str(a)
                    for a in args)


# ---------------------------------------------------------------------------------------
# Normalisation of ACL rule strings

def split_list_line(line):
    """Splits an ACL LIST line into tokens, a `(selector)` staying one token."""
    tokens, depth, current = [], 0, ""
    for ch in line:
        if ch == " " and depth == 0:
            if current:
                tokens.append(current)
            current = ""
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        current += ch
    if current:
        tokens.append(current)
    return tokens


def norm_commands(text, mask=False):
    """The commands part of a selector: the leading `+@all`/`-@all`, then the categories in
    the order Redis picked them, then the single-command rules, sorted (Redis writes those
    in the order of its randomly seeded command dict). `mask` hides everything after the
    first token (for rule sets whose category choice depends on the command table)."""
    if isinstance(text, bytes):
        text = text.decode()
    tokens = text.split(" ") if text else []
    if not tokens:
        return ""
    if mask:
        return f"{tokens[0]} <rest masked>"
    categories = [t for t in tokens[1:] if t[1:2] == "@"]
    singles = sorted(t for t in tokens[1:] if t[1:2] != "@")
    return " ".join([tokens[0], *categories, *singles])


def norm_list_line(line, mask=False):
    """An ACL LIST line with its command rules normalised by `norm_commands`."""
    if isinstance(line, bytes):
        line = line.decode()
    tokens = split_list_line(line)
    head, body = tokens[:2], tokens[2:]
    return " ".join(head + _norm_segment(body, mask))


def _norm_segment(tokens, mask):
    out, commands = [], []
    for token in tokens:
        if token.startswith("(") and token.endswith(")"):
            inner = _norm_segment(split_list_line(token[1:-1]), mask)
            out.append("(" + " ".join(inner) + ")")
        elif token[:1] in "+-":
            commands.append(token)
        else:
            out.append(token)
    if commands:
        # The command rules come right after keys and channels, before any selector.
        where = next((i for i, t in enumerate(out) if t.startswith("(")), len(out))
        out.insert(where, norm_commands(" ".join(commands), mask))
    return out


def norm_getuser(reply, mask=False):
    """ACL GETUSER's flat array with its `commands` strings normalised."""
    if not isinstance(reply, list):
        return reply
    out = list(reply)
    for i in range(0, len(out) - 1, 2):
        if out[i] == b"commands":
            out[i + 1] = norm_commands(out[i + 1], mask)
        elif out[i] == b"selectors" and isinstance(out[i + 1], list):
            out[i + 1] = [norm_getuser(s, mask) for s in out[i + 1]]
    return out


def norm_acl_list(reply, mask=False):
    if not isinstance(reply, list):
        return reply
    return [norm_list_line(line, mask) for line in reply]


def client_info_fields(text):
    """The field names of a CLIENT LIST-style line, in order."""
    if isinstance(text, bytes):
        text = text.decode()
    return [part.split("=", 1)[0] for part in text.strip().split(" ")]


def norm_log(reply):
    """ACL LOG entries: the age becomes "<age>" once it is checked to be a number, and the
    client-info line is reduced to its field names (its values are addresses, ids, ages)."""
    if not isinstance(reply, list):
        return reply
    out = []
    for entry in reply:
        if not isinstance(entry, list):
            out.append(entry)
            continue
        entry = list(entry)
        for i in range(0, len(entry) - 1, 2):
            if entry[i] == b"age-seconds":
                try:
                    float(entry[i + 1])
                    entry[i + 1] = "<age>"
                except (TypeError, ValueError):
                    pass
            elif entry[i] == b"client-info" and isinstance(entry[i + 1], bytes):
                entry[i + 1] = ("client-info fields", tuple(client_info_fields(entry[i + 1])))
        out.append(entry)
    return out


# ---------------------------------------------------------------------------------------
# Processes started outside the fixtures (servers expected to refuse to start)

def binaries():
    """(label, path) of the two servers a test compares: Strata (or whatever STRATA_SERVER
    names) and Redis 7.0."""
    if not os.access(SERVER, os.X_OK):
        pytest.fail(f"strata-server binary not found at {SERVER}")
    if REDIS is None:
        pytest.fail("redis-server is required (apt-get install redis-server)")
    return [("strata", SERVER), ("redis", REDIS)]


def run_to_exit(binary, args, workdir, timeout=20.0):
    """Starts a server in `workdir` (also its working directory, for relative paths in a
    config file) that is expected to exit by itself (a fatal start-up error) and returns
    (exit code, output). If it is still running after `timeout` it is stopped and the exit
    code is reported as None."""
    port = _free_port()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([binary, *args, "--port", str(port), "--dir", workdir],
                                stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        out.seek(0)
        return code, out.read().decode(errors="replace")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
