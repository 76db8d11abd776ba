//! Serving other clients while a script runs past `busy-reply-threshold`. The event loop
//! is inside the script (Lua calls back every 100,000 instructions), so SwiftNIO cannot
//! read; as Redis's processEventsWhileBlocked, the checkpoint polls the clients' sockets
//! itself, reads what they sent into their input buffers and answers each command: `-BUSY`,
//! except `SCRIPT KILL`, `FUNCTION KILL`, `FUNCTION STATS`, `SHUTDOWN NOSAVE` and `QUIT`.
//! Partial input stays in the client's buffer for the event loop to complete afterwards.

import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    /// Polls every client but the script's caller and serves those with input.
    func serveClientsWhileBusy(_ run: ScriptRun) {
        var candidates: [ConnectionHandler] = []
        var descriptors: [pollfd] = []
        for connection in clients.values where connection !== run.caller && connection.canServeWhileBusy {
            candidates.append(connection)
            descriptors.append(pollfd(fd: Int32(connection.session.fd), events: Int16(POLLIN), revents: 0))
        }
        // SwiftNIO activates the connections it accepts with a task after the pass: those it
        // accepted in the pass that started this script are served like ones accepted here.
        for handler in awaitingActivation
        where handler.session.fd >= 0 && !handler.encrypted
            && !busyClients.contains(where: { $0.pendingHandler === handler })
        {
            busyClients.append(
                BusyClient(fd: Int32(handler.session.fd), session: handler.session, pendingHandler: handler))
        }
        let accepted = busyClients
        for client in accepted { descriptors.append(pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)) }
        for listener in listeningDescriptors {
            descriptors.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
        }
        guard !descriptors.isEmpty, poll(&descriptors, nfds_t(descriptors.count), 0) > 0 else { return }
        for (index, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
            if index < candidates.count {
                candidates[index].serveWhileBusy()
            } else if index < candidates.count + accepted.count {
                accepted[index - candidates.count].serve(core: self)
            } else {
                acceptWhileBusy(descriptor.fd)
            }
        }
    }

    /// The reply to one command while a script is busy: `-BUSY`, except for the commands
    /// Redis 7.0 flags `allow_busy` (connection and transaction state, the kills,
    /// `FUNCTION STATS`, `SHUTDOWN NOSAVE`), which touch no key.
    func executeWhileBusy(_ args: [Bytes], session: ClientSession) -> CommandOutcome {
        guard let run = scripting.run else { return .reply(ServerCore.busyError(function: false)) }
        let spec: CommandSpec
        switch engine.commands.resolve(args) {
        case .success(let found): spec = found
        case .failure(let error): return .reply(error)
        }
        if !session.authenticated && !spec.flags.contains(.noAuth) {
            return .reply(.error("NOAUTH Authentication required."))
        }
        // Redis's `allow_busy` flag decides; WATCH, which reads the keyspace, waits.
        guard spec.flags.contains(.allowBusy), spec.serverCommand != .watch else {
            session.transaction?.aborted = true
            let busy = ServerCore.busyError(function: run.isFunction)
            // As Redis: EXEC refused while busy discards the transaction, never runs half of it.
            if spec.serverCommand == .exec && session.transaction != nil {
                return .reply(abortExec(busy, session: session))
            }
            return .reply(busy)
        }
        switch spec.serverCommand {
        case .quit:
            return .replyThenClose(.ok)
        case .hello:
            return hello(args, session: session)
        case .auth:
            return .reply(auth(args, session: session))
        case .reset:
            resetSession(session)
            return .reply(.status("RESET"))
        case .multi:
            return .reply(multi(session))
        case .discard:
            return .reply(discard(session))
        case .unwatch:
            unwatchAll(session)
            return .reply(.ok)
        case .scriptKill:
            return .reply(killScript(function: false))
        case .functionKill:
            return .reply(killScript(function: true))
        case .functionStats:
            return .reply(functionStats())
        case .shutdown where args.dropFirst().contains { $0.equalsIgnoringCase("nosave") }:
            logger.warning("SHUTDOWN NOSAVE while script \(run.name) runs: stopping it and exiting.")
            run.killMessage = "Script killed by SHUTDOWN NOSAVE"
            run.shutdownAfter = true
            return .none
        case .shutdown:
            return .reply(.error("ERR Errors trying to SHUTDOWN. Check logs."))
        default:  // REPLCONF: nothing to do without replicas
            return .reply(.ok)
        }
    }
}
