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
//! Those decisions are `AppendOnlyLog`'s; this file feeds it, calls it at the right moments
//! and performs the actions it returns (log lines, background fsyncs, released replies).

import CMallocInfo
import Dispatch
import Logging
import NIOCore
import RESP
import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
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
        // The replication stream takes the same effects.
        if replication.isFeeding && primaryLink == nil { feedReplicas() }
        guard aof.isLogging else {
            _ = engine.takeEffects()
            return
        }
        aof.feed.append(engine.record.effects, timestampSecond: config.aofTimestampEnabled ? now / 1000 : nil)
        engine.record.effects.removeAll(keepingCapacity: true)
        ensurePassEndTask()
    }

    // MARK: Writing and syncing

    /// How the log syncs now.
    var aofPolicy: AOFSyncPolicy { AOFSyncPolicy(fsync: config.appendFsync, suspended: aofFsyncSuspended) }

    /// Performs what the log asked for.
    func perform(_ actions: [AOFAction<DurabilityHold>]) {
        for action in actions {
            switch action {
            case .log(let level, let message):
                logger.log(level: level, "\(message)")
            case .syncInBackground(let files, let target, let urgent):
                syncInBackground(files, target: target, urgent: urgent)
            case .release(let holds):
                for hold in holds { hold.client.releaseHeldReplies() }
            }
        }
    }

    /// Writes the buffer to the file (once per event-loop pass, before replies are
    /// flushed) and starts an fsync when the policy asks for one. Without `force`, an
    /// everysec write waits while a background fsync runs (``AppendOnlyLog/writePending(now:policy:force:)``).
    func writeAppendOnlyBuffer(force: Bool = false) {
        perform(aof.writePending(now: clock.monotonicNanoseconds(), policy: aofPolicy, force: force))
    }

    /// Starts a background fsync of what has been written, unless one is running.
    func requestAppendOnlySync() {
        perform(aof.requestSync(now: clock.monotonicNanoseconds(), policy: aofPolicy))
    }

    private func syncInBackground(_ files: [AOFAppendFile], target: UInt64, urgent: Bool) {
        let loop = eventLoop
        let core = NIOLoopBound(self, eventLoop: loop)
        ServerCore.aofSyncQueue.async {
            var failure: DurableFileError?
            // An everysec fsync yields the CPU to the event loop and its clients; one that
            // replies wait for does not.
            let previous = urgent ? 0 : strata_set_thread_nice(10)
            for file in files { failure = file.sync() ?? failure }
            if !urgent { _ = strata_set_thread_nice(previous) }
            loop.execute {
                let server = core.value
                server.perform(
                    server.aof.syncFinished(
                        target: target, failure: failure, files: files, now: server.clock.monotonicNanoseconds(),
                        policy: server.aofPolicy))
            }
        }
    }

    /// Whether a connection whose last write ended at `offset` must hold its replies.
    func mustHoldReplies(until offset: UInt64) -> Bool {
        // The policy first: a call on the generic log copies it, on every flush.
        switch aofPolicy.fsync {
        case .always: return aof.mustHoldReplies(until: offset, policy: aofPolicy)
        case .everysec: return aof.writesPostponedSince != nil && aof.mustHoldReplies(until: offset, policy: aofPolicy)
        case .no: return false
        }
    }

    /// Parks `client` until its writes are durable.
    func holdUntilDurable(_ client: any HeldRepliesClient) {
        aof.hold(DurabilityHold(client))
        if aof.feed.pendingBytes > 0 { ensurePassEndTask() } else { requestAppendOnlySync() }
    }

    /// Sends the replies whose writes are now durable.
    func releaseDurableWaiters() {
        perform(aof.releasable(policy: aofPolicy))
    }

    /// The once-a-second work: the everysec fsync, retries of failed writes, automatic
    /// rewrites. Called from the 100 ms task.
    func appendOnlyTick() {
        guard aof.isLogging else { return }
        perform(aof.tick(now: clock.monotonicNanoseconds(), policy: aofPolicy))
        checkAutomaticRewrite()
    }

    /// Writes and fsyncs everything logged so far, on the event loop (shutdown,
    /// `appendonly no`).
    func flushAppendOnlyFileNow() {
        perform(aof.flushNow(now: clock.monotonicNanoseconds(), policy: aofPolicy))
    }
}
