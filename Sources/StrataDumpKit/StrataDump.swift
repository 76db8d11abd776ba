//! strata-dump's entry point: parses the arguments with ArgumentParser, runs the subcommand
//! against an output sink and turns what it throws into the tool's exit-code contract:
//! 0 good, 1 damaged or failed, 2 usage error. ArgumentParser's own exit code for usage and
//! validation errors (64) is mapped to 2, and usage errors are told as the tool always told
//! them: `strata-dump: <message>` and then the usage text, on standard error.

import ArgumentParser

/// Runs strata-dump.
public enum StrataDump {
    /// Runs strata-dump with `arguments` (without the program name), writing to `output`.
    ///
    /// - Returns: the exit code.
    public static func run(_ arguments: [String], output: DumpOutput) -> Int32 {
        if let first = arguments.first, !first.hasPrefix("-"), first != "help",
            !StrataDumpCommand.subcommandNames.contains(first)
        {
            return report(.usage("unknown command \(first)"), to: output)
        }
        let subcommand: DumpSubcommand
        do {
            var parsed = try StrataDumpCommand.parseAsRoot(arguments)
            if parsed is StrataDumpCommand { return report(.usage("no command given"), to: output) }
            guard let chosen = parsed as? DumpSubcommand else {
                // ArgumentParser's help command: its run() throws the help request.
                try parsed.run()
                return 0
            }
            subcommand = chosen
        } catch {
            if StrataDumpCommand.exitCode(for: error) == .success {
                // --help, -h and `help [SUBCOMMAND]`.
                output.print(StrataDumpCommand.fullMessage(for: error))
                return 0
            }
            return report(.usage(UsageWording.reword(StrataDumpCommand.message(for: error))), to: output)
        }
        do {
            try subcommand.execute(output: output)
            return 0
        } catch let failure as DumpFailure {
            return report(failure, to: output)
        } catch {
            return report(.failed("\(error)"), to: output)
        }
    }

    /// Tells `failure` on standard error (with the usage text after a usage error).
    static func report(_ failure: DumpFailure, to output: DumpOutput) -> Int32 {
        if let message = failure.message {
            let usage = failure.exitCode == 2 ? "\n" + StrataDumpCommand.usageText : ""
            output.printError("strata-dump: \(message)\(usage)")
        }
        return failure.exitCode
    }
}
