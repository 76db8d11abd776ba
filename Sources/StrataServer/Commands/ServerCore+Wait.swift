//! WAIT (Redis 7.0 `replication.c`). Strata has no replicas yet, so no write is ever
//! acknowledged: asking for none (or running inside EXEC) answers 0 at once, and asking
//! for replicas blocks the client until the timeout (0: until it is unblocked or
//! disconnects) and then answers 0, as Redis does when its replicas do not answer.

import StrataEngine

extension ServerCore {
    /// `WAIT numreplicas timeout`.
    func waitCommand(_ args: [Bytes], connection: ConnectionHandler) -> CommandOutcome {
        guard let wanted = args[1].strictInteger else { return .reply(Errors.notInteger) }
        guard let timeout = args[2].strictInteger else {
            return .reply(.error("ERR timeout is not an integer or out of range"))
        }
        guard timeout >= 0 else { return .reply(.error("ERR timeout is negative")) }
        let acknowledged = 0
        // As Redis, whose blocked client keeps the count in a C int: only the low 32 bits
        // count (4294967296 asks for 0 replicas and is answered at once).
        let counted = Int(Int32(truncatingIfNeeded: wanted))
        if acknowledged >= counted || executingTransaction { return .reply(.integer(acknowledged)) }
        block(
            connection, args: args, keys: [], timeoutMilliseconds: Int64(timeout),
            timeoutReply: .integer(acknowledged))
        return .none
    }
}
