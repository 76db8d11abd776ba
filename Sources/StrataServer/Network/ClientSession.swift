import RESP
import StrataEngine

/// Per-connection state: identity, selected database, protocol version, authentication.
/// A plain value owned by the connection's handler on the event loop.
public final class ClientSession {
    /// Unique, increasing client id (`CLIENT ID`).
    public let id: UInt64
    /// `CLIENT SETNAME` name; nil when unset.
    public var name: String?
    /// Selected database.
    public var db = 0
    /// Protocol version (`HELLO`).
    public var resp: RESPVersion = .resp2
    /// Whether the client may run commands that need authentication.
    public var authenticated: Bool
    /// The ACL user it runs as; nil for the server's own sessions (scripts' inner calls
    /// use the caller's user, a primary's stream and the AOF are not checked).
    var user: ACLUser?
    /// Peer address, `ip:port`.
    public let address: String
    /// Local address, `ip:port`.
    public let localAddress: String
    /// File descriptor number, as `CLIENT LIST` prints it (-1 when unknown).
    public let fd: Int
    /// Whether the client connected to the TLS port.
    public var encrypted = false
    /// Creation time, Unix ms.
    public let createdAt: Int64
    /// Last command time, Unix ms.
    public var lastInteraction: Int64
    /// Last command's full name (`client|list`).
    public var lastCommand: String { lastCommandSpec?.name ?? "NULL" }
    /// The table entry of the last command (set only when it changes, so that a pipeline of
    /// one command reference-counts nothing for it).
    var lastCommandSpec: CommandSpec?
    /// The open transaction (between MULTI and EXEC/DISCARD), if any.
    var transaction: Transaction?
    /// Whether a MULTI is open, read without copying the transaction.
    var inTransaction: Bool {
        if case .some = transaction { return true }
        return false
    }
    /// Keys this client WATCHes, and whether each existed when watched.
    var watched: [KeyRef: Bool] = [:]
    /// Set when a watched key was modified: the next EXEC fails.
    var watchDirty = false
    /// Channels this client is subscribed to.
    var channels: Set<Bytes> = []
    /// Patterns this client is subscribed to.
    var patterns: Set<Bytes> = []

    /// CLIENT REPLY OFF: no replies until CLIENT REPLY ON.
    var repliesOff = false
    /// CLIENT REPLY SKIP ran: the next command's reply is dropped.
    var skipsNextReply = false
    /// The reply of the command running now is dropped (the command after CLIENT REPLY SKIP).
    var skipsThisReply = false
    /// CLIENT NO-EVICT ON (shown as flag `e`).
    var noEvict = false
    /// Cluster mode: the client said `ASKING` (lasts for its next command).
    var asking = false
    /// Cluster mode: the client said `READONLY` (reads from a replica's primary's slots).
    var readOnlyCluster = false
    /// What it said in `REPLCONF` before `SYNC`/`PSYNC`.
    var replicaHandshake = ReplicaHandshake()
    /// Whether it is a replica receiving the replication stream (its commands, `REPLCONF
    /// ACK`, get no replies).
    var isReplica = false
    /// The replication stream's offset after this client's last write (what WAIT waits
    /// for replicas to acknowledge).
    var replicationOffset: Int64 = 0

    /// Shard channels this client is subscribed to (SSUBSCRIBE).
    var shardChannels: Set<Bytes> = []

    /// Channel and pattern subscriptions (the count SUBSCRIBE and PSUBSCRIBE report).
    var subscriptionCount: Int { channels.count + patterns.count }
    /// Whether it has any subscription, shard ones included (a RESP2 client is then in
    /// subscribed mode).
    var isSubscriber: Bool { subscriptionCount > 0 || !shardChannels.isEmpty }

    /// A new session.
    public init(id: UInt64, authenticated: Bool, address: String, localAddress: String, fd: Int, now: Int64) {
        self.id = id
        self.authenticated = authenticated
        self.address = address
        self.localAddress = localAddress
        self.fd = fd
        self.createdAt = now
        self.lastInteraction = now
    }

    /// The `CLIENT LIST` / `CLIENT INFO` line (without the trailing newline), with Redis
    /// 7.0's fields in its order.
    ///
    /// - Parameters:
    ///   - now: Unix ms.
    ///   - queryBuffer: bytes of unparsed input held.
    ///   - outputBuffer: bytes of replies not yet written.
    ///   - blocked: whether a blocking command or a pause holds the client.
    ///   - tracking: its CLIENT TRACKING state, nil when it does not track.
    func infoLine(
        now: Int64, queryBuffer: Int, outputBuffer: Int, blocked: Bool = false,
        tracking: TrackingTable.ClientState? = nil
    ) -> String {
        let age = (now - createdAt) / 1000
        let idle = (now - lastInteraction) / 1000
        var flags = ""
        if isReplica { flags += "S" }
        if isSubscriber { flags += "P" }
        if transaction != nil { flags += "x" }
        if blocked { flags += "b" }
        if let tracking {
            flags += "t"
            if tracking.brokenRedirect { flags += "R" }
            if tracking.options.contains(.broadcast) { flags += "B" }
        }
        if watchDirty { flags += "d" }
        if noEvict { flags += "e" }
        if flags.isEmpty { flags = "N" }
        let multi = transaction.map { $0.queued.count } ?? -1
        let redirect = tracking.map { Int64(clamping: $0.redirect) } ?? -1
        return "id=\(id) addr=\(address) laddr=\(localAddress) fd=\(fd) name=\(name ?? "") age=\(age) idle=\(idle) "
            + "flags=\(flags) db=\(db) sub=\(channels.count) psub=\(patterns.count) ssub=\(shardChannels.count) multi=\(multi) "
            + "qbuf=\(queryBuffer) qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=\(outputBuffer) "
            + "tot-mem=\(1024 + queryBuffer + outputBuffer) events=r\(outputBuffer > 0 ? "w" : "") cmd=\(lastCommand) "
            + "user=\(user?.name ?? "default") redir=\(redirect) resp=\(resp.rawValue)"
    }
}

/// Commands queued between MULTI and EXEC.
struct Transaction {
    /// The queued commands, in order.
    var queued: [[Bytes]] = []
    /// Set by a queueing error: EXEC then replies EXECABORT.
    var aborted = false
}
