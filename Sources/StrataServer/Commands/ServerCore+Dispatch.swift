//! Server-executed commands: connection state (PING, QUIT, HELLO, AUTH, RESET), TIME and
//! SHUTDOWN, and the routing of every ``ServerCommand`` of the command table to its
//! handler (one exhaustive switch: a new server command does not compile until routed).

import CMallocInfo
import RESP
import StrataEngine

extension ServerCore {
    /// Runs a command the server executes itself: the table's ``ServerCommand`` picks the
    /// handler.
    func runServerCommand(
        _ command: ServerCommand, args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64
    ) -> CommandOutcome {
        switch command {
        case .eval, .evalsha, .evalReadOnly, .evalshaReadOnly:
            return evalCommand(command, args: args, session: session, connection: connection, now: now)
        case .fcall, .fcallReadOnly:
            return fcallCommand(command, args: args, session: session, connection: connection, now: now)
        case .ping:
            if args.count > 2 { return .reply(Errors.arity("ping")) }
            if session.resp == .resp2 && session.isSubscriber {
                return .reply(.array([.text("pong"), .bulk(args.count == 2 ? args[1] : Bytes())]))
            }
            return .reply(args.count == 2 ? .bulk(args[1]) : .status("PONG"))
        case .quit:
            return .replyThenClose(.ok)
        case .hello:
            return hello(args, session: session)
        case .auth:
            return .reply(auth(args, session: session))
        case .aclCat, .aclDelUser, .aclDryRun, .aclGenPass, .aclGetUser, .aclHelp, .aclList, .aclLoad, .aclLog,
            .aclSave, .aclSetUser, .aclUsers, .aclWhoAmI:
            return aclCommand(command, args: args, session: session)
        case .multi, .exec, .discard, .watch, .unwatch:
            return .reply(transactionCommand(command, args: args, session: session, connection: connection, now: now))
        case .subscribe, .patternSubscribe, .unsubscribe, .patternUnsubscribe, .publish, .pubsubChannels,
            .pubsubNumSub, .pubsubNumPat, .pubsubHelp, .shardSubscribe, .shardUnsubscribe, .shardPublish,
            .pubsubShardChannels, .pubsubShardNumSub:
            return .reply(pubsubCommand(command, args: args, session: session))
        case .reset:
            resetSession(session)
            return .reply(.status("RESET"))
        case .time:
            let micros = clock.wallMicroseconds()
            return .reply(.array([.text(String(micros / 1_000_000)), .text(String(micros % 1_000_000))]))
        case .shutdown:
            return shutdown(args)
        case .save, .bgSave, .lastSave:
            return .reply(persistenceCommand(command, args: args))
        case .bgRewriteAOF:
            return .reply(bgrewriteaofCommand())
        case .sync, .psync:
            return synchronize(command, args: args, connection: connection)
        case .replConf:
            return replconf(args, connection: connection)
        case .memoryStats:
            return .reply(memoryStats())
        case .memoryDoctor:
            return .reply(.verbatim(memoryDoctor()))
        case .memoryMallocStats:
            return .reply(mallocStats())
        case .memoryPurge:
            strata_malloc_trim()
            return .reply(.ok)
        case .moduleList, .moduleLoad, .moduleLoadEx, .moduleUnload, .moduleHelp:
            return .reply(moduleCommand(command))
        case .lolwut:
            return .reply(lolwut(args))
        case .cluster:
            return .reply(clusterCommand(args, session: session, now: now))
        case .asking, .readOnly, .readWrite:
            return .reply(clusterConnectionCommand(command, session: session))
        case .dump:
            return .reply(dumpCommand(args, session: session, now: now))
        case .restore:
            return .reply(restoreCommand(args, db: session.db, now: now))
        case .migrate:
            return .reply(migrateCommand(args, session: session, now: now))
        case .wait:
            return waitCommand(args, connection: connection)
        case .debug:
            return .reply(debugCommand(args, session: session))
        case .role:
            return .reply(primaryLink.map(replicaRoleReply) ?? roleReply())
        case .replicaof:
            return .reply(replicaofCommand(args, session: session))
        case .failover:
            return .reply(failoverCommand(args, now: now))
        case .info:
            return .reply(.verbatim(info(args, now: now)))
        case .command, .commandCount, .commandInfo, .commandDocs, .commandList, .commandGetKeys,
            .commandGetKeysAndFlags,
            .commandHelp:
            return .reply(commandCommand(command, args: args))
        case .scriptLoad, .scriptExists, .scriptFlush, .scriptKill, .scriptHelp:
            return .reply(scriptCommand(command, args: args))
        case .functionLoad, .functionDelete, .functionFlush, .functionDump, .functionRestore, .functionList,
            .functionStats, .functionKill, .functionHelp:
            return .reply(functionCommand(command, args: args, now: now))
        case .clientID, .clientSetName, .clientGetName, .clientList, .clientInfo, .clientKill, .clientUnblock,
            .clientHelp, .clientTracking, .clientCaching, .clientGetRedir, .clientTrackingInfo, .clientReply,
            .clientPause, .clientUnpause, .clientNoEvict:
            return clientCommand(command, args: args, session: session, connection: connection, now: now)
        case .configGet, .configSet, .configResetStat, .configRewrite, .configHelp:
            return .reply(configCommand(command, args: args, session: session))
        case .monitor:
            return monitorCommand(session: session)
        case .slowlogGet, .slowlogLen, .slowlogReset, .slowlogHelp:
            return .reply(slowLogCommand(command, args: args))
        case .latencyLatest, .latencyHistory, .latencyReset, .latencyGraph, .latencyDoctor, .latencyHistogram,
            .latencyHelp:
            return .reply(latencyCommand(command, args: args, now: now))
        }
    }

    /// RESET: the connection's state back to a new connection's.
    func resetSession(_ session: ClientSession) {
        session.transaction = nil
        unwatchAll(session)
        unsubscribeAll(session)
        monitors.remove(session.id)
        tracking.disable(session.id)
        session.repliesOff = false
        session.skipsNextReply = false
        session.skipsThisReply = false
        session.noEvict = false
        session.asking = false
        session.readOnlyCluster = false
        session.db = 0
        session.resp = .resp2
        session.name = nil
        session.user = accessControl.defaultUser
        session.authenticated = !accessControl.authenticationRequired
    }

    func hello(_ args: [Bytes], session: ClientSession) -> CommandOutcome {
        var version = session.resp
        var index = 1
        if args.count >= 2 {
            guard let requested = args[1].strictInteger else {
                return .reply(.error("ERR Protocol version is not an integer or out of range"))
            }
            guard requested == 2 || requested == 3 else {
                return .reply(.error("NOPROTO unsupported protocol version"))
            }
            version = requested == 3 ? .resp3 : .resp2
            index = 2
        }
        var newName: String?
        var authenticatedNow = false
        while index < args.count {
            let option = args[index]
            let remaining = args.count - index - 1
            if option.equalsIgnoringCase("auth") && remaining >= 2 {
                guard authenticate(session, name: args[index + 1].string, password: args[index + 2], object: args[0])
                else { return .reply(ServerCore.wrongPassword) }
                authenticatedNow = true
                index += 3
            } else if option.equalsIgnoringCase("setname") && remaining >= 1 {
                let name = args[index + 1]
                guard ClientNames.isValid(name) else {
                    return .reply(.error("ERR Client names cannot contain spaces, newlines or special characters."))
                }
                newName = name.string
                index += 2
            } else {
                return .reply(.error("ERR Syntax error in HELLO option '\(option.string)'"))
            }
        }
        if !session.authenticated && !authenticatedNow {
            return .reply(
                .error(
                    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
                ))
        }
        if authenticatedNow { session.authenticated = true }
        if let newName { session.name = newName.isEmpty ? nil : newName }
        session.resp = version
        return .reply(
            .map([
                (.text("server"), .text("redis")),
                (.text("version"), .text(ServerVersion.redisCompatible)),
                (.text("proto"), .integer(version.rawValue)),
                (.text("id"), .integer(Int(session.id))),
                (.text("mode"), .text(cluster == nil ? "standalone" : "cluster")),
                (.text("role"), .text("master")),
                (.text("modules"), .array([])),
            ]))
    }

    func shutdown(_ args: [Bytes]) -> CommandOutcome {
        var (save, noSave, force) = (false, false, false)
        for option in args.dropFirst() {
            let known = ["nosave", "save", "now", "force", "abort"]
            guard known.contains(option.lowercased.string) else { return .reply(Errors.syntax) }
            if option.equalsIgnoringCase("abort") {
                return .reply(.error("ERR No shutdown in progress."))
            }
            if option.equalsIgnoringCase("save") { save = true }
            if option.equalsIgnoringCase("nosave") { noSave = true }
            if option.equalsIgnoringCase("force") { force = true }
        }
        if save && noSave { return .reply(Errors.syntax) }
        logger.notice("User requested shutdown...")
        guard prepareShutdown(save: save, noSave: noSave) || force else {
            return .reply(.error("ERR Errors trying to SHUTDOWN. Check logs."))
        }
        shutdownRequested?()
        return .none
    }

    /// Saves before exiting when save points are configured (or `save`), unless
    /// `noSave`. Returns false when the save failed.
    func prepareShutdown(save: Bool = false, noSave: Bool = false) -> Bool {
        if aof.isLogging {
            logger.notice("Calling fsync() on the AOF file.")
            flushAppendOnlyFileNow()
        }
        guard !noSave, save || !config.savePoints.isEmpty, !persistence.loading else { return true }
        logger.notice("Saving the final snapshot before exiting.")
        guard saveNow() else {
            logger.warning("Error trying to save the DB, can't exit.")
            return false
        }
        return true
    }
}

/// Rules for client names.
enum ClientNames {
    /// Names may not contain spaces, newlines or characters outside `!`...`~`.
    static func isValid(_ name: Bytes) -> Bool {
        name.withUnsafeBytes { raw in raw.allSatisfy { $0 >= 33 && $0 <= 126 } }
    }
}
