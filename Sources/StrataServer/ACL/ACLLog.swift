//! `ACL LOG`: the recent denials and failed authentications, newest first. As in Redis
//! 7.0, an event equal to one of the last ten entries (same reason, context, object and
//! user, within 60 s) bumps that entry's count and moves it to the head instead of adding
//! a new one, and the log keeps at most `acllog-max-len` entries.

import StrataEngine

/// One `ACL LOG` entry.
struct ACLLogEntry {
    enum Reason: String {
        case command, key, channel, auth
    }

    enum Context: String {
        case toplevel, multi, lua
    }

    var count = 1
    let reason: Reason
    let context: Context
    let object: Bytes
    let username: String
    /// When it last happened, Unix ms.
    var time: Int64
    /// The client's `CLIENT LIST` line when it last happened.
    var clientInfo: String

    /// The entry as `ACL LOG` replies it (a map in RESP3).
    func reply(now: Int64) -> Reply {
        let age = Double(now - time) / 1000
        return .map([
            (.bulk(Bytes("count")), .integer(count)),
            (.bulk(Bytes("reason")), .bulk(Bytes(reason.rawValue))),
            (.bulk(Bytes("context")), .bulk(Bytes(context.rawValue))),
            (.bulk(Bytes("object")), .bulk(object)),
            (.bulk(Bytes("username")), .bulk(Bytes(username))),
            (.bulk(Bytes("age-seconds")), .double(age)),
            (.bulk(Bytes("client-info")), .bulk(Bytes(clientInfo))),
        ])
    }
}

/// The ACL log.
struct ACLLog {
    /// Newest first.
    private(set) var entries: [ACLLogEntry] = []
    /// Events within this many ms of a matching entry are grouped into it.
    static let groupingWindow: Int64 = 60_000

    /// Records an event, trimming the log to `maxLength` entries.
    mutating func add(_ entry: ACLLogEntry, maxLength: Int) {
        for index in entries.indices.prefix(10) {
            let current = entries[index]
            if current.reason == entry.reason && current.context == entry.context && current.object == entry.object
                && current.username == entry.username && entry.time - current.time <= ACLLog.groupingWindow
            {
                var updated = entries.remove(at: index)
                updated.count += 1
                updated.time = entry.time
                updated.clientInfo = entry.clientInfo
                entries.insert(updated, at: 0)
                return
            }
        }
        entries.insert(entry, at: 0)
        if entries.count > maxLength { entries.removeLast(entries.count - max(maxLength, 0)) }
    }

    /// Empties the log.
    mutating func reset() { entries.removeAll() }

    /// Trims to `maxLength` after the limit was lowered.
    mutating func trim(to maxLength: Int) {
        if entries.count > maxLength { entries.removeLast(entries.count - max(maxLength, 0)) }
    }
}
