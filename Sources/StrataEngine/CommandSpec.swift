import Synchronization

/// Flags of a command, as `COMMAND INFO` reports them.
public struct CommandFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyOOM = CommandFlags(rawValue: 1 << 2)
    public static let admin = CommandFlags(rawValue: 1 << 3)
    public static let pubsub = CommandFlags(rawValue: 1 << 4)
    public static let noscript = CommandFlags(rawValue: 1 << 5)
    public static let blocking = CommandFlags(rawValue: 1 << 6)
    public static let loading = CommandFlags(rawValue: 1 << 7)
    public static let stale = CommandFlags(rawValue: 1 << 8)
    public static let fast = CommandFlags(rawValue: 1 << 9)
    public static let noAuth = CommandFlags(rawValue: 1 << 10)
    public static let allowBusy = CommandFlags(rawValue: 1 << 11)
    public static let noMulti = CommandFlags(rawValue: 1 << 12)

    // Strata's dispatch flags, which `COMMAND` does not print: the decisions Redis makes by
    // comparing command procedures, made from the table instead.

    /// Allowed to a RESP2 client in subscribed mode (the (P)SUBSCRIBE family, PING, QUIT,
    /// RESET).
    public static let subscribedContext = CommandFlags(rawValue: 1 << 16)
    /// Executed at once inside MULTI rather than queued (MULTI, EXEC, DISCARD, WATCH, QUIT,
    /// RESET).
    public static let transactionControl = CommandFlags(rawValue: 1 << 17)
    /// Refused like a write while the disk refuses writes (PING: health checks then see it).
    public static let refusedOnDiskError = CommandFlags(rawValue: 1 << 18)
    /// A blocked client that waits for entries after its own position (XREAD, XREADGROUP):
    /// one such waiter finding nothing does not mean the next one will not.
    public static let waitsForItsOwnEntries = CommandFlags(rawValue: 1 << 19)
    /// Not logged in the slow log (EXEC: the commands it runs are).
    public static let skipsSlowLog = CommandFlags(rawValue: 1 << 20)
    /// Refused while a dataset loads in the background (`COMMAND` prints `no_async_loading`).
    public static let noAsyncLoading = CommandFlags(rawValue: 1 << 22)
    /// Shown to MONITOR before it runs rather than after (scripts: before their own calls).
    public static let showsMonitorFirst = CommandFlags(rawValue: 1 << 23)
    /// May propagate something though it is not a write (Redis's `may_replicate`: EVAL,
    /// EVALSHA, FCALL, PUBLISH, PFCOUNT): held back by CLIENT PAUSE WRITE.
    public static let mayReplicate = CommandFlags(rawValue: 1 << 21)
    /// Served on a slot being imported as if the client had said ASKING (RESTORE-ASKING,
    /// which MIGRATE sends in cluster mode).
    public static let asking = CommandFlags(rawValue: 1 << 24)

    /// The names `COMMAND` prints, in Redis's order.
    public var names: [String] {
        let all: [(CommandFlags, String)] = [
            (.write, "write"), (.readonly, "readonly"), (.denyOOM, "denyoom"), (.admin, "admin"),
            (.pubsub, "pubsub"), (.noscript, "noscript"), (.blocking, "blocking"), (.loading, "loading"),
            (.stale, "stale"), (.noMulti, "no_multi"), (.noAuth, "no_auth"), (.fast, "fast"),
            (.allowBusy, "allow_busy"), (.asking, "asking"),
        ]
        return all.filter { contains($0.0) }.map { $0.1 }
    }
}

/// Finds the keys of an invocation (the whole argument list, name first); nil when they
/// cannot be told from the arguments.
public typealias KeyFinder = @Sendable ([Bytes]) -> [Bytes]?

/// How a command is executed.
/// Handlers are pure static functions of their context, so sharing them is safe.
public enum CommandHandler: @unchecked Sendable {
    /// Executed by the engine on the keyspace.
    case engine((inout CommandContext) -> Reply)
    /// Executed by the server (connection state, configuration, introspection), which
    /// switches on the command's ``ServerCommand``.
    case server(ServerCommand)
    /// A container whose subcommand (the second argument) selects the spec.
    case container
}

/// One command's description: drives dispatch, arity checks, `COMMAND`, and (later) AOF
/// logging and ACL decisions.
public final class CommandSpec: Sendable {
    /// Lowercase name; for subcommands `container|sub`.
    public let name: String
    /// Redis arity: positive is exact, negative is a minimum, both counting the name.
    public let arity: Int
    /// Flags.
    public let flags: CommandFlags
    /// Position of the first key argument, 0 when none.
    public let firstKey: Int
    /// Position of the last key argument; negative counts from the end.
    public let lastKey: Int
    /// Distance between keys.
    public let keyStep: Int
    /// The Redis command group (`string`, `generic`, `connection`, `server`, ...).
    public let group: String
    /// One-line summary for `COMMAND DOCS`.
    public let summary: String
    /// The Redis version that introduced the command.
    public let since: String
    /// Argument synopsis for `COMMAND DOCS` and hints, e.g. `key value [NX|XX]`.
    public let synopsis: String
    /// ACL categories without the `@`; `COMMAND` prints Redis's published ones instead when
    /// Redis has the command (``printedCategories``).
    public let categories: [String]
    /// How it executes.
    public let handler: CommandHandler
    /// Subcommands of a container, keyed by lowercase subcommand name.
    public let subcommands: [String: CommandSpec]
    /// Finds the keys of an invocation when positions cannot (see ``keys(in:)``).
    public let keyFinder: KeyFinder?
    /// A number no other spec of this process has, counted from 0: per-command state
    /// (statistics) lives in arrays indexed by it instead of dictionaries keyed by spec.
    public let ordinal: Int

    /// The next ordinal.
    private static let ordinals = Atomic<Int>(0)
    private static func nextOrdinal() -> Int {
        ordinals.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// A command description.
    public init(
        _ name: String, arity: Int, flags: CommandFlags, keys: (Int, Int, Int) = (0, 0, 0),
        group: String, since: String = "1.0.0", summary: String, synopsis: String = "",
        categories: [String] = [], handler: CommandHandler, subcommands: [CommandSpec] = []
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.group = group
        self.since = since
        self.summary = summary
        self.synopsis = synopsis
        self.categories = categories
        self.handler = handler
        var subs: [String: CommandSpec] = [:]
        for sub in subcommands { subs[String(sub.name.split(separator: "|").last ?? "")] = sub }
        self.subcommands = subs
        self.keyFinder = nil
        self.ordinal = Self.nextOrdinal()
    }

    private init(_ other: CommandSpec, keyFinder: @escaping KeyFinder) {
        (name, arity, flags, firstKey, lastKey, keyStep) =
            (other.name, other.arity, other.flags, other.firstKey, other.lastKey, other.keyStep)
        (group, summary, since, synopsis, categories, handler, subcommands) =
            (
                other.group, other.summary, other.since, other.synopsis, other.categories, other.handler,
                other.subcommands
            )
        self.keyFinder = keyFinder
        self.ordinal = Self.nextOrdinal()
    }

    /// The server command this spec runs, if the server executes it.
    public var serverCommand: ServerCommand? {
        if case .server(let command) = handler { return command }
        return nil
    }

    /// This spec with `finder` telling its keys: for commands whose keys follow a
    /// `numkeys` argument or a keyword (`STREAMS`, `STORE`).
    public func findingKeys(_ finder: @escaping KeyFinder) -> CommandSpec {
        CommandSpec(self, keyFinder: finder)
    }

    /// Every key an invocation reads or writes: from the key finder when there is one,
    /// else from the key positions; nil when they cannot be told from the arguments (SORT
    /// with BY or GET patterns).
    public func keys(in args: [Bytes]) -> [Bytes]? {
        if let keyFinder { return keyFinder(args) }
        return keyPositions(argumentCount: args.count).map { args[$0] }
    }

    /// Whether `count` arguments (including the name) satisfy the arity.
    @inlinable
    public func accepts(argumentCount count: Int) -> Bool {
        arity > 0 ? count == arity : count >= -arity
    }

    /// The key positions of a concrete invocation.
    public func keyPositions(argumentCount count: Int) -> [Int] {
        guard firstKey > 0, firstKey < count else { return [] }
        let last = lastKey < 0 ? count + lastKey : lastKey
        guard last >= firstKey else { return [] }
        return Array(stride(from: firstKey, through: Swift.min(last, count - 1), by: Swift.max(keyStep, 1)))
    }
}

extension CommandSpec {
    /// A data-type command: its ACL categories follow from its flags (`read`/`write`,
    /// `fast`/`slow`) and its group.
    static func dataType(
        _ name: String, _ arity: Int, _ flags: CommandFlags, group: String, keys: (Int, Int, Int), since: String,
        _ summary: String, _ synopsis: String, _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        let access = flags.contains(.write) ? "write" : "read"
        let speed = flags.contains(.fast) ? "fast" : "slow"
        return CommandSpec(
            name, arity: arity, flags: flags, keys: keys, group: group, since: since, summary: summary,
            synopsis: synopsis, categories: [access, group, speed], handler: .engine(handler))
    }
}
