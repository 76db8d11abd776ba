//! The root command: the subcommands, the usage text shown after a usage error, and the
//! exit codes.

import ArgumentParser

/// `strata-dump`: offline work on dumps (Strata snapshots, Redis RDB files and AOF
/// directories) without a running server.
public struct StrataDumpCommand: ParsableCommand {
    /// The subcommands, in the order of the usage text.
    static let subcommands: [ParsableCommand.Type] = [
        InspectCommand.self, VerifyCommand.self, ConvertCommand.self, RestoreCommand.self, BackupCommand.self,
        DiffCommand.self,
    ]

    /// Every form of every subcommand, from their usage lines.
    static let forms = subcommands.flatMap { subcommand in
        (subcommand.configuration.usage ?? "").split(separator: "\n").map(String.init)
    }

    public static let configuration = CommandConfiguration(
        commandName: "strata-dump",
        abstract:
            "Offline work on dumps (Strata snapshots, Redis RDB files, AOF directories) without a running server.",
        usage: forms.joined(separator: "\n"),
        discussion: "exit codes: 0 good, 1 damaged or failed, 2 usage error",
        subcommands: subcommands)

    /// The subcommands' names.
    static let subcommandNames = Set(subcommands.compactMap { $0.configuration.commandName })

    /// The usage text written after a usage error: every form of every subcommand and the
    /// exit codes.
    public static let usageText =
        "usage: " + forms.joined(separator: "\n       ") + "\nexit codes: 0 good, 1 damaged or failed, 2 usage error"

    public init() {}
}

/// A subcommand whose body writes to an output sink and throws ``DumpFailure`` (or any
/// error, taken as a failure) instead of exiting.
protocol DumpSubcommand: ParsableCommand {
    /// Does the work, writing to `output`.
    func execute(output: DumpOutput) throws
}

extension DumpSubcommand {
    /// Runs on the process's standard output when the subcommand is used through
    /// ArgumentParser's own `main()`.
    public mutating func run() throws {
        let output = StandardDumpOutput()
        defer { output.flush() }
        try execute(output: output)
    }
}
