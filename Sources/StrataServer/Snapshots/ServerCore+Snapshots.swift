//! Snapshots from the server's side: SAVE, BGSAVE (and SCHEDULE), LASTSAVE, save points,
//! MISCONF after a failed save and saving at shutdown. `SnapshotScheduler` decides; this
//! coordinator performs its decisions: it writes the files, logs, moves the dirty count
//! and hops to the snapshot queue. BGSAVE freezes the keyspace by copying the array of
//! databases (their shards are copy-on-write) and serializes the frozen copy on a
//! background thread; the event loop never waits for compression or the disk.

import CMallocInfo
import Dispatch
import NIOCore
import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    static let misconfError = Reply.error(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
    )
    static let loadingError = Reply.error("LOADING Redis is loading the dataset in memory")

    /// Writes are refused after a failed save while save points are configured.
    var writesDeniedByDiskError: Bool {
        persistence.refusesWrites(
            stopWritesOnBgsaveError: config.stopWritesOnBgsaveError, savePointsConfigured: !config.savePoints.isEmpty)
    }

    var snapshotOptions: SnapshotOptions {
        var options = SnapshotOptions()
        options.codec = config.snapshotCompression
        options.checksum = config.rdbChecksum
        options.writer = "strata \(ServerVersion.strata)"
        options.redisVersion = ServerVersion.redisCompatible
        options.functions = scripting.libraries.sortedLibraries.map(\.code)
        options.replication = replicationSaveInfo
        return options
    }

    /// A new temp file name in the working directory.
    func nextTempPath() -> String {
        persistence.nextTempName(processID: getpid())
    }

    /// Writes a line the snapshot part returned to the log.
    func log(_ line: SnapshotLogLine) {
        switch line.level {
        case .notice: logger.notice("\(line.text)")
        case .warning: logger.warning("\(line.text)")
        }
    }

    // MARK: Commands

    /// SAVE, BGSAVE, LASTSAVE.
    func persistenceCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        switch command {
        case .save:
            if let refusal = persistence.saveRefusal(rewriteInProgress: aof.rewriteInProgress) { return refusal }
            return saveNow() ? .ok : .error("ERR")
        case .bgSave:
            var schedule = false
            if args.count == 2 {
                guard args[1].equalsIgnoringCase("schedule") else { return Errors.syntax }
                schedule = true
            } else if args.count > 2 {
                return Errors.syntax
            }
            let decision = persistence.bgsave(schedule: schedule, rewriteInProgress: aof.rewriteInProgress)
            if decision == .start { startBackgroundSave() }
            return decision.reply
        default:  // lastsave
            return .integer(Int(persistence.lastSaveTime))
        }
    }

    /// Saves on the event loop (SAVE, shutdown). Returns whether it succeeded.
    @discardableResult
    func saveNow() -> Bool {
        let now = clock.wallMilliseconds()
        do {
            let summary = try SnapshotWriter.write(
                engine.databases, to: config.dbFilename, tempPath: nextTempPath(), fileSystem: persistence.fileSystem,
                options: snapshotOptions, now: now)
            engine.stats.dirty = 0
            log(persistence.saveSucceeded(summary, now: now))
            return true
        } catch {
            log(persistence.saveFailed(error, now: now))
            return false
        }
    }

    /// Freezes the keyspace and serializes it on a background thread.
    func startBackgroundSave() {
        let now = clock.wallMilliseconds()
        let path = config.dbFilename
        let temp = nextTempPath()
        let options = snapshotOptions
        let fileSystem = persistence.fileSystem
        log(persistence.backgroundSaveStarted(now: now, dirty: engine.stats.dirty))
        writeFrozenKeyspace { frozen in
            try SnapshotWriter.write(
                draining: &frozen, to: path, tempPath: temp, fileSystem: fileSystem, options: options, now: now)
        } finish: { core, result in
            core.finishBackgroundSave(result)
        }
    }

    static let snapshotQueue = DispatchQueue(label: "strata.snapshot", qos: .utility)

    /// The background work BGSAVE and BGREWRITEAOF share: freezes the keyspace (a copy of
    /// the array of databases; their shards are copy-on-write), runs `write` over the frozen
    /// copy on the snapshot queue at nice 10 (so that it yields the CPU to the event loop and
    /// its clients; Redis's fork child competes at full priority) unless given another
    /// `nice` (a replica's full sync: its length is what the replica and the primary's
    /// buffer for it wait on, so it competes as Redis's child does), and calls `finish` on the
    /// event loop. The frozen copy is released on the snapshot queue, not on the event loop:
    /// freeing the shards the live keyspace replaced meanwhile can take a while. Access
    /// times are held while any such work runs, and the copy-on-write size is recorded.
    func writeFrozenKeyspace<T>(
        nice: Int = 10, _ write: @escaping (inout [Database]) throws -> T,
        finish: @escaping (ServerCore, Result<T, Error>) -> Void
    ) {
        // The writer is the frozen copy's only owner (a writer that drains it frees what
        // the live keyspace stopped sharing as it goes); the shards' identities, taken
        // now, tell afterwards what the live keyspace copied.
        let frozen = FrozenKeyspace(engine.databases)
        let identities = engine.databases.map { $0.shards.map { $0.storageIdentity } }
        engine.holdsAccessTimes = true
        let loop = eventLoop
        let core = NIOLoopBound(self, eventLoop: loop)
        let done = NIOLoopBound(finish, eventLoop: loop)
        ServerCore.snapshotQueue.async {
            let previous = strata_set_thread_nice(Int32(nice))
            var databases = frozen.take()
            let result = Result { try write(&databases) }
            databases = []
            _ = strata_set_thread_nice(previous)
            loop.execute {
                let server = core.value
                server.persistence.lastCopyOnWriteBytes = ServerCore.copiedBytes(
                    frozenShards: identities, live: server.engine.databases)
                done.value(server, result)
                server.engine.holdsAccessTimes =
                    server.persistence.backgroundSaveInProgress || server.aof.rewriteInProgress
            }
        }
    }

    /// Performs the end of a background save the scheduler decided, then starts the
    /// rewrite or save scheduled meanwhile.
    private func finishBackgroundSave(_ result: Result<SnapshotSummary, Error>) {
        let finish = persistence.backgroundSaveFinished(
            result, now: clock.wallMilliseconds(), dirty: engine.stats.dirty)
        engine.stats.dirty = finish.dirty
        log(finish.log)
        startScheduledBackgroundWork()
    }

    /// Shards the live keyspace had to copy because they were written during the save:
    /// their tables' bytes.
    static func copiedBytes(frozenShards: [[UInt?]], live: [Database]) -> Int {
        var bytes = 0
        for (old, new) in zip(frozenShards, live) {
            for (index, identity) in old.enumerated() where index < new.shards.count {
                let shard = new.shards[index]
                if identity == nil || identity != shard.storageIdentity {
                    bytes += shard.entries.allocatedBytes + shard.deadlines.allocatedBytes
                }
            }
        }
        return bytes
    }

    /// Starts a background save when a save point is due (called from the 100 ms task).
    func checkSavePoints() {
        guard
            let point = persistence.tick(
                points: config.savePoints, dirty: engine.stats.dirty, now: clock.wallMilliseconds(),
                rewriteInProgress: aof.rewriteInProgress)
        else { return }
        log(SnapshotScheduler.savePointLogLine(point))
        startBackgroundSave()
    }
}

/// A frozen copy of the keyspace handed to the snapshot queue, taken out there so that the
/// writer holds it alone.
final class FrozenKeyspace: @unchecked Sendable {
    private var databases: [Database]

    init(_ databases: [Database]) {
        self.databases = databases
    }

    /// The copy; the box keeps nothing.
    func take() -> [Database] {
        defer { databases = [] }
        return databases
    }
}
