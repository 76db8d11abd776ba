//! Logging writes to the append-only file. After each command the engine's effects are
//! encoded (with `SELECT` when the database changes, `MULTI`/`EXEC` around a command or
//! transaction that logged more than one, and `#TS:` annotations when enabled) into one
//! buffer. Once per event-loop pass, before any reply is flushed, the buffer is written
//! with one `write()`. With `appendfsync always` the connections that wrote keep their
//! replies until a background fsync covering their bytes completes: one fsync serves every
//! write of the pass (group commit), and the event loop keeps executing the next group
//! while the disk works. With `everysec` a background fsync is started once a second.
//! A write the disk refuses leaves the bytes in the buffer, marks `aof_last_write_status`
//! as failed (write commands then get `-MISCONF`), and is retried until it succeeds.

import CMallocInfo
import Dispatch
import Foundation
import NIOCore
import RESP
import StrataEngine
import StrataPersistence

extension ServerCore {
    /// Bytes written in one pass above which `appendfsync always` syncs in the background.
    static let backgroundSyncThreshold = 16 * 1024

    /// The background queue for AOF fsyncs.
    static let aofSyncQueue = DispatchQueue(label: "strata.aof.fsync", qos: .userInitiated)

    /// Redis's reply to writes while the AOF cannot be written.
    var aofWriteErrorReply: Reply? {
        guard aof.isLogging, let error = aof.writeError else { return nil }
        return .error("MISCONF Errors writing to the AOF file: \(String(cString: strerror(error.code)))")
    }

    /// The directory holding the AOF files.
    var aofDirectory: String { config.appendDirName }

    /// Whether fsyncs are skipped now (`no-appendfsync-on-rewrite` during a rewrite or save).
    var aofFsyncSuspended: Bool {
        config.noAppendFsyncOnRewrite && (aof.rewriteInProgress || persistence.backgroundSaveInProgress)
    }

    /// The `aof_*` fields of `INFO persistence`, in Redis 7.0's order.
    var appendOnlyInfoFields: [(String, String)] {
        let now = clock.wallMilliseconds()
        var fields: [(String, String)] = [
            ("aof_enabled", aof.isLogging ? "1" : "0"),
            ("aof_rewrite_in_progress", aof.rewriteInProgress ? "1" : "0"),
            ("aof_rewrite_scheduled", aof.rewriteScheduled ? "1" : "0"),
            ("aof_last_rewrite_time_sec", String(aof.lastRewriteSeconds)),
            (
                "aof_current_rewrite_time_sec",
                aof.rewriteInProgress ? String((now - aof.rewriteStartedAt) / 1000) : "-1"
            ),
            ("aof_last_bgrewrite_status", aof.lastRewriteOK ? "ok" : "err"),
            ("aof_rewrites", String(aof.rewrites)),
            ("aof_rewrites_consecutive_failures", String(aof.consecutiveRewriteFailures)),
            ("aof_last_write_status", aof.writeError == nil ? "ok" : "err"),
            ("aof_last_cow_size", String(persistence.lastCopyOnWriteBytes)),
            ("module_fork_in_progress", "0"), ("module_fork_last_cow_size", "0"),
        ]
        if aof.isLogging {
            fields += [
                ("aof_current_size", String(aof.currentSize)),
                ("aof_base_size", String(aof.baseSize)),
                ("aof_pending_rewrite", aof.rewriteScheduled ? "1" : "0"),
                ("aof_buffer_length", String(aof.feed.pendingBytes)),
                ("aof_pending_bio_fsync", aof.syncInFlight ? "1" : "0"),
                ("aof_delayed_fsync", String(aof.delayedFsyncs)),
                ("strata_aof_fsyncs", String(aof.fsyncs)),
            ]
        }
        return fields
    }

    // MARK: Feeding

    /// Encodes the effects the engine recorded into the AOF buffer.
    func feedAppendOnlyFile(now: Int64) {
        guard aof.isLogging else {
            _ = engine.takeEffects()
            return
        }
        aof.feed.append(engine.record.effects, timestampSecond: config.aofTimestampEnabled ? now / 1000 : nil)
        engine.record.effects.removeAll(keepingCapacity: true)
        ensurePassEndTask()
    }

    // MARK: Writing and syncing

    /// Writes the buffer to the file (once per event-loop pass, before replies are
    /// flushed) and starts an fsync when the policy asks for one.
    func writeAppendOnlyBuffer() {
        guard aof.isLogging, aof.feed.pendingBytes > 0, let file = aof.file else { return }
        if aof.writeError != nil && clock.monotonicNanoseconds() < aof.nextRetry { return }
        let (written, error) = aof.feed.write { file.append($0) }
        aof.writtenOffset += UInt64(written)
        if let error {
            if aof.writeError == nil {
                logger.warning(
                    "Error writing to the AOF file \(file.path): \(error). Writes are refused until it succeeds.")
            }
            aof.writeError = error
            aof.nextRetry = clock.monotonicNanoseconds() + 100_000_000
            return
        }
        if aof.writeError != nil && aof.suspectUpTo == nil {
            logger.notice("AOF write error looks solved, Redis can write again.")
            aof.writeError = nil
        }
        if config.appendFsync == .always && written < ServerCore.backgroundSyncThreshold && !aof.syncInFlight
            && aof.filesToSync.isEmpty && !aofFsyncSuspended
        {
            // Group commit as Redis's beforeSleep: one fsync for every write of this pass,
            // before any of their replies is flushed. For a light pass this is faster than
            // a hand-off to another thread (its clients all wait for the fsync either way);
            // a heavy pass (pipelines) hands the fsync over so that the next pass executes
            // while the disk works.
            noteSync(upTo: aof.writtenOffset, failure: file.sync())
        } else if config.appendFsync == .always {
            requestAppendOnlySync()
        }
    }

    /// Starts a background fsync of what has been written, unless one is running (its
    /// completion starts the next).
    func requestAppendOnlySync() {
        guard !aof.syncInFlight, aof.suspectUpTo == nil, aof.writtenOffset > aof.syncedOffset, let file = aof.file
        else { return }
        if aofFsyncSuspended {
            // As Redis: no fsync while the disk is busy with a rewrite; replies go out.
            aof.syncedOffset = aof.writtenOffset
            releaseDurableWaiters()
            return
        }
        aof.syncInFlight = true
        aof.syncStartedAt = clock.monotonicNanoseconds()
        let target = aof.writtenOffset
        let files = aof.filesToSync + [file]
        aof.filesToSync.removeAll()
        let loop = eventLoop
        let core = NIOLoopBound(self, eventLoop: loop)
        let urgent = config.appendFsync == .always
        ServerCore.aofSyncQueue.async {
            var failure: DurableFileError?
            // An everysec fsync yields the CPU to the event loop and its clients; one that
            // replies wait for does not.
            let previous = urgent ? 0 : strata_set_thread_nice(10)
            for file in files { failure = file.sync() ?? failure }
            if !urgent { _ = strata_set_thread_nice(previous) }
            loop.execute { core.value.appendOnlySyncFinished(target: target, failure: failure, files: files) }
        }
    }

    private func appendOnlySyncFinished(target: UInt64, failure: DurableFileError?, files: [AOFAppendFile]) {
        aof.syncInFlight = false
        guard noteSync(upTo: target, failure: failure) else {
            // Every file but the current one (which the next fsync covers) is retried.
            aof.filesToSync = files.filter { $0 !== aof.file } + aof.filesToSync
            return
        }
        if config.appendFsync == .always && aof.writtenOffset > aof.syncedOffset { requestAppendOnlySync() }
    }

    /// Records how an fsync of everything written up to `target` went: on success the
    /// replies waiting for it are released; a failure turns `aof_last_write_status` to err.
    ///
    /// - Returns: whether it succeeded.
    @discardableResult
    private func noteSync(upTo target: UInt64, failure: DurableFileError?) -> Bool {
        if let failure {
            logger.warning("Error syncing the AOF file: \(failure)")
            aof.writeError = failure
            aof.nextRetry = clock.monotonicNanoseconds() + 100_000_000
            if aof.suspectUpTo == nil {
                logger.warning(
                    "What was written to the AOF since its last good fsync may not be on disk: writes are refused until a rewrite has made the data durable again."
                )
            }
            aof.suspectUpTo = max(aof.suspectUpTo ?? 0, aof.writtenOffset)
            aof.rewriteScheduled = true
            // At most one such rewrite a second while the disk keeps failing.
            aof.rewriteRetryAfter = max(aof.rewriteRetryAfter, clock.monotonicNanoseconds() + 1_000_000_000)
            return false
        }
        if aof.suspectUpTo != nil { return false }  // proves nothing: see `suspectUpTo`
        aof.fsyncs += 1
        aof.syncedOffset = max(aof.syncedOffset, target)
        releaseDurableWaiters()
        return true
    }

    /// Whether a connection whose last write ended at `offset` must hold its replies.
    func mustHoldReplies(until offset: UInt64) -> Bool {
        aof.isLogging && config.appendFsync == .always && offset > aof.syncedOffset
    }

    /// Parks `connection` until its writes are durable.
    func holdUntilDurable(_ connection: ConnectionHandler) {
        aof.waiting.append(connection)
        if aof.feed.pendingBytes > 0 { ensurePassEndTask() } else { requestAppendOnlySync() }
    }

    /// Sends the replies whose writes are now durable.
    func releaseDurableWaiters() {
        guard !aof.waiting.isEmpty else { return }
        let synced = aof.syncedOffset
        var still: [ConnectionHandler] = []
        let waiting = aof.waiting
        aof.waiting = []
        for connection in waiting {
            if connection.durableOffsetNeeded <= synced || !aof.isLogging || config.appendFsync != .always {
                connection.releaseHeldReplies()
            } else {
                still.append(connection)
            }
        }
        aof.waiting += still
    }

    /// The once-a-second work: the everysec fsync, retries of failed writes, automatic
    /// rewrites. Called from the 100 ms task.
    func appendOnlyTick() {
        guard aof.isLogging else { return }
        if aof.feed.pendingBytes > 0 { writeAppendOnlyBuffer() }
        let now = clock.monotonicNanoseconds()
        if aof.writeError != nil, aof.feed.pendingBytes == 0,
            aof.writtenOffset > aof.syncedOffset || !aof.filesToSync.isEmpty
        {
            requestAppendOnlySync()
        }
        switch config.appendFsync {
        case .everysec where now - aof.lastEverysecSync >= 1_000_000_000:
            if aof.syncInFlight {
                if now - aof.syncStartedAt > 2_000_000_000 { aof.delayedFsyncs += 1 }
            } else if aof.writtenOffset > aof.syncedOffset {
                aof.lastEverysecSync = now
                requestAppendOnlySync()
            }
        case .always:
            requestAppendOnlySync()
        default:
            break
        }
        checkAutomaticRewrite()
    }

    /// Writes and fsyncs everything logged so far, on the event loop (shutdown,
    /// `appendonly no`).
    func flushAppendOnlyFileNow() {
        writeAppendOnlyBuffer()
        for file in aof.filesToSync + (aof.file.map { [$0] } ?? []) { _ = file.sync() }
        aof.filesToSync.removeAll()
        aof.syncedOffset = aof.writtenOffset
        releaseDurableWaiters()
    }
}
