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

    /// Oldest first, possibly longer than the configured length until the next trim: a
    /// call appends (never inserts in front, which would cost the whole log per command
    /// with `slowlog-log-slower-than 0` and a long log).
    private var stored: [SlowLogEntry] = []
    /// How many of the newest stored entries are in the log.
    private var length = 0
    private var nextID = 0

    /// The entries, newest first.
    var entries: ReversedCollection<ArraySlice<SlowLogEntry>> { stored.suffix(length).reversed() }

    /// Logs the call when it ran for at least `threshold` µs (negative: logging is off),
    /// keeping at most `maxLength` entries. The client's `peer` and `clientName` are only
    /// evaluated for a call that is logged (this runs for every command).
    mutating func record(
        _ arguments: [Bytes], command: ServerCommand?, microseconds: Int, threshold: Int, maxLength: Int,
        now: Int64, peer: @autoclosure () -> String, clientName: @autoclosure () -> String
    ) {
        guard threshold >= 0, microseconds >= threshold else { return }
        let entry = SlowLogEntry(
            id: nextID, timestamp: now / 1000, microseconds: microseconds,
            arguments: Self.bounded(Self.redacted(arguments, command: command)), peer: peer(),
            clientName: clientName())
        nextID += 1
        stored.append(entry)
        length += 1
        trim(to: maxLength)
    }

    /// Keeps the newest `maxLength` entries; the dropped ones are freed once they are as
    /// many as the kept ones (amortized constant time per call).
    mutating func trim(to maxLength: Int) {
        length = min(length, max(0, maxLength))
        if stored.count - length > max(length, 64) { stored.removeFirst(stored.count - length) }
    }

    /// Empties the log (ids go on).
    mutating func reset() {
        stored.removeAll()
        length = 0
    }

    /// Secrets replaced: AUTH's arguments, ACL SETUSER's (name and rules), and the two
    /// following HELLO's AUTH.
    static func redacted(_ arguments: [Bytes], command: ServerCommand?) -> [Bytes] {
        let hidden = Bytes("(redacted)")
        var result = arguments
        switch command {
        case .auth:
            for index in result.indices.dropFirst() { result[index] = hidden }
        case .aclSetUser:
            for index in result.indices.dropFirst(2) { result[index] = hidden }
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
