import StrataPersistence
import Testing

@testable import StrataEngine
@testable import StrataServer

/// The counting parts: latency histograms read as Redis 7.0 prints them (figures taken
/// from redis-server 7.0.15 for the same durations), the slow log's bounds and redaction,
/// the latency monitor's series and graph, the error-code cap.
struct LatencyHistogramTests {
    @Test func percentilesAreTheHighestEquivalentValueOfTheirSubBucket() {
        // Redis printed p50=8.031 for 8 µs, 4.015 for 4 µs, 9.023 for 9 µs, 31.103 for 31 µs.
        for (microseconds, expected) in [(8, 8031), (4, 4015), (9, 9023), (31, 31103), (11, 11007)] {
            var histogram = LatencyHistogram()
            histogram.record(nanoseconds: UInt64(microseconds) * 1000)
            #expect(histogram.value(atPercentile: 50) == UInt64(expected))
        }
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: 11000)
        // The 0th percentile is the lowest value of the range (Redis printed p0=10.944).
        #expect(histogram.value(atPercentile: 0) == 10944)
    }

    @Test func percentilesCountFromTheBottomAndClampToTheTrackedRange() {
        var histogram = LatencyHistogram()
        for _ in 0..<98 { histogram.record(nanoseconds: 5000) }
        histogram.record(nanoseconds: 200_000)
        histogram.record(nanoseconds: 5_000_000_000)  // over a second: counted as one second
        #expect(histogram.total == 100)
        #expect(histogram.value(atPercentile: 50) == 5023)
        #expect(histogram.value(atPercentile: 99) == 200_703)
        #expect(histogram.value(atPercentile: 100) >= LatencyHistogram.maximum)
        var short = LatencyHistogram()
        short.record(nanoseconds: 1)  // under a microsecond: counted as one
        #expect(short.value(atPercentile: 50) == 1003)
        #expect(LatencyHistogram().value(atPercentile: 50) == 0)
    }

    @Test func cumulativeBucketsArePowersOfTwoFrom1024Nanoseconds() {
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: 8000)  // Redis: {8: 1}
        #expect(histogram.cumulativeBuckets().map(\.microseconds) == [8])
        histogram.record(nanoseconds: 4000)
        histogram.record(nanoseconds: 4000)
        histogram.record(nanoseconds: 70_000)
        let buckets = histogram.cumulativeBuckets()
        // Each bound is the top of the sub-bucket beginning at the power of two: 131,072 +
        // 1,023 ns reads 132, as Redis prints it.
        #expect(buckets.map(\.microseconds) == [4, 8, 132])
        #expect(buckets.map(\.count) == [2, 3, 4])
    }

    /// Durations Redis 7.0.15 was seen to print (EVAL loops): bounds 66, 528, 8454 and
    /// 67633 µs, each counting the sub-bucket that begins at its power of two.
    @Test func boundsAreTheTopOfTheSubBucketAtEachPowerOfTwo() {
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: 65_600)  // in 65,536's 512-ns sub-bucket: counted at 66
        histogram.record(nanoseconds: 300_000)
        histogram.record(nanoseconds: 8_000_000)
        histogram.record(nanoseconds: 67_200_000)  // in 67,108,864's sub-bucket
        let buckets = histogram.cumulativeBuckets()
        #expect(buckets.map(\.microseconds) == [66, 528, 8454, 67633])
        #expect(buckets.map(\.count) == [1, 2, 3, 4])
    }
}

struct SlowLogTests {
    static func words(_ text: String) -> [Bytes] { text.split(separator: " ").map { Bytes(String($0)) } }

    @Test func logsCallsAtTheThresholdNewestFirstAndKeepsMaxLen() {
        var log = SlowLog()
        log.record(
            Self.words("GET a"), command: nil, microseconds: 9, threshold: 10, maxLength: 2, now: 5000, peer: "p",
            clientName: "")
        #expect(log.entries.isEmpty)
        for key in ["a", "b", "c"] {
            log.record(
                Self.words("GET \(key)"), command: nil, microseconds: 10, threshold: 10, maxLength: 2, now: 5000,
                peer: "1.2.3.4:5", clientName: "n")
        }
        #expect(log.entries.map(\.id) == [2, 1])
        #expect(log.entries.first?.arguments == Self.words("GET c") && log.entries.first?.timestamp == 5)
        log.record(
            Self.words("GET d"), command: nil, microseconds: 1_000_000, threshold: -1, maxLength: 2, now: 0, peer: "",
            clientName: "")
        #expect(log.entries.count == 2)
        log.reset()
        log.record(
            Self.words("GET e"), command: nil, microseconds: 0, threshold: 0, maxLength: 2, now: 0, peer: "",
            clientName: "")
        #expect(log.entries.map(\.id) == [3])
    }

    @Test func boundsArgumentsAsRedisDoes() {
        let many = [Bytes("RPUSH"), Bytes("l")] + (1...32).map { Bytes(String($0)) }
        let kept = SlowLog.bounded(many)
        #expect(kept.count == 32)
        #expect(kept.last == Bytes("... (3 more arguments)"))
        let long = SlowLog.bounded([Bytes("SET"), Bytes("k"), Bytes(String(repeating: "x", count: 200))])
        #expect(long[2] == Bytes(String(repeating: "x", count: 128) + "... (72 more bytes)"))
    }

    @Test func redactsSecrets() {
        #expect(
            SlowLog.redacted(Self.words("AUTH user pass"), command: .auth) == Self.words("AUTH (redacted) (redacted)"))
        #expect(
            SlowLog.redacted(Self.words("HELLO 3 AUTH default pw SETNAME x"), command: .hello)
                == Self.words("HELLO 3 AUTH (redacted) (redacted) SETNAME x"))
        #expect(SlowLog.redacted(Self.words("SET auth x"), command: nil) == Self.words("SET auth x"))
    }
}

struct LatencyMonitorTests {
    @Test func keepsOneSamplePerSecondWithItsMaximumAndAnAllTimeMaximum() {
        var monitor = LatencyMonitor()
        monitor.record("command", milliseconds: 5, threshold: 0, now: 1000)
        #expect(monitor.events.isEmpty)  // threshold 0: off
        monitor.record("command", milliseconds: 4, threshold: 5, now: 1000)
        #expect(monitor.events.isEmpty)
        monitor.record("command", milliseconds: 30, threshold: 5, now: 1000)
        monitor.record("command", milliseconds: 10, threshold: 5, now: 1999)
        monitor.record("command", milliseconds: 7, threshold: 5, now: 2000)
        let series = monitor.events["command"]
        #expect(series?.samples.map(\.milliseconds) == [30, 7] && series?.maximum == 30)
        for second in 0..<200 {
            monitor.record("fast-command", milliseconds: 6, threshold: 5, now: Int64(second) * 1000)
        }
        #expect(monitor.events["fast-command"]?.samples.count == LatencySeries.capacity)
        #expect(monitor.reset(["command", "nosuch"]) == 1)
        #expect(monitor.reset([]) == 1 && monitor.events.isEmpty)
    }

    @Test func graphsASampleAsRedisDoes() {
        var monitor = LatencyMonitor()
        monitor.record("command", milliseconds: 30, threshold: 1, now: 100_000)
        // redis-server 7.0.15's LATENCY GRAPH command right after one 30 ms spike.
        let expected =
            "command - high 30 ms, low 30 ms (all time high 30 ms)\n" + String(repeating: "-", count: 80) + "\n"
            + " \n \n \n_\n \n0\ns\n"
        #expect(monitor.graph("command", now: 100) == expected)
        #expect(monitor.graph("nosuch", now: 100) == nil)
        #expect(LatencyMonitor.age(59) == "59s" && LatencyMonitor.age(61) == "1m" && LatencyMonitor.age(7200) == "2h")
    }

    @Test func graphsRisingSamplesOnFourRows() {
        let text = Sparkline.render(values: [1, 2, 3, 12], labels: ["3s", "2s", "1s", "0s"], columns: 80, rows: 4)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Four graph rows, a blank row, two label rows.
        #expect(lines.count == 8 && lines.last == "")
        #expect(lines[0] == "   _" || lines[0] == "   #" || lines[0] == "   o")
        #expect(lines[3].hasPrefix("_"))
        #expect(lines[5] == "3210" && lines[6] == "ssss")
    }
}

struct CommandStatisticsTests {
    @Test func countsErrorsByCodeUpToTheLimit() {
        var stats = CommandStatistics()
        let first = [stats.recordError("ERR wrong"), stats.recordError("ERR other"), stats.recordError("WRONGTYPE x")]
        #expect(first == [false, false, false])
        #expect(stats.errorCodes == ["ERR": 2, "WRONGTYPE": 1])
        var turnedAway = 0
        for code in 0..<200 where stats.recordError("CODE\(code) x") { turnedAway += 1 }
        #expect(turnedAway == 1)  // logged once
        #expect(stats.errorCodes.count == CommandStatistics.errorCodeLimit)
        #expect(stats.errorCodesFull)
        _ = stats.recordError("ERR again")
        #expect(stats.errorCodes["ERR"] == 3)
    }

    @Test func countsCallsRejectionsAndFailuresPerCommand() throws {
        var stats = CommandStatistics()
        let table = CommandTable.standard
        guard case .success(let get) = table.resolve([Bytes("GET"), Bytes("k")]) else {
            Issue.record("GET did not resolve")
            return
        }
        stats.recordCall(get, nanoseconds: 12_345, failed: false, tracking: true)
        stats.recordCall(get, nanoseconds: 2_000, failed: true, tracking: false)
        stats.recordRejection(get)
        let set = try #require(table.spec(named: Bytes("set")))
        stats.recordCall(set, nanoseconds: 1_000, failed: false, tracking: false)
        #expect(stats.commands.map(\.name) == ["get", "set"])
        let counters = try #require(stats.commands.first)
        #expect(counters.calls == 2 && counters.microseconds == 14 && counters.failed == 1 && counters.rejected == 1)
        #expect(counters.histogram.total == 1)
        stats.reset()
        #expect(stats.commands.isEmpty)
    }
}

struct MonitorFeedTests {
    @Test func formatsLinesAsRedisDoes() {
        let line = MonitorFeed.line(
            [Bytes("SET"), Bytes("q"), Bytes([0x61, 0x20, 0x01, 0x22, 0x5c, 0x0a, 0x09, 0xff, 0x07, 0x08, 0x0d])],
            command: nil, db: 2, peer: "127.0.0.1:5000", microseconds: 1_796_434_179_000_101)
        #expect(line == #"1796434179.000101 [2 127.0.0.1:5000] "SET" "q" "a \x01\"\\\n\t\xff\a\b\r""#)
        let auth = MonitorFeed.line(
            [Bytes("AUTH"), Bytes("secret")], command: .auth, db: 0, peer: "lua", microseconds: 5)
        #expect(auth == #"0.000005 [0 lua] "AUTH" "(redacted)""#)
    }

    @Test func keepsEachWatcherOnceAndQueuesLines() {
        var feed = MonitorFeed()
        #expect(feed.add(7) && !feed.add(7) && feed.add(9))
        feed.queue("a")
        feed.queue("b")
        #expect(feed.takeBacklog() == ["a", "b"] && feed.backlog.isEmpty)
        feed.remove(7)
        #expect(feed.watchers == [9])
    }
}

struct SchotterTests {
    @Test func drawsTheUndisplacedRowsAsRedisDoes() {
        // redis-server 7.0.15's `LOLWUT VERSION 5 1 1 1`.
        #expect(Schotter(columns: 1, squaresPerRow: 1, squaresPerColumn: 1).render { 0 } == "\u{280B}\n")
        let grid = Schotter(columns: 20, squaresPerRow: 3, squaresPerColumn: 2).render { 0.9 }
        let lines = grid.split(separator: "\n")
        #expect(lines.count == 7 && lines.allSatisfy { $0.unicodeScalars.count == 20 })
        #expect(lines.first == "⠀⡤⠤⠤⠤⠤⠤⡤⠤⠤⠤⠤⠤⡤⠤⠤⠤⠤⠤⡄")
    }

    @Test func displacesLowerRowsWithTheRandomSource() {
        let art = Schotter(columns: 30, squaresPerRow: 3, squaresPerColumn: 6)
        #expect(art.render { 0 } != art.render { 0.8 })
        #expect(art.render { 0.3 } == art.render { 0.3 })
    }
}

struct LoadingProgressTests {
    @Test func countsTheBytesReadThroughTheWrappedFileSystem() throws {
        let disk = MemoryFileSystem()
        disk.install(Array(repeating: 7, count: 1000), at: "dump.sdb")
        let progress = LoadingProgress(startedAt: 100, totalBytes: 1000)
        let files = ProgressCountingFileSystem(disk, progress: progress)
        let file = try files.openForReading("dump.sdb")
        var buffer = [UInt8](repeating: 0, count: 250)
        let read = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
        #expect(read == 250 && progress.loadedBytes == 250)
        let fields = Dictionary(uniqueKeysWithValues: progress.infoFields(now: 102))
        #expect(fields["loading_total_bytes"] == "1000" && fields["loading_loaded_bytes"] == "250")
        #expect(fields["loading_loaded_perc"] == "25.00")
        // As Redis: elapsed * remaining / (loaded + 1).
        #expect(fields["loading_eta_seconds"] == String(2 * 750 / 251))
        #expect(Dictionary(uniqueKeysWithValues: progress.infoFields(now: 100))["loading_eta_seconds"] == "1")
    }
}

struct ReviewFixTests {
    @Test func aLongSlowLogKeepsItsNewestEntriesInOrderAndFreesTheRest() {
        var log = SlowLog()
        for n in 0..<1000 {
            log.record(
                [Bytes("GET"), Bytes(n)], command: nil, microseconds: 1, threshold: 0, maxLength: 100, now: 0,
                peer: "", clientName: "")
        }
        #expect(log.entries.count == 100)
        #expect(log.entries.first?.id == 999 && log.entries.last?.id == 900)
        log.trim(to: 3)
        #expect(log.entries.map(\.id) == [999, 998, 997])
    }

    @Test func schotterStaysWithinItsPixelBound() {
        // `LOLWUT VERSION 5 1000 1 200` would be an 800-million-pixel canvas.
        let art = Schotter(columns: 1000, squaresPerRow: 1, squaresPerColumn: 200).render { 0.5 }
        let lines = art.split(separator: "\n")
        #expect(lines.count * 4 * 2000 <= Schotter.maximumPixels + 4 * 2000)
        #expect(lines.allSatisfy { $0.unicodeScalars.count == 1000 })
    }
}
