/// Server-level counters `INFO` reports beside the engine's.
struct ServerStats {
    var totalConnectionsReceived = 0
    var rejectedConnections = 0
    var netInputBytes = 0
    var netOutputBytes = 0
    var errorReplies = 0
    /// Samples for `instantaneous_ops_per_sec`: (time ms, commands processed).
    var opsSamples: [(Int64, Int)] = []

    /// Commands per second over the recent samples.
    var instantaneousOpsPerSecond: Int {
        guard let first = opsSamples.first, let last = opsSamples.last, last.0 > first.0 else { return 0 }
        return (last.1 - first.1) * 1000 / Int(last.0 - first.0)
    }

    mutating func sample(now: Int64, commands: Int) {
        opsSamples.append((now, commands))
        if opsSamples.count > 16 { opsSamples.removeFirst(opsSamples.count - 16) }
    }
}
