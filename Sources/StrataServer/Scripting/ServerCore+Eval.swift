//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, and running a script atomically: on the
//! event loop, with nothing else interleaved, its commands executed as the fake `lua`
//! client at the time the script started. The writes it makes are logged to the AOF as the
//! effects they had, wrapped in MULTI/EXEC when more than one, so replay never runs Lua.

import StrataEngine
import StrataScripting

extension ServerCore {
    static let noScriptError = Reply.error("NOSCRIPT No matching script. Please use EVAL.")

    /// Reads `numkeys` and splits the keys from the arguments (`EVAL`, `FCALL`).
    static func scriptArguments(_ args: [Bytes]) -> Result<(keys: ArraySlice<Bytes>, args: ArraySlice<Bytes>), Reply> {
        guard let count = args[2].strictInteger else { return .failure(Errors.notInteger) }
        guard count <= args.count - 3 else {
            return .failure(.error("ERR Number of keys can't be greater than number of args"))
        }
        guard count >= 0 else { return .failure(.error("ERR Number of keys can't be negative")) }
        return .success((args[3..<(3 + count)], args[(3 + count)...]))
    }

    func evalCommand(
        _ command: ServerCommand, args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64
    )
        -> CommandOutcome
    {
        let isSha = command == .evalsha || command == .evalshaReadOnly
        // As Redis: a digest that is not 40 characters long cannot match, before numkeys.
        if isSha && args[1].count != 40 { return .reply(ServerCore.noScriptError) }
        let split: (keys: ArraySlice<Bytes>, args: ArraySlice<Bytes>)
        switch ServerCore.scriptArguments(args) {
        case .success(let value): split = value
        case .failure(let error): return .reply(error)
        }
        let cache = scripting.cache
        let sha: String
        let script: CachedScript
        if isSha {
            guard let found = cache.script(sha: args[1]) else { return .reply(ServerCore.noScriptError) }
            (sha, script) = (found.sha, found)
        } else {
            do {
                (sha, script) = try cache.load(args[1])
            } catch {
                return .reply(.error(error.message))
            }
        }
        return runScript(
            name: sha, isFunction: false, flags: script.flags,
            readOnlyCommand: command == .evalReadOnly || command == .evalshaReadOnly,
            session: session, connection: connection, now: now, declaredKeys: split.keys
        ) { cache.interpreter.runScript(script.ref, keys: split.keys, args: split.args, name: sha) }
    }

    /// The reply refusing writes after a failed save or AOF write, nil while writes may run.
    var diskWriteRefusal: Reply? {
        writesDeniedByDiskError || aof.writeError != nil ? (aofWriteErrorReply ?? ServerCore.misconfError) : nil
    }

    /// Runs a script or function with Redis's checks before it starts (`ScriptRunner`
    /// decides them), then performs what its end calls for.
    func runScript(
        name: String, isFunction: Bool, flags: ScriptFlags, readOnlyCommand: Bool, session: ClientSession,
        connection: ConnectionHandler, now: Int64, declaredKeys: ArraySlice<Bytes> = [], body: () -> Reply
    ) -> CommandOutcome {
        if cluster != nil && (flags.contains(.declared) || isFunction) && flags.contains(.noCluster) {
            return .reply(.error("ERR Can not run script on cluster, 'no-cluster' flag is set."))
        }
        let admission = ScriptRunner.admit(
            flags: flags, isFunction: isFunction, readOnlyCommand: readOnlyCommand, writeRefusal: diskWriteRefusal
        ) { config.maxMemory > 0 && !performEvictions(now: now) }
        let run: ScriptRun
        switch admission {
        case .refused(let reply):
            return .reply(reply)
        case .run(let readOnly, let outOfMemoryAtStart):
            run = ScriptRun(
                name: name, isFunction: isFunction, flags: flags, readOnly: readOnly, caller: connection, now: now,
                startedAt: clock.monotonicNanoseconds(), outOfMemoryAtStart: outOfMemoryAtStart)
        }
        // Cluster mode: the declared keys (one slot, checked before) fix the script's slot.
        if cluster != nil, let first = declaredKeys.first { run.clusterSlot = SlotKeyIndex.slot(of: first) }
        let insideTransaction = executingTransaction
        scripting.run = run
        scripting.session.db = session.db
        executingTransaction = true
        engine.runningScript = true
        let reply = body()
        engine.runningScript = false
        executingTransaction = insideTransaction
        scripting.run = nil
        if case .error(let text) = reply, run.countedErrors.contains(where: { text.hasPrefix($0) }) {
            errorReplyAlreadyCounted = true
        }
        if !busyClients.isEmpty { adoptBusyClients() }
        let end = run.end(insideTransaction: insideTransaction) { clock.monotonicNanoseconds() }
        if let elapsed = end.slowMilliseconds {
            logger.notice("Slow script \(name) finished after \(elapsed) ms.")
        }
        switch end.next {
        case .shutdown:
            _ = engine.takeEffects()  // the script never completed: none of it is logged
            _ = prepareShutdown(noSave: true)
            shutdownRequested?()
            return .none
        case .commit:
            commitWrites(now: now)
            serveBlockedClients(now: now)
        case .leaveToTransaction:
            break
        }
        return .reply(reply)
    }

    func scriptCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        switch command {
        case .scriptLoad:
            do {
                return .text(try scripting.cache.load(args[2]).sha)
            } catch {
                return .error(error.message)
            }
        case .scriptExists:
            return .array(args.dropFirst(2).map { .integer(scripting.cache.script(sha: $0) == nil ? 0 : 1) })
        case .scriptFlush:
            guard
                args.count == 2
                    || (args.count == 3 && (args[2].equalsIgnoringCase("async") || args[2].equalsIgnoringCase("sync")))
            else { return .error("ERR SCRIPT FLUSH only support SYNC|ASYNC option") }
            do {
                try scripting.cache.flush()
            } catch {
                return .error(error.message)
            }
            return .ok
        case .scriptKill:
            return killScript(function: false)
        default:
            return .array(
                [
                    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "EXISTS <sha1> [<sha1> ...]",
                    "    Return information about the existence of the scripts in the script cache.",
                    "FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache. Very dangerous on replicas.",
                    "    When called without the optional mode argument, the behavior is determined by the",
                    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                    "    * ASYNC: Asynchronously flush the scripts cache.",
                    "    * SYNC: Synchronously flush the scripts cache.",
                    "KILL", "    Kill the currently executing Lua script.", "LOAD <script>",
                    "    Load a script into the scripts cache without executing it.", "HELP", "    Print this help.",
                ].map { .status($0) })
        }
    }

    /// `SCRIPT KILL` / `FUNCTION KILL`, as `ScriptingState.kill` decides.
    func killScript(function: Bool) -> Reply {
        let decision = scripting.kill(function: function)
        if decision == .kill {
            logger.warning("Lua script killed by user with \(function ? "FUNCTION" : "SCRIPT") KILL.")
        }
        return decision.reply
    }

    /// The reply to commands while a script runs past `busy-reply-threshold`.
    static func busyError(function: Bool) -> Reply {
        ScriptRunner.busyError(function: function)
    }
}

extension ServerCore: ScriptHost {
    func scriptCall(_ args: [Bytes]) -> Reply {
        guard let run = scripting.run else {
            return .error("ERR redis.call can only be called inside a script invocation")
        }
        let reply = scriptCall(args, run: run)
        if case .error(let text) = reply { run.countedErrors.append(text) }
        return reply
    }

    /// `redis.call` within `run`; every error it returns has been counted (errorstats, and
    /// the command's rejected or failed calls), as Redis counts them where they happen.
    private func scriptCall(_ args: [Bytes], run: ScriptRun) -> Reply {
        let spec: CommandSpec
        switch engine.commands.resolve(args) {
        case .success(let found): spec = found
        case .failure(let error):
            let reply = ScriptRunner.callResolutionError(error)
            noteErrorReply(reply)
            return reply
        }
        if !spec.flags.contains(.noscript), let user = run.caller.session.user, !user.isUnrestricted {
            if let denial = user.check(spec, args, catalog: accessControl.catalog) {
                noteACLDenial(denial, spec: spec, args: args, user: user, session: run.caller.session, context: .lua)
                return rejected(spec, .error(ServerCore.scriptDenial(denial.reason)))
            }
        }
        if cluster != nil, let refusal = clusterScriptRefusal(spec, args: args, run: run) {
            return rejected(spec, refusal)
        }
        if case .refused(let reply) = run.admitCall(spec.flags, writeRefusal: diskWriteRefusal) {
            return rejected(spec, reply)
        }
        let session = scripting.session
        let logged = run.propagates ? 0 : effectCount()
        let outcome = runResolved(spec, args: args, session: session, connection: run.caller, now: run.now)
        if !run.propagates { dropEffects(after: logged) }
        switch outcome {
        case .reply(let reply), .replyThenClose(let reply): return reply
        case .none, .postponed: return .null
        }
    }

    private func effectCount() -> Int { engine.record.effects.count }

    private func dropEffects(after count: Int) { engine.dropEffects(after: count) }

    func scriptCheckpoint() -> String? {
        guard let run = scripting.run else { return nil }
        let action = run.checkpoint(
            now: clock.monotonicNanoseconds(),
            busyThresholdNanoseconds: UInt64(config.busyReplyThresholdMilliseconds) * 1_000_000)
        switch action {
        case .carryOn:
            return nil
        case .stop(let message):
            return message
        case .becameBusy(let elapsed):
            logger.warning(
                "Slow script detected: still in execution after \(elapsed) milliseconds. You can try killing the script using the \(run.isFunction ? "FUNCTION" : "SCRIPT") KILL command. Script name is: \(run.name)."
            )
            serveWhileBusy(run)
        case .serveClients:
            serveWhileBusy(run)
        }
        return run.killMessage
    }

    /// As Redis's beforeSleep while blocked: replies finished before the script (in the
    /// same pass of the event loop) leave now, or their clients would wait for the script
    /// without a way to send SCRIPT KILL; then the other clients are answered.
    private func serveWhileBusy(_ run: ScriptRun) {
        flushPending()
        serveClientsWhileBusy(run)
    }

    func scriptLog(level: Int, message: String) {
        switch level {
        case 0: logger.debug("\(message)")
        case 1: logger.info("\(message)")
        case 2: logger.notice("\(message)")
        default: logger.warning("\(message)")
        }
    }

    func scriptACLCheck(_ args: [Bytes]) -> Bool? {
        guard var spec = engine.commands.spec(named: args[0]) else { return nil }
        if case .container = spec.handler {
            guard args.count > 1, let sub = spec.subcommands[args[1].lowercased.string] else { return nil }
            spec = sub
        }
        guard let user = scripting.run?.caller.session.user, !user.isUnrestricted else { return true }
        return user.check(spec, args, catalog: accessControl.catalog) == nil
    }

    func scriptSetReplication(_ flags: Int) {
        scripting.run?.propagates = flags & 1 != 0
    }
}
