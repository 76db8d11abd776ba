//! `DEBUG`, gated by `enable-debug-command` as in Redis 7. Strata's subcommand is
//! `DEBUG FAULT`, which arms file-system faults under the persistence layer for tests of
//! failing disks:
//!
//!     DEBUG FAULT SET <open|write|fsync|rename> <ENOSPC|EIO|EROFS|EACCES|EDQUOT|SHORT>
//!                     [PATH <substring>] [SKIP <n>] [TIMES <n>]
//!     DEBUG FAULT CLEAR
//!     DEBUG FAULT LIST
//!
//! and, as in Redis, `DEBUG SLEEP <seconds>`, which stops the whole server (the event loop
//! sleeps) for that long: tests use it to make several clients' input arrive in one pass;
//! `DEBUG DIGEST` and `DEBUG DIGEST-VALUE key...`, Redis's keyspace digests
//! (``DatasetDigest``); `DEBUG POPULATE count [prefix] [size]`, Redis's bulk loader.

import StrataEngine
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerCore {
    func debugCommand(_ args: [Bytes], session: ClientSession) -> Reply {
        switch config.enableDebugCommand {
        case .yes: break
        case .local where ProtectedMode.isLoopback(session.address): break
        default:
            return .error(
                "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
            )
        }
        let words = args.dropFirst().map { $0.string }
        switch words.first?.lowercased() {
        case "fault":
            return debugFault(Array(words.dropFirst()))
        case "digest" where words.count == 1:
            return .status(DatasetDigest.hex(DatasetDigest.dataset(engine.databases)))
        case "digest-value":
            // Past deadlines included, as Redis's DEBUG reads its tables without expiring.
            let database = engine.databases[session.db]
            return .array(
                args.dropFirst(2).map { key in
                    guard let entry = database.rawEntry(key) else { return .status(String(repeating: "0", count: 40)) }
                    let digest = DatasetDigest.value(entry.value, hasDeadline: database.deadline(key) != nil)
                    return .status(DatasetDigest.hex(digest))
                })
        case "sleep" where words.count == 2:
            ServerCore.sleep(seconds: words[1])
            return .ok
        case "reload":
            return debugReload(words.dropFirst())
        case "object" where words.count == 2:
            return debugObject(words[1], db: session.db)
        case "set-active-expire" where words.count == 2:
            // As Redis's atoi: anything not starting with a non-zero number turns it off.
            let text = words[1].drop { $0 == " " }
            let unsigned = text.first == "-" || text.first == "+" ? text.dropFirst() : text
            activeExpireEnabled = unsigned.prefix { $0.isASCII && $0.isNumber }.contains { $0 != "0" }
            return .ok
        case "quicklist-packed-threshold" where words.count == 2:
            return ServerCore.debugPackedThreshold(words[1])
        case "change-repl-id" where words.count == 1:
            return changeReplicationID()
        case "stringmatch-test" where words.count == 1:
            return stringMatchFuzz()
        case "populate" where (3...5).contains(args.count):
            return debugPopulate(args, db: session.db, now: clock.wallMilliseconds())
        case "protocol" where words.count == 2:
            return ServerCore.debugProtocol(words[1], resp3: session.resp == .resp3)
        case "help" where words.count == 1:
            return .array(ServerCore.debugHelpLines.map { .status($0) })
        default:
            return .error(
                "ERR unknown subcommand or wrong number of arguments for '\(words.first ?? "")'. Try DEBUG HELP.")
        }
    }

    /// Sleeps the calling thread as Redis's `DEBUG SLEEP` does: the text is read as a
    /// number leniently (anything unreadable, negative or NaN sleeps 0), capped at a day.
    static func sleep(seconds text: String) {
        let seconds = Double(trimmingSpaces(text)) ?? 0
        guard seconds > 0 else { return }  // NaN too
        var remaining = UInt64(min(seconds, 86_400) * 1_000_000)
        while remaining > 0 {
            let step = min(remaining, 1_000_000)
            usleep(UInt32(step))
            remaining -= step
        }
    }

    /// `text` without the spaces and tabs at its ends: Unicode's space separators (the
    /// `Zs` category) and the tab, which `trimmingCharacters(in: .whitespaces)` trimmed.
    private static func trimmingSpaces(_ text: String) -> String {
        let isSpace = { (scalar: Unicode.Scalar) in
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
            let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(scalars[first...last])
    }

    private func debugFault(_ words: [String]) -> Reply {
        switch words.first?.lowercased() {
        case "clear" where words.count == 1:
            persistence.fileSystem.faults.clear()
            logger.notice("DEBUG FAULT: faults cleared")
            return .ok
        case "list" where words.count == 1:
            return .array(persistence.fileSystem.faults.current.map { .bulk(Bytes($0.description)) })
        case "set" where words.count >= 3:
            guard let operation = FileOperation(rawValue: words[1].lowercased()), operation != .read,
                let code = FileFault.codes[words[2].uppercased()]
            else { return .error("ERR unknown file operation or error for DEBUG FAULT SET") }
            var fault = FileFault(operation: operation, code: code)
            var rest = words.dropFirst(3)
            while rest.count >= 2, let option = rest.first?.lowercased() {
                let value = rest.dropFirst().first ?? ""
                switch option {
                case "path": fault.pathContains = value
                case "skip":
                    guard let skip = Int(value), skip >= 0 else { return .error("ERR SKIP must not be negative") }
                    fault.skip = skip
                case "times":
                    guard let times = Int(value), times > 0 else { return .error("ERR TIMES must be positive") }
                    fault.remaining = times
                default: return .error("ERR syntax error")
                }
                rest = rest.dropFirst(2)
            }
            guard rest.isEmpty else { return .error("ERR syntax error") }
            persistence.fileSystem.faults.arm(fault)
            logger.notice("DEBUG FAULT: armed \(fault)")
            return .ok
        default:
            return .error("ERR syntax error")
        }
    }
}
