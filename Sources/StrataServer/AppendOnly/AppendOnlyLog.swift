//! The append-only log as a part of the server: its files, offsets, fsync policy, error
//! state and the replies held for durability, with the decisions of when to write, when to
//! fsync, when the held replies may go and when a rewrite must follow a failed fsync.
//!
//! Why a part: these decisions interleave (a failed fsync makes every later fsync of the
//! same file prove nothing, a rewrite that froze the keyspace late enough clears that, a
//! suspended fsync releases replies without syncing), and each used to be made in the
//! middle of the server's own I/O. Here the log writes and syncs its current file through
//! the file interface on the event loop, and returns what the server must do as
//! `AOFAction`s: log a line, start a background fsync of some files, release the
//! connections whose writes are now durable. The server performs them; the unit tests drive
//! the log on an in-memory file system with a fake clock and read the actions.
//!
//! Offsets are logical: bytes ever appended, written, synced, across files.

import Logging
import StrataPersistence

/// Whether commands are being logged (Redis's `aof_state`).
enum AOFStatus {
    /// `appendonly no`.
    case off
    /// Logging to the incremental file the manifest lists.
    case on
    /// `appendonly` was just turned on: logging to a temp incremental file until the first
    /// rewrite has written a base and installs both.
    case waitingForRewrite
}

/// A client whose replies wait until its writes are durable (`appendfsync always`).
protocol DurabilityWaiter: AnyObject {
    /// The log offset its last write ended at.
    var durableOffsetNeeded: UInt64 { get }
}

/// A client of either protocol whose replies can wait for its writes to be durable.
protocol HeldRepliesClient: AnyObject {
    /// The log offset its last write ended at.
    var durableOffsetNeeded: UInt64 { get }
    /// Sends the replies held for the fsync and goes on.
    func releaseHeldReplies()
}

/// A held client, as the log keeps it (and keeps it alive) until its writes are durable.
final class DurabilityHold: DurabilityWaiter {
    let client: any HeldRepliesClient
    var durableOffsetNeeded: UInt64 { client.durableOffsetNeeded }

    init(_ client: any HeldRepliesClient) { self.client = client }
}

/// How the log syncs now: the configured policy, and whether fsyncs are suspended
/// (`no-appendfsync-on-rewrite` while a rewrite or save runs).
struct AOFSyncPolicy: Equatable {
    var fsync: AppendFsyncPolicy
    var suspended = false
}

/// What the server must do after a call into the log.
enum AOFAction<Waiter: DurabilityWaiter> {
    /// Log a line.
    case log(Logger.Level, String)
    /// Fsync `files` off the event loop, then report to `AppendOnlyLog.syncFinished` with
    /// `target`. `urgent`: replies wait for it (no lowered priority).
    case syncInBackground([AOFAppendFile], target: UInt64, urgent: Bool)
    /// Send these connections' held replies.
    case release([Waiter])
}

/// The append-only log's state on the event loop, as `INFO persistence` reports it.
/// Fields with open setters are changed by the log's own methods in
/// `AppendOnlyLog+Rewrite.swift`; the server only reads them.
struct AppendOnlyLog<Waiter: DurabilityWaiter> {
    typealias Actions = [AOFAction<Waiter>]

    /// Bytes written in one pass above which `appendfsync always` syncs in the background.
    static var backgroundSyncThreshold: Int { 16 * 1024 }
    /// How long a failed write waits before it is retried (ns).
    static var retryDelay: UInt64 { 100_000_000 }
    /// How long a failed rewrite waits before an automatic one is tried again (ns).
    static var rewriteRetryDelay: UInt64 { 5_000_000_000 }

    var status = AOFStatus.off
    /// Effects encoded and not yet written.
    var feed = AOFFeed()
    /// The file commands are appended to.
    var file: AOFAppendFile?
    /// Files switched away from whose written data is not yet known to be synced.
    var filesToSync: [AOFAppendFile] = []
    /// The manifest on disk.
    var manifest = AOFManifest()
    /// Bytes ever put into the feed's buffer (a logical offset across files).
    var appendedOffset: UInt64 { feed.appendedOffset }
    /// Bytes ever written to files.
    private(set) var writtenOffset: UInt64 = 0
    /// Bytes ever known durable.
    var syncedOffset: UInt64 = 0
    /// Whether a background fsync is running.
    private(set) var syncInFlight = false
    /// Since when writes wait for the running everysec fsync to end (monotonic ns); nil
    /// when none is postponed.
    private(set) var writesPostponedSince: UInt64?
    /// When the last everysec fsync was started (monotonic ns).
    private var lastEverysecSync: UInt64 = 0
    /// Connections whose replies wait for an fsync (`appendfsync always`).
    private(set) var waiting: [Waiter] = []
    /// The last write or fsync error (`aof_last_write_status:err`), cleared by a success.
    var writeError: DurableFileError?
    /// When the last failed write is retried next (monotonic ns).
    private var nextRetry: UInt64 = 0
    /// Everysec writes that waited ``longestPostponement`` for a running fsync and then
    /// went ahead anyway (`aof_delayed_fsync`, as Redis counts it).
    private(set) var delayedFsyncs = 0
    /// Longest an everysec write waits for a running fsync (Redis's two seconds).
    static var longestPostponement: UInt64 { 2_000_000_000 }
    /// Successful fsyncs of AOF files (Strata's own INFO field `strata_aof_fsyncs`).
    private(set) var fsyncs = 0
    /// Set by a failed fsync to the offset written by then. Linux may drop the dirty pages
    /// of a failed fsync and report the next one as a success, so no later fsync of the
    /// same file proves that data durable: only a rewrite that froze the keyspace after
    /// this offset does (its base is written, fsynced and renamed anew). Until then writes
    /// are refused and replies waiting for durability stay held.
    var suspectUpTo: UInt64?
    /// `appendedOffset` when the running rewrite froze the keyspace: everything logged
    /// before it is in the new base.
    var rewriteFreezeOffset: UInt64 = 0

    var rewriteInProgress = false
    var rewriteScheduled = false
    var rewriteStartedAt: Int64 = 0
    /// `status` when the running rewrite froze the keyspace: if `appendonly` changed since,
    /// the new base does not line up with the file being logged to.
    var statusAtRewriteStart = AOFStatus.off
    var lastRewriteSeconds = -1
    var lastRewriteOK = true
    var rewrites = 0
    var consecutiveRewriteFailures = 0
    /// Monotonic ns after which a failed automatic rewrite may be tried again.
    var rewriteRetryAfter: UInt64 = 0
    /// Size of the AOF after the last rewrite or at start-up (`aof_base_size`).
    var baseSize = 0
    /// Bytes of the listed files other than the current one (the base, earlier
    /// incremental files).
    var otherFilesBytes = 0

    /// Everything the AOF occupies now (`aof_current_size`).
    var currentSize: Int { otherFilesBytes + (file?.size ?? 0) }

    /// Whether commands are being logged.
    var isLogging: Bool { status != .off }

    // MARK: Writing and syncing

    /// Writes the buffer to the file (once per event-loop pass, before replies are
    /// flushed; a failed write waits ``retryDelay`` before it is tried again), then syncs
    /// as the policy asks: with `always`, a light pass is synced here (group commit: one
    /// fsync for every write of the pass), a heavy one in the background so that the next
    /// pass executes while the disk works.
    ///
    /// With `everysec`, while the background fsync runs the bytes stay in the buffer, for
    /// up to ``longestPostponement`` (unless `force`), as Redis does: a write to a file
    /// being synced waits in the kernel for the pages under write-back, and that wait
    /// (up to 10 ms here) stalled every client of the pass. Unlike Redis, the replies of
    /// the writes kept back wait until they are written (``mustHoldReplies(until:policy:)``):
    /// a write that was acknowledged is in the kernel, and a crash of the process loses none.
    /// Clients that did not write are not held.
    mutating func writePending(now: UInt64, policy: AOFSyncPolicy, force: Bool = false) -> Actions {
        guard isLogging, feed.pendingBytes > 0, let file else { return [] }
        if writeError != nil && now < nextRetry { return [] }
        var actions: Actions = []
        if policy.fsync == .everysec && syncInFlight && !force {
            guard let since = writesPostponedSince else {
                writesPostponedSince = now
                return []
            }
            if now &- since < Self.longestPostponement { return [] }
            delayedFsyncs += 1
            actions.append(
                .log(
                    .notice,
                    "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis."
                ))
        }
        writesPostponedSince = nil
        let (written, error) = feed.write { file.append($0) }
        writtenOffset += UInt64(written)
        if let error {
            if writeError == nil {
                actions.append(
                    .log(
                        .warning,
                        "Error writing to the AOF file \(file.path): \(error). Writes are refused until it succeeds."))
            }
            writeError = error
            nextRetry = now + Self.retryDelay
            return actions
        }
        if writeError != nil && suspectUpTo == nil {
            actions.append(.log(.notice, "AOF write error looks solved, Redis can write again."))
            writeError = nil
        }
        if policy.fsync == .everysec { actions += releasable(policy: policy) }
        if policy.fsync == .always && written < Self.backgroundSyncThreshold && !syncInFlight && filesToSync.isEmpty
            && !policy.suspended
        {
            _ = noteSync(upTo: writtenOffset, failure: file.sync(), now: now, policy: policy, into: &actions)
        } else if policy.fsync == .always {
            actions += requestSync(now: now, policy: policy)
        }
        return actions
    }

    /// Starts a background fsync of what has been written, unless one is running (its
    /// completion starts the next). While fsyncs are suspended the written bytes count as
    /// synced, as in Redis, and the held replies go.
    mutating func requestSync(now: UInt64, policy: AOFSyncPolicy) -> Actions {
        guard !syncInFlight, suspectUpTo == nil, writtenOffset > syncedOffset, let file else { return [] }
        if policy.suspended {
            syncedOffset = writtenOffset
            return releasable(policy: policy)
        }
        syncInFlight = true
        let files = filesToSync + [file]
        filesToSync.removeAll()
        return [.syncInBackground(files, target: writtenOffset, urgent: policy.fsync == .always)]
    }

    /// A background fsync of `files` up to `target` ended.
    mutating func syncFinished(
        target: UInt64, failure: DurableFileError?, files: [AOFAppendFile], now: UInt64, policy: AOFSyncPolicy
    ) -> Actions {
        syncInFlight = false
        // Writes postponed while it ran go now.
        var actions = writesPostponedSince != nil ? writePending(now: now, policy: policy) : []
        guard noteSync(upTo: target, failure: failure, now: now, policy: policy, into: &actions) else {
            // Every file but the current one (which the next fsync covers) is retried.
            filesToSync = files.filter { $0 !== file } + filesToSync
            return actions
        }
        if policy.fsync == .always && writtenOffset > syncedOffset { actions += requestSync(now: now, policy: policy) }
        return actions
    }

    /// Records how an fsync of everything written up to `target` went: on success the
    /// replies waiting for it are released; a failure turns `aof_last_write_status` to err,
    /// marks what was written as suspect and schedules the rewrite that clears it.
    ///
    /// - Returns: whether it proved the bytes durable.
    private mutating func noteSync(
        upTo target: UInt64, failure: DurableFileError?, now: UInt64, policy: AOFSyncPolicy, into actions: inout Actions
    ) -> Bool {
        if let failure {
            actions.append(.log(.warning, "Error syncing the AOF file: \(failure)"))
            writeError = failure
            nextRetry = now + Self.retryDelay
            if suspectUpTo == nil {
                actions.append(
                    .log(
                        .warning,
                        "What was written to the AOF since its last good fsync may not be on disk: writes are refused until a rewrite has made the data durable again."
                    ))
            }
            suspectUpTo = max(suspectUpTo ?? 0, writtenOffset)
            rewriteScheduled = true
            // At most one such rewrite a second while the disk keeps failing.
            rewriteRetryAfter = max(rewriteRetryAfter, now + 1_000_000_000)
            return false
        }
        if suspectUpTo != nil { return false }  // proves nothing: see `suspectUpTo`
        fsyncs += 1
        syncedOffset = max(syncedOffset, target)
        actions += releasable(policy: policy)
        return true
    }

    // MARK: Replies held for durability

    /// Whether a connection whose last write ended at `offset` must hold its replies: under
    /// `always` until the write is synced; under `everysec` until it is written, while
    /// writes are kept back for a running fsync.
    func mustHoldReplies(until offset: UInt64, policy: AOFSyncPolicy) -> Bool {
        guard isLogging else { return false }
        switch policy.fsync {
        case .always: return offset > syncedOffset
        case .everysec: return writesPostponedSince != nil && offset > writtenOffset
        case .no: return false
        }
    }

    /// Parks `waiter` until its writes are durable.
    mutating func hold(_ waiter: Waiter) {
        waiting.append(waiter)
    }

    /// Takes the waiters whose writes are durable now (all of them once nothing is logged or
    /// the policy no longer holds replies).
    mutating func releasable(policy: AOFSyncPolicy) -> Actions {
        guard !waiting.isEmpty else { return [] }
        var ready: [Waiter] = []
        var still: [Waiter] = []
        for waiter in waiting {
            let released: Bool
            switch policy.fsync {
            case .always: released = waiter.durableOffsetNeeded <= syncedOffset
            // A failed write is Redis's case: the replies go, and writes are refused after.
            case .everysec: released = waiter.durableOffsetNeeded <= writtenOffset || writeError != nil
            case .no: released = true
            }
            if released || !isLogging {
                ready.append(waiter)
            } else {
                still.append(waiter)
            }
        }
        waiting = still
        return ready.isEmpty ? [] : [.release(ready)]
    }

    // MARK: The timer

    /// The once-a-second work, called every 100 ms: retries of a failed write and of its
    /// fsync, writes postponed by a running fsync, the everysec fsync.
    mutating func tick(now: UInt64, policy: AOFSyncPolicy) -> Actions {
        guard isLogging else { return [] }
        var actions: Actions = []
        if feed.pendingBytes > 0 { actions += writePending(now: now, policy: policy) }
        if writeError != nil, feed.pendingBytes == 0, writtenOffset > syncedOffset || !filesToSync.isEmpty {
            actions += requestSync(now: now, policy: policy)
        }
        switch policy.fsync {
        case .everysec where now &- lastEverysecSync >= 1_000_000_000:
            if !syncInFlight && writtenOffset > syncedOffset {
                lastEverysecSync = now
                actions += requestSync(now: now, policy: policy)
            }
        case .always:
            actions += requestSync(now: now, policy: policy)
        default:
            break
        }
        return actions
    }

    /// Writes and fsyncs everything logged so far, on the event loop (shutdown,
    /// `appendonly no`, a rewrite restarting the temp file).
    mutating func flushNow(now: UInt64, policy: AOFSyncPolicy) -> Actions {
        var actions = writePending(now: now, policy: policy, force: true)
        for file in filesToSync + (file.map { [$0] } ?? []) { _ = file.sync() }
        filesToSync.removeAll()
        syncedOffset = writtenOffset
        actions += releasable(policy: policy)
        return actions
    }
}
