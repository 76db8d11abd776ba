//! CLIENT PAUSE and UNPAUSE on the server: deciding from the command table whether a
//! command waits, parking the connection with its command (`ConnectionState.postponed`),
//! and resuming the parked connections in arrival order when the pause ends, at its
//! deadline (a task on the event loop, checked against the injected clock) or at UNPAUSE.

import NIOCore
import StrataEngine

extension ServerCore {
    /// Monotonic milliseconds, the pause's time base.
    var pauseClockMilliseconds: Int64 { Int64(clamping: clock.monotonicNanoseconds() / 1_000_000) }

    /// Whether `spec`, about to run for `session`, waits for the pause to end: every
    /// command in ALL mode; in WRITE mode writes, commands that may propagate, and EXEC of
    /// a transaction holding one.
    func postpones(_ spec: CommandSpec, session: ClientSession) -> Bool {
        let now = pauseClockMilliseconds
        guard pause.isActive(now: now) else {
            if pause.expire(now: now) { resumePostponedClients() }
            return false
        }
        var queuedWrite = false
        if spec.serverCommand == .exec, let queued = session.transaction?.queued {
            queuedWrite = queued.contains { args in
                guard case .success(let queuedSpec) = engine.commands.resolve(args) else { return false }
                return !queuedSpec.flags.isDisjoint(with: [.write, .mayReplicate])
            }
        }
        return pause.postpones(spec.flags, queuedWrite: queuedWrite, now: now)
    }

    /// Remembers a connection whose command waits for the pause to end.
    func notePostponed(_ connection: ConnectionHandler) {
        postponedClients.append(connection)
    }

    /// CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE.
    func pauseCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        guard command == .clientPause else {
            pause.unpause()
            resumePostponedClients()
            return .ok
        }
        if args.count > 4 { return Errors.syntax }
        var mode = ClientPause.Mode.all
        if args.count == 4 {
            if args[3].equalsIgnoringCase("write") {
                mode = .write
            } else if !args[3].equalsIgnoringCase("all") {
                return .error("ERR CLIENT PAUSE mode must be WRITE or ALL")
            }
        }
        guard let timeout = args[2].strictInteger else {
            return .error("ERR timeout is not an integer or out of range")
        }
        if timeout < 0 { return .error("ERR timeout is negative") }
        if timeout > Int.max - Int(clock.wallMilliseconds()) { return .error("ERR timeout is out of range") }
        let now = pauseClockMilliseconds
        pause.pause(mode, until: timeout > 0 ? now.addingReportingOverflow(Int64(timeout)).partialValue : 0)
        schedulePauseCheck()
        return .ok
    }

    /// Holds writers for a coordinated cluster failover (as `CLIENT PAUSE ms WRITE`).
    func pauseWritersForFailover(milliseconds: Int64) {
        pause.pause(.write, until: pauseClockMilliseconds.addingReportingOverflow(milliseconds).partialValue)
        schedulePauseCheck()
    }

    /// Checks the pause at its deadline (again later if it was extended meanwhile).
    private func schedulePauseCheck() {
        guard pause.mode != nil else { return }
        let remaining = Swift.max(pause.end - pauseClockMilliseconds, 1)
        eventLoop.scheduleTask(in: .milliseconds(remaining)) { [unowned(unsafe) self] in
            if self.pause.expire(now: self.pauseClockMilliseconds) {
                self.resumePostponedClients()
            } else {
                self.schedulePauseCheck()
            }
        }
    }

    /// Runs the commands held back by the pause, in the order they were held.
    func resumePostponedClients() {
        let waiting = postponedClients
        postponedClients.removeAll()
        for connection in waiting { connection.resumePostponed() }
    }
}
