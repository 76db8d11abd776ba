//! Snapshots from the server's side: SAVE, BGSAVE (and SCHEDULE), LASTSAVE, save points,
//! MISCONF after a failed save, saving at shutdown, and loading at start while answering
//! `-LOADING`. BGSAVE freezes the keyspace by copying the array of databases (their
//! shards are copy-on-write) and serializes the frozen copy on a background thread; the
//! event loop never waits for compression or the disk.

import CMallocInfo
import Dispatch
import Foundation
import NIOCore
import StrataEngine
import StrataPersistence

/// Snapshot bookkeeping, as `INFO persistence` reports it.
struct PersistenceState {
    /// Unix seconds of the last successful save (or of start-up).
    var lastSaveTime: Int64 = 0
    var lastBackgroundSaveOK = true
    var backgroundSaveInProgress = false
    var backgroundSaveStarted: Int64 = 0
    var lastBackgroundSaveSeconds = -1
    var lastFailureAt: Int64 = 0
    var saves = 0
    var scheduled = false
    /// Bytes copied because of writes during the last background save.
    var lastCopyOnWriteBytes = 0
    var loading = false
    var tempFileCounter = 0

    /// Seconds a failed background save waits before a save point may start another.
    static let retrySeconds: Int64 = 5

    /// The save point due now (Unix seconds) with `dirty` changes since the last save, if
    /// any: its changes are reached and its seconds have passed since the last save, and a
    /// failed save was not tried in the last ``retrySeconds``.
    func duePoint(of points: [SavePoint], dirty: Int, now: Int64) -> SavePoint? {
        guard !backgroundSaveInProgress, !loading else { return nil }
        guard lastBackgroundSaveOK || now - lastFailureAt > PersistenceState.retrySeconds else { return nil }
        return points.first { dirty >= $0.changes && now - lastSaveTime > Int64($0.seconds) }
    }
    /// The file system every persistence file goes through: the disk, with the faults
    /// `DEBUG FAULT` arms.
    let fileSystem = FaultInjectingFileSystem(wrapping: POSIXFileSystem.shared)
}

extension ServerCore {
    static let misconfError = Reply.error(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
    )
    static let loadingError = Reply.error("LOADING Redis is loading the dataset in memory")

    /// Writes are refused after a failed save while save points are configured.
    var writesDeniedByDiskError: Bool {
        config.stopWritesOnBgsaveError && !config.savePoints.isEmpty && !persistence.lastBackgroundSaveOK
    }

    var snapshotOptions: SnapshotOptions {
        var options = SnapshotOptions()
        options.codec = config.snapshotCompression
        options.checksum = config.rdbChecksum
        options.writer = "strata \(ServerVersion.strata)"
        options.redisVersion = ServerVersion.redisCompatible
        options.functions = scripting.libraries.sortedLibraries.map(\.code)
        return options
    }

    func nextTempPath() -> String {
        persistence.tempFileCounter += 1
        return "temp-strata-\(getpid())-\(persistence.tempFileCounter).sdb"
    }

    // MARK: Commands

    /// SAVE, BGSAVE, LASTSAVE.
    func persistenceCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        switch command {
        case .save:
            if persistence.backgroundSaveInProgress || aof.rewriteInProgress {
                return .error("ERR Background save already in progress")
            }
            return saveNow() ? .ok : .error("ERR")
        case .bgSave:
            var schedule = false
            if args.count == 2 {
                guard args[1].equalsIgnoringCase("schedule") else { return Errors.syntax }
                schedule = true
            } else if args.count > 2 {
                return Errors.syntax
            }
            if persistence.backgroundSaveInProgress {
                guard schedule else { return .error("ERR Background save already in progress") }
                persistence.scheduled = true
                return .status("Background saving scheduled")
            }
            if aof.rewriteInProgress {
                guard schedule else {
                    return .error(
                        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                    )
                }
                persistence.scheduled = true
                return .status("Background saving scheduled")
            }
            startBackgroundSave()
            return .status("Background saving started")
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
            persistence.lastSaveTime = now / 1000
            persistence.lastBackgroundSaveOK = true
            persistence.saves += 1
            logger.notice("DB saved on disk (\(summary.keys) keys, \(summary.fileBytes) bytes)")
            return true
        } catch {
            logger.warning("Error saving DB on disk: \(error)")
            persistence.lastBackgroundSaveOK = false
            persistence.lastFailureAt = now / 1000
            return false
        }
    }

    /// Freezes the keyspace and serializes it on a background thread.
    func startBackgroundSave() {
        let now = clock.wallMilliseconds()
        let dirtyAtStart = engine.stats.dirty
        let path = config.dbFilename
        let temp = nextTempPath()
        let options = snapshotOptions
        let fileSystem = persistence.fileSystem
        persistence.backgroundSaveInProgress = true
        persistence.backgroundSaveStarted = now
        logger.notice("Background saving started")
        writeFrozenKeyspace { frozen in
            try SnapshotWriter.write(
                frozen, to: path, tempPath: temp, fileSystem: fileSystem, options: options, now: now)
        } finish: { core, result in
            core.finishBackgroundSave(result, dirtyAtStart: dirtyAtStart)
        }
    }

    static let snapshotQueue = DispatchQueue(label: "strata.snapshot", qos: .utility)

    /// The background work BGSAVE and BGREWRITEAOF share: freezes the keyspace (a copy of
    /// the array of databases; their shards are copy-on-write), runs `write` over the frozen
    /// copy on the snapshot queue at nice 10 (so that it yields the CPU to the event loop and
    /// its clients; Redis's fork child competes at full priority), and calls `finish` on the
    /// event loop. The frozen copy is released on the snapshot queue, not on the event loop:
    /// freeing the shards the live keyspace replaced meanwhile can take a while. Access
    /// times are held while any such work runs, and the copy-on-write size is recorded.
    func writeFrozenKeyspace<T>(
        _ write: @escaping ([Database]) throws -> T, finish: @escaping (ServerCore, Result<T, Error>) -> Void
    ) {
        let frozen = engine.databases
        engine.holdsAccessTimes = true
        let loop = eventLoop
        let core = NIOLoopBound(self, eventLoop: loop)
        let done = NIOLoopBound(finish, eventLoop: loop)
        ServerCore.snapshotQueue.async {
            let previous = strata_set_thread_nice(10)
            let result = Result { try write(frozen) }
            _ = strata_set_thread_nice(previous)
            let identities = frozen.map { $0.shards.map { $0.storageIdentity } }
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

    private func finishBackgroundSave(_ result: Result<SnapshotSummary, Error>, dirtyAtStart: Int) {
        let now = clock.wallMilliseconds()
        persistence.backgroundSaveInProgress = false
        persistence.lastBackgroundSaveSeconds = Int((now - persistence.backgroundSaveStarted + 500) / 1000)
        switch result {
        case .success(let summary):
            engine.stats.dirty = max(0, engine.stats.dirty - dirtyAtStart)
            persistence.lastSaveTime = persistence.backgroundSaveStarted / 1000
            persistence.lastBackgroundSaveOK = true
            persistence.saves += 1
            logger.notice(
                "Background saving terminated with success (\(summary.keys) keys, \(summary.fileBytes) bytes)")
        case .failure(let error):
            persistence.lastBackgroundSaveOK = false
            persistence.lastFailureAt = now / 1000
            logger.warning("Background saving error: \(error)")
        }
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
        guard !aof.rewriteInProgress, !config.savePoints.isEmpty,
            let point = persistence.duePoint(
                of: config.savePoints, dirty: engine.stats.dirty, now: clock.wallMilliseconds() / 1000)
        else { return }
        logger.notice("\(point.changes) changes in \(point.seconds) seconds. Saving...")
        startBackgroundSave()
    }

    // MARK: Start-up

    /// Removes temp files that a process killed mid-save left behind.
    func removeStaleTempFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: ".")) ?? []
        for name in names where name.hasPrefix("temp-strata-") && name.hasSuffix(".sdb") {
            try? FileManager.default.removeItem(atPath: name)
            logger.notice("Removed a leftover temp file: \(name)")
        }
    }

    /// Loads `dbfilename` on a background thread, answering `-LOADING` meanwhile; `failed`
    /// is called (on the event loop) with the message when the file cannot be read.
    func beginLoading(failed: @escaping (String) -> Void) {
        removeStaleTempFiles()
        persistence.lastSaveTime = clock.wallMilliseconds() / 1000
        let path = config.dbFilename
        guard FileManager.default.fileExists(atPath: path) else { return }
        persistence.loading = true
        let settings = engine.settings
        let count = engine.databases.count
        let fileSystem = persistence.fileSystem
        let loop = eventLoop
        let core = NIOLoopBound(self, eventLoop: loop)
        let done = NIOLoopBound(failed, eventLoop: loop)
        ServerCore.snapshotQueue.async {
            let start = WallClock.nowMilliseconds()
            let result = Result {
                try SnapshotReader.load(
                    path: path, fileSystem: fileSystem, databaseCount: count, settings: settings, now: start)
            }
            loop.execute {
                let `self` = core.value
                let failed = done.value
                self.persistence.loading = false
                switch result {
                case .success(let (databases, report)):
                    self.engine.databases = databases
                    self.restoreFunctions(
                        report.functions.map { [Bytes("FUNCTION"), Bytes("LOAD"), Bytes("REPLACE"), $0] })
                    let seconds = Double(WallClock.nowMilliseconds() - start) / 1000
                    self.logger.notice(
                        "DB loaded from disk: \(String(format: "%.3f", seconds)) seconds (\(report.keys) keys, \(report.expiredKeys) expired keys dropped)"
                    )
                case .failure(let error):
                    failed(
                        "Can't load the snapshot: \(error). The file was left untouched; "
                            + "`strata-dump verify \(path)` names the damaged chunks and "
                            + "`strata-dump verify --salvage repaired.sdb \(path)` writes what can be read.")
                }
            }
        }
    }
}
