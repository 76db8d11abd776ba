//! FAILOVER: a coordinated switch of roles between a primary and one of its replicas that
//! loses no write, as Redis 7.0 runs it. The primary holds writes back (as CLIENT PAUSE
//! WRITE does, and stops pinging so the offsets stay put), waits until the target replica
//! (with no `TO`, any replica) acknowledged the whole stream, then becomes that replica's
//! replica and asks `PSYNC <id> <offset> FAILOVER`: on that request the replica promotes
//! itself and continues the same history, so neither side syncs in full. The writes held
//! back then run on a replica and are refused (`-READONLY`). A timeout aborts, or with
//! `FORCE` fails over anyway; `FAILOVER ABORT`, a refused PSYNC or a link lost before the
//! PSYNC was accepted make the server a primary again.

import NIOCore
import StrataEngine

/// Where a coordinated failover is (`master_failover_state` in INFO replication).
enum FailoverPhase: String {
    case none = "no-failover"
    /// Writes held back until the target acknowledged the whole stream.
    case waitingForSync = "waiting-for-sync"
    /// Following the target, waiting for it to accept the PSYNC.
    case inProgress = "failover-in-progress"
}

/// A coordinated failover's state.
struct FailoverState {
    var phase = FailoverPhase.none
    /// The replica asked for (`TO host port`), or the one found caught up.
    var target: (host: String, port: Int)?
    /// When waiting ends (Unix ms), if a timeout was given.
    var deadline: Int64?
    /// `FORCE`: fail over at the deadline even if the target has not caught up.
    var force = false
}

extension ServerCore {
    /// `FAILOVER [TO host port [FORCE]] [TIMEOUT ms]` and `FAILOVER ABORT`, with Redis's
    /// checks, in Redis's order.
    func failoverCommand(_ args: [Bytes], now: Int64) -> Reply {
        if args.count == 2 && args[1].equalsIgnoringCase("abort") {
            guard failover.phase != .none else { return .error("ERR No failover in progress.") }
            abortFailover("Failover manually aborted")
            return .ok
        }
        var request = FailoverState()
        var timeout = 0
        var index = 1
        while index < args.count {
            let word = args[index]
            if word.equalsIgnoringCase("timeout") && index + 1 < args.count && timeout <= 0 {
                guard let value = args[index + 1].strictInteger else { return Errors.notInteger }
                guard value > 0 else { return .error("ERR FAILOVER timeout must be greater than 0") }
                timeout = value
                index += 2
            } else if word.equalsIgnoringCase("to") && index + 2 < args.count && request.target == nil {
                guard let port = args[index + 2].strictInteger else { return Errors.notInteger }
                request.target = (args[index + 1].string, port)
                index += 3
            } else if word.equalsIgnoringCase("force") && !request.force {
                request.force = true
                index += 1
            } else {
                return Errors.syntax
            }
        }
        if failover.phase != .none { return .error("ERR FAILOVER already in progress.") }
        if primaryLink != nil { return .error("ERR FAILOVER is not valid when server is a replica.") }
        if replication.replicas.isEmpty { return .error("ERR FAILOVER requires connected replicas.") }
        if request.force && (timeout == 0 || request.target == nil) {
            return .error("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
        }
        if let target = request.target {
            guard let replica = replica(at: target) else {
                return .error("ERR FAILOVER target HOST and PORT is not a replica.")
            }
            guard replica.phase == .online else { return .error("ERR FAILOVER target replica is not online.") }
            logger.notice("FAILOVER requested to \(target.host):\(target.port).")
        } else {
            logger.notice("FAILOVER requested to any replica.")
        }
        if timeout > 0 {
            let (end, overflow) = now.addingReportingOverflow(Int64(timeout))
            request.deadline = overflow ? Int64.max : end
        }
        request.phase = .waitingForSync
        failover = request
        pause.holdsForFailover = true
        flushReplicationStream()
        scheduleFailoverCheck()
        return .ok
    }

    /// The replica whose announced address and listening port are `target`.
    private func replica(at target: (host: String, port: Int)) -> ReplicaLink<ConnectionHandler>? {
        replication.replicas.first { $0.address == target.host && $0.port == target.port }
    }

    /// Checks the failover every 100 ms while it waits (acknowledgements also check it).
    private func scheduleFailoverCheck() {
        eventLoop.scheduleTask(in: .milliseconds(100)) { [unowned(unsafe) self] in
            updateFailover(now: clock.wallMilliseconds())
            if failover.phase == .waitingForSync { scheduleFailoverCheck() }
        }
    }

    /// While waiting: fails over once the target (or any replica) acknowledged the whole
    /// stream; at the deadline aborts, or with FORCE fails over anyway.
    func updateFailover(now: Int64) {
        guard failover.phase == .waitingForSync else { return }
        if let deadline = failover.deadline, deadline <= now {
            if failover.force, let target = failover.target {
                logger.notice("FAILOVER to \(target.host):\(target.port) time out exceeded, failing over.")
                startFailover(to: target)
            } else {
                abortFailover("Replica never caught up before timeout")
            }
            return
        }
        let offset = replication.offset
        let caughtUp = replication.replicas.first { replica in
            guard replica.phase == .online && replica.acknowledgedOffset == offset else { return false }
            return failover.target.map { replica.address == $0.host && replica.port == $0.port } ?? true
        }
        guard let replica = caughtUp else { return }
        logger.notice("Failover target \(replica.address):\(replica.port) is synced, failing over.")
        startFailover(to: (replica.address, replica.port))
    }

    /// Follows the target, asking it to take over (`PSYNC ... FAILOVER`).
    private func startFailover(to target: (host: String, port: Int)) {
        failover.phase = .inProgress
        failover.target = target
        follow(host: target.host, port: target.port)
    }

    /// The target answered the `PSYNC ... FAILOVER` (or the link failed before it did).
    func failoverAnswered(accepted: Bool) {
        guard failover.phase == .inProgress else { return }
        if accepted {
            logger.notice("Failover target accepted the PSYNC: this server is now its replica.")
            endFailover()
        } else {
            abortFailover("Failover target rejected psync request")
        }
    }

    /// Gives up: a primary again, writes resumed.
    func abortFailover(_ reason: String) {
        logger.notice("FAILOVER aborted: \(reason)")
        if failover.phase == .inProgress { becomePrimary(reason: "failover aborted") }
        endFailover()
    }

    private func endFailover() {
        failover = FailoverState()
        pause.holdsForFailover = false
        resumePostponedClients()
    }

    /// `PSYNC id offset FAILOVER` on a replica: the primary asks it to take over, which it
    /// does when the history is its own. Nil when it took over (the PSYNC goes on), else
    /// the error reply.
    func takeOverForFailover(replid: String, from session: ClientSession) -> Reply? {
        guard replid == replication.id else { return .error("ERR PSYNC FAILOVER replid must match my replid.") }
        becomePrimary(reason: "failover request from 'id=\(session.id) addr=\(session.address)'")
        return nil
    }
}
