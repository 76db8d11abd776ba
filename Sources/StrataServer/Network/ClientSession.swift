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
    /// Peer address, `ip:port`.
    public let address: String
    /// Local address, `ip:port`.
    public let localAddress: String
    /// File descriptor number, as `CLIENT LIST` prints it (-1 when unknown).
    public let fd: Int
    /// Creation time, Unix ms.
    public let createdAt: Int64
    /// Last command time, Unix ms.
    public var lastInteraction: Int64
    /// Last command's full name (`client|list`).
    public var lastCommand = "NULL"
    /// The open transaction (between MULTI and EXEC/DISCARD), if any.
    var transaction: Transaction?
    /// Keys this client WATCHes, and whether each existed when watched.
    var watched: [KeyRef: Bool] = [:]
    /// Set when a watched key was modified: the next EXEC fails.
    var watchDirty = false
    /// Channels this client is subscribed to.
    var channels: Set<Bytes> = []
    /// Patterns this client is subscribed to.
    var patterns: Set<Bytes> = []

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

    /// The `CLIENT LIST` / `CLIENT INFO` line (without the trailing newline).
    ///
    /// - Parameters:
    ///   - now: Unix ms.
    ///   - queryBuffer: bytes of unparsed input held.
    ///   - outputBuffer: bytes of replies not yet written.
    public func infoLine(now: Int64, queryBuffer: Int, outputBuffer: Int) -> String {
        let age = (now - createdAt) / 1000
        let idle = (now - lastInteraction) / 1000
        return "id=\(id) addr=\(address) laddr=\(localAddress) fd=\(fd) name=\(name ?? "") age=\(age) idle=\(idle) "
            + "flags=\(subscriptionCount > 0 ? "P" : "N") db=\(db) sub=\(channels.count) psub=\(patterns.count) ssub=0 multi=-1 qbuf=\(queryBuffer) qbuf-free=0 argv-mem=0 "
            + "multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=\(outputBuffer) tot-mem=\(1024 + queryBuffer + outputBuffer) "
            + "events=r cmd=\(lastCommand) user=default redir=-1 resp=\(resp.rawValue)"
    }
}

/// Commands queued between MULTI and EXEC.
struct Transaction {
    /// The queued commands, in order.
    var queued: [[Bytes]] = []
    /// Set by a queueing error: EXEC then replies EXECABORT.
    var aborted = false
}
