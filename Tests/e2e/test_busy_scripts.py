"""While a script runs past `busy-reply-threshold`, every connection is answered: ones
that were open and idle, ones whose last reply was finished in the same pass of the event
loop as the script's start, ones with half a command sent before the script, ones
pipelining, and new ones. Each gets `-BUSY` (or has its allow_busy command run, so the
operator's open session can send SCRIPT KILL / FUNCTION KILL), for EVAL and FCALL, with and
without commands pipelined behind the script on the script's own connection. The whole
transcript is compared with redis-server 7.0's."""
import select
import shutil

import pytest

from conftest import RawReplies, hang_up, raw_connection, send_command, wait_until

SPIN_SCRIPT = "while 1 do redis.call('ping') end"
SPIN_LIBRARY = "#!lua name=spin\nredis.register_function('spin', function() while 1 do redis.call('ping') end end)"
# A wedged connection would wait for the script forever; this bounds the test instead.
REPLY_TIMEOUT = 20


class Connection:
    def __init__(self, server):
        self.sock = raw_connection(server.port)
        self.sock.settimeout(REPLY_TIMEOUT)
        self.replies = RawReplies(self.sock)

    def send(self, *args):
        send_command(self.sock, *args)

    def send_raw(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        self.send(*args)
        return self.read()

    def answers_within(self, seconds):
        """Sends PING; True when its reply came within `seconds` (and was read), False when
        it is still due (it is read later with `read`)."""
        self.send("PING")
        if select.select([self.sock], [], [], seconds)[0]:
            assert self.read() == b"PONG"
            return True
        return False

    def read(self, count=None):
        if count is None:
            return self.replies.read()
        return [self.replies.read() for _ in range(count)]


def busy_transcript(server, function, pipelined_behind):
    admin = Connection(server)
    assert admin.call("CONFIG", "SET", "lua-time-limit", "10") == b"OK"
    if function:
        admin.call("FUNCTION", "LOAD", "REPLACE", SPIN_LIBRARY)
    idle = Connection(server)
    assert idle.call("SET", "k", "v") == b"OK"  # open and active before the script
    same_pass = Connection(server)
    partial = Connection(server)
    partial.send_raw(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")  # half a command before the script
    pipeliner = Connection(server)
    caller = Connection(server)
    sleeper = Connection(server)

    # DEBUG SLEEP stops the server so that the next two commands arrive in one pass of
    # its event loop, a reply finished just before the script starts. The probe tells when
    # the server sleeps: its PING goes unanswered (it is answered in that same pass).
    sleeper.send("DEBUG", "SLEEP", "1")
    probe = Connection(server)
    wait_until(lambda: not probe.answers_within(0.05), message="the server to be inside DEBUG SLEEP")
    same_pass.send("PING")
    script = ["FCALL", "spin", "0"] if function else ["EVAL", SPIN_SCRIPT, "0"]
    behind = [["PING"], ["GET", "k"]] if pipelined_behind else []
    caller.send_raw(b"".join(encode(*command) for command in [script, *behind]))

    out = {"sleeper": sleeper.read(), "same pass": same_pass.read()}
    # The probe's PING arrived around the script's start: PONG before it, BUSY after.
    probed = probe.read()
    assert probed == b"PONG" or probed.startswith("BUSY"), probed
    out["same pass, during"] = same_pass.call("PING")
    out["idle"] = idle.call("GET", "k")
    partial.send_raw(b"lo\r\n")
    out["partial"] = partial.read()
    pipeliner.send_raw(b"".join(encode("INCR", "n") for _ in range(20)))
    out["pipeliner"] = pipeliner.read(20)
    newcomer = Connection(server)
    out["newcomer"] = newcomer.call("PING")
    out["kill"] = idle.call("FUNCTION" if function else "SCRIPT", "KILL")
    out["caller"] = caller.read(1 + len(behind))
    out["after"] = [c.call("PING") for c in (idle, same_pass, partial, pipeliner, newcomer, caller)]
    out["n"] = admin.call("GET", "n")
    for connection in (admin, idle, same_pass, partial, pipeliner, caller, sleeper, newcomer, probe):
        hang_up(connection.sock)
    return out


def encode(*args):
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


@pytest.mark.parametrize("pipelined_behind", [False, True], ids=["alone", "pipelined-behind"])
@pytest.mark.parametrize("function", [False, True], ids=["eval", "fcall"])
def test_every_connection_is_answered_while_a_script_is_busy(start_server, function, pipelined_behind):
    strata = start_server("--enable-debug-command", "local")
    redis = start_server("--save", "", "--appendonly", "no", "--enable-debug-command", "local",
                         binary=shutil.which("redis-server"))
    ours = busy_transcript(strata, function, pipelined_behind)
    assert ours["same pass"] == b"PONG"
    assert ours["same pass, during"].startswith("BUSY")
    assert all(reply.startswith("BUSY") for reply in ours["pipeliner"])
    theirs = busy_transcript(redis, function, pipelined_behind)
    assert ours == theirs
