//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the directive table.

import StrataEngine
import StrataPersistence

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    func configCommand(_ command: ServerCommand, args: [Bytes], session: ClientSession) -> Reply {
        switch command {
        case .configGet:
            return .map(configGet(args.dropFirst(2).map(\.string)))
        case .configSet:
            return configSet(args, session: session)
        case .configResetStat:
            let processed = 0
            engine.stats = EngineStats()
            engine.stats.commandsProcessed = processed
            stats = ServerStats()
            commandStats.reset()
            return .ok
        case .configRewrite:
            return configRewrite()
        default:
            return .array(
                [
                    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                    "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                    "RESETSTAT", "    Reset statistics reported by the INFO command.",
                    "REWRITE", "    Rewrite the configuration file.",
                    "HELP", "    Print this help.",
                ].map { .status($0) })
        }
    }

    /// `CONFIG GET pattern...`: a name without glob characters is looked up directly (hidden
    /// parameters too, answered under the name as given); a pattern matches every listed
    /// name and alias. Each parameter is answered once, whichever pattern found it first.
    func configGet(_ patterns: [String]) -> [(Reply, Reply)] {
        var pairs: [(Reply, Reply)] = []
        var seen = Set<String>()
        for pattern in patterns {
            if !pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
                let lower = pattern.lowercased()
                if let directive = ConfigDirective.named(lower), seen.insert(lower).inserted {
                    pairs.append((.text(pattern), .text(directive.get(config))))
                }
                continue
            }
            for (name, directive) in ServerCore.configNames where !directive.hidden && !seen.contains(name) {
                if GlobPattern.matches(Bytes(pattern.lowercased()), Bytes(name)) {
                    seen.insert(name)
                    pairs.append((.text(name), .text(directive.get(config))))
                }
            }
        }
        return pairs
    }

    /// Every name `CONFIG GET` patterns match: the parameters, then the aliases.
    static let configNames: [(String, ConfigDirective)] =
        ConfigDirective.table.map { ($0.name, $0) }
        + ConfigDirective.aliases.sorted { $0.key < $1.key }.compactMap { alias, canonical in
            ConfigDirective.named(canonical).map { (alias, $0) }
        }

    private func configSet(_ args: [Bytes], session: ClientSession) -> Reply {
        guard args.count >= 4 else { return Errors.arity("config|set") }
        guard args.count % 2 == 0 else { return Errors.syntax }
        let pairs = stride(from: 2, to: args.count, by: 2).map { (name: args[$0].string, value: args[$0 + 1].string) }
        let caller = ConfigSetTransaction.Caller(isLocal: ProtectedMode.isLoopback(session.address))
        let updated: ServerConfig
        switch ConfigSetTransaction.stage(pairs, on: config, caller: caller) {
        case .success(let staged): updated = staged
        case .failure(let failure): return .error("ERR " + failure.message)
        }
        if let failure = ConfigSetTransaction.apply(configApplySteps(from: config, to: updated)) {
            return .error("ERR " + failure.message)
        }
        let previous = config
        config = updated
        if updated.requirePass != previous.requirePass { accessControl.setDefaultPassword(updated.requirePass) }
        configurationChanged()
        return .ok
    }

    /// The side effects of going from `old` to `new`, in the order Redis meets them.
    private func configApplySteps(from old: ServerConfig, to new: ServerConfig) -> [ConfigSetTransaction.Step] {
        var steps: [ConfigSetTransaction.Step] = []
        if new.dir != old.dir {
            let previous = FileManager.default.currentDirectoryPath
            steps.append(
                .init(
                    name: "dir",
                    apply: { chdir(new.dir) == 0 ? nil : String(cString: strerror(errno)) },
                    undo: { _ = chdir(previous) }))
        }
        if new.maxClients > old.maxClients {
            steps.append(
                .init(
                    name: "maxclients",
                    apply: { [logger] in
                        // As Redis: raise the open-files limit for the new number, or refuse it.
                        let allowed = OpenFilesLimit.adjust(maxClients: new.maxClients, logger: logger)
                        return allowed < new.maxClients
                            ? "The operating system is not able to handle the specified number of clients, try with \(allowed)"
                            : nil
                    }, undo: {}))
        }
        if new.appendOnly != old.appendOnly && !persistence.loading {
            steps.append(
                .init(
                    name: "appendonly",
                    apply: { [self] in
                        if !new.appendOnly {
                            stopAppendOnly()
                            return nil
                        }
                        return startAppendOnly() ? nil : "Unable to turn on AOF. Check server logs."
                    },
                    undo: { [self] in
                        if new.appendOnly { stopAppendOnly() } else { _ = startAppendOnly() }
                    }))
        }
        steps += tlsApplySteps(from: old, to: new)
        return steps
    }

    private func configRewrite() -> Reply {
        guard !config.configFile.isEmpty else { return .error("ERR The server is running without a config file") }
        let existing = (try? String(contentsOfFile: config.configFile, encoding: .utf8)) ?? ""
        let userLines =
            aclFilePath == nil
            ? accessControl.sortedNames.compactMap {
                accessControl.user(named: $0)?.listLine(catalog: accessControl.catalog)
            }.map {
                String(decoding: $0, as: UTF8.self)
            }
            : nil
        let text = ConfigRewrite.rewrite(existing, config: config, userLines: userLines)
        do {
            try DurableFile.write(Array(text.utf8), to: config.configFile, fileSystem: persistence.fileSystem)
        } catch {
            logger.warning("CONFIG REWRITE failed: \(error)")
            return .error("ERR Rewriting config file: \(error)")
        }
        return .ok
    }
}
