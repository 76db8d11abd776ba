#!/usr/bin/env python3
"""Writes Tools/strata.conf: every parameter `CONFIG GET *` lists, commented out with its
default (as redis.conf lists them), grouped by area with a line on what each does; the
few a systemd service needs are set. Run after adding a parameter:

    python3 Tools/gen-strata-conf.py [.build/release/strata-server] > Tools/strata.conf

It fails when a parameter has no description here, so the sample stays complete (the
end-to-end suite checks that too)."""
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# Set in the sample (for Tools/strata.service); everything else stays at its default.
ACTIVE = {
    "dir": "/var/lib/strata",
    "supervised": "systemd",
    "daemonize": "no",
    "bind": "127.0.0.1 -::1",
    "logfile": '""',
}

SECTIONS = [
    ("Network", {
        "bind": "Addresses to listen on (a leading - makes an address optional).",
        "bind-source-addr": "Source address of outgoing connections (replication, cluster bus, MIGRATE).",
        "port": "TCP port for RESP clients (0: none).",
        "protected-mode": "Without a password and bind, answer only loopback clients.",
        "tcp-backlog": "Listen backlog.",
        "tcp-keepalive": "Seconds between TCP keepalive probes of clients (0: off).",
        "timeout": "Close a client idle for this many seconds (0: never).",
        "unixsocket": "Path of a UNIX socket to listen on (empty: none).",
        "unixsocketperm": "Permissions of the UNIX socket.",
        "socket-mark-id": "SO_MARK of listening sockets (Linux).",
    }),
    ("TLS", {
        "tls-port": "TCP port for TLS clients (0: none).",
        "tls-cert-file": "The server's certificate (PEM).",
        "tls-key-file": "Its private key (PEM).",
        "tls-key-file-pass": "The private key's passphrase.",
        "tls-client-cert-file": "Certificate presented when connecting out (replication, cluster bus).",
        "tls-client-key-file": "Its private key.",
        "tls-client-key-file-pass": "Its passphrase.",
        "tls-dh-params-file": "Diffie-Hellman parameters (PEM).",
        "tls-ca-cert-file": "CA bundle that client certificates must chain to.",
        "tls-ca-cert-dir": "Directory of CA certificates.",
        "tls-auth-clients": "Require client certificates: yes, no or optional.",
        "tls-protocols": "Allowed protocols (TLSv1.2 TLSv1.3).",
        "tls-ciphers": "TLS 1.2 cipher list (OpenSSL syntax).",
        "tls-ciphersuites": "TLS 1.3 cipher suites.",
        "tls-prefer-server-ciphers": "Prefer the server's cipher order.",
        "tls-session-caching": "Cache TLS sessions for resumption.",
        "tls-session-cache-size": "Sessions kept in the cache.",
        "tls-session-cache-timeout": "Seconds a cached session lasts.",
        "tls-replication": "Replicas connect to their primary over TLS.",
        "tls-cluster": "The cluster bus runs over TLS.",
        "tls-handshake-timeout": "Milliseconds a TLS handshake may take.",
    }),
    ("General", {
        "daemonize": "Kept for redis.conf compatibility; run in the foreground under systemd.",
        "supervised": "systemd: send READY=1 to $NOTIFY_SOCKET once the dataset is loaded (auto: if set).",
        "pidfile": "Write the process id here.",
        "loglevel": "debug, verbose, notice or warning.",
        "logfile": 'Log file ("": standard output, which systemd\'s journal takes).',
        "syslog-enabled": "Also log to syslog.",
        "syslog-ident": "Syslog identity.",
        "syslog-facility": "Syslog facility (USER, LOCAL0-LOCAL7).",
        "crash-log-enabled": "Log a stack trace on a crash.",
        "crash-memcheck-enabled": "Check memory after a crash.",
        "databases": "Number of databases (SELECT 0 to databases-1).",
        "always-show-logo": "Show the ASCII logo in the log.",
        "set-proc-title": "Change the process title.",
        "proc-title-template": "Template of the process title.",
        "enable-protected-configs": "Allow CONFIG SET of protected parameters: no, yes or local.",
        "enable-debug-command": "Allow DEBUG: no, yes or local.",
        "enable-module-command": "Allow MODULE: no, yes or local (Strata loads no modules).",
        "hz": "Background task frequency per second.",
        "dynamic-hz": "Raise hz with the number of clients.",
        "ignore-warnings": "Startup warnings to silence.",
        "oom-score-adj": "Adjust the kernel's OOM score: no, yes or absolute.",
        "oom-score-adj-values": "OOM scores of primary, replica and background child.",
        "disable-thp": "Turn off transparent huge pages for the process.",
        "jemalloc-bg-thread": "Allocator background purging thread.",
        "server_cpulist": "CPU affinity of the main thread.",
        "bio_cpulist": "CPU affinity of background I/O.",
        "aof_rewrite_cpulist": "CPU affinity of AOF rewrites.",
        "bgsave_cpulist": "CPU affinity of background saves.",
        "io-threads": "I/O threads (Strata runs one event loop; accepted for compatibility).",
        "io-threads-do-reads": "Whether I/O threads read too.",
        "shutdown-on-sigint": "What SIGINT does: default, save, nosave, now, force.",
        "shutdown-on-sigterm": "What SIGTERM does: default, save, nosave, now, force.",
        "shutdown-timeout": "Seconds to wait for replicas to catch up before exiting.",
        "propagation-error-behavior": "What a replica does with a command that fails: ignore or panic.",
    }),
    ("Snapshots", {
        "save": "Save points: <seconds> <changes> pairs (\"\": no automatic saves).",
        "stop-writes-on-bgsave-error": "Refuse writes after a failed save.",
        "rdbcompression": "Compress strings with LZF in plain RDB output.",
        "rdbchecksum": "End snapshots with a CRC-64.",
        "snapshot-compression": "Codec of snapshot frames: lz4, zlib or none (a plain RDB file).",
        "sanitize-dump-payload": "Check RESTORE payloads deeply: no, yes or clients.",
        "dbfilename": "Snapshot file name in dir.",
        "rdb-del-sync-files": "Delete snapshots made only for replication.",
        "rdb-save-incremental-fsync": "fsync snapshots as they are written.",
        "dir": "Working directory: snapshots, the AOF directory and nodes.conf.",
    }),
    ("Append-only file", {
        "appendonly": "Log every write to the append-only file.",
        "appendfilename": "Base name of the AOF files.",
        "appenddirname": "Directory of the AOF files and their manifest.",
        "appendfsync": "always, everysec or no.",
        "no-appendfsync-on-rewrite": "Skip fsync while a rewrite runs.",
        "auto-aof-rewrite-percentage": "Rewrite when the AOF grew this much since the last rewrite.",
        "auto-aof-rewrite-min-size": "...and is at least this large.",
        "aof-load-truncated": "Load an AOF whose last command was cut off.",
        "aof-use-rdb-preamble": "Write the rewrite's base as a snapshot.",
        "aof-timestamp-enabled": "Annotate the AOF with timestamps (point-in-time restores).",
        "aof-rewrite-incremental-fsync": "fsync rewritten files as they are written.",
        "aof-disable-auto-gc": "Keep history files after rewrites.",
    }),
    ("Replication", {
        "replicaof": "<host> <port> of the primary to replicate.",
        "slaveof": "Alias of replicaof.",
        "masterauth": "Password for the primary.",
        "masteruser": "User for the primary.",
        "replica-serve-stale-data": "Answer while the link with the primary is down.",
        "slave-serve-stale-data": "Alias of replica-serve-stale-data.",
        "replica-read-only": "Refuse writes from clients on a replica.",
        "slave-read-only": "Alias of replica-read-only.",
        "repl-diskless-sync": "Send full syncs over the socket instead of a file.",
        "repl-diskless-sync-delay": "Seconds to wait for more replicas before a diskless sync.",
        "repl-diskless-sync-max-replicas": "Start at once when this many replicas wait (0: no limit).",
        "repl-diskless-load": "How a replica loads a full sync: disabled, on-empty-db or swapdb.",
        "repl-ping-replica-period": "Seconds between pings to replicas.",
        "repl-ping-slave-period": "Alias of repl-ping-replica-period.",
        "repl-timeout": "Seconds of silence before a replication link is dropped.",
        "repl-disable-tcp-nodelay": "Batch replication traffic (less bandwidth, more lag).",
        "repl-backlog-size": "Bytes of the stream kept for partial resyncs.",
        "repl-backlog-ttl": "Seconds to keep the backlog without replicas.",
        "replica-priority": "Lower is preferred by Sentinel for promotion (0: never).",
        "slave-priority": "Alias of replica-priority.",
        "replica-announced": "Whether Sentinel lists this replica.",
        "replica-announce-ip": "Address announced to the primary.",
        "slave-announce-ip": "Alias of replica-announce-ip.",
        "replica-announce-port": "Port announced to the primary.",
        "slave-announce-port": "Alias of replica-announce-port.",
        "min-replicas-to-write": "Refuse writes with fewer good replicas than this.",
        "min-slaves-to-write": "Alias of min-replicas-to-write.",
        "min-replicas-max-lag": "Seconds within which a replica counts as good.",
        "min-slaves-max-lag": "Alias of min-replicas-max-lag.",
        "replica-lazy-flush": "Free the old dataset in the background on a full sync.",
        "slave-lazy-flush": "Alias of replica-lazy-flush.",
        "replica-ignore-maxmemory": "A replica does not evict on its own.",
        "slave-ignore-maxmemory": "Alias of replica-ignore-maxmemory.",
        "replica-ignore-disk-write-errors": "A replica keeps applying its stream after disk errors.",
    }),
    ("Security", {
        "requirepass": "Password of the default user.",
        "aclfile": "File of ACL users (ACL LOAD/SAVE).",
        "acllog-max-len": "Entries kept by ACL LOG.",
        "acl-pubsub-default": "Channels of new users: resetchannels or allchannels.",
    }),
    ("Clients and memory", {
        "maxclients": "Most clients at once (match LimitNOFILE in the service unit).",
        "maxmemory": "Memory limit (0: none); past it the policy evicts or writes fail.",
        "maxmemory-policy": "noeviction, allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl.",
        "maxmemory-samples": "Keys sampled per eviction.",
        "maxmemory-eviction-tenacity": "How hard one eviction round tries (0-100).",
        "maxmemory-clients": "Memory all clients' buffers may take before the largest is closed (0: no limit).",
        "client-output-buffer-limit": "<class> <hard> <soft> <seconds> per class: normal, replica, pubsub.",
        "client-query-buffer-limit": "Largest query buffer of one client.",
        "proto-max-bulk-len": "Largest bulk string a request may hold.",
        "lazyfree-lazy-eviction": "Free evicted values in the background.",
        "lazyfree-lazy-expire": "Free expired values in the background.",
        "lazyfree-lazy-server-del": "Free values the server deletes in the background.",
        "lazyfree-lazy-user-del": "DEL frees in the background, as UNLINK.",
        "lazyfree-lazy-user-flush": "FLUSHALL and FLUSHDB free in the background.",
        "lfu-log-factor": "How slowly LFU counters saturate.",
        "lfu-decay-time": "Minutes for an LFU counter to decay a step.",
        "active-expire-effort": "Effort of the active expiry cycle (1-10).",
        "activerehashing": "Rehash tables incrementally in the background.",
        "activedefrag": "Active defragmentation (accepted; Strata's allocator returns memory itself).",
        "active-defrag-ignore-bytes": "Defragmentation: fragmentation bytes to ignore.",
        "active-defrag-threshold-lower": "Defragmentation: lower threshold (percent).",
        "active-defrag-threshold-upper": "Defragmentation: upper threshold (percent).",
        "active-defrag-cycle-min": "Defragmentation: least CPU effort (percent).",
        "active-defrag-cycle-max": "Defragmentation: most CPU effort (percent).",
        "active-defrag-max-scan-fields": "Defragmentation: fields scanned per step.",
        "tracking-table-max-keys": "Keys client-side caching tracks at most (0: no limit).",
    }),
    ("Data structures", {
        "hash-max-listpack-entries": "Hashes stay compact up to this many fields...",
        "hash-max-listpack-value": "...each at most this long.",
        "hash-max-ziplist-entries": "Alias of hash-max-listpack-entries.",
        "hash-max-ziplist-value": "Alias of hash-max-listpack-value.",
        "list-max-listpack-size": "Size of list nodes (negative: bytes, -2 is 8 KB).",
        "list-max-ziplist-size": "Alias of list-max-listpack-size.",
        "list-compress-depth": "List nodes left uncompressed at each end (0: none compressed).",
        "set-max-intset-entries": "Integer sets stay compact up to this many members.",
        "zset-max-listpack-entries": "Sorted sets stay compact up to this many members...",
        "zset-max-listpack-value": "...each at most this long.",
        "zset-max-ziplist-entries": "Alias of zset-max-listpack-entries.",
        "zset-max-ziplist-value": "Alias of zset-max-listpack-value.",
        "hll-sparse-max-bytes": "HyperLogLogs stay sparse up to this many bytes.",
        "stream-node-max-bytes": "Bytes of a stream node.",
        "stream-node-max-entries": "Entries of a stream node.",
    }),
    ("Scripting", {
        "lua-time-limit": "Milliseconds before a busy script can be killed (alias of busy-reply-threshold).",
        "busy-reply-threshold": "Milliseconds before a busy script or function can be killed.",
        "lua-heap-limit": "Memory one Lua state may take (Strata's own).",
    }),
    ("Cluster", {
        "cluster-enabled": "Run as a Redis Cluster node.",
        "cluster-config-file": "The node's state file (nodes.conf), written by the server.",
        "cluster-node-timeout": "Milliseconds before an unreachable node is suspected failing.",
        "cluster-port": "Cluster bus port (0: port + 10000).",
        "cluster-replica-validity-factor": "A replica disconnected longer than timeout x factor does not fail over.",
        "cluster-slave-validity-factor": "Alias of cluster-replica-validity-factor.",
        "cluster-migration-barrier": "Replicas a primary keeps before one migrates to an orphaned primary.",
        "cluster-allow-replica-migration": "Allow replica migration.",
        "cluster-require-full-coverage": "Refuse queries while some slot is uncovered.",
        "cluster-replica-no-failover": "This replica never fails over on its own.",
        "cluster-slave-no-failover": "Alias of cluster-replica-no-failover.",
        "cluster-allow-reads-when-down": "Serve reads while the cluster is down.",
        "cluster-allow-pubsubshard-when-down": "Serve sharded pub/sub while the cluster is down.",
        "cluster-link-sendbuf-limit": "Free a bus link whose unsent bytes pass this (0: no limit).",
        "cluster-announce-ip": "Address announced to other nodes.",
        "cluster-announce-port": "Client port announced.",
        "cluster-announce-tls-port": "TLS client port announced.",
        "cluster-announce-bus-port": "Bus port announced.",
        "cluster-announce-hostname": "Hostname announced.",
        "cluster-preferred-endpoint-type": "What redirections name: ip, hostname or unknown-endpoint.",
    }),
    ("Monitoring", {
        "slowlog-log-slower-than": "Microseconds after which a command enters the slow log (-1: off).",
        "slowlog-max-len": "Entries the slow log keeps.",
        "latency-monitor-threshold": "Milliseconds after which an event is sampled (0: off).",
        "latency-tracking": "Per-command latency percentiles in INFO latencystats.",
        "latency-tracking-info-percentiles": "The percentiles INFO shows.",
        "notify-keyspace-events": "Keyspace notification classes (K, E, g, $, l, s, h, z, x, e, t, m, n, A).",
    }),
    ("Memcached protocol (Strata's own)", {
        "memcached-port": "Port of the memcached text protocol listener (0: none).",
        "memcached-bind": "Its addresses (memcached has no authentication: keep it on trusted networks).",
        "memcached-db": "The database memcached clients use.",
        "memcached-max-item-size": "Largest memcached item (memcached's -I).",
    }),
]


def running_defaults(binary):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    workdir = tempfile.mkdtemp(prefix="gen-conf-")
    proc = subprocess.Popen([binary, "--port", str(number), "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                out = subprocess.run(["redis-cli", "-p", str(number), "--raw", "config", "get", "*"],
                                     capture_output=True, text=True, timeout=10, check=True).stdout
                if out:
                    break
            except subprocess.CalledProcessError:
                pass
            if time.time() > deadline:
                raise RuntimeError("the server did not answer")
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait()
    lines = out.split("\n")
    defaults = dict(zip(lines[0::2], lines[1::2]))
    defaults["port"] = "6379"  # this run's port and directory are not the defaults
    defaults["dir"] = "./"
    return defaults


# Parameters that take several words (written unquoted, as redis.conf writes them).
SEVERAL_WORDS = {"save", "client-output-buffer-limit", "oom-score-adj-values", "bind", "replicaof", "slaveof",
                 "latency-tracking-info-percentiles", "tls-protocols"}


def quoted(name, value):
    if value == "":
        return '""'
    if " " in value and name not in SEVERAL_WORDS:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "strata-server")
    defaults = running_defaults(binary)
    described = {name for _, entries in SECTIONS for name, text in entries.items() if text}
    missing = sorted(set(defaults) - described)
    if missing:
        sys.exit("no description for: " + ", ".join(missing))
    out = ["# Strata's configuration, in redis.conf's syntax: `name value` per line, # for comments.",
           "# Every parameter is listed with its default, commented out; the few that",
           "# Tools/strata.service needs are set. `strata-server /etc/strata/strata.conf` reads it;",
           "# command-line options (--name value) override it; CONFIG SET changes most at run time",
           "# and CONFIG REWRITE writes them back here.",
           "# Generated by Tools/gen-strata-conf.py from a running server's CONFIG GET *.", ""]
    for title, entries in SECTIONS:
        names = [n for n, text in entries.items() if text and n in defaults]
        if not names:
            continue
        out += ["#" * 78, f"# {title}", "#" * 78, ""]
        for name in names:
            out.append(f"# {entries[name]}")
            if name in ACTIVE:
                out.append(f"{name} {ACTIVE[name]}")
            else:
                out.append(f"# {name} {quoted(name, defaults[name])}")
            out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
