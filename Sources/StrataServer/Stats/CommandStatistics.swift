//! Per-command and per-error counters: what `INFO commandstats`, `INFO errorstats`,
//! `INFO latencystats` and `LATENCY HISTOGRAM` report, counted as Redis 7.0 counts them.
//!
//! A call that ran counts in `calls` and `usec` (and in the latency histogram when
//! `latency-tracking` is on); one that ran and answered an error also in `failed_calls`;
//! one refused before running (arity, NOAUTH, OOM, MISCONF, LOADING, a subscribed RESP2
//! client, a busy script) in `rejected_calls` only. Every error reply counts under its code
//! (the first word: `ERR`, `WRONGTYPE`...); as in Redis, at most 128 different codes are
//! tracked, so a client cannot grow the table without bound. Counters are kept per table
//! entry (subcommands apart: `client|list`), looked up by the entry's identity.

import StrataEngine

/// One command's counters.
final class CommandCounters {
    /// The table name (`get`, `client|list`).
    let name: String
    var calls = 0
    var microseconds = 0
    var rejected = 0
    var failed = 0
    var histogram = LatencyHistogram()

    init(name: String) { self.name = name }
}

/// The counters of every command that was called, and of every error code replied.
struct CommandStatistics {
    /// At most this many different error codes are counted.
    static let errorCodeLimit = 128

    private var byCommand: [ObjectIdentifier: CommandCounters] = [:]
    /// Error replies by code.
    private(set) var errorCodes: [String: Int] = [:]
    /// Whether the error-code limit was hit (logged once).
    private(set) var errorCodesFull = false

    /// The counters of `spec`, created on first use.
    mutating func counters(_ spec: CommandSpec) -> CommandCounters {
        let id = ObjectIdentifier(spec)
        if let existing = byCommand[id] { return existing }
        let created = CommandCounters(name: spec.name)
        byCommand[id] = created
        return created
    }

    /// Counts a call of `spec` that ran for `nanoseconds`; `failed` when it answered an
    /// error. The histogram is fed only with `tracking` (`latency-tracking yes`).
    mutating func recordCall(_ spec: CommandSpec, nanoseconds: UInt64, failed: Bool, tracking: Bool) {
        let counters = counters(spec)
        counters.calls += 1
        // Redis measures whole microseconds and records them as nanoseconds.
        let microseconds = nanoseconds / 1000
        counters.microseconds &+= Int(truncatingIfNeeded: microseconds)
        if failed { counters.failed += 1 }
        if tracking { counters.histogram.record(nanoseconds: microseconds &* 1000) }
    }

    /// Counts a call of `spec` refused before it ran.
    mutating func recordRejection(_ spec: CommandSpec) {
        counters(spec).rejected += 1
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
        byCommand.values.filter { $0.calls > 0 || $0.rejected > 0 || $0.failed > 0 }.sorted { $0.name < $1.name }
    }

    /// Forgets everything (`CONFIG RESETSTAT`).
    mutating func reset() {
        byCommand = [:]
        errorCodes = [:]
        errorCodesFull = false
    }
}
