//! The script runner's decisions alone: whether a script starts, whether a command it
//! calls runs, what SCRIPT KILL / FUNCTION KILL do and what follows a script's end, each
//! with Redis 7.0's exact error text.

import Testing

@testable import StrataEngine
@testable import StrataScripting
@testable import StrataServer

@Suite("Script runner")
struct ScriptRunnerTests {
    static let misconf = Reply.error("MISCONF Errors writing to the AOF file: No space left on device")
    static let oom = Reply.error("OOM command not allowed when used memory > 'maxmemory'.")

    /// Admits a script, counting the memory checks (each one may evict keys).
    static func admit(
        _ flags: ScriptFlags, function: Bool = false, readOnlyCommand: Bool = false, refusal: Reply? = nil,
        outOfMemory: Bool = false
    ) -> (ScriptAdmission, memoryChecks: Int) {
        var checks = 0
        let admission = ScriptRunner.admit(
            flags: flags, isFunction: function, readOnlyCommand: readOnlyCommand, writeRefusal: refusal
        ) {
            checks += 1
            return outOfMemory
        }
        return (admission, checks)
    }

    static func run(
        on server: EmbeddedServer, flags: ScriptFlags = [], function: Bool = false, readOnly: Bool = false,
        outOfMemoryAtStart: Bool = false
    ) throws -> ScriptRun {
        ScriptRun(
            name: "s", isFunction: function, flags: flags, readOnly: readOnly, caller: try server.connect().handler,
            now: 0, startedAt: 1_000_000_000, outOfMemoryAtStart: outOfMemoryAtStart)
    }

    @Test func aReadOnlyCommandRefusesAScriptThatMayWriteBeforeCheckingMemory() {
        let refused = Self.admit([.declared], readOnlyCommand: true, outOfMemory: true)
        #expect(refused.0 == .refused(.error("ERR Can not execute a script with write flag using *_ro command.")))
        #expect(refused.memoryChecks == 0, "no eviction for a refused script")
        let function = Self.admit([], function: true, readOnlyCommand: true).0
        #expect(function == .refused(ScriptRunner.writeFlagWithReadOnlyCommand), "functions are always declared")
        #expect(
            Self.admit([.declared, .noWrites], readOnlyCommand: true).0
                == .run(readOnly: true, outOfMemoryAtStart: false))
        #expect(
            Self.admit([], readOnlyCommand: true).0 == .run(readOnly: true, outOfMemoryAtStart: false),
            "a script without a shebang runs read-only under EVAL_RO")
        #expect(Self.admit([]).0 == .run(readOnly: false, outOfMemoryAtStart: false))
        #expect(Self.admit([.declared, .noWrites]).0 == .run(readOnly: true, outOfMemoryAtStart: false))
    }

    @Test func aScriptThatMayWriteIsRefusedAfterADiskError() {
        #expect(Self.admit([.declared], refusal: Self.misconf).0 == .refused(Self.misconf))
        #expect(Self.admit([], function: true, refusal: Self.misconf).0 == .refused(Self.misconf))
        #expect(
            Self.admit([.declared, .noWrites], refusal: Self.misconf).0
                == .run(readOnly: true, outOfMemoryAtStart: false))
        #expect(
            Self.admit([], refusal: Self.misconf).0 == .run(readOnly: false, outOfMemoryAtStart: false),
            "a script without a shebang is checked at each write it calls")
    }

    @Test func aScriptThatMayWriteIsRefusedOverMaxmemoryUnlessItAllowsOOM() {
        let refused = Self.admit([.declared], outOfMemory: true)
        #expect(refused.0 == .refused(Self.oom))
        #expect(refused.memoryChecks == 1)
        #expect(
            Self.admit([.declared, .allowOOM], outOfMemory: true).0 == .run(readOnly: false, outOfMemoryAtStart: true))
        #expect(
            Self.admit([.declared, .noWrites], outOfMemory: true).0 == .run(readOnly: true, outOfMemoryAtStart: true))
        #expect(Self.admit([], outOfMemory: true).0 == .run(readOnly: false, outOfMemoryAtStart: true))
    }

    @Test func callsRefuseNoscriptCommandsAndWritesOfReadOnlyScripts() throws {
        let server = EmbeddedServer()
        let readOnly = try Self.run(on: server, readOnly: true)
        #expect(
            readOnly.admitCall([.noscript], writeRefusal: nil)
                == .refused(.error("ERR This Redis command is not allowed from script")))
        #expect(readOnly.admitCall([.readonly], writeRefusal: Self.misconf) == .run, "reads run after a disk error")
        #expect(
            readOnly.admitCall([.write], writeRefusal: nil)
                == .refused(.error("ERR Write commands are not allowed from read-only scripts.")))
        #expect(!readOnly.wrote)
        let writer = try Self.run(on: server)
        #expect(writer.admitCall([.write], writeRefusal: Self.misconf) == .refused(Self.misconf))
        #expect(!writer.wrote, "a refused write leaves it killable")
        #expect(writer.admitCall([.write, .denyOOM], writeRefusal: nil) == .run)
        #expect(writer.wrote)
    }

    @Test func callsOverMaxmemoryAtStartAreRefusedUntilTheScriptWrote() throws {
        let server = EmbeddedServer()
        let run = try Self.run(on: server, outOfMemoryAtStart: true)
        #expect(run.admitCall([.write, .denyOOM], writeRefusal: nil) == .refused(Self.oom))
        #expect(run.admitCall([.write], writeRefusal: nil) == .run, "DEL frees memory: no denyoom")
        #expect(run.wrote)
        #expect(run.admitCall([.write, .denyOOM], writeRefusal: nil) == .run, "once it wrote, it completes")
        let allowed = try Self.run(on: server, flags: [.declared, .allowOOM], outOfMemoryAtStart: true)
        #expect(allowed.admitCall([.write, .denyOOM], writeRefusal: nil) == .run)
        let roomy = try Self.run(on: server)
        #expect(roomy.admitCall([.write, .denyOOM], writeRefusal: nil) == .run)
    }

    @Test func unresolvedCallsGetTheScriptWording() {
        #expect(
            ScriptRunner.callResolutionError(.error("ERR wrong number of arguments for 'get' command"))
                == .error("ERR Wrong number of args calling Redis command from script"))
        #expect(
            ScriptRunner.callResolutionError(.error("ERR unknown command 'nope', with args beginning with: "))
                == .error("ERR Unknown Redis command called from script"))
    }

    @Test func killStopsOnlyAScriptOfItsKindThatHasNotWritten() throws {
        let server = EmbeddedServer()
        var state = server.core.scripting
        #expect(state.kill(function: false) == .notBusy)
        #expect(KillDecision.notBusy.reply == .error("NOTBUSY No scripts in execution right now."))

        let function = try Self.run(on: server, function: true)
        state.run = function
        let wrongKind = state.kill(function: false)
        #expect(wrongKind == .wrongKind(runningFunction: true))
        #expect(
            wrongKind.reply
                == .error(
                    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."))
        #expect(function.killMessage == nil)
        #expect(state.kill(function: true) == .kill)
        #expect(function.killMessage == "Script killed by user with SCRIPT KILL...")
        #expect(KillDecision.kill.reply == .ok)

        let script = try Self.run(on: server)
        state.run = script
        #expect(
            state.kill(function: true).reply
                == .error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."))
        script.wrote = true
        let unkillable = state.kill(function: false)
        #expect(unkillable == .unkillable)
        #expect(
            unkillable.reply
                == .error(
                    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
                ))
        #expect(script.killMessage == nil)
    }

    @Test func theEndLogsSlowScriptsAndShutsDownOrCommits() throws {
        let server = EmbeddedServer()
        let run = try Self.run(on: server)
        var clockReadings = 0
        let quick = run.end(insideTransaction: false) {
            clockReadings += 1
            return 0
        }
        #expect(quick == ScriptEnd(slowMilliseconds: nil, next: .commit))
        #expect(clockReadings == 0, "the clock is read only for a slow script")
        #expect(run.end(insideTransaction: true) { 0 } == ScriptEnd(slowMilliseconds: nil, next: .leaveToTransaction))
        run.timedOut = true
        #expect(
            run.end(insideTransaction: false) { 1_000_000_000 + 6_250_000_000 }
                == ScriptEnd(slowMilliseconds: 6_250, next: .commit))
        run.shutdownAfter = true
        #expect(
            run.end(insideTransaction: true) { 1_000_000_000 + 7_000_000_000 }
                == ScriptEnd(slowMilliseconds: 7_000, next: .shutdown))
    }
}
