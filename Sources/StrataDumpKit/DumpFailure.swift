//! How a subcommand fails: it throws instead of calling `exit()`, so that it can run
//! in-process (in tests) and the entry point alone turns outcomes into exit codes.

/// How a subcommand ends when it does not succeed: the exit code (1 damaged or failed,
/// 2 usage error) and what to tell on standard error.
public struct DumpFailure: Error, Equatable, CustomStringConvertible {
    /// The message, without the `strata-dump: ` prefix; nil when the subcommand has already
    /// written its report (a damaged file found by `verify`).
    public var message: String?
    /// The process's exit code.
    public var exitCode: Int32

    /// A failure with `message` and `exitCode`.
    public init(message: String?, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    /// A usage error: exit code 2, the message followed by the usage text.
    public static func usage(_ message: String) -> DumpFailure { DumpFailure(message: message, exitCode: 2) }

    /// A failure: exit code 1 and the message.
    public static func failed(_ message: String) -> DumpFailure { DumpFailure(message: message, exitCode: 1) }

    /// A damaged input whose report is already written: exit code 1.
    public static let damaged = DumpFailure(message: nil, exitCode: 1)

    public var description: String { message ?? "exit code \(exitCode)" }
}
