/// The command table: every command the server knows, looked up by lowercase name. A
/// class, so that the lookup on every command borrows one reference instead of copying
/// (and reference-counting) each of the table's collections.
public final class CommandTable: Sendable {
    /// Specs by lowercase name.
    public let specs: [Bytes: CommandSpec]
    /// The same specs, for the lookup of every command by any spelling of its name.
    private let index: CommandNameIndex

    /// A table holding `specs`.
    public init(_ specs: [CommandSpec]) {
        var byName: [Bytes: CommandSpec] = [:]
        for spec in specs { byName[Bytes(spec.name)] = spec }
        self.specs = byName
        index = CommandNameIndex(byName.values)
    }

    /// Every command and subcommand (containers excluded), in no particular order.
    public var allSpecs: [CommandSpec] {
        specs.values.flatMap { spec -> [CommandSpec] in
            if case .container = spec.handler { return Array(spec.subcommands.values) }
            return [spec]
        }
    }

    /// Every command of Strata.
    public static let standard = CommandTable(
        KeyCommands.specs + StringCommands.specs + BitCommands.specs + ExpireCommands.specs
            + DatabaseCommands.specs + ServerCommandSpecs.specs + MemoryCommands.specs + ClusterCommandSpecs.specs
            + HashCommands.specs + SetCommands.specs + ListCommands.specs + SortCommands.specs
            + BlockingListCommands.specs + SortedSetCommands.specs + SortedSetRangeCommands.specs
            + SortedSetAlgebraCommands.specs + BlockingSortedSetCommands.specs + GeoCommands.specs
            + GeoSearchCommands.specs + ScriptingCommandSpecs.specs
            + StreamCommands.specs + StreamReadCommands.specs + StreamGroupCommands.specs
            + StreamInfoCommands.specs + BitOpCommands.specs + BitFieldCommands.specs + LCSCommand.specs
            + HyperLogLogCommands.specs + KeyTransferCommandSpecs.specs)

    /// The spec for a command name, case-insensitively.
    public func spec(named name: Bytes) -> CommandSpec? {
        index.spec(named: name)
    }

    /// Resolves a full invocation: name lookup, subcommand lookup and arity check, with
    /// Redis 7's error replies.
    public func resolve(_ args: [Bytes]) -> Result<CommandSpec, Reply> {
        resolveReference(args).map { $0.takeUnretainedValue() }
    }

    /// ``resolve(_:)`` without counting a reference to the spec (one retain and release per
    /// command otherwise): the table's specs live as long as the table, and the standard
    /// table for as long as the process.
    public func resolveReference(_ args: [Bytes]) -> Result<Unmanaged<CommandSpec>, Reply> {
        guard let first = args.first else { return .failure(.error("ERR empty command")) }
        guard let reference = index.specReference(named: first) else {
            return .failure(CommandTable.unknownCommand(args))
        }
        // Inspected without counting either: a local reference was retained around the
        // subcommand lookup.
        return reference._withUnsafeGuaranteedRef { spec in
            resolveSubcommand(of: spec, reference, args)
        }
    }

    /// The rest of ``resolveReference(_:)`` once the name matched `spec`.
    private func resolveSubcommand(
        of spec: CommandSpec, _ reference: Unmanaged<CommandSpec>, _ args: [Bytes]
    ) -> Result<Unmanaged<CommandSpec>, Reply> {
        if case .container = spec.handler {
            guard args.count >= 2 else { return .failure(Errors.arity(spec.name)) }
            guard let sub = spec.subcommands[args[1].lowercased.string] else {
                return .failure(
                    .error(
                        "ERR unknown subcommand '\(CommandTable.clip(args[1].string))'. Try \(spec.name.uppercased()) HELP."
                    ))
            }
            guard sub.accepts(argumentCount: args.count) else { return .failure(Errors.arity(sub.name)) }
            return .success(Unmanaged.passUnretained(sub))
        }
        // A command that also runs alone (COMMAND) resolves a known subcommand.
        if args.count >= 2, !spec.subcommands.isEmpty, let sub = spec.subcommands[args[1].lowercased.string] {
            guard sub.accepts(argumentCount: args.count) else { return .failure(Errors.arity(sub.name)) }
            return .success(Unmanaged.passUnretained(sub))
        }
        guard spec.accepts(argumentCount: args.count) else { return .failure(Errors.arity(spec.name)) }
        return .success(reference)
    }

    /// Redis's unknown-command reply, quoting up to 128 characters of arguments.
    public static func unknownCommand(_ args: [Bytes]) -> Reply {
        var text = "ERR unknown command '\(clip(args[0].string))', with args beginning with: "
        var budget = 128
        for arg in args.dropFirst() {
            let s = arg.string
            if budget <= 0 { break }
            let part = String(s.prefix(budget))
            text += "'\(part)' "
            budget -= s.count
        }
        return .error(text)
    }

    static func clip(_ s: String) -> String {
        let cleaned = String(s.prefix(128)).map { $0 == "\r" || $0 == "\n" ? " " : $0 }
        return String(cleaned)
    }
}
