//! BGREWRITEAOF and automatic rewrites, on the same copy-on-write freeze as BGSAVE: on the
//! event loop the buffer is written, a new incremental file is opened and listed in the
//! manifest (so from this instant new writes land there), and the keyspace is frozen by
//! copying the array of databases. A background thread writes the new base from the
//! frozen copy; back on the loop the base is renamed into place and a new manifest (new
//! base, current incremental file) replaces the old one atomically, after which the old
//! files are deleted. A crash at any moment leaves a manifest whose files hold every
//! acknowledged write.

import Foundation
import NIOCore
import StrataEngine
import StrataPersistence

extension ServerCore {
    /// BGREWRITEAOF.
    func bgrewriteaofCommand() -> Reply {
        if aof.rewriteInProgress {
            return .error("ERR Background append only file rewriting already in progress")
        }
        if persistence.backgroundSaveInProgress {
            aof.rewriteScheduled = true
            return .status("Background append only file rewriting scheduled")
        }
        guard startAppendOnlyRewrite() else {
            return .error(
                "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
        }
        return .status("Background append only file rewriting started")
    }

    /// The manifest's path.
    var aofManifestPath: String { aofDirectory + "/" + AOFManifest.manifestName(config.appendFilename) }

    /// The temp incremental file used while waiting for the first rewrite.
    var aofTempIncrementalPath: String { aofDirectory + "/temp-" + config.appendFilename + ".incr" }

    /// Writes `manifest` durably.
    func persistManifest(_ manifest: AOFManifest) throws {
        try manifest.write(to: aofManifestPath, fileSystem: persistence.fileSystem)
    }

    /// Creates the AOF directory if needed.
    func ensureAOFDirectory() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: aofDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw DurableFileError(path: aofDirectory, operation: "mkdir", code: ENOTDIR)
            }
            return
        }
        if mkdir(aofDirectory, 0o755) != 0 && errno != EEXIST {
            throw DurableFileError(path: aofDirectory, operation: "mkdir", code: errno)
        }
    }

    /// Starts a rewrite. Returns false (and logs why) when it cannot start.
    @discardableResult
    func startAppendOnlyRewrite() -> Bool {
        guard !aof.rewriteInProgress, !persistence.backgroundSaveInProgress, !persistence.loading else { return false }
        let now = clock.wallMilliseconds()
        do {
            try ensureAOFDirectory()
            if aof.isLogging {
                writeAppendOnlyBuffer()
                guard aof.feed.pendingBytes == 0 else {
                    logger.warning("Can't rewrite the AOF: the pending writes cannot be written to the current file.")
                    aof.lastRewriteOK = false
                    return false
                }
            }
            if aof.status == .waitingForRewrite {
                // What the temp file logged so far is in the base about to be frozen: start
                // it afresh, or replay would apply those writes twice.
                flushAppendOnlyFileNow()
                unlink(aofTempIncrementalPath)
                aof.file = try AOFAppendFile(path: aofTempIncrementalPath, fileSystem: persistence.fileSystem)
                aof.feed.startNewFile()
            } else if aof.status == .on {
                // New writes go to a new incremental file from now on.
                let sequence = aof.manifest.nextIncrementalSequence
                let name = AOFManifest.incrementalName(config.appendFilename, sequence: sequence)
                let file = try AOFAppendFile(path: aofDirectory + "/" + name, fileSystem: persistence.fileSystem)
                var updated = aof.manifest
                updated.incrementals.append(.init(name: name, sequence: sequence, type: .incremental))
                try persistManifest(updated)
                aof.manifest = updated
                if let old = aof.file {
                    aof.filesToSync.append(old)
                    aof.otherFilesBytes += old.size
                }
                aof.file = file
                aof.feed.startNewFile()
            }
        } catch {
            logger.warning("Can't rewrite the AOF: \(error)")
            aof.lastRewriteOK = false
            return false
        }
        aof.rewriteFreezeOffset = aof.appendedOffset
        let temp = aofDirectory + "/temp-rewriteaof-bg-\(getpid()).aof"
        let snapshot = config.aofUseRDBPreamble
        let options = snapshotOptions
        let fileSystem = persistence.fileSystem
        aof.rewriteInProgress = true
        aof.rewriteScheduled = false
        aof.rewriteStartedAt = now
        aof.statusAtRewriteStart = aof.status
        logger.notice("Background append only file rewriting started")
        writeFrozenKeyspace { frozen in
            try AOFBaseWriter.write(
                frozen, tempPath: temp, fileSystem: fileSystem, snapshot: snapshot, options: options, now: now)
        } finish: { core, result in
            core.finishAppendOnlyRewrite(result, temp: temp, snapshot: snapshot)
        }
        return true
    }

    private func finishAppendOnlyRewrite(_ result: Result<Int, Error>, temp: String, snapshot: Bool) {
        let now = clock.wallMilliseconds()
        aof.rewriteInProgress = false
        aof.lastRewriteSeconds = Int((now - aof.rewriteStartedAt + 500) / 1000)
        do {
            let baseBytes = try result.get()
            try installRewrittenBase(temp: temp, snapshot: snapshot, baseBytes: baseBytes)
            aof.lastRewriteOK = true
            aof.rewrites += 1
            aof.consecutiveRewriteFailures = 0
            logger.notice("Background AOF rewrite finished successfully")
            recoverDurabilityAfterRewrite()
        } catch {
            unlink(temp)
            aof.lastRewriteOK = false
            aof.consecutiveRewriteFailures += 1
            aof.rewriteRetryAfter = clock.monotonicNanoseconds() + 5_000_000_000
            if aof.status == .waitingForRewrite || aof.suspectUpTo != nil { aof.rewriteScheduled = true }
            logger.warning("Background AOF rewrite failed: \(error)")
        }
        startScheduledBackgroundWork()
    }

    /// After a failed fsync (see `AOFState.suspectUpTo`): a rewrite that froze the keyspace
    /// after the suspect data has made it durable, so the replies held for it go out and
    /// writes are accepted again; an earlier freeze needs another rewrite.
    private func recoverDurabilityAfterRewrite() {
        guard let suspect = aof.suspectUpTo else { return }
        guard aof.rewriteFreezeOffset >= suspect else {
            aof.rewriteScheduled = true
            return
        }
        aof.suspectUpTo = nil
        aof.writeError = nil
        aof.syncedOffset = max(aof.syncedOffset, aof.rewriteFreezeOffset)
        logger.notice("The AOF rewrite made the data durable again after the fsync error: writes are accepted.")
        releaseDurableWaiters()
        requestAppendOnlySync()  // what was logged after the freeze, in the new incremental file
    }

    /// Renames the new base into place and installs the manifest that lists it.
    private func installRewrittenBase(temp: String, snapshot: Bool, baseBytes: Int) throws {
        let prefix = config.appendFilename
        let old = aof.manifest
        let baseSequence = old.nextBaseSequence
        let baseName = AOFManifest.baseName(prefix, sequence: baseSequence, snapshot: snapshot)
        var updated = AOFManifest(base: .init(name: baseName, sequence: baseSequence, type: .base))
        var renamedIncremental: (from: String, to: String)?
        // `appendonly` changed during the rewrite: the base stands alone (a base-only
        // manifest), and the rewrite scheduled by the change pairs a new base with the
        // file now being logged to.
        let status = aof.statusAtRewriteStart == aof.status ? aof.status : .off
        switch status {
        case .on:
            if let current = old.incrementals.last { updated.incrementals = [current] }
        case .waitingForRewrite:
            let sequence = old.nextIncrementalSequence
            let name = AOFManifest.incrementalName(prefix, sequence: sequence)
            updated.incrementals = [.init(name: name, sequence: sequence, type: .incremental)]
            renamedIncremental = (aofTempIncrementalPath, aofDirectory + "/" + name)
        case .off:
            break
        }
        let kept = Set(updated.incrementals.map(\.name))
        updated.history =
            old.history + (old.base.map { [$0] } ?? [])
            + old.incrementals.filter { !kept.contains($0.name) }.map {
                .init(name: $0.name, sequence: $0.sequence, type: .history)
            }
        try persistence.fileSystem.rename(temp, to: aofDirectory + "/" + baseName)
        if let renamedIncremental {
            do {
                try persistence.fileSystem.rename(renamedIncremental.from, to: renamedIncremental.to)
            } catch {
                unlink(aofDirectory + "/" + baseName)
                throw error
            }
        }
        persistence.fileSystem.syncDirectory(aofDirectory)
        do {
            try persistManifest(updated)
        } catch {
            if let renamedIncremental { rename(renamedIncremental.to, renamedIncremental.from) }
            unlink(aofDirectory + "/" + baseName)
            throw error
        }
        aof.manifest = updated
        if status == .waitingForRewrite {
            aof.status = .on
            logger.notice("Background AOF rewrite: the AOF is now on")
        }
        deleteHistoryFiles()
        aof.otherFilesBytes = baseBytes
        aof.baseSize = aof.currentSize
    }

    /// Deletes the files the manifest lists as history, then lists them no more.
    func deleteHistoryFiles() {
        guard !aof.manifest.history.isEmpty else { return }
        for file in aof.manifest.history {
            unlink(aofDirectory + "/" + file.name)
            logger.notice("Removing the history file \(file.name) in the background")
        }
        var updated = aof.manifest
        updated.history = []
        if (try? persistManifest(updated)) != nil { aof.manifest = updated }
    }

    /// Starts a rewrite or save that was scheduled while another was running.
    func startScheduledBackgroundWork() {
        if aof.rewriteScheduled && !persistence.backgroundSaveInProgress && !aof.rewriteInProgress
            && clock.monotonicNanoseconds() >= aof.rewriteRetryAfter
        {
            startAppendOnlyRewrite()
        } else if persistence.scheduled && !aof.rewriteInProgress && !persistence.backgroundSaveInProgress {
            persistence.scheduled = false
            startBackgroundSave()
        }
    }

    /// Starts a rewrite when the AOF has grown past `auto-aof-rewrite-percentage` of its
    /// size after the last rewrite (and past `auto-aof-rewrite-min-size`), or one was
    /// scheduled.
    func checkAutomaticRewrite() {
        guard !aof.rewriteInProgress, !persistence.backgroundSaveInProgress else { return }
        if aof.rewriteScheduled {
            startScheduledBackgroundWork()
            return
        }
        guard aof.status == .on, config.autoAOFRewritePercentage > 0,
            clock.monotonicNanoseconds() >= aof.rewriteRetryAfter
        else { return }
        let size = aof.currentSize
        guard size > config.autoAOFRewriteMinSize else { return }
        let base = max(aof.baseSize, 1)
        let growth = (size - base) * 100 / base
        if growth >= config.autoAOFRewritePercentage {
            logger.notice("Starting automatic rewriting of AOF on \(growth)% growth")
            if !startAppendOnlyRewrite() {
                aof.rewriteRetryAfter = clock.monotonicNanoseconds() + 5_000_000_000
            }
        }
    }

    // MARK: Turning the AOF on and off at run time

    /// `CONFIG SET appendonly yes`: logs to a temp incremental file and starts the rewrite
    /// that writes the base; both are installed when it completes.
    func startAppendOnly() -> Bool {
        guard aof.status == .off else { return true }
        do {
            try ensureAOFDirectory()
            unlink(aofTempIncrementalPath)
            aof.file = try AOFAppendFile(path: aofTempIncrementalPath, fileSystem: persistence.fileSystem)
        } catch {
            logger.warning("Redis needs to enable the AOF but can't open the append only file: \(error)")
            return false
        }
        if persistence.fileSystem.fileExists(aofManifestPath),
            let manifest = try? AOFManifest.read(path: aofManifestPath, fileSystem: persistence.fileSystem)
        {
            aof.manifest = manifest
        } else {
            aof.manifest = AOFManifest()
        }
        aof.status = .waitingForRewrite
        aof.feed.startNewFile()
        aof.otherFilesBytes = 0
        aof.writeError = nil
        aof.suspectUpTo = nil  // the rewrite that starts the AOF writes everything anew
        engine.recordsEffects = true
        _ = engine.takeEffects()
        if aof.rewriteInProgress || persistence.backgroundSaveInProgress || !startAppendOnlyRewrite() {
            aof.rewriteScheduled = true
        }
        return true
    }

    /// `CONFIG SET appendonly no`: syncs what was logged and stops logging.
    func stopAppendOnly() {
        guard aof.status != .off else { return }
        flushAppendOnlyFileNow()
        if aof.status == .waitingForRewrite { unlink(aofTempIncrementalPath) }
        aof.status = .off
        aof.file = nil
        aof.filesToSync = []
        aof.writeError = nil
        aof.suspectUpTo = nil
        aof.rewriteScheduled = false
        engine.recordsEffects = false
        _ = engine.takeEffects()
        releaseDurableWaiters()
        logger.notice("Background append only file is off")
    }
}
