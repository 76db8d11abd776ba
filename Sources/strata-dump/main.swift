// strata-dump: offline work on dumps — Strata snapshots, Redis RDB files and AOF
// directories — without a running server. See Options.swift for the usage text.
//
// Exit codes: 0 good, 1 damaged or failed, 2 usage error.

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { usageError("no command given") }
arguments.removeFirst()

switch command {
case "inspect": InspectCommand.run(arguments)
case "verify": VerifyCommand.run(arguments)
case "convert": ConvertCommand.run(arguments)
case "restore": RestoreCommand.run(arguments)
case "backup": BackupCommand.run(arguments)
case "help", "--help", "-h":
    print(usage)
default: usageError("unknown command \(command)")
}
