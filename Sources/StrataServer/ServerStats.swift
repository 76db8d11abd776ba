/// Server-level counters `INFO` reports beside the engine's.
struct ServerStats {
    var totalConnectionsReceived = 0
    var rejectedConnections = 0
    var netInputBytes = 0
    var netOutputBytes = 0
    var errorReplies = 0
    /// ACL denials by kind (`acl_access_denied_auth|cmd|key|channel`).
    var aclDeniedAuth = 0
    var aclDeniedCommands = 0
    var aclDeniedKeys = 0
    var aclDeniedChannels = 0
    /// Reads from client sockets that brought bytes (`total_reads_processed`).
    var readsProcessed = 0
    /// Replies handed to client sockets (`total_writes_processed`).
    var writesProcessed = 0
    /// Full synchronisations served to SYNC/PSYNC callers (`sync_full`).
    var fullSyncs = 0
    /// `PSYNC` requests continued from the backlog (`sync_partial_ok`) and refused
    /// (`sync_partial_err`).
    var partialSyncsAccepted = 0
    var partialSyncsRejected = 0
    /// Time spent in active expiry (`expire_cycle_cpu_milliseconds`).
    var expireCycleNanoseconds: UInt64 = 0
    /// Active expiry slices that stopped at their time limit with work left
    /// (`expired_time_cap_reached_count`).
    var expireTimeCapReached = 0
    /// Running estimate of the share of keys with a deadline that have passed it, as
    /// Redis keeps it: each slice's expired/checked ratio weighs 5% (`expired_stale_perc`).
    var expiredStaleFraction = 0.0

    /// Recent samples for the `instantaneous_*` fields, one a second.
    var samples: [Sample] = []

    /// The counters the `instantaneous_*` fields are rates of, at one time.
    struct Sample {
        var milliseconds: Int64
        var commands: Int
        var inputBytes: Int
        var outputBytes: Int
    }

    /// Commands per second over the recent samples.
    var instantaneousOpsPerSecond: Int {
        Int(rate(\.commands))
    }

    /// Network input in KiB per second over the recent samples, as Redis prints it.
    var instantaneousInputKbps: String { String(printf: "%.2f", rate(\.inputBytes) / 1024) }

    /// Network output in KiB per second over the recent samples, as Redis prints it.
    var instantaneousOutputKbps: String { String(printf: "%.2f", rate(\.outputBytes) / 1024) }

    /// The per-second rate of a counter between the first and last samples.
    private func rate(_ counter: KeyPath<Sample, Int>) -> Double {
        guard let first = samples.first, let last = samples.last, last.milliseconds > first.milliseconds else {
            return 0
        }
        return Double(last[keyPath: counter] - first[keyPath: counter]) * 1000
            / Double(last.milliseconds - first.milliseconds)
    }

    /// Notes one active expiry slice.
    mutating func noteExpirySlice(checked: Int, expired: Int, nanoseconds: UInt64, cappedByTime: Bool) {
        let current = checked > 0 ? Double(expired) / Double(checked) : 0
        expiredStaleFraction = current * 0.05 + expiredStaleFraction * 0.95
        expireCycleNanoseconds &+= nanoseconds
        if cappedByTime { expireTimeCapReached += 1 }
    }

    mutating func sample(now: Int64, commands: Int) {
        samples.append(
            Sample(milliseconds: now, commands: commands, inputBytes: netInputBytes, outputBytes: netOutputBytes))
        if samples.count > 16 { samples.removeFirst(samples.count - 16) }
    }
}
