//! The slow log: the last `slowlog-max-len` calls that ran for at least
//! `slowlog-log-slower-than` microseconds, as `SLOWLOG GET` shows them.
//!
//! As in Redis 7.0 every executed call is a candidate (commands inside MULTI and those a
//! script calls included; EXEC itself is not, its commands are), arguments are kept as the
//! client sent them but bounded — at most 32, the last one replaced by
//! `... (N more arguments)`, each cut to 128 bytes followed by `... (N more bytes)` — so a
//! huge call costs the log a few kilobytes, and secrets (AUTH's arguments, HELLO's AUTH
//! pair) are stored as `(redacted)`.

import StrataEngine

/// One logged call.
struct SlowLogEntry {
    let id: Int
    /// Unix seconds when it was logged.
    let timestamp: Int64
    let microseconds: Int
    let arguments: [Bytes]
    /// `ip:port` of the client (`?:0` for a script's calls).
    let peer: String
    let clientName: String
}

/// The bounded log.
struct SlowLog {
    /// Arguments kept per entry.
    static let maxArguments = 32
    /// Bytes kept per argument.
    static let maxArgumentBytes = 128

    /// Newest first.
    private(set) var entries: [SlowLogEntry] = []
    private var nextID = 0

    /// Logs the call when it ran for at least `threshold` µs (negative: logging is off),
    /// keeping at most `maxLength` entries.
    mutating func record(
        _ arguments: [Bytes], command: ServerCommand?, microseconds: Int, threshold: Int, maxLength: Int,
        now: Int64, peer: String, clientName: String
    ) {
        guard threshold >= 0, microseconds >= threshold else { return }
        let entry = SlowLogEntry(
            id: nextID, timestamp: now / 1000, microseconds: microseconds,
            arguments: Self.bounded(Self.redacted(arguments, command: command)), peer: peer, clientName: clientName)
        nextID += 1
        entries.insert(entry, at: 0)
        trim(to: maxLength)
    }

    /// Drops the oldest entries beyond `maxLength`.
    mutating func trim(to maxLength: Int) {
        if entries.count > max(0, maxLength) { entries.removeLast(entries.count - max(0, maxLength)) }
    }

    /// Empties the log (ids go on).
    mutating func reset() {
        entries.removeAll()
    }

    /// Secrets replaced: AUTH's arguments, and the two following HELLO's AUTH.
    static func redacted(_ arguments: [Bytes], command: ServerCommand?) -> [Bytes] {
        let hidden = Bytes("(redacted)")
        var result = arguments
        switch command {
        case .auth:
            for index in result.indices.dropFirst() { result[index] = hidden }
        case .hello:
            var index = 2
            while index < result.count {
                if result[index].equalsIgnoringCase("auth") {
                    for secret in (index + 1)..<min(index + 3, result.count) { result[secret] = hidden }
                    index += 3
                } else {
                    index += 1
                }
            }
        default:
            break
        }
        return result
    }

    /// At most ``maxArguments`` arguments of at most ``maxArgumentBytes`` bytes each.
    static func bounded(_ arguments: [Bytes]) -> [Bytes] {
        var kept = arguments.count > maxArguments ? Array(arguments.prefix(maxArguments - 1)) : arguments
        for index in kept.indices where kept[index].count > maxArgumentBytes {
            let more = kept[index].count - maxArgumentBytes
            var cut = kept[index].slice(0..<maxArgumentBytes)
            cut.append(Bytes("... (\(more) more bytes)"))
            kept[index] = cut
        }
        if arguments.count > maxArguments {
            kept.append(Bytes("... (\(arguments.count - maxArguments + 1) more arguments)"))
        }
        return kept
    }
}
