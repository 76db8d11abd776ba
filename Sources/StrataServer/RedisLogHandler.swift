import Foundation
import Logging
import NIOConcurrencyHelpers

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
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "dd MMM yyyy HH:mm:ss.SSS"
        let pid = ProcessInfo.processInfo.processIdentifier
        let role = Self.roleLetter.withLockedValue { $0 }
        sink.write("\(pid):\(role) \(formatter.string(from: Date())) \(marker) \(message)\n")
    }
}

/// Serialises writes to the log destination.
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle

    private init(handle: FileHandle) { self.handle = handle }

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var sinks: [String: LogSink] = [:]

    static func shared(path: String) -> LogSink {
        registryLock.lock()
        defer { registryLock.unlock() }
        if let sink = sinks[path] { return sink }
        var handle = FileHandle.standardOutput
        if !path.isEmpty {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            if let file = FileHandle(forWritingAtPath: path) {
                file.seekToEndOfFile()
                handle = file
            }
        }
        let sink = LogSink(handle: handle)
        sinks[path] = sink
        return sink
    }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data(line.utf8))
    }
}
