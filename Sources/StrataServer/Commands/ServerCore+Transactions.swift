//! MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis semantics: commands are queued
//! after MULTI (a queueing error makes EXEC reply EXECABORT), EXEC runs them back to back
//! on the event loop (so nothing interleaves — atomic by construction), runtime errors do
//! not roll back, and EXEC fails with a null reply when a WATCHed key was written by any
//! client (including this one), flushed, or expired since WATCH.

import StrataEngine

extension ServerCore {
    /// Queues a command inside MULTI; returns QUEUED or the error that aborts the
    /// transaction.
    func queue(_ args: [Bytes], spec: CommandSpec, session: ClientSession) -> Reply {
        if spec.flags.contains(.noMulti) {
            session.transaction?.aborted = true
            return rejected(spec, .error("ERR Command not allowed inside a transaction"))
        }
        session.transaction?.queued.append(args)
        return .status("QUEUED")
    }

    func transactionCommand(
        _ command: ServerCommand, args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64
    ) -> Reply {
        switch command {
        case .multi:
            return multi(session)
        case .discard:
            return discard(session)
        case .watch:
            if session.transaction != nil { return .error("ERR WATCH inside MULTI is not allowed") }
            for key in args.dropFirst() {
                let watched = KeyRef(db: session.db, key: key)
                guard session.watched[watched] == nil else { continue }
                session.watched[watched] = engine.lookup(key, db: session.db, now: now) != nil
                watches.watch(watched, by: session.id)
            }
            return .ok
        case .unwatch:
            unwatchAll(session)
            return .ok
        default:
            return exec(session: session, connection: connection, now: now)
        }
    }

    /// MULTI: starts queueing.
    func multi(_ session: ClientSession) -> Reply {
        if session.transaction != nil { return .error("ERR MULTI calls can not be nested") }
        session.transaction = Transaction()
        return .ok
    }

    /// DISCARD: drops the queue and the watched keys.
    func discard(_ session: ClientSession) -> Reply {
        guard session.transaction != nil else { return .error("ERR DISCARD without MULTI") }
        session.transaction = nil
        unwatchAll(session)
        return .ok
    }

    private func exec(session: ClientSession, connection: ConnectionHandler, now: Int64) -> Reply {
        guard let transaction = session.transaction else { return .error("ERR EXEC without MULTI") }
        session.transaction = nil
        defer { unwatchAll(session) }
        if transaction.aborted {
            return .error("EXECABORT Transaction discarded because of previous errors.")
        }
        if session.watchDirty || watchedKeyVanished(session, now: now) { return .nullArray }
        var replies: [Reply] = []
        replies.reserveCapacity(transaction.queued.count)
        executingTransaction = true
        runningQueuedCommands = true
        defer { runningQueuedCommands = false }
        for command in transaction.queued {
            switch execute(command, session: session, connection: connection, now: now) {
            case .reply(let reply), .replyThenClose(let reply): replies.append(reply)
            case .none, .postponed: replies.append(.null)
            }
        }
        executingTransaction = false
        commitWrites(now: now)
        // Pushes inside the transaction wake parked clients only once it has completed.
        serveBlockedClients(now: now)
        return .array(replies)
    }

    /// Whether a key that existed when watched has since expired or been removed without a
    /// command touching it (active or lazy expiry).
    private func watchedKeyVanished(_ session: ClientSession, now: Int64) -> Bool {
        session.watched.contains { watched, existed in
            existed && engine.lookup(watched.key, db: watched.db, now: now) == nil
        }
    }

    /// Redis's reply when EXEC itself is rejected (arity, authentication): the transaction
    /// is discarded and the reason quoted after `EXECABORT`.
    func abortExec(_ error: Reply, session: ClientSession) -> Reply {
        session.transaction = nil
        unwatchAll(session)
        guard case .error(let message) = error else { return error }
        let reason = message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message
        return .error("EXECABORT Transaction discarded because of: \(reason)")
    }

    /// Forgets every key `session` watches.
    func unwatchAll(_ session: ClientSession) {
        watches.unwatch(session.watched.keys, by: session.id)
        session.watched.removeAll()
        session.watchDirty = false
    }

    /// Fails the next EXEC of these clients.
    func markWatchesDirty(_ ids: Set<UInt64>) {
        for id in ids { clients[id]?.session.watchDirty = true }
    }
}
