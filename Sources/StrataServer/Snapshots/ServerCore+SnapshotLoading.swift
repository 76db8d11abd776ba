//! Loading the snapshot at start-up on a background thread while commands answer
//! `-LOADING`, and removing the temp files a killed save left behind. The loading flag and
//! the start-up save time are `SnapshotScheduler`'s; reading the file is done here.

import NIOCore
import StrataEngine
import StrataPersistence

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension ServerCore {
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
        persistence.startingUp(now: clock.wallMilliseconds())
        let path = config.dbFilename
        guard FileManager.default.fileExists(atPath: path) else { return }
        persistence.loadingStarted()
        let settings = engine.settings
        let count = engine.databases.count
        let progress = LoadingProgress(
            startedAt: clock.wallMilliseconds() / 1000, totalBytes: persistence.fileSystem.size(of: path) ?? 0)
        loadingProgress = progress
        let fileSystem = ProgressCountingFileSystem(persistence.fileSystem, progress: progress)
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
                self.persistence.loadingFinished()
                switch result {
                case .success(let (databases, report)):
                    self.engine.databases = databases
                    self.keyspaceReplaced()
                    self.restoreReplication(from: report.aux)
                    self.restoreFunctions(
                        report.functions.map { [Bytes("FUNCTION"), Bytes("LOAD"), Bytes("REPLACE"), $0] })
                    let seconds = Double(WallClock.nowMilliseconds() - start) / 1000
                    self.logger.notice(
                        "DB loaded from disk: \(String(printf: "%.3f", seconds)) seconds (\(report.keys) keys, \(report.expiredKeys) expired keys dropped)"
                    )
                    self.initialDatasetLoaded()
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
