//! The commands ACL rules can name, seen as Redis's ACL code sees its command table: every
//! command and every subcommand has an id (here the spec's ordinal, the bit a selector
//! sets), containers own their subcommands, and each category lists the commands and
//! subcommands that carry it. Built once from the command table; rule parsing, checks and
//! the normalised `+@cat -cmd` descriptions all read it.

import StrataEngine

/// How a command names pub/sub channels, for the `&pattern` checks.
enum ACLChannelUse {
    /// The first argument is published to (PUBLISH, SPUBLISH).
    case publishFirst
    /// Every argument is a channel subscribed to (SUBSCRIBE, SSUBSCRIBE).
    case subscribeAll
    /// Every argument is a pattern subscribed to, compared literally (PSUBSCRIBE).
    case subscribePatterns
}

/// One key spec that is a plain range from a fixed index.
struct SimpleKeyRange {
    let begin: Int
    /// Relative to `begin`, or negative from the end.
    let lastKey: Int
    let step: Int
    let flags: KeySpecFlags
    /// SET's flags depend on its arguments (Redis's `setGetKeys`): with `GET` the key is
    /// read and written, without it only overwritten.
    var setGetFlags = false

    /// The flags of the keys for these arguments.
    @inline(__always)
    func flags(for args: [Bytes]) -> KeySpecFlags {
        guard setGetFlags else { return flags }
        var index = 3
        while index < args.count {
            if args[index].equalsIgnoringCase("get") { return [.readWrite, .access, .update] }
            index += 1
        }
        return [.overwrite, .update]
    }
}

/// The command table as ACL rules see it.
final class ACLCommandCatalog: @unchecked Sendable {
    /// The catalog of the standard command table, built once (it is immutable).
    static let standard = ACLCommandCatalog(CommandTable.standard)

    /// The catalog for `table`: the shared one for the standard table.
    static func of(_ table: CommandTable) -> ACLCommandCatalog {
        table === CommandTable.standard ? standard : ACLCommandCatalog(table)
    }

    /// The categories `ACL CAT` lists, in Redis's order.
    static let categories = CommandMetadata.categoryOrder

    /// Top-level commands (containers included), in a fixed order: by name.
    let commands: [CommandSpec]
    /// One more than the largest ordinal: the size of a command bitmap.
    let bitCount: Int
    /// Per category, the commands and subcommands carrying it (a container's own entry
    /// included when it carries it, as Redis's table does).
    let members: [String: [CommandSpec]]
    /// The channel use of pub/sub commands, by ordinal (nil for the others).
    let channelUse: [ACLChannelUse?]
    /// Redis's key specs per ordinal, nil for a command Redis does not have (its legacy key
    /// positions are used).
    let metadata: [CommandMetadata?]
    /// SORT and SORT_RO by ordinal: their BY/GET patterns need read access to every key.
    private let sorts: [Bool]
    /// Full names by ordinal.
    private let names: [String?]
    /// Whether each command (by ordinal) can have key arguments.
    private let keyed: [Bool]
    /// Per ordinal, the key specs when all are plain index ranges (most commands): the
    /// check then walks key positions without building a list of references.
    let simpleKeys: [[SimpleKeyRange]?]
    private let table: CommandTable

    /// The catalog of `table`.
    init(_ table: CommandTable) {
        self.table = table
        let commands = table.specs.values.sorted { $0.name < $1.name }
        self.commands = commands
        var everything: [CommandSpec] = []
        for command in commands {
            everything.append(command)
            everything.append(contentsOf: command.subcommands.values.sorted { $0.name < $1.name })
        }
        let bitCount = (everything.map(\.ordinal).max() ?? 0) + 1
        self.bitCount = bitCount
        var members: [String: [CommandSpec]] = [:]
        for spec in everything {
            for category in spec.printedCategories { members[category, default: []].append(spec) }
        }
        self.members = members
        var metadata = [CommandMetadata?](repeating: nil, count: bitCount)
        var channelUse = [ACLChannelUse?](repeating: nil, count: bitCount)
        for spec in everything {
            metadata[spec.ordinal] = spec.redisMetadata
            switch spec.name {
            case "publish", "spublish": channelUse[spec.ordinal] = .publishFirst
            case "subscribe", "ssubscribe": channelUse[spec.ordinal] = .subscribeAll
            case "psubscribe": channelUse[spec.ordinal] = .subscribePatterns
            default: break
            }
        }
        self.metadata = metadata
        var sorts = [Bool](repeating: false, count: bitCount)
        for spec in everything where spec.name == "sort" || spec.name == "sort_ro" { sorts[spec.ordinal] = true }
        self.sorts = sorts
        var names = [String?](repeating: nil, count: bitCount)
        for spec in everything { names[spec.ordinal] = spec.name }
        self.names = names
        var keyed = [Bool](repeating: false, count: bitCount)
        for spec in everything {
            keyed[spec.ordinal] = metadata[spec.ordinal]?.hasKeys ?? (spec.firstKey > 0)
        }
        self.keyed = keyed
        var simpleKeys = [[SimpleKeyRange]?](repeating: nil, count: bitCount)
        for spec in everything {
            guard let specs = metadata[spec.ordinal]?.keySpecs else { continue }
            var plan: [SimpleKeyRange] = []
            let isSet = spec.name == "set"
            for keySpec in specs where !keySpec.flags.contains(.notKey) {
                guard case .index(let begin) = keySpec.beginSearch,
                    case .range(let lastKey, let keyStep, let limit) = keySpec.findKeys, limit == 0, keyStep > 0,
                    keySpec.flags.isDisjoint(with: isSet ? [.incomplete] : [.incomplete, .variableFlags])
                else {
                    plan = []
                    break
                }
                var range = SimpleKeyRange(begin: begin, lastKey: lastKey, step: keyStep, flags: keySpec.flags)
                range.setGetFlags = isSet
                plan.append(range)
            }
            if !plan.isEmpty { simpleKeys[spec.ordinal] = plan }
        }
        self.simpleKeys = simpleKeys
        self.channelUse = channelUse
    }

    /// The command or subcommand a rule names (`get`, `config|get`), case-insensitively;
    /// nil when unknown or when the name has more than two parts.
    func lookup(_ name: String) -> CommandSpec? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = parts.first,
            let command = table.specs[Bytes(first.lowercased())]
        else { return nil }
        guard parts.count == 2 else { return command }
        guard !command.subcommands.isEmpty else { return nil }
        return command.subcommands[parts[1].lowercased()]
    }

    /// The full name of the command with `ordinal`.
    func name(ofOrdinal ordinal: Int) -> String? {
        ordinal < names.count ? names[ordinal] : nil
    }

    /// Whether `spec` is SORT or SORT_RO.
    @inline(__always)
    func isSort(_ spec: CommandSpec) -> Bool { spec.ordinal < sorts.count && sorts[spec.ordinal] }

    /// Whether `spec` is a subcommand.
    static func isSubcommand(_ spec: CommandSpec) -> Bool { spec.name.contains("|") }

    /// The keys of an invocation of `spec` with the way each is used, as Redis's key
    /// specs find them (a command Redis lacks uses its key positions, read and written).
    func keyReferences(_ spec: CommandSpec, _ args: [Bytes]) -> [KeyReference] {
        if spec.ordinal < metadata.count, let found = metadata[spec.ordinal] {
            return found.keyReferences(in: args)
        }
        guard spec.firstKey > 0, spec.firstKey < args.count else { return [] }
        let last = spec.lastKey < 0 ? args.count + spec.lastKey : spec.lastKey
        let step = max(spec.keyStep, 1)
        guard last >= spec.firstKey else { return [] }
        let flags: KeySpecFlags = spec.flags.contains(.write) ? [.readWrite, .access, .update] : [.readOnly, .access]
        return stride(from: spec.firstKey, through: min(last, args.count - 1), by: step).map {
            KeyReference(position: $0, flags: flags)
        }
    }

    /// Whether `spec` can have key arguments at all.
    @inline(__always)
    func hasKeys(_ spec: CommandSpec) -> Bool {
        spec.ordinal < keyed.count && keyed[spec.ordinal]
    }
}
