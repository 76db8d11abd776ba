//! WAIT (Redis 7.0 `replication.c`): blocks the client until the replicas acknowledged
//! its writes. A client's writes reach offset `replicationOffset` of the stream (set as its
//! effects are fed to the replicas); a replica acknowledges an offset with `REPLCONF ACK`,
//! sent once a second, and at once when the primary asks with `REPLCONF GETACK *` (sent
//! when a WAIT blocks). Enough acknowledgements answer the count at once; otherwise the
//! client waits until they arrive or its timeout (0: until unblocked or disconnected) and
//! gets the count reached by then. Inside EXEC, or asking for none, answers at once.

import StrataEngine

extension ServerCore {
    /// `WAIT numreplicas timeout`.
    func waitCommand(_ args: [Bytes], connection: ConnectionHandler) -> CommandOutcome {
        if primaryLink != nil {
            return .reply(
                .error(
                    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."
                ))
        }
        guard let wanted = args[1].strictInteger else { return .reply(Errors.notInteger) }
        guard let timeout = args[2].strictInteger else {
            return .reply(.error("ERR timeout is not an integer or out of range"))
        }
        guard timeout >= 0 else { return .reply(.error("ERR timeout is negative")) }
        let target = connection.session.replicationOffset
        let acknowledged = replication.replicas(acknowledging: target)
        // As Redis, whose blocked client keeps the count in a C int: only the low 32 bits
        // count (4294967296 asks for 0 replicas and is answered at once).
        let counted = Int(Int32(truncatingIfNeeded: wanted))
        if acknowledged >= counted || executingTransaction { return .reply(.integer(acknowledged)) }
        block(
            connection, args: args, keys: [], timeoutMilliseconds: Int64(timeout),
            timeoutReply: .integer(acknowledged))
        if let blocked = connection.blocked {
            blocked.replicationTarget = (offset: target, replicas: counted)
            replicaWaiters.append(blocked)
        }
        feedReplicas(command: ["REPLCONF", "GETACK", "*"])
        return .none
    }

    /// After an acknowledgement: waiters answered by enough replicas are released with
    /// the count; the others' timeout replies carry the count reached so far.
    func serveReplicaWaiters() {
        guard !replicaWaiters.isEmpty else { return }
        var waiting: [BlockedClient] = []
        for waiter in replicaWaiters {
            guard let target = waiter.replicationTarget, waiter.connection.blocked === waiter else { continue }
            let count = replication.replicas(acknowledging: target.offset)
            waiter.timeoutReply = .integer(count)
            if count >= target.replicas {
                release(waiter)
                waiter.connection.unblock(with: .integer(count))
            } else {
                waiting.append(waiter)
            }
        }
        replicaWaiters = waiting
    }
}
