//! Where strata-dump's subcommands write. They never touch the process's standard streams
//! themselves: the executable passes ``StandardDumpOutput`` and tests pass
//! ``CapturedDumpOutput``, so every subcommand runs in-process with its whole output read back.

import Foundation

/// The destination of a subcommand's output.
public protocol DumpOutput: AnyObject {
    /// Writes `bytes` to standard output.
    func writeOutput(_ bytes: UnsafeRawBufferPointer) throws
    /// Writes `text` to standard error.
    func writeError(_ text: String)
    /// Whether standard output and standard error are both terminals: progress lines are
    /// drawn only then.
    var isTerminal: Bool { get }
}

extension DumpOutput {
    /// Writes `line` and a newline to standard output.
    func print(_ line: String) {
        var text = line + "\n"
        // A closed pipe ends the output, as it does for `print`.
        try? text.withUTF8 { try writeOutput(UnsafeRawBufferPointer($0)) }
    }

    /// Writes `bytes` to standard output.
    func writeOutput(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeOutput($0) }
    }

    /// Writes `line` and a newline to standard error.
    func printError(_ line: String) {
        writeError(line + "\n")
    }
}

/// The process's standard output (buffered, as `print` is) and standard error.
public final class StandardDumpOutput: DumpOutput {
    public let isTerminal = isatty(1) == 1 && isatty(2) == 1

    /// The process's streams.
    public init() {}

    public func writeOutput(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard fwrite(base, 1, bytes.count, stdout) == bytes.count else {
            throw DumpFailure.failed("cannot write standard output: \(String(cString: strerror(errno)))")
        }
    }

    public func writeError(_ text: String) {
        fflush(stdout)
        fputs(text, stderr)
    }

    /// Flushes standard output (before the process exits).
    public func flush() {
        fflush(stdout)
    }
}

/// Output kept in memory, for tests.
public final class CapturedDumpOutput: DumpOutput {
    /// The bytes written to standard output.
    public private(set) var outputBytes: [UInt8] = []
    /// The text written to standard error.
    public private(set) var error = ""
    public let isTerminal = false

    /// An empty capture.
    public init() {}

    /// Standard output as text.
    public var output: String { String(decoding: outputBytes, as: UTF8.self) }

    public func writeOutput(_ bytes: UnsafeRawBufferPointer) throws {
        outputBytes.append(contentsOf: bytes)
    }

    public func writeError(_ text: String) {
        error += text
    }
}
