//! Start-up with `appendonly yes`: the AOF directory is the source of truth (a snapshot
//! file is not read, as in Redis 7). Temp files of a rewrite a crash interrupted are
//! removed, history files deleted, an old single-file `appendonly.aof` is moved into the
//! directory as its base, and a missing AOF is created (an empty base and a first
//! incremental file). The files are replayed on a background thread while clients get
//! `-LOADING`; a truncated last command is cut off and logged (`aof-load-truncated yes`),
//! any other damage stops the server with the file, the offset and the repair command.

import NIOCore
import StrataEngine
import StrataPersistence

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Carries an engine built on the loading thread to the event loop.
private final class LoadedEngine: @unchecked Sendable {
    let engine: Engine
    init(_ engine: Engine) { self.engine = engine }
}

extension ServerCore {
    /// Loads the AOF directory (creating or upgrading it as needed), then starts logging.
    func beginAppendOnlyLoading(failed: @escaping (String) -> Void) {
        removeStaleTempFiles()
        persistence.lastSaveTime = clock.wallMilliseconds() / 1000
        let manifest: AOFManifest
        do {
            try ensureAOFDirectory()
            removeStaleAOFTempFiles()
            if !FileManager.default.fileExists(atPath: aofManifestPath) {
                if FileManager.default.fileExists(atPath: config.appendFilename) {
                    try upgradeSingleFileAOF()
                } else {
                    try createAppendOnlyFiles()
                    return
                }
            }
            manifest = try AOFManifest.read(path: aofManifestPath, fileSystem: persistence.fileSystem)
        } catch {
            failed("Can't open the AOF directory \(aofDirectory): \(error)")
            return
        }
        aof.manifest = manifest
        deleteHistoryFiles(inBackground: false)
        persistence.loading = true
        let directory = aofDirectory
        let settings = engine.settings
        let count = engine.databases.count
        let allowTruncated = config.aofLoadTruncated
        let total = ([manifest.base].compactMap { $0 } + manifest.incrementals).reduce(0) {
            $0 + (persistence.fileSystem.size(of: directory + "/" + $1.name) ?? 0)
        }
        let progress = LoadingProgress(startedAt: clock.wallMilliseconds() / 1000, totalBytes: total)
        loadingProgress = progress
        let fileSystem = ProgressCountingFileSystem(persistence.fileSystem, progress: progress)
        let manifestPath = aofManifestPath
        let loop = eventLoop
        let core = NIOLoopBound(self, eventLoop: loop)
        let done = NIOLoopBound(failed, eventLoop: loop)
        ServerCore.snapshotQueue.async {
            let start = WallClock.nowMilliseconds()
            let loader = Engine(databaseCount: count)
            loader.settings = settings
            let result = Result {
                try AOFLoader.load(
                    directory: directory, fileSystem: fileSystem, manifest: manifest, into: loader, now: start,
                    allowTruncatedTail: allowTruncated)
            }
            let loaded = LoadedEngine(loader)
            loop.execute {
                let `self` = core.value
                self.persistence.loading = false
                switch result {
                case .success(let report):
                    self.engine.databases = loaded.engine.databases
                    self.keyspaceReplaced()
                    self.restoreFunctions(report.functionCommands)
                    if let cut = report.truncatedTail {
                        self.logger.warning("!!! Warning: short read while loading the AOF file \(cut.path)!!!")
                        self.logger.warning(
                            "!!! Truncating the AOF \(cut.path) at offset \(cut.offset) (\(cut.reason)) !!!")
                        self.logger.warning("AOF loaded anyway because aof-load-truncated is enabled")
                    }
                    let seconds = Double(WallClock.nowMilliseconds() - start) / 1000
                    let commands = report.files.reduce(0) { $0 + $1.commands }
                    self.logger.notice(
                        "DB loaded from append only file: \(String(printf: "%.3f", seconds)) seconds (\(report.files.count) files, \(commands) commands)"
                    )
                    do {
                        try self.openIncrementalForAppend(loadedBytes: report.totalBytes)
                    } catch {
                        done.value("Can't open the append only file for writing: \(error)")
                    }
                    self.initialDatasetLoaded()
                case .failure(let error as FileDamageError):
                    done.value(
                        "Bad file format reading the append only file \(error.path) at offset \(error.offset): \(error.reason). "
                            + "Make a backup of the AOF directory, then run `strata-dump verify --fix \(manifestPath)` "
                            + "(or `redis-check-aof --fix \(manifestPath)`), which keeps a .broken copy and cuts the file at that offset."
                    )
                case .failure(let error):
                    done.value("Can't load the append only file: \(error)")
                }
            }
        }
    }

    /// Opens the last incremental file for appending (creating one when the manifest has
    /// none) and starts logging.
    private func openIncrementalForAppend(loadedBytes: Int) throws {
        var file: AOFAppendFile?
        if aof.manifest.incrementals.isEmpty {
            let sequence = aof.manifest.nextIncrementalSequence
            let name = AOFManifest.incrementalName(config.appendFilename, sequence: sequence)
            var updated = aof.manifest
            updated.incrementals.append(.init(name: name, sequence: sequence, type: .incremental))
            file = try AOFAppendFile(path: aofDirectory + "/" + name, fileSystem: persistence.fileSystem)
            try persistManifest(updated)
            aof.manifest = updated
            logger.notice("Creating AOF incr file \(name) on server start")
        } else if let last = aof.manifest.incrementals.last {
            file = try AOFAppendFile(path: aofDirectory + "/" + last.name, fileSystem: persistence.fileSystem)
        }
        aof.resumeLogging(to: file, loadedBytes: loadedBytes)
        engine.recordsEffects = true
    }

    /// A fresh AOF: an empty base and a first incremental file, as Redis 7 creates them.
    private func createAppendOnlyFiles() throws {
        let prefix = config.appendFilename
        let snapshot = config.aofUseRDBPreamble
        let baseName = AOFManifest.baseName(prefix, sequence: 1, snapshot: snapshot)
        let temp = aofDirectory + "/temp-rewriteaof-\(getpid()).aof"
        let bytes = try AOFBaseWriter.write(
            engine.databases, tempPath: temp, fileSystem: persistence.fileSystem, snapshot: snapshot,
            options: snapshotOptions, now: clock.wallMilliseconds())
        try persistence.fileSystem.rename(temp, to: aofDirectory + "/" + baseName)
        logger.notice("Creating AOF base file \(baseName) on server start")
        aof.manifest = AOFManifest(base: .init(name: baseName, sequence: 1, type: .base))
        try openIncrementalForAppend(loadedBytes: bytes)
    }

    /// Moves an old single-file AOF into the directory as its base, as Redis 7 does.
    private func upgradeSingleFileAOF() throws {
        let name = config.appendFilename
        let manifest = AOFManifest(base: .init(name: name, sequence: 1, type: .base))
        try persistence.fileSystem.rename(name, to: aofDirectory + "/" + name)
        persistence.fileSystem.syncDirectory(aofDirectory)
        persistence.fileSystem.syncDirectory(".")
        try persistManifest(manifest)
        logger.notice("Successfully migrated an old-style AOF into the AOF directory \(aofDirectory)")
    }

    /// Removes what a rewrite or `CONFIG SET appendonly yes` interrupted by a crash left.
    private func removeStaleAOFTempFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: aofDirectory)) ?? []
        for name in names
        where name.hasPrefix("temp-rewriteaof-") || name == "temp-" + config.appendFilename + ".incr"
            || name.hasSuffix(".part") || name.contains(".manifest.tmp-")
        {
            unlink(aofDirectory + "/" + name)
            logger.notice("Removed a leftover temp file: \(aofDirectory)/\(name)")
        }
    }
}
