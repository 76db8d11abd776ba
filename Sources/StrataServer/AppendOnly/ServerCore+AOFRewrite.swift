//! BGREWRITEAOF and automatic rewrites, on the same copy-on-write freeze as BGSAVE: on the
//! event loop the buffer is written, a new incremental file is opened and listed in the
//! manifest (so from this instant new writes land there), and the keyspace is frozen by
//! copying the array of databases. A background thread writes the new base from the
//! frozen copy; back on the loop the base is renamed into place and a new manifest (new
//! base, current incremental file) replaces the old one atomically, after which the old
//! files are deleted. A crash at any moment leaves a manifest whose files hold every
//! acknowledged write.

import NIOCore
import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
        var info = stat()
        if stat(aofDirectory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
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
                writeAppendOnlyBuffer(force: true)
                guard aof.feed.pendingBytes == 0 else {
                    logger.warning("Can't rewrite the AOF: the pending writes cannot be written to the current file.")
                    aof.rewriteRefused()
                    return false
                }
            }
            if aof.status == .waitingForRewrite {
                // What the temp file logged so far is in the base about to be frozen: start
                // it afresh, or replay would apply those writes twice.
                flushAppendOnlyFileNow()
                unlink(aofTempIncrementalPath)
                aof.restartFile(try AOFAppendFile(path: aofTempIncrementalPath, fileSystem: persistence.fileSystem))
            } else if aof.status == .on {
                // New writes go to a new incremental file from now on.
                let sequence = aof.manifest.nextIncrementalSequence
                let name = AOFManifest.incrementalName(config.appendFilename, sequence: sequence)
                let file = try AOFAppendFile(path: aofDirectory + "/" + name, fileSystem: persistence.fileSystem)
                var updated = aof.manifest
                updated.incrementals.append(.init(name: name, sequence: sequence, type: .incremental))
                try persistManifest(updated)
                aof.manifest = updated
                aof.switchFile(to: file)
            }
        } catch {
            logger.warning("Can't rewrite the AOF: \(error)")
            aof.rewriteRefused()
            return false
        }
        let temp = aofDirectory + "/temp-rewriteaof-bg-\(getpid()).aof"
        let snapshot = config.aofUseRDBPreamble
        let options = snapshotOptions
        let fileSystem = persistence.fileSystem
        aof.rewriteStarted(wallNow: now)
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
        aof.rewriteEnded(wallNow: clock.wallMilliseconds())
        do {
            let baseBytes = try result.get()
            try installRewrittenBase(temp: temp, snapshot: snapshot, baseBytes: baseBytes)
            perform(aof.rewriteSucceeded(now: clock.monotonicNanoseconds(), policy: aofPolicy))
        } catch {
            unlink(temp)
            perform(aof.rewriteFailed(error, now: clock.monotonicNanoseconds()))
        }
        startScheduledBackgroundWork()
    }

    /// Renames the new base into place and installs the manifest that lists it.
    private func installRewrittenBase(temp: String, snapshot: Bool, baseBytes: Int) throws {
        let installation = aof.installation(prefix: config.appendFilename, snapshot: snapshot)
        let basePath = aofDirectory + "/" + installation.baseName
        let renamedIncremental = installation.renamedIncremental.map {
            (from: aofTempIncrementalPath, to: aofDirectory + "/" + $0)
        }
        try persistence.fileSystem.rename(temp, to: basePath)
        if let renamedIncremental {
            do {
                try persistence.fileSystem.rename(renamedIncremental.from, to: renamedIncremental.to)
            } catch {
                unlink(basePath)
                throw error
            }
        }
        persistence.fileSystem.syncDirectory(aofDirectory)
        do {
            try persistManifest(installation.manifest)
        } catch {
            if let renamedIncremental { rename(renamedIncremental.to, renamedIncremental.from) }
            unlink(basePath)
            throw error
        }
        let wasWaiting = aof.status == .waitingForRewrite
        aof.installed(installation, baseBytes: baseBytes)
        if wasWaiting && aof.status == .on { logger.notice("Background AOF rewrite: the AOF is now on") }
        deleteHistoryFiles()
    }

    /// Deletes the files the manifest lists as history and lists them no more once they
    /// are gone. Redis rewrites the manifest first, so a crash before its unlinks ran
    /// leaves files no manifest names; here they stay listed as history and the next start
    /// removes them. At start-up (`inBackground` false) the unlinks run at once, before
    /// the log is loaded or served; otherwise on ``BackgroundFileWork`` (unlinking a large
    /// base took up to 20 ms).
    func deleteHistoryFiles(inBackground: Bool = true) {
        let history = aof.manifest.history
        guard !history.isEmpty else { return }
        let directory = aofDirectory
        let names = Set(history.map(\.name))
        for file in history {
            logger.notice("Removing the history file \(file.name)\(inBackground ? " in the background" : "")")
        }
        guard inBackground else {
            for name in names { persistence.fileSystem.remove(directory + "/" + name) }
            forgetHistoryFiles(names, in: directory)
            return
        }
        let core = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        BackgroundFileWork.remove(names.map { directory + "/" + $0 }) {
            loop.execute { core.value.forgetHistoryFiles(names, in: directory) }
        }
    }

    /// Lists the history files `names` of `directory` no more (they are gone); nothing
    /// when the AOF moved to another directory meanwhile.
    func forgetHistoryFiles(_ names: Set<String>, in directory: String) {
        guard directory == aofDirectory else { return }
        var updated = aof.manifest
        updated.history.removeAll { names.contains($0.name) }
        guard updated.history.count != aof.manifest.history.count else { return }
        if (try? persistManifest(updated)) != nil { aof.manifest = updated }
    }

    /// Starts a rewrite or save that was scheduled while another was running.
    func startScheduledBackgroundWork() {
        if aof.scheduledRewriteMayStart(
            now: clock.monotonicNanoseconds(), backgroundSaveInProgress: persistence.backgroundSaveInProgress)
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
        let now = clock.monotonicNanoseconds()
        guard
            let growth = aof.automaticRewriteGrowth(
                now: now, percentage: config.autoAOFRewritePercentage, minSize: config.autoAOFRewriteMinSize)
        else { return }
        logger.notice("Starting automatic rewriting of AOF on \(growth)% growth")
        if !startAppendOnlyRewrite() {
            aof.rewriteRetryAfter = clock.monotonicNanoseconds() + AppendOnlyLog<DurabilityHold>.rewriteRetryDelay
        }
    }

    // MARK: Turning the AOF on and off at run time

    /// `CONFIG SET appendonly yes`: logs to a temp incremental file and starts the rewrite
    /// that writes the base; both are installed when it completes.
    func startAppendOnly() -> Bool {
        guard aof.status == .off else { return true }
        let file: AOFAppendFile
        do {
            try ensureAOFDirectory()
            unlink(aofTempIncrementalPath)
            file = try AOFAppendFile(path: aofTempIncrementalPath, fileSystem: persistence.fileSystem)
        } catch {
            logger.warning("Redis needs to enable the AOF but can't open the append only file: \(error)")
            return false
        }
        var manifest = AOFManifest()
        if persistence.fileSystem.fileExists(aofManifestPath),
            let existing = try? AOFManifest.read(path: aofManifestPath, fileSystem: persistence.fileSystem)
        {
            manifest = existing
        }
        aof.beginLogging(to: file, manifest: manifest)
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
        let released = aof.stopLogging(policy: aofPolicy)
        engine.recordsEffects = replication.isFeeding
        _ = engine.takeEffects()
        perform(released)
        logger.notice("Background append only file is off")
    }
}
