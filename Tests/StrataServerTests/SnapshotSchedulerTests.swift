//! `SnapshotScheduler` alone: the BGSAVE and SAVE decisions, the bookkeeping of a
//! background save's end (dirty count, LASTSAVE, MISCONF), save points and loading, with
//! times and dirty counts given by hand.

import Testing

@testable import StrataEngine
@testable import StrataPersistence
@testable import StrataServer

@Suite("Snapshot scheduler")
struct SnapshotSchedulerTests {
    static let points = [SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 60, changes: 100)]
    /// A start-up time in Unix ms, on a whole second.
    static let start: Int64 = 1_800_000_000_000

    struct DiskFull: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    static func summary(keys: Int, bytes: Int) -> SnapshotSummary {
        var summary = SnapshotSummary()
        summary.keys = keys
        summary.fileBytes = bytes
        return summary
    }

    @Test func bgsaveStartsWhenIdleAndIsRefusedOrScheduledWhileASaveRuns() {
        var state = SnapshotScheduler()
        #expect(state.bgsave(schedule: false, rewriteInProgress: false) == .start)
        #expect(state.bgsave(schedule: false, rewriteInProgress: false).reply == .status("Background saving started"))
        #expect(!state.scheduled)
        #expect(state.saveRefusal(rewriteInProgress: false) == nil)
        let line = state.backgroundSaveStarted(now: Self.start, dirty: 3)
        #expect(line == SnapshotLogLine(level: .notice, text: "Background saving started"))
        #expect(state.backgroundSaveInProgress)
        let refused = state.bgsave(schedule: false, rewriteInProgress: false)
        #expect(refused == .refused("ERR Background save already in progress"))
        #expect(refused.reply == .error("ERR Background save already in progress"))
        #expect(!state.scheduled, "a refused BGSAVE schedules nothing")
        #expect(state.saveRefusal(rewriteInProgress: false) == .error("ERR Background save already in progress"))
        let scheduled = state.bgsave(schedule: true, rewriteInProgress: false)
        #expect(scheduled == .scheduled)
        #expect(scheduled.reply == .status("Background saving scheduled"))
        #expect(state.scheduled)
    }

    @Test func bgsaveDuringAnAOFRewriteNamesTheOtherChild() {
        var state = SnapshotScheduler()
        let refused = state.bgsave(schedule: false, rewriteInProgress: true)
        #expect(
            refused.reply
                == .error(
                    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                ))
        #expect(!state.scheduled)
        #expect(state.bgsave(schedule: true, rewriteInProgress: true) == .scheduled)
        #expect(state.scheduled)
        #expect(!state.backgroundSaveInProgress, "scheduling starts nothing")
        #expect(state.saveRefusal(rewriteInProgress: true) == .error("ERR Background save already in progress"))
    }

    @Test func aFinishedSaveSubtractsTheChangesCountedAtItsStart() {
        var state = SnapshotScheduler()
        state.startingUp(now: Self.start)
        _ = state.backgroundSaveStarted(now: Self.start + 10_000, dirty: 10)
        let finish = state.backgroundSaveFinished(
            .success(Self.summary(keys: 7, bytes: 300)), now: Self.start + 12_500, dirty: 25)
        #expect(finish.dirty == 15, "the 15 writes made during the save are not in the file")
        let text = "Background saving terminated with success (7 keys, 300 bytes)"
        #expect(finish.log == SnapshotLogLine(level: .notice, text: text))
        #expect(!state.backgroundSaveInProgress)
        #expect(state.lastBackgroundSaveOK)
        #expect(state.saves == 1)
        #expect(state.lastBackgroundSaveSeconds == 3, "2.5 s rounds to 3")
        #expect(state.lastSaveTime == (Self.start + 10_000) / 1000, "LASTSAVE is when the keyspace froze")

        _ = state.backgroundSaveStarted(now: Self.start + 20_000, dirty: 10)
        let afterFlush = state.backgroundSaveFinished(
            .success(Self.summary(keys: 0, bytes: 10)), now: Self.start + 21_000, dirty: 4)
        #expect(afterFlush.dirty == 0, "never below zero")
        #expect(state.saves == 2)
    }

    @Test func aFailedSaveKeepsTheChangesRefusesWritesAndHoldsSavePointsForRetrySeconds() {
        var state = SnapshotScheduler()
        state.startingUp(now: Self.start)
        _ = state.backgroundSaveStarted(now: Self.start + 100_000, dirty: 150)
        let failedAt = Self.start + 101_000
        let finish = state.backgroundSaveFinished(.failure(DiskFull()), now: failedAt, dirty: 160)
        #expect(finish.dirty == 160)
        #expect(finish.log == SnapshotLogLine(level: .warning, text: "Background saving error: disk full"))
        #expect(!state.lastBackgroundSaveOK)
        #expect(state.lastSaveTime == Self.start / 1000, "LASTSAVE unchanged")
        #expect(state.saves == 0)
        #expect(state.refusesWrites(stopWritesOnBgsaveError: true, savePointsConfigured: true))
        #expect(!state.refusesWrites(stopWritesOnBgsaveError: false, savePointsConfigured: true))
        #expect(!state.refusesWrites(stopWritesOnBgsaveError: true, savePointsConfigured: false))
        #expect(SnapshotScheduler.retrySeconds == 5)
        for waited: Int64 in [0, 1_000, 5_000, 5_999] {
            #expect(
                state.tick(points: Self.points, dirty: 160, now: failedAt + waited, rewriteInProgress: false) == nil,
                "\(waited) ms after the failure")
        }
        #expect(
            state.tick(points: Self.points, dirty: 160, now: failedAt + 6_000, rewriteInProgress: false)
                == Self.points[1])
        _ = state.backgroundSaveStarted(now: failedAt + 6_000, dirty: 160)
        _ = state.backgroundSaveFinished(.success(Self.summary(keys: 1, bytes: 1)), now: failedAt + 7_000, dirty: 160)
        #expect(!state.refusesWrites(stopWritesOnBgsaveError: true, savePointsConfigured: true))
    }

    @Test func aForegroundSaveSetsLastsaveOrRecordsItsFailure() {
        var state = SnapshotScheduler()
        state.startingUp(now: Self.start + 999)
        #expect(state.lastSaveTime == Self.start / 1000, "LASTSAVE starts at start-up, in seconds")
        let failed = state.saveFailed(DiskFull(), now: Self.start + 5_000)
        #expect(failed == SnapshotLogLine(level: .warning, text: "Error saving DB on disk: disk full"))
        #expect(!state.lastBackgroundSaveOK)
        #expect(state.lastFailureAt == Self.start / 1000 + 5)
        #expect(state.lastSaveTime == Self.start / 1000)
        let saved = state.saveSucceeded(Self.summary(keys: 2, bytes: 99), now: Self.start + 8_000)
        #expect(saved == SnapshotLogLine(level: .notice, text: "DB saved on disk (2 keys, 99 bytes)"))
        #expect(state.lastSaveTime == Self.start / 1000 + 8)
        #expect(state.lastBackgroundSaveOK)
        #expect(state.saves == 1)
    }

    @Test func aSavePointIsDueOnlyAfterItsSecondsAndChanges() {
        var state = SnapshotScheduler()
        state.startingUp(now: Self.start)
        func tick(_ dirty: Int, after milliseconds: Int64, rewrite: Bool = false) -> SavePoint? {
            state.tick(points: Self.points, dirty: dirty, now: Self.start + milliseconds, rewriteInProgress: rewrite)
        }
        #expect(tick(0, after: 10_000_000) == nil, "no changes, nothing to save")
        #expect(tick(100, after: 60_999) == nil, "60 s is not more than 60 s")
        #expect(tick(99, after: 61_000) == nil, "99 changes are not 100")
        #expect(tick(100, after: 61_000) == Self.points[1])
        #expect(tick(100, after: 61_000, rewrite: true) == nil, "not during an AOF rewrite")
        #expect(tick(5, after: 3_601_000) == Self.points[0])
        #expect(
            state.tick(points: [], dirty: 100, now: Self.start + 10_000_000, rewriteInProgress: false) == nil,
            "no save points configured")
        #expect(
            SnapshotScheduler.savePointLogLine(Self.points[1])
                == SnapshotLogLine(level: .notice, text: "100 changes in 60 seconds. Saving..."))
        _ = state.backgroundSaveStarted(now: Self.start + 61_000, dirty: 100)
        #expect(tick(100, after: 9_999_000) == nil, "one save at a time")
    }

    @Test func loadingRefusesSavePointsUntilItEnds() {
        var state = SnapshotScheduler()
        state.startingUp(now: Self.start)
        state.loadingStarted()
        #expect(state.loading)
        #expect(state.tick(points: Self.points, dirty: 500, now: Self.start + 100_000, rewriteInProgress: false) == nil)
        state.loadingFinished()
        #expect(!state.loading)
        #expect(
            state.tick(points: Self.points, dirty: 500, now: Self.start + 100_000, rewriteInProgress: false)
                == Self.points[1])
    }

    @Test func tempFileNamesAreNumberedPerServer() {
        var state = SnapshotScheduler()
        #expect(state.nextTempName(processID: 42) == "temp-strata-42-1.sdb")
        #expect(state.nextTempName(processID: 42) == "temp-strata-42-2.sdb")
    }

    @Test func duePointCountsInSeconds() {
        var state = SnapshotScheduler()
        state.lastSaveTime = 1_000
        #expect(state.duePoint(of: Self.points, dirty: 100, now: 1_060) == nil)
        #expect(state.duePoint(of: Self.points, dirty: 100, now: 1_061) == Self.points[1])
        state.lastBackgroundSaveOK = false
        state.lastFailureAt = 2_000
        #expect(state.duePoint(of: Self.points, dirty: 100, now: 2_005) == nil)
        #expect(state.duePoint(of: Self.points, dirty: 100, now: 2_006) == Self.points[1])
    }
}
