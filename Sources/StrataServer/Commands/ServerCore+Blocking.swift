//! Clients parked by blocking list commands. A parked client stops executing its input;
//! it is served, first come first served per key, once a write (a push, LMOVE, RENAME,
//! a whole MULTI/EXEC) has left one of its keys ready, by running its command again;
//! otherwise its timeout answers a null array. Disconnecting releases it.

import NIOCore
import StrataEngine

/// A client parked on keys.
final class BlockedClient {
    let connection: ConnectionHandler
    let args: [Bytes]
    let keys: [KeyRef]
    /// The reply when the timeout passes or CLIENT UNBLOCK releases it.
    var timeoutReply: Reply
    var timer: Scheduled<Void>?
    /// For WAIT: the stream offset its writes reached and how many replicas it waits for.
    var replicationTarget: (offset: Int64, replicas: Int)?

    init(connection: ConnectionHandler, args: [Bytes], keys: [KeyRef], timeoutReply: Reply = .nullArray) {
        self.connection = connection
        self.args = args
        self.keys = keys
        self.timeoutReply = timeoutReply
    }
}

extension ServerCore {
    /// Parks `connection` on `keys`; the command in `args` runs again when one is ready.
    func block(
        _ connection: ConnectionHandler, args: [Bytes], keys: [Bytes], timeoutMilliseconds: Int64,
        timeoutReply: Reply = .nullArray
    ) {
        let db = connection.session.db
        let blocked = BlockedClient(
            connection: connection, args: args, keys: keys.map { KeyRef(db: db, key: $0) },
            timeoutReply: timeoutReply)
        waitQueues.park(blocked, on: blocked.keys)
        connection.park(blocked)
        if timeoutMilliseconds > 0 {
            blocked.timer = eventLoop.scheduleTask(in: .milliseconds(timeoutMilliseconds)) { [unowned(unsafe) self] in
                guard connection.blocked === blocked else { return }
                self.release(blocked)
                // As Redis: a blocked call counts once, when it is answered.
                if case .success(let spec) = self.engine.commands.resolve(args) {
                    self.noteCall(
                        spec, args: args, session: connection.session, since: self.clock.commandNanoseconds(),
                        failed: false, now: self.clock.wallMilliseconds())
                }
                connection.unblock(with: blocked.timeoutReply)
            }
        }
    }

    /// Forgets a parked client (served, timed out or disconnected).
    func release(_ blocked: BlockedClient) {
        blocked.timer?.cancel()
        if blocked.connection.blocked === blocked { blocked.connection.unpark() }
        waitQueues.release(blocked, from: blocked.keys)
        if blocked.replicationTarget != nil { replicaWaiters.removeAll { $0 === blocked } }
    }

    /// Serves parked clients whose keys became ready, in the order they blocked. A list
    /// waiter that finds nothing means the list is empty for everyone after it; a stream
    /// reader waits for ids of its own, so the others are still tried.
    func serveBlockedClients(now: Int64) {
        var rounds = 0
        while rounds < 10_000, let key = waitQueues.nextReady() {
            rounds += 1
            var skipped: Set<ObjectIdentifier> = []
            while let next = waitQueues.waiters(on: key).first(where: { !skipped.contains(ObjectIdentifier($0)) }) {
                guard case .success(let spec) = engine.commands.resolve(next.args),
                    case .engine(let handler) = spec.handler
                else {
                    release(next)
                    continue
                }
                var db = key.db
                let started = clock.commandNanoseconds()
                engine.retryingBlockedCommand = true
                let caller = currentClientID
                currentClientID = next.connection.session.id
                defer { currentClientID = caller }
                let reply = engine.run(handler, args: next.args, db: &db, now: now)
                engine.retryingBlockedCommand = false
                engine.blockedArguments = nil
                if case .blockedOn = reply {
                    // Found nothing, so it wrote nothing; but a key it looked at may have expired
                    // on the way (its DEL and event are in the record).
                    commitWrites(now: now)
                    // A list waiter that finds nothing leaves nothing for those behind it.
                    guard spec.flags.contains(.waitsForItsOwnEntries) else { break }
                    skipped.insert(ObjectIdentifier(next))
                    continue
                }
                release(next)
                var failed = false
                if case .error = reply {
                    noteErrorReply(reply)
                    failed = true
                }
                noteCall(
                    spec, args: next.args, session: next.connection.session, since: started, failed: failed, now: now)
                let logged = aof.feed.appendedOffset
                // A move may have made its destination ready for someone else.
                commitWrites(now: now)
                if aof.feed.appendedOffset != logged { next.connection.durableOffsetNeeded = aof.feed.appendedOffset }
                next.connection.unblock(with: reply)
            }
        }
    }
}
