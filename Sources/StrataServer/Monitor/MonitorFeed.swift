//! MONITOR: the clients that watch every command the server executes, and the line each
//! one receives, as Redis 7.0 writes it: `+<seconds>.<micros> [<db> <peer>] "arg" ...`,
//! arguments quoted with Redis's escaping (`\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`,
//! `\xHH` for other bytes outside printable ASCII), the peer `ip:port` (`lua` for a
//! script's calls), secrets redacted as in the slow log. Which commands are shown (those
//! that ran, not admin ones; scripts before their own calls) is decided by the caller from
//! the table's flags; this part only keeps the watchers and formats.

import StrataEngine

/// The clients in MONITOR mode, and the formatting of what they receive.
struct MonitorFeed {
    /// Monitoring client ids, in the order they started.
    private(set) var watchers: [UInt64] = []
    /// Lines not yet delivered: they go out after the reply of the command being executed
    /// (a monitoring client sees its own command after its reply, as in Redis).
    private(set) var backlog: [String] = []

    var isEmpty: Bool { watchers.isEmpty }

    /// Adds `id`. Returns false when it already monitors (Redis then answers nothing).
    mutating func add(_ id: UInt64) -> Bool {
        guard !watchers.contains(id) else { return false }
        watchers.append(id)
        return true
    }

    /// Queues `line` for every watcher.
    mutating func queue(_ line: String) {
        backlog.append(line)
    }

    /// Takes the queued lines.
    mutating func takeBacklog() -> [String] {
        defer { backlog.removeAll(keepingCapacity: true) }
        return backlog
    }

    /// Removes `id` (disconnect, RESET).
    mutating func remove(_ id: UInt64) {
        watchers.removeAll { $0 == id }
    }

    /// The line for `arguments` run on `db` by `peer` at `microseconds` (Unix µs).
    static func line(_ arguments: [Bytes], command: ServerCommand?, db: Int, peer: String, microseconds: Int64)
        -> String
    {
        let seconds = microseconds / 1_000_000
        let fraction = String(microseconds % 1_000_000)
        var text = "\(seconds).\(String(repeating: "0", count: 6 - fraction.count))\(fraction) [\(db) \(peer)]"
        for argument in SlowLog.redacted(arguments, command: command) {
            text += " "
            text += quoted(argument)
        }
        return text
    }

    /// `bytes` in double quotes with Redis's escaping (`sdscatrepr`).
    static func quoted(_ bytes: Bytes) -> String {
        var text = "\""
        let hex: [Character] = Array("0123456789abcdef")
        for byte in bytes.array {
            switch byte {
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\n"): text += "\\n"
            case UInt8(ascii: "\r"): text += "\\r"
            case UInt8(ascii: "\t"): text += "\\t"
            case 7: text += "\\a"
            case 8: text += "\\b"
            case 0x20...0x7e: text.append(Character(UnicodeScalar(byte)))
            default:
                text += "\\x"
                text.append(hex[Int(byte >> 4)])
                text.append(hex[Int(byte & 0xf)])
            }
        }
        return text + "\""
    }
}

extension ServerCore {
    /// MONITOR: the client receives every command from now on. Refused inside MULTI (as
    /// Redis refuses it to clients that expect one reply per command); a second MONITOR
    /// gets no reply.
    func monitorCommand(session: ClientSession) -> CommandOutcome {
        if executingTransaction { return .reply(.error("ERR MONITOR isn't allowed for DENY BLOCKING client")) }
        return monitors.add(session.id) ? .reply(.ok) : .none
    }

    /// Shows a command that ran (or a script about to run) to the monitoring clients:
    /// admin commands are never shown; a script's calls come from `lua`.
    func feedMonitors(_ spec: CommandSpec, args: [Bytes], session: ClientSession) {
        guard !spec.flags.contains(.admin), !persistence.loading else { return }
        let peer = engine.runningScript ? "lua" : session.address
        let line = MonitorFeed.line(
            args, command: spec.serverCommand, db: session.db, peer: peer, microseconds: clock.wallMicroseconds())
        monitors.queue(line)
        ensurePassEndTask()
    }

    /// Delivers the queued lines to the watchers (after a command's reply was queued, and
    /// at the end of each pass).
    func deliverMonitorLines() {
        guard monitorLinesPending else { return }
        let lines = monitors.takeBacklog()
        for id in monitors.watchers {
            guard let client = clients[id] else { continue }
            for line in lines { client.deliver(.status(line)) }
        }
    }
}
