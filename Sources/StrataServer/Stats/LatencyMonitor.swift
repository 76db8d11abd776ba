//! The latency monitor: per event (`command`, `fast-command`, `aof-fsync-always`...), the
//! latency spikes of at least `latency-monitor-threshold` ms, as `LATENCY LATEST`,
//! `HISTORY`, `RESET`, `GRAPH` and `DOCTOR` report them.
//!
//! As in Redis 7.0 each event keeps at most 160 samples, one per second (a second spike in
//! the same second keeps the larger latency), plus its all-time maximum. The graph is
//! Redis's four-row sparkline, filled, with each sample labelled vertically by its age; the
//! doctor's report gives each event's count, average, mean deviation and period, so the
//! text tools show is the one Redis users know.

/// One event's samples.
struct LatencySeries {
    /// Samples kept per event.
    static let capacity = 160

    /// Oldest first: (Unix seconds, ms).
    private(set) var samples: [(time: Int64, milliseconds: Int)] = []
    /// The largest latency ever recorded.
    private(set) var maximum = 0

    mutating func add(milliseconds: Int, at time: Int64) {
        maximum = max(maximum, milliseconds)
        if let last = samples.last, last.time == time {
            samples[samples.count - 1].milliseconds = max(last.milliseconds, milliseconds)
            return
        }
        samples.append((time, milliseconds))
        if samples.count > Self.capacity { samples.removeFirst(samples.count - Self.capacity) }
    }
}

/// Every event's series.
struct LatencyMonitor {
    private(set) var events: [String: LatencySeries] = [:]

    /// Records `milliseconds` for `event` when the monitor is on (`threshold` > 0) and it
    /// reaches the threshold. `now` in Unix ms.
    mutating func record(_ event: String, milliseconds: Int, threshold: Int, now: Int64) {
        guard threshold > 0, milliseconds >= threshold else { return }
        events[event, default: LatencySeries()].add(milliseconds: milliseconds, at: now / 1000)
    }

    /// Forgets `names` (every event when empty). Returns how many were known.
    mutating func reset(_ names: [String]) -> Int {
        if names.isEmpty {
            defer { events = [:] }
            return events.count
        }
        var count = 0
        for name in Set(names) where events.removeValue(forKey: name) != nil { count += 1 }
        return count
    }

    /// `LATENCY GRAPH`'s text for `event` at `now` (Unix seconds), nil without samples.
    func graph(_ event: String, now: Int64) -> String? {
        guard let series = events[event], !series.samples.isEmpty else { return nil }
        let values = series.samples.map(\.milliseconds)
        let labels = series.samples.map { Self.age(now - $0.time) }
        let low = values.min() ?? 0
        let high = values.max() ?? 0
        var text = "\(event) - high \(high) ms, low \(low) ms (all time high \(series.maximum) ms)\n"
        text += String(repeating: "-", count: 80) + "\n"
        text += Sparkline.render(values: values, labels: labels, columns: 80, rows: 4)
        return text
    }

    /// A sample's age as the graph labels it: `12s`, `5m`, `3h`, `2d`.
    static func age(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }

    /// `LATENCY DOCTOR`'s report.
    func doctor(slowLogThreshold: Int, monitorThreshold: Int) -> String {
        if events.isEmpty && monitorThreshold == 0 {
            return
                "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
        }
        guard !events.isEmpty else {
            return
                "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n"
        }
        var report =
            "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n"
        for (number, name) in events.keys.sorted().enumerated() {
            guard let series = events[name] else { continue }
            let values = series.samples.map(\.milliseconds)
            let average = values.isEmpty ? 0 : values.reduce(0, +) / values.count
            let deviation = values.isEmpty ? 0 : values.reduce(0) { $0 + abs($1 - average) } / values.count
            let span = (series.samples.last?.time ?? 0) - (series.samples.first?.time ?? 0)
            let period = values.count > 1 ? Double(span) / Double(values.count - 1) : 1
            report +=
                "\(number + 1). \(name): \(values.count) latency spikes (average \(average)ms, mean deviation \(deviation)ms, period \(String(printf: "%.2f", period)) sec). Worst all time event \(series.maximum)ms.\n"
        }
        report += "\nI have a few advices for you:\n\n"
        if slowLogThreshold < 0 || slowLogThreshold / 1000 > monitorThreshold {
            report +=
                "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than \(monitorThreshold * 1000)'.\n"
        }
        if events["command"] != nil || events["fast-command"] != nil {
            report +=
                "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"
            report +=
                "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"
        }
        if events.keys.contains(where: { $0.hasPrefix("aof") }) {
            report +=
                "- The AOF's fsync is slow: consider 'appendfsync everysec', a faster disk, or 'no-appendfsync-on-rewrite yes'.\n"
        }
        return report
    }
}

/// Redis's text sparkline: values drawn on `rows` rows of three levels each (`_`, `o`,
/// `#`, filled below with `|`), then each value's label written downwards under it.
enum Sparkline {
    private static let levels: [Character] = ["_", "o", "#"]

    static func render(values: [Int], labels: [String], columns: Int, rows: Int) -> String {
        var output = ""
        var start = 0
        while start < values.count {
            let end = min(start + columns, values.count)
            if start != 0 { output += "\n" }
            output += renderRange(values: values, labels: labels, range: start..<end, rows: rows)
            start = end
        }
        return output
    }

    private static func renderRange(values: [Int], labels: [String], range: Range<Int>, rows: Int) -> String {
        let low = Double(values.min() ?? 0)
        var span = Double(values.max() ?? 0) - low
        if span == 0 { span = 1 }
        let steps = levels.count * rows
        var output = ""
        var row = 0
        while true {
            var line = [Character](repeating: " ", count: range.count)
            var more = false
            for (column, index) in range.enumerated() {
                if row < rows {
                    more = true
                    let step = min(max(Int((Double(values[index]) - low) * Double(steps) / span), 0), steps - 1)
                    let level = step - (rows - row - 1) * levels.count
                    if level >= 0 && level < levels.count {
                        line[column] = levels[level]
                    } else if level >= levels.count {
                        line[column] = "|"
                    }
                } else if row - rows < 1 {
                    more = true  // a blank line between the graph and the labels
                    break
                } else {
                    let label = Array(labels[index])
                    let position = row - rows - 1
                    if position < label.count {
                        more = true
                        line[column] = label[position]
                    }
                }
            }
            guard more else { break }
            output += String(line) + "\n"
            row += 1
        }
        return output
    }
}
