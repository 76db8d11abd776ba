#!/usr/bin/env bash
# Regenerates the Redis-written fixtures with Debian's redis-server 7.0 (see README.md).
#   Fixtures/make-redis-fixtures.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --dbfilename redis-7.0-types.rdb \
  --rdbcompression yes >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
python3 - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out
batch = []
batch.append(cmd("SET", "int:small", 42))
batch.append(cmd("SET", "int:negative", -123456))
batch.append(cmd("SET", "int:big", 9223372036854775807))
batch.append(cmd("SET", "str:short", "hello"))
batch.append(cmd("SET", "str:lzf", "compressible text " * 200))
batch.append(cmd("SET", "str:binary", bytes(range(256))))
batch.append(cmd("SET", "str:ttl", "expires later"))
batch.append(cmd("PEXPIREAT", "str:ttl", 4102444800000))
batch.append(cmd("RPUSH", "list:small", "a", "b", "c", 1, 2, 3))
batch.append(cmd("RPUSH", "list:large", *[f"element-{i}-" + "x" * (i % 50) for i in range(3000)]))
batch.append(cmd("RPUSH", "list:hugeitem", "y" * 20000, "z"))
batch.append(cmd("HSET", "hash:small", "f1", "v1", "f2", 2))
batch.append(cmd("HSET", "hash:large", *[w for i in range(1000) for w in (f"field{i}", f"value{i}")]))
batch.append(cmd("SADD", "set:intset", *range(0, 300, 3)))
batch.append(cmd("SADD", "set:strings", *[f"member{i}" for i in range(50)]))
batch.append(cmd("SADD", "set:large", *[f"m{i}" for i in range(2000)]))
batch.append(cmd("ZADD", "zset:small", 1, "a", 2.5, "b", -3, "c"))
batch.append(cmd("ZADD", "zset:large", *[w for i in range(1000) for w in (i / 7, f"player{i}")]))
batch.append(cmd("ZADD", "zset:inf", "inf", "top", "-inf", "bottom"))
batch.append(cmd("SELECT", 5))
batch.append(cmd("SET", "db5:key", "in database five"))
batch.append(cmd("HSET", "db5:hash", "a", "1"))
batch.append(cmd("SELECT", 15))
batch.append(cmd("LPUSH", "db15:list", "last database"))
batch.append(cmd("SAVE"))
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(batch))
s.settimeout(10)
data = b""
while data.count(b"\r\n") < len(batch) and not data.endswith(b"+OK\r\n" * 1):
    data += s.recv(65536)
PY
until [ -f "$work/redis-7.0-types.rdb" ]; do sleep 0.1; done
sleep 0.5
cp "$work/redis-7.0-types.rdb" "$here/"
echo "wrote $here/redis-7.0-types.rdb"
# The same data without LZF strings, and without the trailing checksum (dbfilename is a
# protected config in Redis 7: each save overwrites the same file, copied under a new name).
redis-cli -p "$port" config set rdbcompression no >/dev/null
redis-cli -p "$port" save >/dev/null
cp "$work/redis-7.0-types.rdb" "$here/redis-7.0-uncompressed.rdb"
echo "wrote $here/redis-7.0-uncompressed.rdb"
# rdbchecksum is immutable: a second server loads the file and saves it without one.
redis-cli -p "$port" shutdown nosave >/dev/null || true
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --dbfilename redis-7.0-types.rdb --rdbcompression no --rdbchecksum no >/dev/null &
pid=$!
until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done
redis-cli -p "$port" save >/dev/null
cp "$work/redis-7.0-types.rdb" "$here/redis-7.0-no-checksum.rdb"
echo "wrote $here/redis-7.0-no-checksum.rdb"
