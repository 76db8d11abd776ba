//! Table entries for Lua scripting (`EVAL`, `SCRIPT`) and functions (`FUNCTION`, `FCALL`),
//! with Redis 7.0's arities and flags. The server executes them (the Lua interpreter lives
//! outside the engine); the engine only describes them.

/// Specs of the scripting commands.
public enum ScriptingCommandSpecs {
    private static func command(
        _ id: ServerCommand, arity: Int, flags: CommandFlags, summary: String, synopsis: String, since: String = "2.6.0"
    ) -> CommandSpec {
        CommandSpec(
            id.rawValue, arity: arity, flags: flags, group: "scripting", since: since, summary: summary,
            synopsis: synopsis,
            categories: ["slow", "scripting"], handler: .server(id))
    }

    private static func sub(
        _ id: ServerCommand, arity: Int, flags: CommandFlags, summary: String, synopsis: String = "",
        since: String = "7.0.0"
    ) -> CommandSpec {
        let categories = flags.contains(.write) ? ["write", "slow", "scripting"] : ["slow", "scripting"]
        return CommandSpec(
            id.rawValue, arity: arity, flags: flags, group: "scripting", since: since, summary: summary,
            synopsis: synopsis,
            categories: categories, handler: .server(id))
    }

    /// The table entries.
    public static let specs: [CommandSpec] = [
        command(
            .eval, arity: -3, flags: [.noscript, .stale, .showsMonitorFirst, .mayReplicate],
            summary: "Executes a server-side Lua script.",
            synopsis: "script numkeys [key [key ...]] [arg [arg ...]]"),
        command(
            .evalsha, arity: -3, flags: [.noscript, .stale, .showsMonitorFirst, .mayReplicate],
            summary: "Executes a server-side Lua script by SHA1 digest.",
            synopsis: "sha1 numkeys [key [key ...]] [arg [arg ...]]"),
        command(
            .evalReadOnly, arity: -3, flags: [.readonly, .noscript, .stale, .showsMonitorFirst],
            summary: "Executes a read-only server-side Lua script.",
            synopsis: "script numkeys [key [key ...]] [arg [arg ...]]", since: "7.0.0"),
        command(
            .evalshaReadOnly, arity: -3, flags: [.readonly, .noscript, .stale, .showsMonitorFirst],
            summary: "Executes a read-only server-side Lua script by SHA1 digest.",
            synopsis: "sha1 numkeys [key [key ...]] [arg [arg ...]]", since: "7.0.0"),
        command(
            .fcall, arity: -3, flags: [.noscript, .stale, .showsMonitorFirst, .mayReplicate],
            summary: "Invokes a function.",
            synopsis: "function numkeys [key [key ...]] [arg [arg ...]]", since: "7.0.0"),
        command(
            .fcallReadOnly, arity: -3, flags: [.readonly, .noscript, .stale, .showsMonitorFirst],
            summary: "Invokes a read-only function.",
            synopsis: "function numkeys [key [key ...]] [arg [arg ...]]", since: "7.0.0"),
        CommandSpec(
            "script", arity: -2, flags: [], group: "scripting", since: "2.6.0",
            summary: "A container for Lua scripts management commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .scriptLoad, arity: 3, flags: [.noscript, .stale],
                    summary: "Loads a server-side Lua script to the script cache.", synopsis: "script", since: "2.6.0"),
                sub(
                    .scriptExists, arity: -3, flags: [.noscript],
                    summary: "Determines whether server-side Lua scripts exist in the script cache.",
                    synopsis: "sha1 [sha1 ...]", since: "2.6.0"),
                sub(
                    .scriptFlush, arity: -2, flags: [.noscript],
                    summary: "Removes all server-side Lua scripts from the script cache.", synopsis: "[ASYNC|SYNC]",
                    since: "2.6.0"),
                sub(
                    .scriptKill, arity: 2, flags: [.noscript, .allowBusy],
                    summary: "Terminates a server-side Lua script during execution.", since: "2.6.0"),
                sub(
                    .scriptHelp, arity: 2, flags: [.loading, .stale],
                    summary: "Returns helpful text about the different subcommands.",
                    since: "5.0.0"),
            ]),
        CommandSpec(
            "function", arity: -2, flags: [], group: "scripting", since: "7.0.0",
            summary: "A container for function commands.", categories: ["slow"], handler: .container,
            subcommands: [
                sub(
                    .functionLoad, arity: -3, flags: [.write, .denyOOM, .noscript],
                    summary: "Creates a library.", synopsis: "[REPLACE] function-code"),
                sub(
                    .functionDelete, arity: 3, flags: [.write, .noscript],
                    summary: "Deletes a library and its functions.", synopsis: "library-name"),
                sub(
                    .functionFlush, arity: -2, flags: [.write, .noscript],
                    summary: "Deletes all libraries and functions.", synopsis: "[ASYNC|SYNC]"),
                sub(
                    .functionDump, arity: 2, flags: [.noscript],
                    summary: "Dumps all libraries into a serialized binary payload."),
                sub(
                    .functionRestore, arity: -3, flags: [.write, .denyOOM, .noscript],
                    summary: "Restores all libraries from a payload.",
                    synopsis: "serialized-value [FLUSH|APPEND|REPLACE]"),
                sub(
                    .functionList, arity: -2, flags: [.noscript], summary: "Returns information about all libraries.",
                    synopsis: "[LIBRARYNAME library-name-pattern] [WITHCODE]"),
                sub(
                    .functionStats, arity: 2, flags: [.noscript, .allowBusy],
                    summary: "Returns information about a function during execution."),
                sub(
                    .functionKill, arity: 2, flags: [.noscript, .allowBusy],
                    summary: "Terminates a function during execution."),
                sub(
                    .functionHelp, arity: 2, flags: [.loading, .stale],
                    summary: "Returns helpful text about the different subcommands."),
            ]),
    ]
}
