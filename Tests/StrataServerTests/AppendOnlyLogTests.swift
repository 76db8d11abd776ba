import Foundation
import Testing

@testable import StrataEngine
@testable import StrataPersistence
@testable import StrataServer

/// A connection waiting for durability, as the log sees it.
final class HeldConnection: DurabilityWaiter {
    let durableOffsetNeeded: UInt64
    init(_ offset: UInt64) { durableOffsetNeeded = offset }
}

/// The append-only log on an in-memory file system with injectable faults and a clock the
/// test advances: what it writes, when it syncs, and what it asks the server to do.
struct AppendOnlyLogTests {
    typealias Log = AppendOnlyLog<HeldConnection>
    let disk = MemoryFileSystem()
    let fileSystem: FaultInjectingFileSystem
    let path = "appendonly.aof.1.incr.aof"
    static let second: UInt64 = 1_000_000_000

    init() {
        fileSystem = FaultInjectingFileSystem(wrapping: disk)
    }

    func logging(_ fsync: AppendFsyncPolicy = .always) throws -> Log {
        var log = Log()
        log.resumeLogging(to: try AOFAppendFile(path: path, fileSystem: fileSystem), loadedBytes: 0)
        return log
    }

    static func append(_ log: inout Log, _ words: String...) {
        log.feed.append([Effect(db: 0, args: words.map { Bytes($0) })], timestampSecond: nil)
    }

    static func logs(_ actions: [AOFAction<HeldConnection>]) -> [String] {
        actions.compactMap { if case .log(_, let text) = $0 { text } else { nil } }
    }

    static func released(_ actions: [AOFAction<HeldConnection>]) -> [HeldConnection] {
        actions.flatMap { action -> [HeldConnection] in
            if case .release(let waiters) = action { return waiters }
            return []
        }
    }

    static func backgroundSyncs(_ actions: [AOFAction<HeldConnection>]) -> [(files: [AOFAppendFile], target: UInt64)] {
        actions.compactMap { if case .syncInBackground(let files, let target, _) = $0 { (files, target) } else { nil } }
    }

    @Test func alwaysSyncsALightPassOnTheLoopAndReleasesItsWaiters() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .always)
        Self.append(&log, "SET", "k", "v")
        let offset = log.appendedOffset
        #expect(log.mustHoldReplies(until: offset, policy: policy))
        let waiter = HeldConnection(offset)
        log.hold(waiter)
        let actions = log.writePending(now: 0, policy: policy)
        #expect(Self.backgroundSyncs(actions).isEmpty)
        #expect(Self.released(actions).map(ObjectIdentifier.init) == [ObjectIdentifier(waiter)])
        #expect(log.syncedOffset == offset && log.fsyncs == 1)
        #expect(!log.mustHoldReplies(until: offset, policy: policy))
        #expect(
            String(decoding: disk.bytes(at: path) ?? [], as: UTF8.self).hasSuffix("$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        )
    }

    @Test func alwaysHandsAHeavyPassToABackgroundSyncAndHoldsUntilItEnds() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .always)
        Self.append(&log, "SET", "k", String(repeating: "x", count: Log.backgroundSyncThreshold))
        let waiter = HeldConnection(log.appendedOffset)
        log.hold(waiter)
        let actions = log.writePending(now: 0, policy: policy)
        let syncs = Self.backgroundSyncs(actions)
        #expect(syncs.count == 1 && syncs.first?.target == log.appendedOffset)
        #expect(Self.released(actions).isEmpty && log.syncInFlight)
        // A second request while it runs starts nothing.
        #expect(log.requestSync(now: 0, policy: policy).isEmpty)
        let done = log.syncFinished(
            target: syncs[0].target, failure: nil, files: syncs[0].files, now: 1, policy: policy)
        #expect(Self.released(done).count == 1 && !log.syncInFlight && log.fsyncs == 1)
    }

    @Test func everysecSyncsOnceASecond() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .everysec)
        Self.append(&log, "INCR", "n")
        #expect(log.writePending(now: 0, policy: policy).isEmpty)
        // Before a second has passed since the last everysec sync (at 0): nothing.
        #expect(Self.backgroundSyncs(log.tick(now: Self.second / 2, policy: policy)).isEmpty)
        let first = Self.backgroundSyncs(log.tick(now: Self.second, policy: policy))
        #expect(first.count == 1)
        // While it runs no other starts; once it ended the next due one does.
        #expect(Self.backgroundSyncs(log.tick(now: 2 * Self.second + 1, policy: policy)).isEmpty)
        _ = log.syncFinished(target: first[0].target, failure: nil, files: first[0].files, now: 0, policy: policy)
        Self.append(&log, "INCR", "n")
        _ = log.writePending(now: 3 * Self.second, policy: policy)
        #expect(Self.backgroundSyncs(log.tick(now: 3 * Self.second, policy: policy)).count == 1)
    }

    /// As Redis: an everysec write waits while the background fsync runs (a write to a file
    /// being synced blocks in the kernel), for up to two seconds, then goes anyway and is
    /// counted in `aof_delayed_fsync`; the fsync's end writes what waited, and a forced
    /// write (a rewrite switching files, shutdown) never waits.
    @Test func everysecWritesWaitForARunningFsyncUpToTwoSeconds() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .everysec)
        Self.append(&log, "INCR", "n")
        _ = log.writePending(now: 0, policy: policy)
        let sync = Self.backgroundSyncs(log.tick(now: Self.second, policy: policy))
        #expect(sync.count == 1 && log.syncInFlight)
        Self.append(&log, "INCR", "n")
        let pending = log.feed.pendingBytes
        #expect(log.writePending(now: Self.second + 1, policy: policy).isEmpty)
        #expect(log.feed.pendingBytes == pending && log.writesPostponedSince == Self.second + 1)
        // Its end writes them.
        _ = log.syncFinished(
            target: sync[0].target, failure: nil, files: sync[0].files, now: 2 * Self.second, policy: policy)
        #expect(log.feed.pendingBytes == 0 && log.writesPostponedSince == nil && log.delayedFsyncs == 0)

        // A second fsync that takes too long: after two seconds the write goes, counted.
        Self.append(&log, "INCR", "n")
        _ = log.writePending(now: 2 * Self.second, policy: policy)
        let slow = Self.backgroundSyncs(log.tick(now: 3 * Self.second, policy: policy))
        #expect(slow.count == 1)
        Self.append(&log, "INCR", "n")
        _ = log.writePending(now: 3 * Self.second, policy: policy)
        _ = log.tick(now: 4 * Self.second, policy: policy)
        #expect(log.feed.pendingBytes > 0 && log.delayedFsyncs == 0)
        let late = log.tick(now: 5 * Self.second, policy: policy)
        #expect(log.feed.pendingBytes == 0 && log.delayedFsyncs == 1)
        #expect(Self.logs(late).first?.hasPrefix("Asynchronous AOF fsync is taking too long") == true)

        // Forced: written at once even while the fsync runs.
        Self.append(&log, "INCR", "n")
        _ = log.writePending(now: 5 * Self.second, policy: policy, force: true)
        #expect(log.feed.pendingBytes == 0 && log.syncInFlight)
    }

    /// A write kept back for a running fsync is not acknowledged before it is written (a
    /// crash of the process then loses nothing acknowledged); a client whose writes are
    /// written is not held.
    @Test func everysecRepliesOfKeptBackWritesWaitUntilTheyAreWritten() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .everysec)
        Self.append(&log, "INCR", "n")
        _ = log.writePending(now: 0, policy: policy)
        let written = log.feed.appendedOffset
        #expect(!log.mustHoldReplies(until: written, policy: policy))
        let sync = Self.backgroundSyncs(log.tick(now: Self.second, policy: policy))
        Self.append(&log, "INCR", "n")
        #expect(log.writePending(now: Self.second + 1, policy: policy).isEmpty)
        let keptBack = log.feed.appendedOffset
        #expect(log.mustHoldReplies(until: keptBack, policy: policy))
        #expect(!log.mustHoldReplies(until: written, policy: policy))
        let waiter = HeldConnection(keptBack)
        log.hold(waiter)
        #expect(Self.released(log.releasable(policy: policy)).isEmpty)
        // The fsync's end writes the bytes, and the reply goes.
        let done = log.syncFinished(
            target: sync[0].target, failure: nil, files: sync[0].files, now: 2 * Self.second, policy: policy)
        #expect(Self.released(done).map(ObjectIdentifier.init) == [ObjectIdentifier(waiter)])
        #expect(!log.mustHoldReplies(until: keptBack, policy: policy))
    }

    @Test func aRefusedWriteKeepsTheBytesRefusesWritesAndIsRetriedAfterItsDelay() throws {
        var log = try logging(.everysec)
        let policy = AOFSyncPolicy(fsync: .everysec)
        fileSystem.faults.arm(FileFault(operation: .write, code: ENOSPC, remaining: 1))
        Self.append(&log, "SET", "k", "v")
        let pending = log.feed.pendingBytes
        let failed = log.writePending(now: 0, policy: policy)
        #expect(log.writeError?.code == ENOSPC && log.feed.pendingBytes == pending)
        #expect(Self.logs(failed).first?.hasPrefix("Error writing to the AOF file") == true)
        // Within the retry delay nothing is tried; after it the write succeeds.
        #expect(log.writePending(now: Log.retryDelay - 1, policy: policy).isEmpty)
        #expect(log.feed.pendingBytes == pending)
        let retried = log.writePending(now: Log.retryDelay, policy: policy)
        #expect(log.writeError == nil && log.feed.pendingBytes == 0)
        #expect(Self.logs(retried) == ["AOF write error looks solved, Redis can write again."])
    }

    @Test func aFailedFsyncMakesLaterFsyncsProveNothingUntilALateEnoughRewrite() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .always)
        fileSystem.faults.arm(FileFault(operation: .fsync, code: EIO, remaining: 1))
        Self.append(&log, "SET", "a", "1")
        let waiter = HeldConnection(log.appendedOffset)
        log.hold(waiter)
        let failed = log.writePending(now: 0, policy: policy)
        #expect(log.writeError?.code == EIO && log.suspectUpTo == log.appendedOffset)
        #expect(log.rewriteScheduled && Self.released(failed).isEmpty)
        #expect(Self.logs(failed).count == 2)
        // The next fsync succeeds but proves nothing: the waiter stays held.
        Self.append(&log, "SET", "b", "2")
        let after = log.writePending(now: Log.retryDelay, policy: policy)
        #expect(Self.released(after).isEmpty && log.fsyncs == 0)
        #expect(log.requestSync(now: Log.retryDelay, policy: policy).isEmpty)
        // A rewrite that froze the keyspace before the suspect offset does not clear it.
        log.rewriteStarted(wallNow: 0)
        let early = log.rewriteFreezeOffset
        #expect(early == log.appendedOffset)
        log.suspectUpTo = early + 1
        log.rewriteEnded(wallNow: 1_600)
        #expect(log.lastRewriteSeconds == 2)
        let notYet = log.rewriteSucceeded(now: 0, policy: policy)
        #expect(Self.released(notYet).isEmpty && log.rewriteScheduled && log.suspectUpTo != nil)
        // One that froze it after does: writes accepted, the waiter released.
        log.suspectUpTo = early
        log.rewriteStarted(wallNow: 0)
        log.rewriteEnded(wallNow: 0)
        let cleared = log.rewriteSucceeded(now: 0, policy: policy)
        #expect(log.suspectUpTo == nil && log.writeError == nil)
        #expect(Self.released(cleared).count == 1 && log.rewrites == 2)
    }

    @Test func suspendedFsyncsCountTheBytesSyncedAndReleaseTheirWaiters() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .always, suspended: true)
        Self.append(&log, "SET", "k", "v")
        log.hold(HeldConnection(log.appendedOffset))
        let actions = log.writePending(now: 0, policy: policy)
        #expect(Self.backgroundSyncs(actions).isEmpty && Self.released(actions).count == 1)
        #expect(log.syncedOffset == log.appendedOffset && log.fsyncs == 0)
    }

    @Test func aFailedBackgroundSyncRetriesTheOldFilesButNotTheCurrentOne() throws {
        var log = try logging()
        let policy = AOFSyncPolicy(fsync: .everysec)
        Self.append(&log, "SET", "k", "v")
        _ = log.writePending(now: 0, policy: policy)
        let old = log.file
        log.switchFile(to: try AOFAppendFile(path: "appendonly.aof.2.incr.aof", fileSystem: fileSystem))
        let sync = Self.backgroundSyncs(log.requestSync(now: 0, policy: policy))
        #expect(sync.first?.files.count == 2 && log.filesToSync.isEmpty)
        let error = DurableFileError(path: path, operation: "fsync", code: EIO)
        _ = log.syncFinished(target: sync[0].target, failure: error, files: sync[0].files, now: 0, policy: policy)
        #expect(log.filesToSync.count == 1 && log.filesToSync.first === old)
    }

    @Test func anAutomaticRewriteIsDueOnGrowthOverTheMinimumSizeAndWaitsAfterAFailure() throws {
        var log = try logging(.everysec)
        let policy = AOFSyncPolicy(fsync: .everysec)
        log.baseSize = 100
        #expect(log.automaticRewriteGrowth(now: 0, percentage: 100, minSize: 0) == nil)
        Self.append(&log, "SET", "k", String(repeating: "x", count: 300))
        _ = log.writePending(now: 0, policy: policy)
        let growth = try #require(log.automaticRewriteGrowth(now: 0, percentage: 100, minSize: 0))
        #expect(growth >= 200)
        #expect(log.automaticRewriteGrowth(now: 0, percentage: 100, minSize: 1_000_000) == nil)
        #expect(log.automaticRewriteGrowth(now: 0, percentage: 0, minSize: 0) == nil)
        _ = log.rewriteFailed(DurableFileError(path: "x", operation: "write", code: EIO), now: 10)
        #expect(log.consecutiveRewriteFailures == 1 && !log.lastRewriteOK)
        #expect(log.automaticRewriteGrowth(now: 10 + Log.rewriteRetryDelay - 1, percentage: 100, minSize: 0) == nil)
        #expect(log.automaticRewriteGrowth(now: 10 + Log.rewriteRetryDelay, percentage: 100, minSize: 0) != nil)
    }

    @Test func aFinishedRewriteListsItsBaseTheCurrentFileAndTheRestAsHistory() throws {
        var log = try logging(.everysec)
        log.manifest = AOFManifest(base: .init(name: "appendonly.aof.1.base.rdb", sequence: 1, type: .base))
        log.manifest.incrementals = [
            .init(name: "appendonly.aof.1.incr.aof", sequence: 1, type: .incremental),
            .init(name: "appendonly.aof.2.incr.aof", sequence: 2, type: .incremental),
        ]
        log.rewriteStarted(wallNow: 0)
        let installation = log.installation(prefix: "appendonly.aof", snapshot: true)
        #expect(installation.baseName == "appendonly.aof.2.base.rdb" && installation.status == .on)
        #expect(installation.manifest.incrementals.map(\.name) == ["appendonly.aof.2.incr.aof"])
        #expect(
            installation.manifest.history.map(\.name) == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof"])
        #expect(installation.manifest.history.allSatisfy { $0.type == .history })
        // The manifest with its history listed loads again (a crash before the history
        // files are removed leaves it so): one base, the old one listed as history.
        let reread = try AOFManifest.parse(installation.manifest.serialized(), path: "manifest")
        #expect(reread.base?.name == "appendonly.aof.2.base.rdb" && reread.history.count == 2)
        #expect(installation.renamedIncremental == nil)
    }

    @Test func turningTheAOFOnInstallsTheTempFileAndOffDuringTheRewriteLeavesTheBaseAlone() throws {
        var log = Log()
        log.beginLogging(
            to: try AOFAppendFile(path: "temp-appendonly.aof.incr", fileSystem: fileSystem), manifest: AOFManifest())
        log.rewriteStarted(wallNow: 0)
        let on = log.installation(prefix: "appendonly.aof", snapshot: false)
        #expect(on.renamedIncremental == "appendonly.aof.1.incr.aof" && on.status == .on)
        #expect(on.baseName == "appendonly.aof.1.base.aof")
        log.hold(HeldConnection(UInt64.max))
        let released = log.stopLogging(policy: AOFSyncPolicy(fsync: .always))
        #expect(Self.released(released).count == 1 && !log.isLogging)
        let off = log.installation(prefix: "appendonly.aof", snapshot: false)
        #expect(off.manifest.incrementals.isEmpty && off.renamedIncremental == nil && off.status == .off)
    }
}
