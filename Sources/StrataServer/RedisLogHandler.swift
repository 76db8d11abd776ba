import Logging
import NIOConcurrencyHelpers
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A swift-log handler writing Redis-style lines (`pid:M 27 Nov 2026 18:00:00.000 * text`)
/// to standard output or a log file.
public struct RedisLogHandler: LogHandler {
    public var logLevel: Logger.Level = .notice
    public var metadata: Logger.Metadata = [:]
    private let sink: LogSink
    /// The role letter of every line, as Redis writes it: `M` a primary, `S` a replica.
    private static let roleLetter = NIOLockedValueBox("M")

    /// Marks the lines that follow as a replica's (`S`) or a primary's (`M`).
    public static func setRole(replica: Bool) {
        roleLetter.withLockedValue { $0 = replica ? "S" : "M" }
    }

    /// A handler writing to `path`, or to standard output when `path` is empty.
    public init(path: String) {
        sink = LogSink.shared(path: path)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let marker: String
        switch level {
        case .trace, .debug: marker = "."
        case .info: marker = "-"
        case .notice: marker = "*"
        default: marker = "#"
        }
        let pid = getpid()
        let role = Self.roleLetter.withLockedValue { $0 }
        sink.write("\(pid):\(role) \(Self.localTimestamp()) \(marker) \(message)\n")
    }

    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// The current local time as Redis's log lines print it, `27 Nov 2026 18:00:00.123`
    /// (day, English month abbreviation, year, time to the millisecond, truncated).
    static func localTimestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var fields = tm()
        guard localtime_r(&seconds, &fields) != nil else { return "" }
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let month = monthNames[Int(min(max(fields.tm_mon, 0), 11))]
        let milliseconds = Int32(now.tv_nsec / 1_000_000)
        return "\(padded(fields.tm_mday, 2)) \(month) \(padded(fields.tm_year + 1900, 4)) "
            + "\(padded(fields.tm_hour, 2)):\(padded(fields.tm_min, 2)):\(padded(fields.tm_sec, 2)).\(padded(milliseconds, 3))"
    }
}

/// Serialises writes to the log destination.
final class LogSink: @unchecked Sendable {
    private let lock = NIOLock()
    /// Standard output, or the log file (open for the life of the process).
    private let file: any WritableFile

    private init(file: any WritableFile) { self.file = file }

    private static let registryLock = NIOLock()
    nonisolated(unsafe) private static var sinks: [String: LogSink] = [:]

    /// The one sink of `path` (standard output when empty, or when the file cannot be
    /// opened): a file is created when missing and written from its end.
    static func shared(path: String) -> LogSink {
        registryLock.lock()
        defer { registryLock.unlock() }
        if let sink = sinks[path] { return sink }
        let file = path.isEmpty ? nil : try? POSIXFileSystem.shared.openForAppending(path)
        let sink = LogSink(file: file ?? POSIXFileSystem.standardOutput())
        sinks[path] = sink
        return sink
    }

    /// Writes all of `line` (going on after short writes and interruptions); a line the
    /// destination refuses is dropped.
    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        var line = line
        line.withUTF8 { _ = file.writeAll(UnsafeRawBufferPointer($0)) }
    }
}
