//! SYNC and PSYNC as a snapshot source: the server freezes the keyspace as for BGSAVE,
//! writes a plain RDB file (what a Redis replica or `redis-cli --rdb` expects) on the
//! snapshot queue, then sends it as `$<length>\r\n<bytes>` (after `+FULLRESYNC <id> 0` for
//! PSYNC) with sendfile and closes the connection. This is how `redis-cli --rdb FILE` and
//! `strata-dump backup` take a consistent snapshot over the network. Strata does not serve
//! replicas: no command stream follows the snapshot.

import Foundation
import StrataEngine
import StrataPersistence

extension ServerCore {
    /// The options REPLCONF accepts (Redis 7.0's).
    static let replconfOptions: Set<String> = [
        "listening-port", "ip-address", "capa", "rdb-only", "rdb-filter-only", "ack", "getack",
    ]

    /// REPLCONF: accepted and answered as Redis does (only `rdb-only` matters here: the
    /// connection is always closed after its snapshot).
    func replconf(_ args: [Bytes]) -> Reply {
        guard args.count % 2 == 1 else { return Errors.syntax }
        var index = 1
        while index < args.count {
            let option = args[index].string.lowercased()
            guard ServerCore.replconfOptions.contains(option) else {
                return .error("ERR Unrecognized REPLCONF option: \(args[index].string)")
            }
            index += 2
        }
        return .ok
    }

    /// SYNC and PSYNC: starts writing a snapshot for `connection`, which waits for it.
    func snapshotTransfer(_ command: ServerCommand, connection: ConnectionHandler) -> CommandOutcome {
        connection.startSnapshotTransfer()
        stats.fullSyncs += 1
        let name = command.rawValue
        let prefix = command == .psync ? "+FULLRESYNC \(runID) 0\r\n" : ""
        let path = nextTempPath()
        var options = snapshotOptions
        options.codec = .none  // a plain RDB: what replicas and redis-cli --rdb read
        let now = clock.wallMilliseconds()
        let fileSystem = persistence.fileSystem
        logger.notice("Starting a snapshot for \(name.uppercased()) from \(connection.session.address)")
        writeFrozenKeyspace { frozen in
            try SnapshotWriter.write(
                frozen, to: path, tempPath: path + ".part", fileSystem: fileSystem, options: options, now: now)
        } finish: { core, result in
            switch result {
            case .success(let summary):
                core.logger.notice("Sending a \(summary.fileBytes)-byte snapshot for \(name.uppercased())")
                connection.sendSnapshotAndClose(prefix: prefix, path: path, bytes: summary.fileBytes)
            case .failure(let error):
                unlink(path)
                core.logger.warning("Snapshot for \(name.uppercased()) failed: \(error)")
                connection.failSnapshotTransfer("ERR the snapshot for \(name.uppercased()) failed: \(error)")
            }
        }
        return .none
    }
}
