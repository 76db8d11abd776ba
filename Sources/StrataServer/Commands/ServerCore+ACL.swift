//! The server's side of access control: the permission check before every command (and
//! again at EXEC, and for each `redis.call`), the ACL LOG and INFO counters it feeds, AUTH
//! and HELLO AUTH, the `ACL` command, and disconnecting the clients of users that are
//! deleted or lose the channels they are subscribed to.

import StrataEngine

extension ServerCore {
    // MARK: Checks

    /// Checks `spec` with `args` against `user`; nil when allowed, else the error reply
    /// (already logged to ACL LOG and counted). `context` says where the command runs.
    func aclDenial(
        _ user: ACLUser, _ spec: CommandSpec, args: [Bytes], session: ClientSession, context: ACLLogEntry.Context
    ) -> Reply? {
        if let denial = user.check(spec, args, catalog: accessControl.catalog) {
            let inExec = runningQueuedCommands && context == .toplevel
            noteACLDenial(
                denial, spec: spec, args: args, user: user, session: session, context: inExec ? .multi : context)
            if inExec { return .error(ServerCore.changedSinceQueued(denial.reason)) }
            return .error(ServerCore.noPermission(denial.reason, spec: spec))
        }
        return nil
    }

    /// The top-level `-NOPERM` text.
    static func noPermission(_ reason: ACLDenialReason, spec: CommandSpec) -> String {
        switch reason {
        case .command: return "NOPERM this user has no permissions to run the '\(spec.name)' command"
        case .key: return "NOPERM this user has no permissions to access one of the keys used as arguments"
        case .channel: return "NOPERM this user has no permissions to access one of the channels used as arguments"
        }
    }

    /// The text of a queued command that the rules no longer allow at EXEC.
    static func changedSinceQueued(_ reason: ACLDenialReason) -> String {
        let why: String
        switch reason {
        case .command: why = "no permission to execute the command or subcommand"
        case .key: why = "no permission to touch the specified keys"
        case .channel: why = "no permission to access one of the channels used as arguments"
        }
        return
            "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: \(why)"
    }

    /// The error a script's `redis.call` gets for a denial.
    static func scriptDenial(_ reason: ACLDenialReason) -> String {
        switch reason {
        case .command: return "ERR The user executing the script can't run this command or subcommand"
        case .key:
            return
                "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
        case .channel: return "ERR The user executing the script can't publish to the channel mentioned in the command"
        }
    }

    /// Whether SORT run now by `session` must refuse BY and GET patterns (they read keys
    /// only the data names): its user (for a script's call, the caller's) may not read
    /// every key. SORT refuses them where it parses them, as Redis does.
    func refusesSortPatterns(_ session: ClientSession) -> Bool {
        let user = engine.runningScript ? scripting.run?.caller.session.user : session.user
        guard let user, !user.isUnrestricted else { return false }
        return !user.readsAllKeys
    }

    /// Logs and counts a denial.
    func noteACLDenial(
        _ denial: ACLDenial, spec: CommandSpec, args: [Bytes], user: ACLUser, session: ClientSession,
        context: ACLLogEntry.Context
    ) {
        let reason: ACLLogEntry.Reason
        let object: Bytes
        switch denial.reason {
        case .command:
            reason = .command
            object = Bytes(spec.name)
            stats.aclDeniedCommands += 1
        case .key:
            reason = .key
            object = denial.position < args.count ? args[denial.position] : Bytes()
            stats.aclDeniedKeys += 1
        case .channel:
            reason = .channel
            object = denial.position < args.count ? args[denial.position] : Bytes()
            stats.aclDeniedChannels += 1
        }
        addACLLogEntry(reason: reason, context: context, object: object, username: user.name, session: session)
    }

    /// Adds an event to ACL LOG.
    func addACLLogEntry(
        reason: ACLLogEntry.Reason, context: ACLLogEntry.Context, object: Bytes, username: String,
        session: ClientSession
    ) {
        let now = clock.wallMilliseconds()
        let connection = clients.byID[session.id]
        let info = session.infoLine(
            now: now, queryBuffer: connection?.queryBufferSize ?? 0, outputBuffer: connection?.outputBufferSize ?? 0)
        accessControl.log.add(
            ACLLogEntry(
                reason: reason, context: context, object: object, username: username, time: now, clientInfo: info),
            maxLength: replicationSetting("acllog-max-len", 128))
    }

    // MARK: Authentication

    /// AUTH [user] password.
    func auth(_ args: [Bytes], session: ClientSession) -> Reply {
        guard args.count <= 3 else { return Errors.syntax }
        if args.count == 2 && accessControl.defaultUser.state.noPassword {
            return .error(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
            )
        }
        let name = args.count == 3 ? args[1].string : "default"
        if authenticate(session, name: name, password: args[args.count - 1], object: args[0]) { return .ok }
        return ServerCore.wrongPassword
    }

    static let wrongPassword = Reply.error("WRONGPASS invalid username-password pair or user is disabled.")

    /// Authenticates `session` as `name`; a failure is logged (ACL LOG, the server log) and
    /// counted. `object` is the command name as sent (`AUTH`, `HELLO`).
    func authenticate(_ session: ClientSession, name: String, password: Bytes, object: Bytes) -> Bool {
        if let user = accessControl.authenticate(name, password: password) {
            session.user = user
            session.authenticated = true
            return true
        }
        stats.aclDeniedAuth += 1
        addACLLogEntry(
            reason: .auth, context: session.inTransaction ? .multi : .toplevel, object: object, username: name,
            session: session)
        return false
    }

    // MARK: Disconnecting

    /// Closes every client authenticated as one of `users`; returns whether `current` was
    /// one of them (it is closed after its reply).
    @discardableResult
    func disconnectClients(of users: [ACLUser], current: ClientSession?) -> Bool {
        disconnect(current: current) { session in
            guard let user = session.user else { return false }
            return users.contains { $0 === user }
        }
    }

    /// After a user's channel permissions changed from `previous`: closes its subscribed
    /// clients whose subscriptions the new permissions no longer allow (Redis's
    /// `ACLKillPubsubClientsIfNeeded`).
    func disconnectRevokedSubscribers(of user: ACLUser, previous: ACLUserState, current: ClientSession) -> Bool {
        let selectors = user.state.selectors
        if selectors.contains(where: { $0.allChannels }) { return false }
        let upcoming = selectors.flatMap(\.channels)
        let hadAll = previous.selectors.contains { $0.allChannels }
        if !hadAll && previous.selectors.allSatisfy({ $0.channels.allSatisfy { upcoming.contains($0) } }) {
            return false
        }
        let allowed = ACLSelectorCheck(channels: upcoming)
        return disconnect(current: current) { session in
            guard session.user === user, session.isSubscriber else { return false }
            return session.patterns.contains { !allowed.allowsChannel($0, literally: true) }
                || session.channels.contains { !allowed.allowsChannel($0, literally: false) }
                || session.shardChannels.contains { !allowed.allowsChannel($0, literally: false) }
        }
    }

    /// Closes the clients `matches` picks, except `current`, which is left to close after
    /// its reply; returns whether `current` was picked.
    private func disconnect(current: ClientSession?, where matches: (ClientSession) -> Bool) -> Bool {
        var closesCurrent = false
        for connection in Array(clients.values) where matches(connection.session) {
            if connection.session.id == current?.id {
                closesCurrent = true
            } else {
                connection.terminate()
            }
        }
        return closesCurrent
    }
}
