//! CLIENT subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, UNBLOCK, REPLY, NO-EVICT,
//! HELP; TRACKING and its family are in `ServerCore+Tracking.swift`, PAUSE and UNPAUSE in
//! `ServerCore+ClientPause.swift`.

import StrataEngine

extension ServerCore {
    func clientCommand(
        _ command: ServerCommand, args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64
    ) -> CommandOutcome {
        switch command {
        case .clientID:
            return .reply(.integer(Int(session.id)))
        case .clientSetName:
            let name = args[2]
            guard ClientNames.isValid(name) else {
                return .reply(.error("ERR Client names cannot contain spaces, newlines or special characters."))
            }
            session.name = name.isEmpty ? nil : name.string
            return .reply(.ok)
        case .clientGetName:
            return .reply(session.name.map { .text($0) } ?? .null)
        case .clientInfo:
            return .reply(.verbatim(line(connection, current: session, now: now) + "\n"))
        case .clientList:
            return .reply(clientList(args, current: session, now: now))
        case .clientKill:
            return clientKill(args, current: session)
        case .clientUnblock:
            return .reply(clientUnblock(args))
        case .clientTracking, .clientCaching, .clientGetRedir, .clientTrackingInfo:
            return .reply(trackingCommand(command, args: args, session: session))
        case .clientPause, .clientUnpause:
            return .reply(pauseCommand(command, args: args))
        case .clientReply:
            return clientReply(args[2], session: session)
        case .clientNoEvict:
            if args[2].equalsIgnoringCase("on") {
                session.noEvict = true
            } else if args[2].equalsIgnoringCase("off") {
                session.noEvict = false
            } else {
                return .reply(Errors.syntax)
            }
            return .reply(.ok)
        default:
            return .reply(.array(ServerCore.clientHelp.map { .status($0) }))
        }
    }

    /// CLIENT REPLY ON|OFF|SKIP: OFF and SKIP send no reply themselves.
    private func clientReply(_ mode: Bytes, session: ClientSession) -> CommandOutcome {
        if mode.equalsIgnoringCase("on") {
            session.repliesOff = false
            session.skipsNextReply = false
            session.skipsThisReply = false
            return .reply(.ok)
        }
        if mode.equalsIgnoringCase("off") {
            session.repliesOff = true
            return .none
        }
        if mode.equalsIgnoringCase("skip") {
            if !session.repliesOff { session.skipsNextReply = true }
            return .none
        }
        return .reply(Errors.syntax)
    }

    static let clientHelp = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "KILL <ip:port>", "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
        "    * USER <username>", "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
        "LIST [options ...]", "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
        "UNPAUSE", "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
        "SETNAME <name>", "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]", "    Control server assisted client side caching.",
        "TRACKINGINFO", "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
        "HELP", "    Prints this help.",
    ]

    /// The info line of a registered client, using its live session.
    private func line(_ handler: ConnectionHandler, current: ClientSession, now: Int64) -> String {
        let session = handler.session.id == current.id ? current : handler.session
        return session.infoLine(
            now: now, queryBuffer: handler.queryBufferSize, outputBuffer: handler.outputBufferSize,
            blocked: handler.blocked != nil || handler.isPostponed, tracking: tracking[session.id])
    }

    /// A client's type as CLIENT LIST TYPE and CLIENT KILL TYPE match it (`slave` is
    /// `replica`; a primary's link is `master`, which a primary has none of).
    static func clientType(of session: ClientSession) -> String {
        if session.isReplica { return "replica" }
        if session.isSubscriber { return "pubsub" }
        return "normal"
    }

    /// The type a TYPE argument names, or nil when it names none.
    static func clientType(named name: String) -> String? {
        let type = name.lowercased()
        guard ["normal", "master", "replica", "slave", "pubsub"].contains(type) else { return nil }
        return type == "slave" ? "replica" : type
    }

    func clientList(_ args: [Bytes], current: ClientSession, now: Int64) -> Reply {
        var ids: Set<UInt64>?
        var type: String?
        var index = 2
        while index < args.count {
            // As Redis: TYPE takes exactly one value and nothing follows it.
            if args[index].equalsIgnoringCase("type") && index == 2 && args.count == 4 {
                guard let named = ServerCore.clientType(named: args[index + 1].string) else {
                    return .error("ERR Unknown client type '\(args[index + 1].string)'")
                }
                type = named
                index += 2
            } else if args[index].equalsIgnoringCase("id") && index + 1 < args.count {
                var wanted = ids ?? []
                index += 1
                while index < args.count {
                    // Any integer is accepted, as Redis: ids below 1 match no client.
                    guard let id = args[index].strictInteger else { return .error("ERR Invalid client ID") }
                    if id > 0 { wanted.insert(UInt64(id)) }
                    index += 1
                }
                ids = wanted
            } else {
                return Errors.syntax
            }
        }
        var text = ""
        for id in clients.keys.sorted() {
            if let ids, !ids.contains(id) { continue }
            guard let handler = clients[id] else { continue }
            if let type, ServerCore.clientType(of: handler.session) != type { continue }
            text += line(handler, current: current, now: now) + "\n"
        }
        return .verbatim(text)
    }

    /// CLIENT UNBLOCK id [TIMEOUT|ERROR]: answers a client parked by a blocking command as
    /// its timeout would (TIMEOUT, the default) or with Redis's `-UNBLOCKED` error.
    func clientUnblock(_ args: [Bytes]) -> Reply {
        guard let id = args[2].strictInteger else { return Errors.notInteger }
        var asError = false
        if args.count == 4 {
            if args[3].equalsIgnoringCase("error") {
                asError = true
            } else if !args[3].equalsIgnoringCase("timeout") {
                return .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            }
        } else if args.count > 4 {
            return Errors.syntax
        }
        guard id > 0, let target = clients[UInt64(id)],
            let blocked = target.blocked
        else { return .integer(0) }
        release(blocked)
        target.unblock(with: asError ? .error("UNBLOCKED client unblocked via CLIENT UNBLOCK") : blocked.timeoutReply)
        return .integer(1)
    }

    func clientKill(_ args: [Bytes], current: ClientSession) -> CommandOutcome {
        if args.count == 3 {
            let address = args[2].string
            guard let target = clients.values.first(where: { $0.session.address == address }) else {
                return .reply(.error("ERR No such client"))
            }
            return kill([target], current: current, skipMe: false, legacy: true)
        }
        guard args.count % 2 == 0 else { return .reply(Errors.syntax) }
        var candidates = Array(clients.values)
        var skipMe = true
        var index = 2
        while index + 1 < args.count {
            let option = args[index]
            let value = args[index + 1].string
            if option.equalsIgnoringCase("id") {
                guard let id = args[index + 1].strictInteger, id > 0 else {
                    return .reply(.error("ERR client-id should be greater than 0"))
                }
                candidates = candidates.filter { $0.session.id == UInt64(id) }
            } else if option.equalsIgnoringCase("addr") {
                candidates = candidates.filter { $0.session.address == value }
            } else if option.equalsIgnoringCase("laddr") {
                candidates = candidates.filter { $0.session.localAddress == value }
            } else if option.equalsIgnoringCase("type") {
                guard let type = ServerCore.clientType(named: value) else {
                    return .reply(.error("ERR Unknown client type '\(value)'"))
                }
                candidates = candidates.filter { ServerCore.clientType(of: $0.session) == type }
            } else if option.equalsIgnoringCase("user") {
                guard let user = accessControl.user(named: value) else {
                    return .reply(.error("ERR No such user '\(value)'"))
                }
                candidates = candidates.filter { $0.session.user === user }
            } else if option.equalsIgnoringCase("skipme") {
                switch value.lowercased() {
                case "yes": skipMe = true
                case "no": skipMe = false
                default: return .reply(Errors.syntax)
                }
            } else {
                return .reply(Errors.syntax)
            }
            index += 2
        }
        return kill(candidates, current: current, skipMe: skipMe, legacy: false)
    }

    private func kill(_ targets: [ConnectionHandler], current: ClientSession, skipMe: Bool, legacy: Bool)
        -> CommandOutcome
    {
        var killed = 0
        var killSelf = false
        for target in targets {
            if target.session.id == current.id {
                if skipMe && !legacy { continue }
                killSelf = true
            } else {
                target.terminate()
            }
            killed += 1
        }
        let reply: Reply = legacy ? .ok : .integer(killed)
        return killSelf ? .replyThenClose(reply) : .reply(reply)
    }
}
