//! COMMAND and its subcommands: COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP —
//! generated from the one command table joined with Redis 7.0's published metadata
//! (`CommandMetadata`), in Redis 7's reply shapes, so client libraries' command discovery,
//! cluster routing and redis-cli's hints see what Redis would tell them.

import StrataEngine

extension ServerCore {
    func commandCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        switch command {
        case .commandCount:
            return .integer(sortedSpecs().count)
        case .commandInfo:
            if args.count == 2 { return .array(sortedSpecs().map(\.infoReply)) }
            return .array(args.dropFirst(2).map { name in lookup(name)?.infoReply ?? .null })  // Redis: $-1
        case .commandDocs:
            let specs = args.count == 2 ? sortedSpecs() : args.dropFirst(2).compactMap { lookup($0) }
            return .map(specs.map { (.text($0.name), commandDocs($0)) })
        case .commandList:
            return commandList(args)
        case .commandGetKeys:
            return commandGetKeys(Array(args.dropFirst(2)), withFlags: false)
        case .commandGetKeysAndFlags:
            return commandGetKeys(Array(args.dropFirst(2)), withFlags: true)
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
                    "GETKEYSANDFLAGS <full-command>",
                    "    Return the keys and the access flags from a full Redis command.",
                    "HELP", "    Prints this help.",
                ].map { .status($0) })
        default:
            // COMMAND alone, or with a word that names no subcommand.
            if args.count == 1 { return .array(sortedSpecs().map(\.infoReply)) }
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

    /// COMMAND LIST: every command and subcommand (containers too), optionally filtered by
    /// module (Strata has none), ACL category or name pattern (subcommands' full names).
    private func commandList(_ args: [Bytes]) -> Reply {
        let all = sortedSpecs().flatMap { spec in [spec] + spec.subcommands.values.sorted { $0.name < $1.name } }
        guard args.count > 2 else { return .array(all.map { .text($0.name) }) }
        guard args.count == 5, args[2].equalsIgnoringCase("filterby") else { return Errors.syntax }
        let value = args[4]
        let kept: [CommandSpec]
        if args[3].equalsIgnoringCase("module") {
            kept = []
        } else if args[3].equalsIgnoringCase("aclcat") {
            let category = value.lowercased.string
            kept = all.filter { $0.printedCategories.contains(category) }
        } else if args[3].equalsIgnoringCase("pattern") {
            let pattern = value.lowercased
            kept = all.filter { GlobPattern.matches(pattern, Bytes($0.name)) }
        } else {
            return Errors.syntax
        }
        return .array(kept.map { .text($0.name) })
    }

    /// COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of a full invocation as Redis finds
    /// them, with Redis's errors in its order (unknown command, no keys, arity, none found).
    private func commandGetKeys(_ invocation: [Bytes], withFlags: Bool) -> Reply {
        guard let name = invocation.first, let base = engine.commands.spec(named: name) else {
            return .error("ERR Invalid command specified")
        }
        var spec = base
        if invocation.count >= 2, !base.subcommands.isEmpty {
            guard let sub = base.subcommands[invocation[1].lowercased.string] else {
                return .error("ERR Invalid command specified")
            }
            spec = sub
        }
        let metadata = spec.redisMetadata
        let hasKeys = metadata?.hasKeys ?? (spec.firstKey > 0 || spec.keyFinder != nil)
        guard hasKeys else { return .error("ERR The command has no key arguments") }
        guard spec.accepts(argumentCount: invocation.count) else {
            return .error("ERR Invalid number of arguments specified for command")
        }
        let keys: [(Bytes, KeySpecFlags)]
        if let metadata {
            keys = metadata.keyReferences(in: invocation).map { (invocation[$0.position], $0.flags) }
        } else {
            keys = (spec.keys(in: invocation) ?? []).map { ($0, []) }
        }
        guard !keys.isEmpty else {
            if spec.printedFlags.contains("no_mandatory_keys") { return .array([]) }
            return .error("ERR Invalid arguments specified for command")
        }
        return .array(keys.map { key, flags in withFlags ? .array([.bulk(key), flags.reply]) : .bulk(key) })
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
