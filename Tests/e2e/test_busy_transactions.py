"""Transactions around a busy script, side by side with Redis 7.0: a command queued while
the script is busy gets -BUSY and makes the later EXEC answer EXECABORT; EXEC sent while
busy discards the transaction (EXECABORT ... BUSY ...) and never runs half of it."""
import socket
import time


from conftest import wait_until

SCRIPT = (b"EVAL \"local t=redis.call('time') local s=t[1]*1000000+t[2] "
          b"while redis.call('get','stop')==false do local n=redis.call('time') "
          b"if n[1]*1000000+n[2]-s>20000000 then break end end return 1\" 0\r\n")




def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def read_reply_line(sock):
    data = b""
    while not data.endswith(b"\r\n"):
        data += sock.recv(1)
    return data


def scenario(port):
    control = connect(port)
    control.sendall(b"CONFIG SET busy-reply-threshold 50\r\n")
    assert read_reply_line(control) == b"+OK\r\n"
    queuer, executor, script = connect(port), connect(port), connect(port)
    queuer.sendall(b"MULTI\r\n")
    executor.sendall(b"MULTI\r\nSET q 1\r\n")
    assert read_reply_line(queuer) == b"+OK\r\n"
    assert read_reply_line(executor) == b"+OK\r\n" and read_reply_line(executor) == b"+QUEUED\r\n"
    script.sendall(SCRIPT)

    def busy():
        control.sendall(b"PING\r\n")
        return read_reply_line(control).startswith(b"-BUSY")

    wait_until(busy, message="the script is busy")
    out = []
    queuer.sendall(b"SET x 1\r\n")
    out.append(read_reply_line(queuer))
    executor.sendall(b"EXEC\r\n")
    out.append(read_reply_line(executor))
    # The script cannot see a write while it runs: SCRIPT KILL ends it (it wrote nothing).
    control.sendall(b"SCRIPT KILL\r\n")
    out.append(read_reply_line(control))
    out.append(read_reply_line(script))
    queuer.sendall(b"EXEC\r\n")
    out.append(read_reply_line(queuer))
    executor.sendall(b"EXEC\r\nGET q\r\n")
    out.append(read_reply_line(executor) + read_reply_line(executor))
    return out


def test_busy_script_and_transactions_as_redis(strata_and_redis):
    strata, reference = strata_and_redis
    assert scenario(strata.port) == scenario(reference.port)
