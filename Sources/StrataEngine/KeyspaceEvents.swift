//! Keyspace notifications (Redis's `notify.c`): commands record what they did to which key
//! — `lpush` on `queue`, `expired` on `session:42` — and the server publishes each event on
//! `__keyspace@<db>__:<key>` and/or `__keyevent@<db>__:<event>` after the command. Which
//! classes are recorded follows the `notify-keyspace-events` flags; with none set (the
//! default) recording costs one branch.

/// The classes of `notify-keyspace-events`, plus the K and E channel switches.
public struct KeyspaceEventTypes: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let keyspace = KeyspaceEventTypes(rawValue: 1 << 0)  // K
    public static let keyevent = KeyspaceEventTypes(rawValue: 1 << 1)  // E
    public static let generic = KeyspaceEventTypes(rawValue: 1 << 2)  // g
    public static let string = KeyspaceEventTypes(rawValue: 1 << 3)  // $
    public static let list = KeyspaceEventTypes(rawValue: 1 << 4)  // l
    public static let set = KeyspaceEventTypes(rawValue: 1 << 5)  // s
    public static let hash = KeyspaceEventTypes(rawValue: 1 << 6)  // h
    public static let zset = KeyspaceEventTypes(rawValue: 1 << 7)  // z
    public static let expired = KeyspaceEventTypes(rawValue: 1 << 8)  // x
    public static let evicted = KeyspaceEventTypes(rawValue: 1 << 9)  // e
    public static let stream = KeyspaceEventTypes(rawValue: 1 << 10)  // t
    public static let keyMiss = KeyspaceEventTypes(rawValue: 1 << 11)  // m
    public static let module = KeyspaceEventTypes(rawValue: 1 << 12)  // d
    public static let newKey = KeyspaceEventTypes(rawValue: 1 << 13)  // n
    /// `A`: every class but key misses and new keys.
    public static let all: KeyspaceEventTypes = [
        .generic, .string, .list, .set, .hash, .zset, .expired, .evicted, .stream, .module,
    ]

    private static let letters: [(Character, KeyspaceEventTypes)] = [
        ("g", .generic), ("$", .string), ("l", .list), ("s", .set), ("h", .hash), ("z", .zset),
        ("x", .expired), ("e", .evicted), ("t", .stream), ("d", .module), ("n", .newKey),
    ]

    /// Parses a flags string (`KEA`, `Ex`, ...); nil on an unknown character.
    public init?(flags: String) {
        var types: KeyspaceEventTypes = []
        for character in flags {
            switch character {
            case "A": types.formUnion(.all)
            case "K": types.insert(.keyspace)
            case "E": types.insert(.keyevent)
            case "m": types.insert(.keyMiss)
            default:
                guard let type = Self.letters.first(where: { $0.0 == character })?.1 else { return nil }
                types.insert(type)
            }
        }
        self = types
    }

    /// The canonical flags string, as `CONFIG GET notify-keyspace-events` prints it.
    public var flags: String {
        var text = ""
        if isSuperset(of: .all) {
            text = "A"
        } else {
            for (letter, type) in Self.letters where contains(type) { text.append(letter) }
        }
        if contains(.keyspace) { text += "K" }
        if contains(.keyevent) { text += "E" }
        if contains(.keyMiss) { text += "m" }
        return text
    }

    /// Whether any event can be published at all (K or E, and some class).
    var publishes: Bool {
        !isDisjoint(with: [.keyspace, .keyevent]) && !subtracting([.keyspace, .keyevent]).isEmpty
    }
}

/// One recorded event, waiting for the server to publish it.
public struct KeyspaceEvent: Sendable, Equatable {
    /// The event's class.
    public var type: KeyspaceEventTypes
    /// The event name, e.g. `set`, `lpush`, `expired`.
    public var name: String
    /// The key.
    public var key: Bytes
    /// The database.
    public var db: Int

    /// An event.
    @inlinable
    public init(type: KeyspaceEventTypes, name: String, key: Bytes, db: Int) {
        self.type = type
        self.name = name
        self.key = key
        self.db = db
    }
}

extension Engine {
    /// Records `name` on `key` in `db` when `type` events are enabled.
    @inlinable
    public func notify(_ type: KeyspaceEventTypes, _ name: String, key: Bytes, db: Int) {
        guard keyspaceEvents.rawValue != 0, keyspaceEvents.contains(type) else { return }
        record.events.append(KeyspaceEvent(type: type, name: name, key: key, db: db))
    }

    /// Counts a key removed because its deadline passed, and records `expired`.
    @inlinable
    public func noteExpired(_ key: Bytes, db: Int) {
        stats.expiredKeys += 1
        noteRemoved(key, db: db, .expired)
        notify(.expired, "expired", key: key, db: db)
        recordEffect([Bytes("DEL"), key], db: db)
    }
}

extension CommandContext {
    /// Records `name` on `key` in the client's database (when `type` events are enabled).
    @inlinable
    public func notify(_ type: KeyspaceEventTypes, _ name: String, _ key: Bytes) {
        withEngine { $0.notify(type, name, key: key, db: db) }
    }
}
