//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the directive table.

import Foundation
import StrataEngine
import StrataPersistence

extension ServerCore {
    func configCommand(_ command: ServerCommand, args: [Bytes]) -> Reply {
        switch command {
        case .configGet:
            var pairs: [(Reply, Reply)] = []
            var seen = Set<String>()
            let names =
                ConfigDirective.all.map { ($0.name, $0) }
                + ConfigDirective.aliases.sorted { $0.key < $1.key }.compactMap { alias, canonical in
                    ConfigDirective.named(canonical).map { (alias, $0) }
                }
            for pattern in args.dropFirst(2) {
                for (name, directive) in names where !seen.contains(name) {
                    if GlobPattern.matches(pattern.lowercased, Bytes(name)) {
                        seen.insert(name)
                        pairs.append((.text(name), .text(directive.get(config))))
                    }
                }
            }
            return .map(pairs)
        case .configSet:
            return configSet(args)
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

    private func configSet(_ args: [Bytes]) -> Reply {
        guard args.count % 2 == 0 else { return Errors.arity("config|set") }
        var updated = config
        var seen = Set<String>()
        for index in stride(from: 2, to: args.count, by: 2) {
            let name = args[index].string
            guard let directive = ConfigDirective.named(name) else {
                return .error("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
            }
            guard seen.insert(directive.name).inserted else {
                return .error("ERR CONFIG SET failed (possibly related to argument '\(name)') - duplicate parameter")
            }
            guard directive.mutable else {
                return .error(
                    "ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config")
            }
            do {
                let value = args[index + 1].string
                let splits = ["bind", "client-output-buffer-limit"].contains(directive.name)
                let words = splits ? value.split(separator: " ").map(String.init) : [value]
                try directive.set(&updated, words)
            } catch {
                return .error("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(error)")
            }
        }
        if updated.maxClients > config.maxClients {
            // As Redis: raise the open-files limit for the new number, or refuse it.
            let allowed = OpenFilesLimit.adjust(maxClients: updated.maxClients, logger: logger)
            if allowed < updated.maxClients {
                return .error(
                    "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with \(allowed)"
                )
            }
        }
        if updated.appendOnly != config.appendOnly && !persistence.loading {
            if updated.appendOnly {
                guard startAppendOnly() else {
                    return .error(
                        "ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs."
                    )
                }
            } else {
                stopAppendOnly()
            }
        }
        config = updated
        configurationChanged()
        return .ok
    }

    private func configRewrite() -> Reply {
        guard !config.configFile.isEmpty else { return .error("ERR The server is running without a config file") }
        let defaults = ServerConfig()
        var lines: [String] = []
        var written = Set<String>()
        if let existing = try? String(contentsOfFile: config.configFile, encoding: .utf8) {
            for line in existing.split(separator: "\n", omittingEmptySubsequences: false) {
                let trimmed = line.trimmingWhitespace()
                let name = trimmed.split(separator: " ").first.map { $0.lowercased() } ?? ""
                if !trimmed.hasPrefix("#"), let directive = ConfigDirective.named(name) {
                    if written.insert(directive.name).inserted {
                        lines.append("\(directive.name) \(ConfigLoader.quote(directive.get(config)))")
                    }
                } else {
                    lines.append(String(line))
                }
            }
        }
        for directive in ConfigDirective.all where !written.contains(directive.name) {
            if directive.get(config) != directive.get(defaults) {
                lines.append("\(directive.name) \(ConfigLoader.quote(directive.get(config)))")
            }
        }
        var text = lines.joined(separator: "\n")
        if !text.hasSuffix("\n") { text += "\n" }
        do {
            try DurableFile.write(Array(text.utf8), to: config.configFile, fileSystem: persistence.fileSystem)
        } catch {
            logger.warning("CONFIG REWRITE failed: \(error)")
            return .error("ERR Rewriting config file: \(error)")
        }
        return .ok
    }
}
