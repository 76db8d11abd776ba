//! The pipelining behind `restore --to`: keys go in windows, one round trip each. A string
//! is one command either way: `SET key value [PXAT ms]`, with `NX` unless `--replace` (a nil
//! reply means the key was there). Other types without `--replace`: a window's EXISTS
//! checks travel with the rebuilding commands of the window before (whose survivors are
//! known by then); with `--replace`, each is deleted and rebuilt.

import RESP
import StrataEngine
import StrataPersistence

struct RestorePipeline {
    struct Key {
        var db: Int
        var key: Bytes
        var commands: [[Bytes]]
    }

    let connection: RESPConnection
    let replace: Bool
    /// Keys added since the last round trip.
    private var incoming: [Key] = []
    /// Keys checked absent, whose commands go with the next round trip.
    private var survivors: [Key] = []
    private var selectedDb = -1
    private var out: [UInt8] = []
    private(set) var restored = 0
    private(set) var present = 0
    private(set) var errorCount = 0
    /// The first few error replies.
    private(set) var errors: [String] = []

    init(connection: RESPConnection, replace: Bool) {
        self.connection = connection
        self.replace = replace
        out.reserveCapacity(4 << 20)
    }

    /// Keys waiting for the next round trip.
    var waiting: Int { incoming.count + strings.count }

    /// Strings added since the last round trip: one SET each.
    private var strings: [Key] = []

    mutating func add(db: Int, key: Bytes, value: Value, deadline: Int64?) {
        if let bytes = value.stringBytes {
            var set = [Bytes("SET"), key, bytes]
            if !replace { set.append(Bytes("NX")) }
            if let deadline { set += [Bytes("PXAT"), Bytes(Int(deadline))] }
            strings.append(Key(db: db, key: key, commands: [set]))
            return
        }
        incoming.append(
            Key(db: db, key: key, commands: AOFBaseWriter.commandArguments(rebuilding: key, value, deadline: deadline)))
    }

    /// What one send expects back, in order.
    private struct Outstanding {
        var commandReplies = 0
        var commandKeys = 0
        var stringSelects: [Int] = []
        var checks: [(select: Int, key: Key)] = []
    }

    /// The send whose replies have not been read yet: they are read after the next window
    /// is encoded, so that decoding the dump and the server's work overlap.
    private var outstanding: Outstanding?

    /// Sends the survivors' commands, the strings and the checks of the incoming keys (or,
    /// with `replace`, the incoming keys' commands) after reading the replies of the
    /// previous send.
    mutating func roundTrip() throws {
        out.removeAll(keepingCapacity: true)
        var next = Outstanding()
        let sending = replace ? incoming : survivors
        for key in sending {
            next.commandReplies += select(key.db)
            if replace {
                encode([Bytes("DEL"), key.key])
                next.commandReplies += 1
            }
            for command in key.commands { encode(command) }
            next.commandReplies += key.commands.count
        }
        next.commandKeys = sending.count
        survivors.removeAll(keepingCapacity: true)
        for key in strings {
            next.stringSelects.append(select(key.db))
            encode(key.commands[0])
        }
        strings.removeAll(keepingCapacity: true)
        if !replace {
            for key in incoming {
                let selects = select(key.db)
                encode([Bytes("EXISTS"), key.key])
                next.checks.append((selects, key))
            }
        }
        incoming.removeAll(keepingCapacity: true)
        try readOutstanding()
        guard !out.isEmpty else { return }
        try connection.send(out)
        outstanding = next
    }

    /// Reads the replies of the previous send.
    private mutating func readOutstanding() throws {
        guard let sent = outstanding else { return }
        outstanding = nil
        for _ in 0..<sent.commandReplies { try note(connection.readReply()) }
        restored += sent.commandKeys
        for selects in sent.stringSelects {
            for _ in 0..<selects { try note(connection.readReply()) }
            let reply = try connection.readReply()
            switch reply {
            case .null: present += 1
            case .simpleString: restored += 1
            default: note(reply)
            }
        }
        for (selects, key) in sent.checks {
            for _ in 0..<selects { try note(connection.readReply()) }
            switch try connection.readReply() {
            case .integer(let n) where n > 0: present += 1
            case .integer: survivors.append(key)
            case let other:
                note(other)
                throw ConnectionError(description: "\(connection.address): EXISTS failed: \(errors.last ?? "")")
            }
        }
    }

    /// Sends what is left and reads every reply.
    mutating func finish() throws {
        while outstanding != nil || !incoming.isEmpty || !strings.isEmpty || !survivors.isEmpty {
            try roundTrip()
        }
    }

    private mutating func note(_ reply: RESPReply) {
        if case .error(let message) = reply {
            errorCount += 1
            if errors.count < 5 { errors.append(message) }
        }
    }

    /// Encodes a SELECT when `db` is not the connection's database; returns the replies it adds.
    private mutating func select(_ db: Int) -> Int {
        guard db != selectedDb else { return 0 }
        selectedDb = db
        encode([Bytes("SELECT"), Bytes(db)])
        return 1
    }

    private mutating func encode(_ args: [Bytes]) {
        out.appendRESPCommand(args)
    }
}
