//! CLIENT PAUSE as a value: which commands wait (all, or those that write or may
//! propagate) and until when. Redis keeps the most restrictive mode and the latest end
//! when pauses overlap, and ends the pause at its deadline or at CLIENT UNPAUSE. Commands
//! of a paused client are postponed, not refused: the server parks the connection with
//! the command and runs it when the pause ends. A coordinated failover holds writes the
//! same way, independently of CLIENT PAUSE (CLIENT UNPAUSE does not end it), until the
//! failover ends. Time is passed in, so the rules are tested on a fake clock.

import StrataEngine

/// The state of CLIENT PAUSE.
struct ClientPause: Equatable {
    /// What a pause holds back.
    enum Mode: Int, Comparable {
        /// Writes, and commands that may propagate (EVAL, PUBLISH, PFCOUNT, ...).
        case write = 1
        /// Every command.
        case all = 2

        static func < (a: Mode, b: Mode) -> Bool { a.rawValue < b.rawValue }
    }

    /// The mode in effect, nil when not paused.
    private(set) var mode: Mode?
    /// When the pause ends, monotonic ms.
    private(set) var end: Int64 = 0
    /// Whether a coordinated failover (`FAILOVER`) holds writes back.
    var holdsForFailover = false

    /// Whether anything may be held back (the cheap check before the others).
    var isPausing: Bool { mode != nil || holdsForFailover }

    /// Pauses until `end` (monotonic ms) in `mode`, or extends the current pause: the more
    /// restrictive mode and the later end win, as in Redis.
    mutating func pause(_ mode: Mode, until end: Int64) {
        self.mode = Swift.max(self.mode ?? mode, mode)
        self.end = Swift.max(self.end, end)
    }

    /// CLIENT UNPAUSE.
    mutating func unpause() {
        mode = nil
        end = 0
    }

    /// Ends the pause when its deadline has passed.
    ///
    /// - Returns: whether it ended now (postponed clients are to be resumed).
    mutating func expire(now: Int64) -> Bool {
        guard mode != nil, now >= end else { return false }
        unpause()
        return true
    }

    /// Whether a pause is in effect at `now`.
    func isActive(now: Int64) -> Bool { holdsForFailover || (mode != nil && now < end) }

    /// Whether writes, expiry and eviction are held back at `now` (any mode pauses them).
    func holdsWrites(now: Int64) -> Bool { isActive(now: now) }

    /// Whether a command with `flags` waits at `now`; `queuedWrite` is for EXEC, whose
    /// queued commands include a write or a command that may propagate.
    func postpones(_ flags: CommandFlags, queuedWrite: Bool, now: Int64) -> Bool {
        let writes = !flags.isDisjoint(with: [.write, .mayReplicate]) || queuedWrite
        if holdsForFailover && writes { return true }
        guard let mode, now < end else { return false }
        return mode == .all || writes
    }
}
