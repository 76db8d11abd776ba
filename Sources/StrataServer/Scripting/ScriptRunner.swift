//! The decisions around running a script or function, apart from performing them: whether
//! it may start (`*_RO` with a write script, MISCONF, OOM), whether a command it calls may
//! run (`noscript`, writes in a read-only script, MISCONF, OOM at start), what SCRIPT KILL
//! and FUNCTION KILL do, and what follows once its body returned. They return values;
//! `ServerCore` performs them (logs, engine flags, running the body, committing writes,
//! shutting down), so each rule and its exact Redis 7.0 error text is unit-tested alone.

import StrataEngine
import StrataScripting

/// Whether a script may start.
enum ScriptAdmission: Equatable {
    /// Refused with this reply; the script does not run.
    case refused(Reply)
    /// It runs; `readOnly` when its writes are refused (`*_RO`, or `no-writes`), and
    /// `outOfMemoryAtStart` when `maxmemory` was exceeded as it started.
    case run(readOnly: Bool, outOfMemoryAtStart: Bool)
}

/// Whether a command a script calls (`redis.call`) may run.
enum CallAdmission: Equatable {
    /// Refused with this reply, which the script gets.
    case refused(Reply)
    /// It runs.
    case run
}

/// What SCRIPT KILL or FUNCTION KILL does.
enum KillDecision: Equatable {
    /// No script runs.
    case notBusy
    /// The script already wrote: it cannot be stopped.
    case unkillable
    /// The wrong kill for what runs (SCRIPT KILL for a function, or the reverse).
    case wrongKind(runningFunction: Bool)
    /// The script is told to stop; the server logs it and answers OK.
    case kill

    /// The reply to the client.
    var reply: Reply {
        switch self {
        case .notBusy: .error("NOTBUSY No scripts in execution right now.")
        case .unkillable:
            .error(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
            )
        case .wrongKind(let runningFunction): ScriptRunner.busyError(function: runningFunction)
        case .kill: .ok
        }
    }
}

/// What the server does once a script's body returned.
struct ScriptEnd: Equatable {
    /// What comes next.
    enum Next: Equatable {
        /// SHUTDOWN NOSAVE arrived while it ran: drop its effects (it never completed) and
        /// shut down without saving; no reply.
        case shutdown
        /// Commit its writes and serve the blocked clients they made ready, then reply.
        case commit
        /// It ran inside MULTI/EXEC: the transaction commits; just reply.
        case leaveToTransaction
    }

    /// Milliseconds it ran, when it ran past `busy-reply-threshold` (logged as slow).
    let slowMilliseconds: UInt64?
    /// What comes next.
    let next: Next
}

/// The rules before a script starts, and the texts they share.
enum ScriptRunner {
    /// The error of `EVAL_RO`/`FCALL_RO` with a script that declares it may write.
    static let writeFlagWithReadOnlyCommand = Reply.error(
        "ERR Can not execute a script with write flag using *_ro command.")
    /// The error of a `noscript` command called from a script.
    static let notAllowedFromScript = Reply.error("ERR This Redis command is not allowed from script")
    /// The error of a write command called from a read-only script.
    static let writeFromReadOnlyScript = Reply.error("ERR Write commands are not allowed from read-only scripts.")
    /// The message that stops a killed script. Redis 7.0's Lua hook says SCRIPT KILL for
    /// functions too; clients match the text.
    static let killedByUser = "Script killed by user with SCRIPT KILL..."

    /// Decides whether a script (or function, `isFunction`) with `flags` may start, called
    /// by `readOnlyCommand` (`EVAL_RO`, `FCALL_RO`). `writeRefusal` is the reply refusing
    /// writes after a disk error (nil when writes may run); `outOfMemory` frees memory as
    /// the server does before a command and says whether `maxmemory` is still exceeded:
    /// it is called once, after the `*_RO` check, and only then.
    static func admit(
        flags: ScriptFlags, isFunction: Bool, readOnlyCommand: Bool, writeRefusal: @autoclosure () -> Reply?,
        outOfMemory: () -> Bool
    ) -> ScriptAdmission {
        let declared = flags.contains(.declared) || isFunction
        let mayWrite = !(declared && flags.contains(.noWrites))
        if readOnlyCommand && declared && mayWrite { return .refused(writeFlagWithReadOnlyCommand) }
        let outOfMemoryAtStart = outOfMemory()
        if declared && mayWrite {
            if let refusal = writeRefusal() { return .refused(refusal) }
            if outOfMemoryAtStart && !flags.contains(.allowOOM) { return .refused(ServerCore.oomError) }
        }
        return .run(readOnly: readOnlyCommand || !mayWrite, outOfMemoryAtStart: outOfMemoryAtStart)
    }

    /// The error a script gets for a command that did not resolve (`error` is the
    /// resolver's reply).
    static func callResolutionError(_ error: Reply) -> Reply {
        if case .error(let text) = error, text.hasPrefix("ERR wrong number of arguments") {
            return .error("ERR Wrong number of args calling Redis command from script")
        }
        return .error("ERR Unknown Redis command called from script")
    }

    /// The reply to commands while a script runs past `busy-reply-threshold`.
    static func busyError(function: Bool) -> Reply {
        .error(
            "BUSY Redis is busy running a script. You can only call \(function ? "FUNCTION" : "SCRIPT") KILL or SHUTDOWN NOSAVE."
        )
    }
}

extension ScriptRun {
    /// Decides whether a command with `commandFlags` that the script calls may run.
    /// `writeRefusal` is the reply refusing writes after a disk error (nil when writes may
    /// run). An admitted write marks the script as having written (it can no longer be
    /// killed, and OOM no longer stops its later writes).
    func admitCall(_ commandFlags: CommandFlags, writeRefusal: @autoclosure () -> Reply?) -> CallAdmission {
        if commandFlags.contains(.noscript) { return .refused(ScriptRunner.notAllowedFromScript) }
        guard commandFlags.contains(.write) else { return .run }
        if readOnly { return .refused(ScriptRunner.writeFromReadOnlyScript) }
        if let refusal = writeRefusal() { return .refused(refusal) }
        if outOfMemoryAtStart && !wrote && commandFlags.contains(.denyOOM) && !flags.contains(.allowOOM) {
            return .refused(ServerCore.oomError)
        }
        wrote = true
        return .run
    }

    /// Decides what follows once the body returned; `insideTransaction` when it ran in
    /// MULTI/EXEC. `now` reads the monotonic clock (ns), only for a slow script.
    func end(insideTransaction: Bool, now: () -> UInt64) -> ScriptEnd {
        var slow: UInt64?
        if timedOut {
            let current = now()
            slow = (current >= startedAt ? current - startedAt : 0) / 1_000_000
        }
        let next: ScriptEnd.Next = shutdownAfter ? .shutdown : insideTransaction ? .leaveToTransaction : .commit
        return ScriptEnd(slowMilliseconds: slow, next: next)
    }
}

extension ScriptingState {
    /// Decides SCRIPT KILL (`function` false) or FUNCTION KILL: a script that has not
    /// written and is of the right kind is told to stop at its next checkpoint.
    func kill(function: Bool) -> KillDecision {
        guard let run else { return .notBusy }
        if run.wrote { return .unkillable }
        if run.isFunction != function { return .wrongKind(runningFunction: run.isFunction) }
        run.killMessage = ScriptRunner.killedByUser
        return .kill
    }
}
