//! The counters of memcached's `stats` that Strata keeps for its memcached listener, and
//! the reply in memcached's order (what monitoring tools and `memcstat` read).

/// Counters since start (or `stats reset`).
public struct MemcachedStats: Sendable, Equatable {
    public var cmdGet = 0
    public var cmdSet = 0
    public var cmdFlush = 0
    public var cmdTouch = 0
    public var getHits = 0
    public var getMisses = 0
    public var deleteHits = 0
    public var deleteMisses = 0
    public var incrHits = 0
    public var incrMisses = 0
    public var decrHits = 0
    public var decrMisses = 0
    public var casHits = 0
    public var casMisses = 0
    public var casBadval = 0
    public var touchHits = 0
    public var touchMisses = 0
    public var storeTooLarge = 0
    public var storeNoMemory = 0
    public var bytesRead = 0
    public var bytesWritten = 0
    public var totalItems = 0
    public var totalConnections = 0

    public init() {}

    /// What the server knows beside the counters.
    public struct Gauges: Sendable {
        public var pid: Int32
        public var uptime: Int64
        public var time: Int64
        public var version: String
        public var currentConnections: Int
        public var maxConnections: Int
        public var currentItems: Int
        public var bytes: Int
        public var limitMaxBytes: Int
        public var evictions: Int
        public var expiredUnfetched: Int
        public var userSeconds: Double
        public var systemSeconds: Double

        public init(
            pid: Int32, uptime: Int64, time: Int64, version: String, currentConnections: Int, maxConnections: Int,
            currentItems: Int, bytes: Int, limitMaxBytes: Int, evictions: Int, expiredUnfetched: Int,
            userSeconds: Double, systemSeconds: Double
        ) {
            (self.pid, self.uptime, self.time, self.version) = (pid, uptime, time, version)
            (self.currentConnections, self.maxConnections, self.currentItems) =
                (currentConnections, maxConnections, currentItems)
            (self.bytes, self.limitMaxBytes, self.evictions, self.expiredUnfetched) =
                (bytes, limitMaxBytes, evictions, expiredUnfetched)
            (self.userSeconds, self.systemSeconds) = (userSeconds, systemSeconds)
        }
    }

    /// The general `stats` reply, `STAT name value` lines then `END`.
    public func reply(_ gauges: Gauges) -> String {
        let fields: [(String, String)] = [
            ("pid", String(gauges.pid)), ("uptime", String(gauges.uptime)), ("time", String(gauges.time)),
            ("version", gauges.version), ("pointer_size", "64"),
            ("rusage_user", seconds(gauges.userSeconds)), ("rusage_system", seconds(gauges.systemSeconds)),
            ("max_connections", String(gauges.maxConnections)),
            ("curr_connections", String(gauges.currentConnections)),
            ("total_connections", String(totalConnections)), ("rejected_connections", "0"),
            ("cmd_get", String(cmdGet)), ("cmd_set", String(cmdSet)), ("cmd_flush", String(cmdFlush)),
            ("cmd_touch", String(cmdTouch)), ("get_hits", String(getHits)), ("get_misses", String(getMisses)),
            ("get_expired", "0"), ("get_flushed", "0"), ("delete_misses", String(deleteMisses)),
            ("delete_hits", String(deleteHits)), ("incr_misses", String(incrMisses)), ("incr_hits", String(incrHits)),
            ("decr_misses", String(decrMisses)), ("decr_hits", String(decrHits)), ("cas_misses", String(casMisses)),
            ("cas_hits", String(casHits)), ("cas_badval", String(casBadval)), ("touch_hits", String(touchHits)),
            ("touch_misses", String(touchMisses)), ("store_too_large", String(storeTooLarge)),
            ("store_no_memory", String(storeNoMemory)), ("auth_cmds", "0"), ("auth_errors", "0"),
            ("bytes_read", String(bytesRead)), ("bytes_written", String(bytesWritten)),
            ("limit_maxbytes", String(gauges.limitMaxBytes)), ("accepting_conns", "1"), ("threads", "1"),
            ("bytes", String(gauges.bytes)), ("curr_items", String(gauges.currentItems)),
            ("total_items", String(totalItems)), ("expired_unfetched", String(gauges.expiredUnfetched)),
            ("evicted_unfetched", "0"), ("evictions", String(gauges.evictions)), ("reclaimed", "0"),
        ]
        return fields.map { "STAT \($0.0) \($0.1)\r\n" }.joined() + "END\r\n"
    }

    private func seconds(_ value: Double) -> String {
        let micros = Int((value * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
