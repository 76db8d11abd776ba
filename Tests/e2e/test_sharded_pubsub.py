"""Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS/SHARDNUMSUB)
side by side with Redis 7.0: the same byte streams to both servers, the replies and the
messages each subscriber receives compared exactly."""
import socket
import time





class Raw:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.data = b""

    def send(self, payload, until):
        self.sock.sendall(payload)
        return self.read(until)

    def read(self, until):
        deadline = time.monotonic() + 10
        while until not in self.data and time.monotonic() < deadline:
            self.data += self.sock.recv(65536)
        assert until in self.data, self.data
        head, _, self.data = self.data.partition(until)
        return head + until


def scenario(port):
    subscriber = Raw(port)
    publisher = Raw(port)
    out = [subscriber.send(b"SSUBSCRIBE c1 c2 c1\r\nSUBSCRIBE x\r\nPSUBSCRIBE c*\r\n", b"psubscribe\r\n$2\r\nc*\r\n:2\r\n")]
    out.append(publisher.send(
        b"SPUBLISH c1 hi\r\nPUBLISH c1 plain\r\nSPUBLISH x no\r\nPUBSUB SHARDNUMSUB c1 c2 zz\r\n"
        b"PUBSUB SHARDCHANNELS a b\r\nPUBSUB NUMSUB c1\r\nSUNSUBSCRIBE\r\nECHO end\r\n", b"$3\r\nend\r\n"))
    out.append(subscriber.read(b"plain\r\n"))
    out.append(subscriber.send(b"SUNSUBSCRIBE c1 zz\r\nSUNSUBSCRIBE\r\nSUNSUBSCRIBE\r\nPING\r\nGET k\r\n",
                               b"only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"))
    out.append(subscriber.send(b"UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nSSUBSCRIBE only\r\nGET k\r\n", b"context\r\n"))
    out.append(subscriber.send(b"SUNSUBSCRIBE\r\nGET k\r\n", b"$-1\r\n"))
    three = Raw(port)
    three.send(b"HELLO 3\r\n", b"modules\r\n*0\r\n")
    out.append(three.send(b"SSUBSCRIBE q\r\nSPUBLISH q m\r\nSUNSUBSCRIBE\r\nPING\r\n", b"+PONG\r\n"))
    other = Raw(port)
    out.append(other.send(
        b"MULTI\r\nSSUBSCRIBE q\r\nEXEC\r\nEVAL \"return redis.call('spublish','q','m')\" 0\r\n"
        b"EVAL \"return redis.call('ssubscribe','q')\" 0\r\nPUBSUB HELP\r\nSPUBLISH a\r\nECHO end\r\n", b"$3\r\nend\r\n"))
    return [chunk.replace(b"on @user_script:1.", b"") for chunk in out]


def test_sharded_pubsub_as_redis(strata_and_redis):
    strata, reference = strata_and_redis
    assert scenario(strata.port) == scenario(reference.port)


def test_shard_channels_listing(strata_and_redis):
    subscribers = [Raw(server.port) for server in strata_and_redis]  # kept open while listing
    for subscriber in subscribers:
        subscriber.send(b"SSUBSCRIBE news:1 news:2 other\r\n", b"other\r\n:3\r\n")
    listed = []
    for server in strata_and_redis:
        client = server.client()
        listed.append((sorted(client.execute_command("PUBSUB", "SHARDCHANNELS")),
                       sorted(client.execute_command("PUBSUB", "SHARDCHANNELS", "news:*")),
                       client.execute_command("PUBSUB", "CHANNELS")))
    assert listed[0] == listed[1]
    assert listed[0][1] == [b"news:1", b"news:2"]
