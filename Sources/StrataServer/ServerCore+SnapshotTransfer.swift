//! SYNC and PSYNC as a snapshot source: the server freezes the keyspace as for BGSAVE,
//! writes a plain RDB file (what a Redis replica or `redis-cli --rdb` expects) on the
//! snapshot queue, then sends it as `$<length>\r\n<bytes>` (after `+FULLRESYNC <id> 0` for
//! PSYNC) with sendfile and closes the connection. This is how `redis-cli --rdb FILE` and
//! `strata-dump backup` take a consistent snapshot over the network: callers that said
//! `REPLCONF rdb-only 1`. A replica's synchronization is `ServerCore+Replication.swift`.

import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    /// The options REPLCONF accepts (Redis 7.0's).
    static let replconfOptions: Set<String> = [
        "listening-port", "ip-address", "capa", "rdb-only", "rdb-filter-only", "ack", "getack",
    ]

    /// REPLCONF, as Redis answers it: the handshake's options are kept in the session for
    /// the SYNC or PSYNC that follows; `ACK` (a replica's offset) and `GETACK` get no reply.
    func replconf(_ args: [Bytes], connection: ConnectionHandler) -> CommandOutcome {
        guard args.count % 2 == 1 else { return .reply(Errors.syntax) }
        var handshake = connection.session.replicaHandshake
        var index = 1
        while index < args.count {
            let option = args[index].string.lowercased()
            let value = args[index + 1]
            switch option {
            case "listening-port":
                guard let port = value.strictInteger else { return .reply(Errors.notInteger) }
                handshake.listeningPort = port
            case "ip-address":
                handshake.announcedAddress = value.string
            case "capa":
                let capability = value.string.lowercased()
                if capability == "eof" { handshake.acceptsEndMarker = true }
                if capability == "psync2" { handshake.understandsPsync2 = true }
            case "rdb-only":
                guard let flag = value.strictInteger, flag == 0 || flag == 1 else { return .reply(Errors.syntax) }
                handshake.snapshotOnly = flag == 1
            case "ack":
                if let offset = value.strictInteger { replicaAcknowledged(connection, offset: Int64(offset)) }
                return .none
            case "getack":
                return .none
            default:
                guard ServerCore.replconfOptions.contains(option) else {
                    return .reply(.error("ERR Unrecognized REPLCONF option: \(args[index].string)"))
                }
            }
            index += 2
        }
        connection.session.replicaHandshake = handshake
        return .reply(.ok)
    }

    /// SYNC and PSYNC: starts writing a snapshot for `connection`, which waits for it.
    func snapshotTransfer(_ command: ServerCommand, connection: ConnectionHandler) -> CommandOutcome {
        connection.startSnapshotTransfer()
        stats.fullSyncs += 1
        let name = command.rawValue
        let prefix = command == .psync ? "+FULLRESYNC \(replication.id) \(replication.offset)\r\n" : ""
        logger.notice("Starting a snapshot for \(name.uppercased()) from \(connection.session.address)")
        writeTransferSnapshot { core, result in
            switch result {
            case .success(let (path, bytes)):
                core.logger.notice("Sending a \(bytes)-byte snapshot for \(name.uppercased())")
                connection.sendSnapshotAndClose(prefix: prefix, path: path, bytes: bytes)
            case .failure(let error):
                core.logger.warning("Snapshot for \(name.uppercased()) failed: \(error)")
                connection.failSnapshotTransfer("ERR the snapshot for \(name.uppercased()) failed: \(error)")
            }
        }
        return .none
    }

    /// Writes a plain RDB of the keyspace frozen now to a temporary file (what replicas and
    /// `redis-cli --rdb` read), then calls `finish` on the event loop with its path and
    /// size; a failed write leaves no file.
    func writeTransferSnapshot(
        nice: Int = 10, finish: @escaping (ServerCore, Result<(path: String, bytes: Int), Error>) -> Void
    ) {
        let path = nextTempPath()
        var options = snapshotOptions
        options.codec = .none
        let now = clock.wallMilliseconds()
        let fileSystem = persistence.fileSystem
        writeFrozenKeyspace(nice: nice) { frozen in
            try SnapshotWriter.write(
                draining: &frozen, to: path, tempPath: path + ".part", fileSystem: fileSystem, options: options,
                now: now)
        } finish: { core, result in
            if case .failure = result { unlink(path) }
            finish(core, result.map { (path, $0.fileBytes) })
        }
    }
}
