//! COMMAND and its subcommands: COUNT, INFO, DOCS, LIST, GETKEYS, HELP — generated from the
//! one command table, in Redis 7's reply shapes, so client libraries' command discovery
//! and redis-cli's hints work.

import StrataEngine

extension ServerCore {
    func commandCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        let table = engine.commands
        switch command {
        case .commandCount:
            return .integer(sortedSpecs().count)
        case .commandInfo:
            if args.count == 2 { return .array(sortedSpecs().map(commandInfo)) }
            return .array(args.dropFirst(2).map { name in lookup(name).map(commandInfo) ?? .null })  // Redis: $-1
        case .commandDocs:
            let specs = args.count == 2 ? sortedSpecs() : args.dropFirst(2).compactMap { lookup($0) }
            return .map(specs.map { (.text($0.name), commandDocs($0)) })
        case .commandList:
            return commandList(args)
        case .commandGetKeys:
            let invocation = Array(args.dropFirst(2))
            switch table.resolve(invocation) {
            case .failure:
                if table.spec(named: invocation[0]) == nil { return .error("ERR Invalid command specified") }
                return .error("ERR Invalid number of arguments specified for command")
            case .success(let spec):
                let keys =
                    spec.keys(in: invocation)
                    ?? spec.keyPositions(argumentCount: invocation.count).map { invocation[$0] }
                guard !keys.isEmpty else { return .error("ERR The command has no key arguments") }
                return .array(keys.map { .bulk($0) })
            }
        case .commandHelp:
            return .array(
                [
                    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "(no subcommand)", "    Return details about all Redis commands.",
                    "COUNT", "    Return the total number of commands in this Redis server.",
                    "LIST", "    Return a list of all commands in this Redis server.",
                    "INFO [<command-name> ...]",
                    "    Return details about multiple Redis commands.",
                    "    If no command names are given, documentation details for all",
                    "    commands are returned.",
                    "DOCS [<command-name> ...]",
                    "    Return documentation details about multiple Redis commands.",
                    "    If no command names are given, documentation details for all",
                    "    commands are returned.",
                    "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                    "HELP", "    Print this help.",
                ].map { .status($0) })
        default:
            // COMMAND alone, or with a word that names no subcommand.
            if args.count == 1 { return .array(sortedSpecs().map(commandInfo)) }
            return .error("ERR unknown subcommand '\(args[1].string)'. Try COMMAND HELP.")
        }
    }

    private func sortedSpecs() -> [CommandSpec] {
        engine.commands.specs.values.sorted { $0.name < $1.name }
    }

    private func lookup(_ name: Bytes) -> CommandSpec? {
        let parts = name.lowercased.string.split(separator: "|")
        guard let first = parts.first, let spec = engine.commands.spec(named: Bytes(String(first))) else { return nil }
        if parts.count == 2 { return spec.subcommands[String(parts[1])] }
        return parts.count == 1 ? spec : nil
    }

    private func commandList(_ args: [Bytes]) -> Reply {
        var specs = sortedSpecs()
        if args.count > 2 {
            guard args.count == 5, args[2].equalsIgnoringCase("filterby") else { return Errors.syntax }
            let value = args[4]
            if args[3].equalsIgnoringCase("aclcat") {
                let category = value.lowercased.string
                specs = specs.filter { $0.categories.contains(category) }
            } else if args[3].equalsIgnoringCase("pattern") {
                specs = specs.filter { GlobPattern.matches(value.lowercased, Bytes($0.name)) }
            } else if args[3].equalsIgnoringCase("module") {
                specs = []
            } else {
                return Errors.syntax
            }
        }
        return .array(specs.map { .text($0.name) })
    }

    func commandInfo(_ spec: CommandSpec) -> Reply {
        var keySpecs: [Reply] = []
        if spec.firstKey > 0 {
            let last = spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey
            let access: [Reply] =
                spec.flags.contains(.write)
                ? [.status("RW"), .status("access"), .status("update")] : [.status("RO"), .status("access")]
            keySpecs.append(
                .map([
                    (.text("flags"), .set(access)),
                    (
                        .text("begin_search"),
                        .map([
                            (.text("type"), .text("index")),
                            (.text("spec"), .map([(.text("index"), .integer(spec.firstKey))])),
                        ])
                    ),
                    (
                        .text("find_keys"),
                        .map([
                            (.text("type"), .text("range")),
                            (
                                .text("spec"),
                                .map([
                                    (.text("lastkey"), .integer(last)), (.text("keystep"), .integer(spec.keyStep)),
                                    (.text("limit"), .integer(0)),
                                ])
                            ),
                        ])
                    ),
                ]))
        }
        return .array([
            .text(spec.name),
            .integer(spec.arity),
            .set(spec.flags.names.map { .status($0) }),
            .integer(spec.firstKey),
            .integer(spec.lastKey),
            .integer(spec.keyStep),
            .set(spec.categories.map { .status("@" + $0) }),
            .array([]),
            .array(keySpecs),
            .array(spec.subcommands.values.sorted { $0.name < $1.name }.map(commandInfo)),
        ])
    }

    func commandDocs(_ spec: CommandSpec) -> Reply {
        var fields: [(Reply, Reply)] = [
            (.text("summary"), .text(spec.summary)),
            (.text("since"), .text(spec.since)),
            (.text("group"), .text(spec.group)),
        ]
        let arguments = CommandSynopsis.parse(spec.synopsis)
        if !arguments.isEmpty {
            fields.append((.text("arguments"), .array(arguments.map { $0.reply })))
        }
        if !spec.subcommands.isEmpty {
            fields.append(
                (
                    .text("subcommands"),
                    .map(spec.subcommands.values.sorted { $0.name < $1.name }.map { (.text($0.name), commandDocs($0)) })
                ))
        }
        return .map(fields)
    }
}
