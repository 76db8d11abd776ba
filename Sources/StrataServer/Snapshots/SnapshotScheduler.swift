//! The snapshot part of the server: the bookkeeping behind SAVE, BGSAVE, LASTSAVE, save
//! points and loading at start-up, and the decisions taken from it. It does no I/O and
//! reads no clock: each method is told the time and the dirty count, changes the state and
//! returns what the server must do (reply, start a background save, log a line, set the
//! dirty count), so every rule is unit-tested without a disk or an event loop. `ServerCore`
//! performs the actions (see `ServerCore+Snapshots.swift`).

import StrataEngine
import StrataPersistence

/// Snapshot state and decisions, as `INFO persistence` reports them. Kept by `ServerCore`
/// as `persistence`; the AOF code reads and sets some fields directly (`loading`,
/// `scheduled`, `backgroundSaveInProgress`, `lastSaveTime`).
struct SnapshotScheduler {
    /// Unix seconds of the last successful save (or of start-up).
    var lastSaveTime: Int64 = 0
    /// Whether the last save (foreground or background) succeeded.
    var lastBackgroundSaveOK = true
    /// Whether a background save runs now.
    var backgroundSaveInProgress = false
    /// When the running (or last) background save started, Unix milliseconds.
    var backgroundSaveStarted: Int64 = 0
    /// Seconds the last background save took, -1 before the first.
    var lastBackgroundSaveSeconds = -1
    /// Unix seconds of the last failed save.
    var lastFailureAt: Int64 = 0
    /// Successful saves since start-up.
    var saves = 0
    /// A BGSAVE SCHEDULE waits for the running background work to end.
    var scheduled = false
    /// Bytes copied because of writes during the last background save.
    var lastCopyOnWriteBytes = 0
    /// Whether a snapshot or AOF is being loaded (commands answer `-LOADING`).
    var loading = false
    /// Temp files named so far.
    var tempFileCounter = 0
    /// The dirty count when the running background save froze the keyspace.
    var dirtyAtBackgroundSaveStart = 0

    /// Seconds a failed background save waits before a save point may start another.
    static let retrySeconds: Int64 = 5

    /// The file system every persistence file goes through: the disk, with the faults
    /// `DEBUG FAULT` arms.
    let fileSystem = FaultInjectingFileSystem(wrapping: POSIXFileSystem.shared)

    /// The save point due now (Unix seconds) with `dirty` changes since the last save, if
    /// any: its changes are reached and its seconds have passed since the last save, and a
    /// failed save was not tried in the last ``retrySeconds``.
    func duePoint(of points: [SavePoint], dirty: Int, now: Int64) -> SavePoint? {
        guard !backgroundSaveInProgress, !loading else { return nil }
        guard lastBackgroundSaveOK || now - lastFailureAt > SnapshotScheduler.retrySeconds else { return nil }
        return points.first { dirty >= $0.changes && now - lastSaveTime > Int64($0.seconds) }
    }
}

/// A line the server writes to its log.
struct SnapshotLogLine: Equatable {
    /// The log level.
    enum Level: Equatable {
        case notice
        case warning
    }

    /// Its level.
    let level: Level
    /// Its text.
    let text: String
}

/// What the server does with a BGSAVE.
enum BackgroundSaveDecision: Equatable {
    /// Start a background save now.
    case start
    /// A save or rewrite runs; one more save starts once it ends (`BGSAVE SCHEDULE`).
    case scheduled
    /// Refused with this error message.
    case refused(String)

    /// The reply to the client.
    var reply: Reply {
        switch self {
        case .start: .status("Background saving started")
        case .scheduled: .status("Background saving scheduled")
        case .refused(let message): .error(message)
        }
    }
}

/// What the server does once a background save ended.
struct SnapshotFinish: Equatable {
    /// The dirty count to set: the changes made since the save froze the keyspace after a
    /// success, unchanged after a failure.
    let dirty: Int
    /// The line to log.
    let log: SnapshotLogLine
}

extension SnapshotScheduler {
    /// The error of a SAVE or BGSAVE while a background save runs.
    static let alreadyInProgress = "ERR Background save already in progress"
    /// The error of a BGSAVE (without SCHEDULE) while an AOF rewrite runs.
    static let rewriteActive =
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."

    /// Whether writes are refused after a failed save (`stop-writes-on-bgsave-error` with
    /// save points configured).
    func refusesWrites(stopWritesOnBgsaveError: Bool, savePointsConfigured: Bool) -> Bool {
        stopWritesOnBgsaveError && savePointsConfigured && !lastBackgroundSaveOK
    }

    /// The name of the next temp file of process `processID`.
    mutating func nextTempName(processID: Int32) -> String {
        tempFileCounter += 1
        return "temp-strata-\(processID)-\(tempFileCounter).sdb"
    }

    // MARK: SAVE

    /// The error refusing a SAVE, or nil when it may save: not while a background save or
    /// an AOF rewrite runs.
    func saveRefusal(rewriteInProgress: Bool) -> Reply? {
        backgroundSaveInProgress || rewriteInProgress ? .error(SnapshotScheduler.alreadyInProgress) : nil
    }

    /// Notes a foreground save (SAVE, shutdown) that succeeded at `now` (Unix ms); the
    /// server sets the dirty count to 0 and logs the line returned.
    mutating func saveSucceeded(_ summary: SnapshotSummary, now: Int64) -> SnapshotLogLine {
        lastSaveTime = now / 1000
        lastBackgroundSaveOK = true
        saves += 1
        return SnapshotLogLine(
            level: .notice, text: "DB saved on disk (\(summary.keys) keys, \(summary.fileBytes) bytes)")
    }

    /// Notes a foreground save that failed at `now` (Unix ms) with `error`; returns the line
    /// to log.
    mutating func saveFailed(_ error: Error, now: Int64) -> SnapshotLogLine {
        lastBackgroundSaveOK = false
        lastFailureAt = now / 1000
        return SnapshotLogLine(level: .warning, text: "Error saving DB on disk: \(error)")
    }

    // MARK: BGSAVE

    /// Decides a BGSAVE (`schedule` for BGSAVE SCHEDULE): refused or scheduled while a
    /// background save or an AOF rewrite runs, started otherwise. Notes the schedule.
    mutating func bgsave(schedule: Bool, rewriteInProgress: Bool) -> BackgroundSaveDecision {
        guard backgroundSaveInProgress || rewriteInProgress else { return .start }
        guard schedule else {
            return .refused(
                backgroundSaveInProgress ? SnapshotScheduler.alreadyInProgress : SnapshotScheduler.rewriteActive)
        }
        scheduled = true
        return .scheduled
    }

    /// Notes a background save that froze the keyspace at `now` (Unix ms) with `dirty`
    /// changes since the last save; returns the line to log.
    mutating func backgroundSaveStarted(now: Int64, dirty: Int) -> SnapshotLogLine {
        backgroundSaveInProgress = true
        backgroundSaveStarted = now
        dirtyAtBackgroundSaveStart = dirty
        return SnapshotLogLine(level: .notice, text: "Background saving started")
    }

    /// Notes the end of the background save at `now` (Unix ms) with `dirty` changes counted
    /// now. A success counts from the save's start; a failure is remembered for MISCONF and
    /// holds save points for ``retrySeconds``. The server then starts any scheduled work.
    mutating func backgroundSaveFinished(_ result: Result<SnapshotSummary, Error>, now: Int64, dirty: Int)
        -> SnapshotFinish
    {
        backgroundSaveInProgress = false
        lastBackgroundSaveSeconds = Int((now - backgroundSaveStarted + 500) / 1000)
        switch result {
        case .success(let summary):
            lastSaveTime = backgroundSaveStarted / 1000
            lastBackgroundSaveOK = true
            saves += 1
            return SnapshotFinish(
                dirty: max(0, dirty - dirtyAtBackgroundSaveStart),
                log: SnapshotLogLine(
                    level: .notice,
                    text: "Background saving terminated with success (\(summary.keys) keys, \(summary.fileBytes) bytes)"
                ))
        case .failure(let error):
            lastBackgroundSaveOK = false
            lastFailureAt = now / 1000
            return SnapshotFinish(
                dirty: dirty, log: SnapshotLogLine(level: .warning, text: "Background saving error: \(error)"))
        }
    }

    // MARK: Save points

    /// The save point that starts a background save now (Unix ms), if any: none while an
    /// AOF rewrite, a background save or loading runs; see ``duePoint(of:dirty:now:)``.
    func tick(points: [SavePoint], dirty: Int, now: Int64, rewriteInProgress: Bool) -> SavePoint? {
        guard !rewriteInProgress, !points.isEmpty else { return nil }
        return duePoint(of: points, dirty: dirty, now: now / 1000)
    }

    /// The line logged when `point` starts a background save.
    static func savePointLogLine(_ point: SavePoint) -> SnapshotLogLine {
        SnapshotLogLine(level: .notice, text: "\(point.changes) changes in \(point.seconds) seconds. Saving...")
    }

    // MARK: Start-up

    /// Notes the server starting at `now` (Unix ms): save points count from here.
    mutating func startingUp(now: Int64) {
        lastSaveTime = now / 1000
    }

    /// Notes that loading a file started: commands answer `-LOADING` and no save starts.
    mutating func loadingStarted() {
        loading = true
    }

    /// Notes that loading ended (loaded or failed).
    mutating func loadingFinished() {
        loading = false
    }
}
