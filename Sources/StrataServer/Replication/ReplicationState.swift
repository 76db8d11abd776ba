//! The primary's side of replication as state: the replication id and offset, the backlog,
//! and the replicas attached. The write record's effects are encoded once into the
//! replication stream (RESP commands, `SELECT` when the database changes, `MULTI`/`EXEC`
//! around a transaction's effects, as the append-only file encodes them) and go to the
//! backlog and to every replica. A replica asking to continue (`PSYNC replid offset`)
//! continues when the id is this stream's (or the previous one's, up to where it ended)
//! and the backlog still holds the offset; otherwise it loads a new snapshot. No I/O
//! here: the server glue (`ServerCore+Replication.swift`) moves the bytes.

import NIOCore
import StrataEngine
import StrataPersistence

/// How a replica is being brought up to date (`slaveN:state=` in INFO).
enum ReplicaPhase: String {
    /// Waiting for the snapshot being written for it (`wait_bgsave`).
    case waitingForSnapshot = "wait_bgsave"
    /// The snapshot is being sent (`send_bulk`).
    case sendingSnapshot = "send_bulk"
    /// Receiving the stream (`online`).
    case online
}

/// What a replica said about itself during its handshake (`REPLCONF`).
struct ReplicaHandshake {
    /// `REPLCONF listening-port`.
    var listeningPort = 0
    /// `REPLCONF ip-address`, when it announced one.
    var announcedAddress: String?
    /// `REPLCONF capa eof`: it reads a snapshot sent without a length first.
    var acceptsEndMarker = false
    /// `REPLCONF capa psync2`: it understands `+CONTINUE <replid>`.
    var understandsPsync2 = false
    /// `REPLCONF rdb-only 1`: it only wants a snapshot (`redis-cli --rdb`, backups).
    var snapshotOnly = false
}

/// One attached replica.
final class ReplicaLink<Connection: AnyObject> {
    let connection: Connection
    /// Its address as `INFO replication` prints it, and its listening port.
    let address: String
    let port: Int
    var phase: ReplicaPhase
    /// Whether it acknowledges its offset (a PSYNC replica; one that said SYNC does not).
    let acknowledges: Bool
    /// The stream produced while its snapshot is written, sent and (diskless) loaded,
    /// sent after it (nothing for a replica that continued from the backlog).
    let held: HeldStream
    /// The offset it last acknowledged (`REPLCONF ACK`), and when (Unix ms): also when its
    /// snapshot made progress, for `repl-timeout`.
    var acknowledgedOffset: Int64 = 0
    var acknowledgedAt: Int64

    init(
        connection: Connection, address: String, port: Int, phase: ReplicaPhase, acknowledges: Bool = true,
        held: HeldStream, now: Int64
    ) {
        self.held = held
        self.connection = connection
        self.address = address
        self.port = port
        self.phase = phase
        self.acknowledges = acknowledges
        self.acknowledgedAt = now
    }
}

/// The primary's replication state.
struct ReplicationState<Connection: AnyObject> {
    /// `master_replid`: the id of the stream this server produces.
    var id: String
    /// `master_replid2`: the id of the stream before the last id change, and up to which
    /// offset it holds (`second_repl_offset`, -1 without one).
    var previousID = Self.noID
    var previousIDEndOffset: Int64 = -1
    /// How Redis prints the absence of a previous id.
    private static var noID: String { String(repeating: "0", count: 40) }
    /// The stream's newest bytes; nil until the first replica attaches (as in Redis).
    private(set) var backlog: ReplicationBacklog?
    /// When the last replica left (Unix ms), for `repl-backlog-ttl`.
    var lastReplicaLeftAt: Int64?
    /// The database the stream last selected (-1: the next command selects).
    private var selectedDb = -1
    /// Attached replicas, in attach order.
    private(set) var replicas: [ReplicaLink<Connection>] = []
    /// `master_repl_offset` when there is no backlog.
    private var offsetWithoutBacklog: Int64 = 0
    /// Stream bytes produced in this pass of the event loop, handed to the backlog and the
    /// replicas together at its end (``takePending()``): one write per replica per pass
    /// instead of one per command.
    private(set) var pending = ByteBufferAllocator().buffer(capacity: 0)

    init(id: String) {
        self.id = id
    }

    /// `master_repl_offset`.
    var offset: Int64 { backlog.map { $0.masterOffset + Int64(pending.readableBytes) } ?? offsetWithoutBacklog }

    /// Whether effects must be recorded for the stream.
    var isFeeding: Bool { backlog != nil }

    /// Creates the backlog for a first replica: as Redis does, a stream with no past starts
    /// under a new id (`newID`), and no previous id is kept.
    mutating func ensureBacklog(size: Int, newID: () -> String) {
        guard backlog == nil else { return }
        startHistory(id: newID(), offset: offsetWithoutBacklog, backlogSize: size)
    }

    /// A history under `id` from `offset`, in a new empty backlog, with no previous id: the
    /// primary's after a full sync, or the one a snapshot recorded after a restart.
    mutating func startHistory(id: String, offset: Int64, backlogSize: Int) {
        self.id = id
        forgetPreviousID()
        backlog = ReplicationBacklog(size: backlogSize, offset: offset)
        pending.clear()
        selectedDb = -1
    }

    private mutating func forgetPreviousID() {
        previousID = Self.noID
        previousIDEndOffset = -1
    }

    /// Drops the backlog (`repl-backlog-ttl` passed with no replica).
    mutating func dropBacklog() {
        _ = takePending()
        guard let backlog else { return }
        offsetWithoutBacklog = backlog.masterOffset
        self.backlog = nil
        lastReplicaLeftAt = nil
    }

    /// Resizes the backlog (`CONFIG SET repl-backlog-size`).
    mutating func resizeBacklog(to size: Int) {
        backlog?.resize(to: size)
    }

    /// Whether `PSYNC replid offset` can continue from the backlog.
    func canContinue(replid: String, offset: Int64) -> Bool {
        guard let backlog else { return false }
        let sameHistory =
            replid == id || (replid == previousID && previousIDEndOffset >= 0 && offset <= previousIDEndOffset)
        return sameHistory && backlog.holds(from: offset)
    }

    /// The stream from byte `offset` on, for a replica that continues.
    func stream(from offset: Int64) -> [UInt8]? { backlog?.bytes(from: offset) }

    /// The database the stream last selected, -1 when the next command selects.
    var streamDb: Int { selectedDb }

    /// The next command of the stream selects its database (a replica starting from a
    /// snapshot does not know which one the stream selected).
    mutating func forceSelect() { selectedDb = -1 }

    /// Encodes `effects` into the stream (held until ``takePending()``); returns whether
    /// any bytes were added.
    mutating func feed(_ effects: [Effect]) -> Bool {
        guard backlog != nil, !effects.isEmpty else { return false }
        var selected = selectedDb
        AOFEncoding.append(effects, selectedDb: &selected, to: &pending)
        selectedDb = selected
        return true
    }

    /// Adds raw stream bytes (a `PING` to replicas, `REPLCONF GETACK`, a primary's bytes
    /// relayed), held until ``takePending()``.
    mutating func append(_ buffer: ByteBuffer) {
        guard backlog != nil else { return }
        var copy = buffer
        pending.writeBuffer(&copy)
    }

    /// Ends the pass: the bytes produced go into the backlog and are returned for the
    /// replicas (held for those still syncing); nil when there are none.
    mutating func takePending() -> ByteBuffer? {
        guard pending.readableBytes > 0 else { return nil }
        let bytes = pending
        pending = ByteBufferAllocator().buffer(capacity: 0)
        bytes.withUnsafeReadableBytes { backlog?.append($0) }
        return bytes
    }

    /// Attaches a replica.
    mutating func attach(_ replica: ReplicaLink<Connection>) {
        replicas.append(replica)
        lastReplicaLeftAt = nil
    }

    /// Detaches the replica on `connection`, dropping what was held for it; returns whether
    /// it was one.
    @discardableResult
    mutating func detach(_ connection: Connection, now: Int64) -> Bool {
        guard let index = replicas.firstIndex(where: { $0.connection === connection }) else { return false }
        replicas.remove(at: index).held.discard()
        if replicas.isEmpty { lastReplicaLeftAt = now }
        return true
    }

    /// The replica on `connection`, if it is one.
    func replica(on connection: Connection) -> ReplicaLink<Connection>? {
        replicas.first { $0.connection === connection }
    }

    /// Replicas that acknowledged at least `offset`.
    func replicas(acknowledging offset: Int64) -> Int {
        replicas.filter { $0.phase == .online && $0.acknowledgedOffset >= offset }.count
    }

    /// What a replica asks its primary to continue (`PSYNC id offset`): the history it has
    /// (the one it followed, or its own as a former primary), or `? -1` without one.
    func continuation() -> (String, Int64) {
        guard backlog != nil else { return ("?", -1) }
        return (id, offset + 1)
    }

    /// A new id with no previous one (`DEBUG CHANGE-REPL-ID`).
    mutating func replaceID(with newID: String) {
        id = newID
        forgetPreviousID()
    }

    /// Starts a new history (a promotion, `DEBUG CHANGE-REPL-ID`): the current id becomes
    /// the previous one, valid up to the current offset.
    mutating func shiftID(to newID: String) {
        previousID = id
        previousIDEndOffset = offset + 1  // Redis's `second_repl_offset`: the byte after it
        id = newID
    }
}
