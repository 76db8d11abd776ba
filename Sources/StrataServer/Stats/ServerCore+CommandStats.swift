//! Counting calls, rejections and errors as they happen (into `CommandStatistics`,
//! `SlowLog` and `LatencyMonitor`), and the commands and INFO sections that read them:
//! SLOWLOG, LATENCY, `INFO commandstats`, `errorstats` and `latencystats`.

import StrataEngine

extension ServerCore {
    /// Counts an error reply sent to a client (`total_error_replies`, `errorstat_*`).
    func noteErrorReply(_ reply: Reply) {
        stats.errorReplies += 1
        guard case .error(let message) = reply else { return }
        if commandStats.recordError(message) {
            logger.warning(
                "Errorstats stopped adding new errors because the number of different errors reached \(CommandStatistics.errorCodeLimit); new errors will not be tracked."
            )
        }
    }

    /// The monotonic time a command starts at: the end of the previous command when it was
    /// executed in the same batch of input (one clock read per command instead of two; the
    /// parse between them, a fraction of a microsecond, counts toward the next command).
    func commandClock() -> UInt64 {
        if let end = lastCommandEnd { return end }
        return clock.commandNanoseconds()
    }

    /// Counts `spec` as refused before it ran with `error`, and returns the error.
    func rejected(_ spec: CommandSpec, _ error: Reply) -> Reply {
        commandStats.recordRejection(spec)
        noteErrorReply(error)
        return error
    }

    /// Counts a call of `spec` that ran from `since` (monotonic ns) until now: its stats, the
    /// latency monitor's `command`/`fast-command` event, and the slow log.
    func noteCall(_ spec: CommandSpec, args: [Bytes], session: ClientSession, since: UInt64, failed: Bool, now: Int64) {
        let end = clock.commandNanoseconds()
        lastCommandEnd = end
        // Never negative: two readings of the cycle counter on two processors may disagree
        // by a few ticks.
        let elapsed = end > since ? end - since : 0
        commandStats.recordCall(spec, nanoseconds: elapsed, failed: failed, tracking: config.latencyTracking)
        let microseconds = Int(truncatingIfNeeded: elapsed / 1000)
        if config.latencyMonitorThreshold > 0 {
            latencyMonitor.record(
                spec.flags.contains(.fast) ? "fast-command" : "command", milliseconds: microseconds / 1000,
                threshold: config.latencyMonitorThreshold, now: now)
        }
        guard !spec.flags.contains(.skipsSlowLog) else { return }
        // The client's address and name are gathered only for an entry the log keeps.
        let inScript = engine.runningScript
        slowLog.record(
            args, command: spec.serverCommand, microseconds: microseconds, threshold: config.slowlogLogSlowerThan,
            maxLength: config.slowlogMaxLen, now: now, peer: inScript ? "?:0" : session.address,
            clientName: inScript ? "" : session.name ?? "")
    }

    // MARK: SLOWLOG

    func slowLogCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        switch command {
        case .slowlogGet:
            var count = 10
            guard args.count <= 3 else {
                return .error(
                    "ERR unknown subcommand or wrong number of arguments for '\(args[1].string)'. Try SLOWLOG HELP.")
            }
            if args.count == 3 {
                guard let wanted = args[2].strictInteger, wanted >= -1 else {
                    return .error("ERR count should be greater than or equal to -1")
                }
                count = wanted == -1 ? Int.max : wanted
            }
            return .array(
                slowLog.entries.prefix(count).map { entry in
                    .array([
                        .integer(entry.id), .integer(Int(entry.timestamp)), .integer(entry.microseconds),
                        .array(entry.arguments.map { .bulk($0) }), .bulk(Bytes(entry.peer)),
                        .bulk(Bytes(entry.clientName)),
                    ])
                })
        case .slowlogLen:
            return .integer(slowLog.entries.count)
        case .slowlogReset:
            slowLog.reset()
            return .ok
        default:
            return ServerCore.helpReply([
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,", "    client name",
                "LEN", "    Return the length of the slowlog.", "RESET", "    Reset the slowlog.", "HELP",
                "    Prints this help.",
            ])
        }
    }

    static func helpReply(_ lines: [String]) -> Reply {
        .array(lines.map { .status($0) })
    }

    // MARK: LATENCY

    func latencyCommand(_ command: ServerCommand, args: [Bytes], now: Int64) -> Reply {
        switch command {
        case .latencyLatest:
            return .array(
                latencyMonitor.events.keys.sorted().compactMap { name in
                    guard let series = latencyMonitor.events[name], let last = series.samples.last else { return nil }
                    return .array([
                        .bulk(Bytes(name)), .integer(Int(last.time)), .integer(last.milliseconds),
                        .integer(series.maximum),
                    ])
                })
        case .latencyHistory:
            let samples = latencyMonitor.events[args[2].string]?.samples ?? []
            return .array(samples.map { .array([.integer(Int($0.time)), .integer($0.milliseconds)]) })
        case .latencyReset:
            return .integer(latencyMonitor.reset(args.dropFirst(2).map(\.string)))
        case .latencyGraph:
            let event = args[2].string
            guard let graph = latencyMonitor.graph(event, now: now / 1000) else {
                return .error("ERR No samples available for event '\(event)'")
            }
            return .verbatim(graph)
        case .latencyDoctor:
            return .verbatim(
                latencyMonitor.doctor(
                    slowLogThreshold: config.slowlogLogSlowerThan, monitorThreshold: config.latencyMonitorThreshold))
        case .latencyHistogram:
            return latencyHistogram(args.dropFirst(2))
        default:
            return ServerCore.helpReply([
                "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "DOCTOR",
                "    Return a human readable latency analysis report.", "GRAPH <event>",
                "    Return an ASCII latency graph for the <event> class.", "HISTORY <event>",
                "    Return time-latency samples for the <event> class.", "LATEST",
                "    Return the latest latency samples for all events.", "RESET [<event> ...]",
                "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)", "HISTOGRAM [COMMAND ...]",
                "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                "    If no commands are specified then all histograms are replied.", "HELP", "    Prints this help.",
            ])
        }
    }

    /// `LATENCY HISTOGRAM [command ...]`: each called command's calls and cumulative
    /// buckets; a container names all its subcommands; unknown names are skipped.
    private func latencyHistogram(_ names: ArraySlice<Bytes>) -> Reply {
        var wanted: Set<String>?
        if !names.isEmpty {
            var set = Set<String>()
            for name in names {
                guard let spec = engine.commands.spec(named: name) else { continue }
                set.insert(spec.name)
                for sub in spec.subcommands.values { set.insert(sub.name) }
            }
            wanted = set
        }
        let commands = commandStats.commands.filter { $0.histogram.total > 0 && wanted?.contains($0.name) ?? true }
        return .map(
            commands.map { counters in
                let buckets = counters.histogram.cumulativeBuckets().map {
                    (
                        Reply.integer(Int(truncatingIfNeeded: $0.microseconds)),
                        Reply.integer(Int(truncatingIfNeeded: $0.count))
                    )
                }
                return (
                    .bulk(Bytes(counters.name)),
                    .map([
                        (.bulk("calls"), .integer(Int(truncatingIfNeeded: counters.histogram.total))),
                        (.bulk("histogram_usec"), .map(buckets)),
                    ])
                )
            })
    }

    // MARK: INFO

    /// `# Commandstats` fields.
    var commandStatsFields: [(String, String)] {
        commandStats.commands.map { counters in
            let perCall = counters.calls > 0 ? Double(counters.microseconds) / Double(counters.calls) : 0
            return (
                "cmdstat_\(counters.name)",
                "calls=\(counters.calls),usec=\(counters.microseconds),usec_per_call=\(String(printf: "%.2f", perCall)),rejected_calls=\(counters.rejected),failed_calls=\(counters.failed)"
            )
        }
    }

    /// `# Errorstats` fields.
    var errorStatsFields: [(String, String)] {
        commandStats.errorCodes.keys.sorted().map { ("errorstat_\($0)", "count=\(commandStats.errorCodes[$0] ?? 0)") }
    }

    /// `# Latencystats` fields.
    var latencyStatsFields: [(String, String)] {
        guard config.latencyTracking else { return [] }
        return commandStats.commands.filter { $0.histogram.total > 0 }.map { counters in
            let percentiles = config.latencyTrackingPercentiles.map { percentile in
                "p\(ServerConfig.percentileText(percentile))=\(String(printf: "%.3f", Double(counters.histogram.value(atPercentile: percentile)) / 1000))"
            }
            return ("latency_percentiles_usec_\(counters.name)", percentiles.joined(separator: ","))
        }
    }
}
