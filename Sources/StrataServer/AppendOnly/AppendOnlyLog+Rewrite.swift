//! The append-only log's rewrite and life-cycle bookkeeping: when an automatic rewrite is
//! due, what a rewrite's start and end change (the freeze offset, the counters INFO shows,
//! the retry delay after a failure, the recovery from a failed fsync), which manifest the
//! new base is installed with, and turning logging on and off. The file work (writing the
//! base, renames, the manifest on disk) is the server's; these decide.

import StrataPersistence

/// The manifest a finished rewrite installs, and the temp incremental file it renames.
struct AOFRewriteInstallation: Equatable {
    var manifest: AOFManifest
    /// The new base's file name.
    var baseName: String
    /// The name the temp incremental file (logging while `appendonly` was just turned on)
    /// is renamed to, if it is.
    var renamedIncremental: String?
    /// `status` after the installation.
    var status: AOFStatus
}

extension AppendOnlyLog {
    /// The growth (percent over the base size) that makes an automatic rewrite due now, if
    /// one is: logging to a listed file, `auto-aof-rewrite-percentage` reached, the size
    /// over `auto-aof-rewrite-min-size`, and no failed rewrite in the last
    /// ``rewriteRetryDelay``.
    func automaticRewriteGrowth(now: UInt64, percentage: Int, minSize: Int) -> Int? {
        guard !rewriteInProgress, status == .on, percentage > 0, now >= rewriteRetryAfter else { return nil }
        let size = currentSize
        guard size > minSize else { return nil }
        let base = max(baseSize, 1)
        let growth = (size - base) * 100 / base
        return growth >= percentage ? growth : nil
    }

    /// Whether a scheduled rewrite may start now (nothing else runs; the retry delay after
    /// a failure has passed).
    func scheduledRewriteMayStart(now: UInt64, backgroundSaveInProgress: Bool) -> Bool {
        rewriteScheduled && !backgroundSaveInProgress && !rewriteInProgress && now >= rewriteRetryAfter
    }

    /// Logging moves to `newFile` (a rewrite started): the old file is still synced, its
    /// size counts among the other files, and the new file's first command selects.
    mutating func switchFile(to newFile: AOFAppendFile) {
        if let old = file {
            filesToSync.append(old)
            otherFilesBytes += old.size
        }
        file = newFile
        feed.startNewFile()
    }

    /// Logging restarts in `newFile` after what the old one held went into a base.
    mutating func restartFile(_ newFile: AOFAppendFile) {
        file = newFile
        feed.startNewFile()
    }

    /// A rewrite froze the keyspace now (`wallNow` in Unix ms): everything logged so far is
    /// in the base it writes.
    mutating func rewriteStarted(wallNow: Int64) {
        rewriteFreezeOffset = appendedOffset
        rewriteInProgress = true
        rewriteScheduled = false
        rewriteStartedAt = wallNow
        statusAtRewriteStart = status
    }

    /// A rewrite ended (`wallNow` in Unix ms), before its outcome is known.
    mutating func rewriteEnded(wallNow: Int64) {
        rewriteInProgress = false
        lastRewriteSeconds = Int(clamping: (wallNow &- rewriteStartedAt &+ 500) / 1000)
    }

    /// A rewrite could not start.
    mutating func rewriteRefused() {
        lastRewriteOK = false
    }

    /// The rewrite's base is installed. After a failed fsync (see `suspectUpTo`) a rewrite
    /// that froze the keyspace after the suspect data has made it durable: the replies held
    /// for it go out, writes are accepted again, and what was logged after the freeze is
    /// synced; an earlier freeze needs another rewrite.
    mutating func rewriteSucceeded(now: UInt64, policy: AOFSyncPolicy) -> Actions {
        lastRewriteOK = true
        rewrites += 1
        consecutiveRewriteFailures = 0
        var actions: Actions = [.log(.notice, "Background AOF rewrite finished successfully")]
        guard let suspect = suspectUpTo else { return actions }
        guard rewriteFreezeOffset >= suspect else {
            rewriteScheduled = true
            return actions
        }
        suspectUpTo = nil
        writeError = nil
        syncedOffset = max(syncedOffset, rewriteFreezeOffset)
        actions.append(
            .log(.notice, "The AOF rewrite made the data durable again after the fsync error: writes are accepted."))
        actions += releasable(policy: policy)
        actions += requestSync(now: now, policy: policy)
        return actions
    }

    /// The rewrite failed: automatic ones wait ``rewriteRetryDelay``; one that turning the
    /// AOF on or recovering from a failed fsync needs is scheduled again.
    mutating func rewriteFailed(_ error: Error, now: UInt64) -> Actions {
        lastRewriteOK = false
        consecutiveRewriteFailures += 1
        rewriteRetryAfter = now + Self.rewriteRetryDelay
        if status == .waitingForRewrite || suspectUpTo != nil { rewriteScheduled = true }
        return [.log(.warning, "Background AOF rewrite failed: \(error)")]
    }

    /// The manifest the finished rewrite installs with its base named from `prefix`
    /// (`appendfilename`), and which temp incremental file becomes listed. When `appendonly`
    /// changed during the rewrite the base stands alone (a base-only manifest), and the
    /// rewrite scheduled by the change pairs a new base with the file now being logged to.
    func installation(prefix: String, snapshot: Bool) -> AOFRewriteInstallation {
        let old = manifest
        let baseSequence = old.nextBaseSequence
        let baseName = AOFManifest.baseName(prefix, sequence: baseSequence, snapshot: snapshot)
        var updated = AOFManifest(base: .init(name: baseName, sequence: baseSequence, type: .base))
        var renamedIncremental: String?
        let effective = statusAtRewriteStart == status ? status : .off
        switch effective {
        case .on:
            if let current = old.incrementals.last { updated.incrementals = [current] }
        case .waitingForRewrite:
            let sequence = old.nextIncrementalSequence
            let name = AOFManifest.incrementalName(prefix, sequence: sequence)
            updated.incrementals = [.init(name: name, sequence: sequence, type: .incremental)]
            renamedIncremental = name
        case .off:
            break
        }
        let kept = Set(updated.incrementals.map(\.name))
        let retired = (old.base.map { [$0] } ?? []) + old.incrementals.filter { !kept.contains($0.name) }
        updated.history =
            old.history + retired.map { .init(name: $0.name, sequence: $0.sequence, type: .history) }
        return AOFRewriteInstallation(
            manifest: updated, baseName: baseName, renamedIncremental: renamedIncremental,
            status: effective == .waitingForRewrite ? .on : status)
    }

    /// The installation is on disk.
    mutating func installed(_ installation: AOFRewriteInstallation, baseBytes: Int) {
        manifest = installation.manifest
        status = installation.status
        otherFilesBytes = baseBytes
        baseSize = currentSize
    }

    // MARK: On and off

    /// Logging starts to `newFile` (a temp incremental file) until the first rewrite has
    /// written a base: a write error or suspect data of before no longer matter, that
    /// rewrite writes everything anew.
    mutating func beginLogging(to newFile: AOFAppendFile, manifest existing: AOFManifest) {
        manifest = existing
        file = newFile
        status = .waitingForRewrite
        feed.startNewFile()
        otherFilesBytes = 0
        writeError = nil
        suspectUpTo = nil
    }

    /// Logging starts to the listed incremental file `newFile` after loading (`loadedBytes`
    /// of files were read).
    mutating func resumeLogging(to newFile: AOFAppendFile?, loadedBytes: Int) {
        file = newFile
        otherFilesBytes = max(0, loadedBytes - (newFile?.size ?? 0))
        baseSize = currentSize
        status = .on
        feed.startNewFile()
    }

    /// Logging stops (`appendonly no`); the waiters are released.
    mutating func stopLogging(policy: AOFSyncPolicy) -> Actions {
        status = .off
        file = nil
        filesToSync = []
        writeError = nil
        suspectUpTo = nil
        rewriteScheduled = false
        return releasable(policy: policy)
    }
}
