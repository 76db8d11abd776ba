#!/usr/bin/env bash
# Side-by-side benchmark: redis-server (Debian's Redis 7) and strata-server on free
# loopback ports, the same redis-benchmark workloads against each, interleaved; then
# memory per key, hash field and sorted-set member on fresh processes. Prints one table.
#
#   Tools/bench-vs-redis.sh [path/to/strata-server]
#
# Environment: BENCH_REQUESTS_P1 (default 200000), BENCH_REQUESTS_P16 (default 1000000),
# BENCH_ROUNDS (default 2; the best round of each server is reported), BENCH_WORKLOADS
# (comma list of set,get,incr,mset,lpush,rpop,sadd,hset,zadd,leaderboard,evalsha,streams,newtypes,tracking,memory,
# stream-memory; default all but stream-memory, whose scenario `memory` includes),
# BENCH_LEADERBOARD_MEMBERS (default 1000000), BENCH_MEMORY_KEYS (default 1000000),
# BENCH_STREAM_ENTRIES (default 1000000, the stream memory scenario).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
strata="${1:-$here/../.build/release/strata-server}"
command -v redis-server >/dev/null || { echo "redis-server not installed (apt-get install redis-server)"; exit 2; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed (apt-get install redis-tools)"; exit 2; }
[ -x "$strata" ] || { echo "strata-server not built: $strata (make release)"; exit 2; }
exec python3 "$here/bench_vs_redis.py" "$strata"
