#!/usr/bin/env bash
# Writes Tools/symbol-order.txt: every function of strata-server that a typical run executes,
# hottest first, for the release link to lay out together (Package.swift says why). Run it
# after large changes to the code and commit the list; a stale list costs memory, never
# correctness (functions it does not name are laid out after it). SwiftPM does not relink
# when only the list changed: remove .build/release/strata-server before `make release`.
#
#   Tools/gen-symbol-order.sh [path/to/strata-server]
#
# The server runs under valgrind's callgrind (which counts every function executed, where a
# sampling profiler misses the ones that run once at start-up), on a loopback port, in two
# phases: the common path (redis-benchmark's default tests, a pipelined run, loads of
# strings, small hashes, a sorted set and a stream, PING and INFO), then a sample of other
# commands (CONFIG, SCAN, scripts, transactions, BGSAVE...). The first phase's functions
# come first in the list, hottest first, then the second's.
# Needs valgrind, redis-cli and redis-benchmark. Only processes it starts, stopped by PID.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=${1:-$HERE/../.build/release/strata-server}
PORT=${STRATA_ORDER_PORT:-7793}
WORK=$(mktemp -d)
trap 'kill "$VG" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# callgrind cannot read the debug information the Swift compiler writes; it needs only the
# symbol table.
cp "$SERVER" "$WORK/server"
strip --strip-debug "$WORK/server"
valgrind --tool=callgrind --callgrind-out-file="$WORK/profile" --demangle=no --compress-strings=no --compress-pos=no \
    "$WORK/server" --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --save "" >"$WORK/log" 2>&1 &
VG=$!
up=no
for _ in $(seq 1 120); do
    if redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; then
        up=yes
        break
    fi
    sleep 1
done
if [ "$up" != yes ]; then
    echo "the server did not start under valgrind:" >&2
    tail -5 "$WORK/log" >&2
    exit 1
fi

# Phase one, the common path: what a client of a cache does, and what monitoring asks.
# Its functions are listed first, hottest first, so that the pages a usual run touches
# lie together; phase two's (everything else the run tries) follow.
# Bounded: a benchmark whose server went away retries for ever.
timeout 600 redis-benchmark -p "$PORT" -n 300 -c 4 -q >/dev/null 2>&1
timeout 600 redis-benchmark -p "$PORT" -n 600 -P 16 -t set,get,incr,hset -q >/dev/null 2>&1
python3 - "$PORT" <<'PY'
import socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def command(*args):
    parts = [a.encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
fields = lambda i: sum([["field:%d" % f, "value:%06d" % i] for f in range(10)], [])
batch = [command("HSET", "hash:%06d" % i, *fields(i)) for i in range(3000)]
batch += [command("SET", "key:%012d" % i, "x" * 32) for i in range(3000)]
batch += [command("ZADD", "zset", str(i * 7919 % 1000003), "member:%d" % i) for i in range(3000)]
batch += [command("XADD", "events", "*", "user", str(i), "action", "click") for i in range(3000)]
batch += [command("PING"), command("INFO"), command("INFO", "memory"), command("DBSIZE")]
batch += [command("ECHO", "end-of-phase-one")]
sender = threading.Thread(target=s.sendall, args=(b"".join(batch),))
sender.start()
replies = b""
while b"end-of-phase-one" not in replies[-64:]:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("the server closed the connection during phase one")
    replies = replies[-64:] + chunk
sender.join()
PY
callgrind_control --dump=common "$VG" >/dev/null 2>&1

# Phase two.
while read -r line; do
    eval redis-cli -p "$PORT" "$line" >/dev/null
done <<'COMMANDS'
info
info all
config get *
dbsize
client list
hset h:1 f1 v1 f2 v2 f3 v3
hgetall h:1
memory usage h:1
scan 0
expire key:__rand_int__ 100
ttl key:__rand_int__
slowlog get
command count
xadd s * a 1
xrange s - +
eval "return redis.call('get',KEYS[1])" 1 key:__rand_int__
publish ch hi
object encoding h:1
set a 1 ex 100
zadd z 1 a 2 b
zrange z 0 -1 withscores
sadd s1 a b
smembers s1
del a
keys h:*
latency histogram
memory stats
bgsave
COMMANDS
# One connection, so that MULTI ... EXEC is a transaction and HELLO 3 switches its protocol.
printf 'MULTI\nINCR c\nEXEC\nHELLO 3\nPING\n' | redis-cli -p "$PORT" >/dev/null
# The BGSAVE above ends before the shutdown.
for _ in $(seq 1 120); do
    redis-cli -p "$PORT" info persistence | grep -q "rdb_bgsave_in_progress:0" && break
    sleep 1
done
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$VG" || true

# Self cost per function of the server's own object, hottest first; callgrind marks
# recursion cycles with a "'N" suffix, which is not part of the symbol. A name the binary
# defines more than once (local helpers such as "objectdestroyTm", partial-application
# thunks, copies of standard-library generics) moves every section defining it: kept when
# those are our own function sections or the standard library's one large section (which
# the list puts first anyway), left out when another prebuilt archive of the toolchain
# (Foundation, Dispatch: a section per file) defines it too.
SWIFT_STATIC=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")/lib/swift_static/linux
python3 - "$WORK/profile" "$WORK/server" "$SWIFT_STATIC" >"$HERE/symbol-order.txt" <<'PY'
import collections, glob, subprocess, sys
def defined_names(*paths):
    listing = subprocess.run(["nm", "--defined-only", *paths], capture_output=True, text=True).stdout
    return [line.split()[2] for line in listing.splitlines() if len(line.split()) == 3]
defined = collections.Counter(defined_names(sys.argv[2]))
prebuilt = set(defined_names(*(a for a in glob.glob(sys.argv[3] + "/*.a") if not a.endswith("/libswiftCore.a"))))
def self_costs(path):
    """Self cost per function of the server's own object in one callgrind file."""
    cost = collections.Counter()
    obj = fn = None
    after_call = False
    for line in open(path):
        if line.startswith("ob="):
            obj = line[3:].strip()
        elif line.startswith("fn="):
            fn = line[3:].strip().split("'")[0] if obj == sys.argv[2] else None
            if fn:
                cost[fn] += 0
            after_call = False
        elif line.startswith("calls="):
            after_call = True
        elif fn and line[:1].isdigit():
            if after_call:
                after_call = False  # the inclusive cost of a call, not this function's own
                continue
            fields = line.split()
            if len(fields) >= 2:
                cost[fn] += int(fields[1])
    return cost
common, total = collections.Counter(), collections.Counter()
for path in glob.glob(sys.argv[1] + "*"):
    cost = self_costs(path)
    total.update(cost)
    with open(path) as f:
        if any("common" in line for line in (next(f, "") for _ in range(20)) if line.startswith(("desc:", "trigger"))):
            common.update(cost)
movable = lambda name: defined[name] == 1 or (defined[name] > 1 and name not in prebuilt)
phase_two = [name for name in total if name not in common]
print(f"{len(common)} functions on the common path, {len(phase_two)} more", file=sys.stderr)
for name in sorted(common, key=lambda name: -total[name]) + sorted(phase_two, key=lambda name: -total[name]):
    if movable(name):
        print(name)
# Protocol conformance descriptors ("Mc"), which sit in read-only data beside the code of
# their object: the Swift runtime reads every one of them the first time a program asks
# whether a type conforms to a protocol (a dynamic cast, a generic instantiation), so
# spread over 2.4 MB they kept most of it resident. Listed, they lie together.
for name in sorted(set(defined)):
    if name.endswith("Mc") and movable(name):
        print(name)
PY
wc -l "$HERE/symbol-order.txt"
