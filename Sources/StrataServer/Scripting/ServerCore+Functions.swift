//! FUNCTION LOAD / DELETE / FLUSH / DUMP / RESTORE / LIST / STATS / KILL and FCALL,
//! FCALL_RO. Library changes are logged to the AOF as the commands that made them, and
//! libraries are saved in snapshots as RDB `FUNCTION2` records (see `snapshotOptions`).

import StrataEngine
import StrataPersistence
import StrataScripting

extension ServerCore {
    func fcallCommand(
        _ command: ServerCommand, args: [Bytes], session: ClientSession, connection: ConnectionHandler, now: Int64
    )
        -> CommandOutcome
    {
        let libraries = scripting.libraries
        guard let (_, function) = libraries.function(named: args[1].string) else {
            return .reply(.error("ERR Function not found"))
        }
        let split: (keys: ArraySlice<Bytes>, args: ArraySlice<Bytes>)
        switch ServerCore.scriptArguments(args) {
        case .success(let value): split = value
        case .failure(let error):
            return .reply(error == Errors.notInteger ? .error("ERR Bad number of keys provided") : error)
        }
        return runScript(
            name: function.name, isFunction: true, flags: function.flags.union(.declared),
            readOnlyCommand: command == .fcallReadOnly, session: session, connection: connection, now: now,
            declaredKeys: split.keys
        ) { libraries.interpreter.runFunction(function.ref, keys: split.keys, args: split.args, name: function.name) }
    }

    func functionCommand(_ command: ServerCommand, args: [Bytes], now: Int64, log: Bool = true) -> Reply {
        let libraries = scripting.libraries
        let reply: Reply
        switch command {
        case .functionLoad:
            let replace = args.count == 4 && args[2].equalsIgnoringCase("replace")
            guard args.count == 3 || replace else {
                return args.count == 4
                    ? .error("ERR Unknown option given: \(args[2].string)") : Errors.arity("function|load")
            }
            do {
                reply = .text(try libraries.load(args[args.count - 1], replace: replace))
            } catch {
                return .error(error.message)
            }
        case .functionDelete:
            guard libraries.delete(args[2].string) else { return .error("ERR Library not found") }
            reply = .ok
        case .functionFlush:
            guard
                args.count == 2
                    || (args.count == 3 && (args[2].equalsIgnoringCase("async") || args[2].equalsIgnoringCase("sync")))
            else { return .error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option") }
            do {
                try libraries.flush()
            } catch {
                return .error(error.message)
            }
            reply = .ok
        case .functionRestore:
            reply = restoreFunctions(args)
            guard reply == .ok else { return reply }
        case .functionDump:
            return .bulk(FunctionPayload.encode(libraries.sortedLibraries.map(\.code)))
        case .functionList:
            return listFunctions(args)
        case .functionStats:
            return functionStats()
        case .functionKill:
            return killScript(function: true)
        default:
            return .array(
                [
                    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "LOAD [REPLACE] <FUNCTION CODE>", "    Create a new library with the given library name and code.",
                    "DELETE <LIBRARY NAME>", "    Delete the given library.",
                    "LIST [LIBRARYNAME PATTERN] [WITHCODE]", "    Return general information on all the libraries:",
                    "KILL", "    Kill the current running function.", "STATS",
                    "    Return information about the current function running.",
                    "FLUSH [ASYNC|SYNC]", "    Delete all the libraries.", "DUMP",
                    "    Return a serialized payload representing the current libraries.",
                    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                    "    Restore the libraries represented by the given payload.", "HELP", "    Print this help.",
                ].map { .status($0) })
        }
        engine.countChanges(1)
        if log { engine.recordEffect(args, db: 0) }
        return reply
    }

    /// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`: all or nothing.
    private func restoreFunctions(_ args: [Bytes]) -> Reply {
        var policy = "append"
        if args.count == 4 {
            policy = args[3].lowercased.string
            guard ["flush", "append", "replace"].contains(policy) else {
                return .error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
            }
        } else if args.count > 4 {
            return Errors.syntax
        }
        let codes: [Bytes]
        do {
            codes = try FunctionPayload.decode(args[2])
        } catch {
            return .error(error.message)
        }
        let libraries = scripting.libraries
        // Check first, so that a failure leaves the libraries as they were.
        var names: [String] = []
        for code in codes {
            do {
                names.append(try FunctionLibraries.libraryName(of: code.array).name)
            } catch {
                return .error(error.message)
            }
        }
        if policy == "append", let clash = names.first(where: { libraries.libraries[$0] != nil }) {
            return .error("ERR Library \(clash) already exists")
        }
        let saved = libraries.sortedLibraries
        if policy == "flush" {
            do { try libraries.flush() } catch { return .error(error.message) }
        }
        for code in codes {
            do {
                try libraries.load(code, replace: true)
            } catch {
                try? libraries.flush()
                for library in saved { _ = try? libraries.load(library.code, replace: true) }
                return .error(error.message)
            }
        }
        return .ok
    }

    private func listFunctions(_ args: [Bytes]) -> Reply {
        var pattern: Bytes?
        var withCode = false
        var index = 2
        while index < args.count {
            if args[index].equalsIgnoringCase("withcode") {
                withCode = true
                index += 1
            } else if args[index].equalsIgnoringCase("libraryname") && index + 1 < args.count {
                pattern = args[index + 1]
                index += 2
            } else {
                return .error("ERR Unknown argument \(args[index].string)")
            }
        }
        var list: [Reply] = []
        for library in scripting.libraries.sortedLibraries {
            if let pattern, !GlobPattern.matches(pattern, Bytes(library.name)) { continue }
            var fields: [(Reply, Reply)] = [
                (.text("library_name"), .text(library.name)), (.text("engine"), .text("LUA")),
                (
                    .text("functions"),
                    .array(
                        library.functions.sorted { $0.name < $1.name }.map { function in
                            .map([
                                (.text("name"), .text(function.name)),
                                (.text("description"), function.description.map { .text($0) } ?? .null),
                                (.text("flags"), .set(function.flags.flagNames.map { .text($0) })),
                            ])
                        })
                ),
            ]
            if withCode { fields.append((.text("library_code"), .bulk(library.code))) }
            list.append(.map(fields))
        }
        return .array(list)
    }

    /// `FUNCTION STATS`: the running function, and the counts of the engine.
    func functionStats() -> Reply {
        var running = Reply.null
        if let run = scripting.run, run.isFunction {
            running = .map([
                (.text("name"), .text(run.name)), (.text("command"), .array([])),
                (.text("duration_ms"), .integer(Int((clock.monotonicNanoseconds() - run.startedAt) / 1_000_000))),
            ])
        }
        let libraries = scripting.libraries
        return .map([
            (.text("running_script"), running),
            (
                .text("engines"),
                .map([
                    (
                        .text("LUA"),
                        .map([
                            (.text("libraries_count"), .integer(libraries.libraries.count)),
                            (.text("functions_count"), .integer(libraries.functionCount)),
                        ])
                    )
                ])
            ),
        ])
    }

    /// Applies function commands read at start-up (snapshot libraries, the AOF's FUNCTION
    /// commands) without logging them again.
    func restoreFunctions(_ commands: [[Bytes]]) {
        for args in commands {
            guard case .success(let spec) = engine.commands.resolve(args), case .server(let command) = spec.handler,
                command.changesFunctionLibraries
            else { continue }
            if case .error(let message) = functionCommand(
                command, args: args, now: clock.wallMilliseconds(), log: false)
            {
                logger.warning("Could not restore a function library: \(message)")
            }
        }
    }
}
