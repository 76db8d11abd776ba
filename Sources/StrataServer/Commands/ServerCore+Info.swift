//! INFO: sections and field names as Redis 7.0 prints them.

import CMallocInfo
import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    static let defaultSections = [
        "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats",
        "cluster", "keyspace",
    ]
    /// `INFO all` (and `everything`): the default sections and the per-command ones.
    static let allSections = [
        "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats",
        "errorstats", "latencystats", "cluster", "keyspace",
    ]

    func info(_ args: [Bytes], now: Int64) -> String {
        var wanted: [String] = []
        if args.count == 1 {
            wanted = ServerCore.defaultSections
        } else {
            for arg in args.dropFirst() {
                let name = arg.lowercased.string
                switch name {
                case "default": wanted += ServerCore.defaultSections
                case "all", "everything": wanted += ServerCore.allSections
                default: wanted.append(name)
                }
            }
        }
        var seen = Set<String>()
        var parts: [String] = []
        for section in wanted where seen.insert(section).inserted {
            if let body = infoSection(section, now: now) { parts.append(body) }
        }
        return parts.joined(separator: "\r\n")
    }

    private func fields(_ title: String, _ pairs: [(String, String)]) -> String {
        "# \(title)\r\n" + pairs.map { "\($0.0):\($0.1)\r\n" }.joined()
    }

    func infoSection(_ name: String, now: Int64) -> String? {
        switch name {
        case "server":
            let uptime = (now - startedAt) / 1000
            return fields(
                "Server",
                [
                    ("redis_version", ServerVersion.redisCompatible),
                    ("strata_version", ServerVersion.strata),
                    ("redis_git_sha1", "00000000"), ("redis_git_dirty", "0"), ("redis_build_id", "0"),
                    ("redis_mode", "standalone"), ("os", ServerCore.osName), ("arch_bits", "64"),
                    ("monotonic_clock", "POSIX clock_gettime"), ("multiplexing_api", "epoll"),
                    ("atomicvar_api", "c11-builtin"), ("gcc_version", "0.0.0"),
                    ("process_id", String(getpid())),
                    ("process_supervised", systemd == nil ? "no" : "systemd"), ("run_id", runID),
                    ("tcp_port", String(boundPort)),
                    ("server_time_usec", String(clock.wallMicroseconds())),
                    ("uptime_in_seconds", String(uptime)), ("uptime_in_days", String(uptime / 86400)),
                    ("hz", String(config.hz)), ("configured_hz", String(config.hz)),
                    ("lru_clock", String((now / 1000) & 0xFFFFFF)),
                    ("executable", CommandLine.arguments.first ?? ""),
                    ("config_file", config.configFile), ("io_threads_active", "0"),
                ])
        case "clients":
            var maxInput = 0
            var maxOutput = 0
            for client in clients.values {
                maxInput = max(maxInput, client.queryBufferSize)
                maxOutput = max(maxOutput, client.outputBufferSize)
            }
            return fields(
                "Clients",
                [
                    ("connected_clients", String(clients.count)),
                    ("cluster_connections", String(cluster?.allLinks.count ?? 0)),
                    ("maxclients", String(config.maxClients)),
                    ("client_recent_max_input_buffer", String(maxInput)),
                    ("client_recent_max_output_buffer", String(maxOutput)),
                    ("blocked_clients", String(clients.values.filter { $0.blocked != nil || $0.isPostponed }.count)),
                    ("tracking_clients", String(tracking.clients.count)), ("clients_in_timeout_table", "0"),
                ])
        case "memory":
            let used = ProcessMemory.allocatedBytes()
            let rss = ProcessMemory.residentBytes()
            peakMemory = max(peakMemory, used)
            let total = ProcessMemory.totalSystemBytes()
            return fields(
                "Memory",
                [
                    ("used_memory", String(used)), ("used_memory_human", ProcessMemory.human(used)),
                    ("used_memory_rss", String(rss)), ("used_memory_rss_human", ProcessMemory.human(rss)),
                    ("used_memory_peak", String(peakMemory)),
                    ("used_memory_peak_human", ProcessMemory.human(peakMemory)),
                    (
                        "used_memory_peak_perc",
                        String(printf: "%.2f%%", peakMemory > 0 ? Double(used) * 100 / Double(peakMemory) : 100)
                    ),
                    ("used_memory_startup", String(startupMemory)),
                    ("used_memory_dataset", String(max(0, used - startupMemory))),
                ] + scriptingMemoryFields + [
                    ("total_system_memory", String(total)),
                    ("total_system_memory_human", ProcessMemory.human(total)),
                    ("maxmemory", String(config.maxMemory)), ("maxmemory_human", ProcessMemory.human(config.maxMemory)),
                    ("maxmemory_policy", config.maxMemoryPolicy.rawValue),
                    ("mem_fragmentation_ratio", String(printf: "%.2f", used > 0 ? Double(rss) / Double(used) : 0)),
                    ("mem_cluster_links", String(cluster?.linksMemory ?? 0)),
                    (
                        "mem_allocator",
                        "jemalloc-" + String(String(cString: strata_malloc_version()).prefix { $0 != "-" })
                    ), ("lazyfree_pending_objects", "0"),
                ])
        case "persistence":
            return fields(
                "Persistence",
                [
                    ("loading", persistence.loading ? "1" : "0"), ("async_loading", "0"),
                    ("rdb_changes_since_last_save", String(engine.stats.dirty)),
                    ("rdb_bgsave_in_progress", persistence.backgroundSaveInProgress ? "1" : "0"),
                    ("rdb_last_save_time", String(persistence.lastSaveTime)),
                    ("rdb_last_bgsave_status", persistence.lastBackgroundSaveOK ? "ok" : "err"),
                    ("rdb_last_bgsave_time_sec", String(persistence.lastBackgroundSaveSeconds)),
                    (
                        "rdb_current_bgsave_time_sec",
                        persistence.backgroundSaveInProgress
                            ? String((clock.wallMilliseconds() - persistence.backgroundSaveStarted) / 1000) : "-1"
                    ),
                    ("rdb_saves", String(persistence.saves)),
                    ("rdb_last_cow_size", String(persistence.lastCopyOnWriteBytes)),
                ] + appendOnlyInfoFields + loadingInfoFields)
        case "stats":
            return fields(
                "Stats",
                [
                    ("total_connections_received", String(stats.totalConnectionsReceived)),
                    ("total_commands_processed", String(engine.stats.commandsProcessed)),
                    ("instantaneous_ops_per_sec", String(stats.instantaneousOpsPerSecond)),
                    ("total_net_input_bytes", String(stats.netInputBytes)),
                    ("total_net_output_bytes", String(stats.netOutputBytes)),
                    // Replication traffic and partial syncs, evictions of clients
                    // (maxmemory-clients), forks, cached MIGRATE sockets, writable-replica
                    // expiries, active defragmentation, payload sanitizing, I/O threads and
                    // reply-buffer resizing: Strata has none of these (yet), and it does not
                    // time how long memory stays over maxmemory; those fields read 0.
                    ("total_net_repl_input_bytes", "0"), ("total_net_repl_output_bytes", "0"),
                    ("instantaneous_input_kbps", stats.instantaneousInputKbps),
                    ("instantaneous_output_kbps", stats.instantaneousOutputKbps),
                    ("instantaneous_input_repl_kbps", "0.00"), ("instantaneous_output_repl_kbps", "0.00"),
                    ("rejected_connections", String(stats.rejectedConnections)),
                    ("sync_full", String(stats.fullSyncs)), ("sync_partial_ok", String(stats.partialSyncsAccepted)),
                    ("sync_partial_err", String(stats.partialSyncsRejected)),
                    ("expired_keys", String(engine.stats.expiredKeys)),
                    ("expired_stale_perc", String(printf: "%.2f", stats.expiredStaleFraction * 100)),
                    ("expired_time_cap_reached_count", String(stats.expireTimeCapReached)),
                    ("expire_cycle_cpu_milliseconds", String(stats.expireCycleNanoseconds / 1_000_000)),
                    ("evicted_keys", String(engine.stats.evictedKeys)),
                    ("evicted_clients", "0"), ("total_eviction_exceeded_time", "0"),
                    ("current_eviction_exceeded_time", "0"),
                    ("keyspace_hits", String(engine.stats.keyspaceHits)),
                    ("keyspace_misses", String(engine.stats.keyspaceMisses)),
                    ("pubsub_channels", String(pubsub.channels.count)),
                    ("pubsub_patterns", String(pubsub.patterns.count)),
                    ("pubsubshard_channels", String(pubsub.shardChannels.count)),
                    ("latest_fork_usec", "0"), ("total_forks", "0"), ("migrate_cached_sockets", "0"),
                    ("slave_expires_tracked_keys", "0"),
                    ("active_defrag_hits", "0"), ("active_defrag_misses", "0"),
                    ("active_defrag_key_hits", "0"), ("active_defrag_key_misses", "0"),
                    ("total_active_defrag_time", "0"), ("current_active_defrag_time", "0"),
                    ("tracking_total_keys", String(tracking.keyCount)),
                    ("tracking_total_items", String(tracking.totalItems)),
                    ("tracking_total_prefixes", String(tracking.prefixCount)),
                    ("unexpected_error_replies", "0"),
                    ("total_error_replies", String(stats.errorReplies)),
                    ("dump_payload_sanitizations", "0"),
                    ("total_reads_processed", String(stats.readsProcessed)),
                    ("total_writes_processed", String(stats.writesProcessed)),
                    ("io_threaded_reads_processed", "0"), ("io_threaded_writes_processed", "0"),
                    ("reply_buffer_shrinks", "0"), ("reply_buffer_expands", "0"),
                    ("acl_access_denied_auth", String(stats.aclDeniedAuth)),
                    ("acl_access_denied_cmd", String(stats.aclDeniedCommands)),
                    ("acl_access_denied_key", String(stats.aclDeniedKeys)),
                    ("acl_access_denied_channel", String(stats.aclDeniedChannels)),
                ])
        case "replication":
            return fields("Replication", replicationInfoFields(now: now))
        case "cpu":
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            func seconds(_ t: timeval) -> String { String(printf: "%.6f", Double(t.tv_sec) + Double(t.tv_usec) / 1e6) }
            return fields(
                "CPU", [("used_cpu_sys", seconds(usage.ru_stime)), ("used_cpu_user", seconds(usage.ru_utime))])
        case "cluster":
            return fields("Cluster", [("cluster_enabled", cluster == nil ? "0" : "1")])
        case "modules":
            return fields("Modules", [])
        case "commandstats":
            return fields("Commandstats", commandStatsFields)
        case "errorstats":
            return fields("Errorstats", errorStatsFields)
        case "latencystats":
            return fields("Latencystats", latencyStatsFields)
        case "keyspace":
            var pairs: [(String, String)] = []
            for (index, db) in engine.databases.enumerated() where db.count > 0 {
                pairs.append(("db\(index)", "keys=\(db.count),expires=\(db.deadlineCount),avg_ttl=\(db.averageTTL)"))
            }
            return fields("Keyspace", pairs)
        default:
            return nil
        }
    }

    static let osName: String = {
        var name = utsname()
        uname(&name)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return "\(text(name.sysname)) \(text(name.release)) \(text(name.machine))"
    }()
}
