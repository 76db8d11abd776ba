//! The append-only file's state on the event loop, as `INFO persistence` reports it.

import NIOCore
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

/// Event-loop-confined AOF bookkeeping.
struct AOFState {
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
    var writtenOffset: UInt64 = 0
    /// Bytes ever known durable.
    var syncedOffset: UInt64 = 0
    /// Whether a background fsync is running.
    var syncInFlight = false
    /// Start of the running fsync (monotonic ns), for `aof_delayed_fsync`.
    var syncStartedAt: UInt64 = 0
    /// When the last everysec fsync was started (monotonic ns).
    var lastEverysecSync: UInt64 = 0
    /// Connections whose replies wait for an fsync (`appendfsync always`).
    var waiting: [ConnectionHandler] = []
    /// The last write or fsync error (`aof_last_write_status:err`), cleared by a success.
    var writeError: DurableFileError?
    /// When the last failed write is retried next (monotonic ns).
    var nextRetry: UInt64 = 0
    /// Everysec fsyncs that found the previous one still running.
    var delayedFsyncs = 0
    /// Successful fsyncs of AOF files (Strata's own INFO field `strata_aof_fsyncs`).
    var fsyncs = 0
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
}
