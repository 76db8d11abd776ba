//! Per-command and per-error counters: what `INFO commandstats`, `INFO errorstats`,
//! `INFO latencystats` and `LATENCY HISTOGRAM` report, counted as Redis 7.0 counts them.
//!
//! A call that ran counts in `calls` and `usec` (and in the latency histogram when
//! `latency-tracking` is on); one that ran and answered an error also in `failed_calls`;
//! one refused before running (arity, NOAUTH, OOM, MISCONF, LOADING, a subscribed RESP2
//! client, a busy script) in `rejected_calls` only. Every error reply counts under its code
//! (the first word: `ERR`, `WRONGTYPE`...); as in Redis, at most 128 different codes are
//! tracked, so a client cannot grow the table without bound. Counters are kept per table
//! entry (subcommands apart: `client|list`), in an array indexed by the entry's ordinal
//! and updated in place: this runs for every command, where a dictionary lookup and a
//! reference count per call were measurable.

import StrataEngine

/// One command's counters.
struct CommandCounters {
    /// The table name (`get`, `client|list`); empty for a slot no command has used.
    var name = ""
    var calls = 0
    var microseconds = 0
    var rejected = 0
    var failed = 0
    var histogram = LatencyHistogram()
}

/// The counters of every command that was called, and of every error code replied.
struct CommandStatistics {
    /// At most this many different error codes are counted.
    static let errorCodeLimit = 128

    /// Counters by ``CommandSpec/ordinal``.
    private var byOrdinal: [CommandCounters] = []
    /// Error replies by code.
    private(set) var errorCodes: [String: Int] = [:]
    /// Whether the error-code limit was hit (logged once).
    private(set) var errorCodesFull = false

    /// The index of `spec`'s counters, the slot made (and named) on first use.
    @inline(__always)
    private mutating func slot(_ spec: CommandSpec) -> Int {
        let i = spec.ordinal
        if i >= byOrdinal.count {
            byOrdinal.append(contentsOf: repeatElement(CommandCounters(), count: i + 1 - byOrdinal.count))
        }
        if byOrdinal[i].name.isEmpty { byOrdinal[i].name = spec.name }
        return i
    }

    /// Counts a call of `spec` that ran for `nanoseconds`; `failed` when it answered an
    /// error. The histogram is fed only with `tracking` (`latency-tracking yes`).
    mutating func recordCall(_ spec: CommandSpec, nanoseconds: UInt64, failed: Bool, tracking: Bool) {
        let i = slot(spec)
        byOrdinal[i].calls += 1
        // Redis measures whole microseconds and records them as nanoseconds.
        let microseconds = nanoseconds / 1000
        byOrdinal[i].microseconds &+= Int(truncatingIfNeeded: microseconds)
        if failed { byOrdinal[i].failed += 1 }
        if tracking { byOrdinal[i].histogram.record(nanoseconds: microseconds &* 1000) }
    }

    /// Counts a call of `spec` refused before it ran.
    mutating func recordRejection(_ spec: CommandSpec) {
        byOrdinal[slot(spec)].rejected += 1
    }

    /// Counts an error reply with `message` under its code.
    ///
    /// - Returns: true the first time the code limit turns a new code away (to log it).
    mutating func recordError(_ message: String) -> Bool {
        let code = Self.code(of: message)
        if let count = errorCodes[code] {
            errorCodes[code] = count + 1
            return false
        }
        guard errorCodes.count < Self.errorCodeLimit else {
            defer { errorCodesFull = true }
            return !errorCodesFull
        }
        errorCodes[code] = 1
        return false
    }

    /// An error message's code: its first word.
    static func code(of message: String) -> String {
        String(message.prefix { $0 != " " })
    }

    /// Every command called at least once (or rejected), by name.
    var commands: [CommandCounters] {
        byOrdinal.filter { $0.calls > 0 || $0.rejected > 0 || $0.failed > 0 }.sorted { $0.name < $1.name }
    }

    /// Forgets everything (`CONFIG RESETSTAT`).
    mutating func reset() {
        byOrdinal = []
        errorCodes = [:]
        errorCodesFull = false
    }
}
