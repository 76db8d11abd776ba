//! `strata-dump restore SOURCE --to HOST:PORT`: loads a dump into a running server (Strata
//! or Redis) over RESP, pipelined in windows, each key rebuilt by the commands an AOF
//! rewrite would write (SET, RPUSH/SADD/HSET/ZADD in batches, PEXPIREAT). Without
//! `--replace` a key the server already has is left alone and counted (as RESTORE's
//! BUSYKEY); with it the key is deleted first.
//! `strata-dump restore SOURCE --into DIR`: installs the dump as a server's start-up data
//! (a snapshot under DIR, written under a temp name and renamed), refusing a non-empty DIR
//! unless `--force`. `--until TIME` replays an AOF directory only up to that moment.

import Foundation
import StrataEngine
import StrataPersistence

enum RestoreCommand {
    static func run(_ arguments: [String]) -> Never {
        let options = Options(
            arguments, flags: ["--replace", "--force", "--json"],
            values: ["--to", "--into", "--password", "--user", "--db", "--match", "--until", "--dbfilename", "--codec"])
        guard options.positional.count == 1 else { usageError("restore takes one SOURCE") }
        var source = KeySource(path: options.positional[0])
        source.until = options.values["--until"].map(KeySource.parseTime)
        var filter = KeyFilter(options)
        filter.expired = false
        switch (options.values["--to"], options.values["--into"]) {
        case (let address?, nil):
            toServer(source, address: address, options: options, filter: filter)
        case (nil, let directory?):
            intoDirectory(source, directory: directory, options: options, filter: filter)
        default:
            usageError("restore takes either --to HOST:PORT or --into DIR")
        }
    }

    // MARK: Into a running server

    /// Commands sent before their replies are read.
    static let window = 2000

    static func toServer(_ source: KeySource, address: String, options: Options, filter: KeyFilter) -> Never {
        let replace = options.has("--replace")
        var restored = 0
        var present = 0
        var errors: [String] = []
        var errorCount = 0
        let start = Date()
        do {
            let connection = try RESPConnection(address)
            try connection.authenticate(user: options.values["--user"], password: options.values["--password"])
            if case .error(let message) = try connection.call(["PING"]) {
                throw ConnectionError(description: "\(address): \(message)")
            }
            var pending = PendingKeys()
            func drain() throws {
                let result = try pending.send(over: connection, replace: replace)
                restored += result.restored
                present += result.present
                errorCount += result.errors.count
                errors += result.errors.prefix(max(0, 5 - errors.count))
            }
            let outcome = try source.forEachKey { db, key, value, deadline in
                guard filter.accepts(db: db, key: key, value: value, deadline: deadline) else { return }
                pending.add(db: db, key: key, value: value, deadline: deadline)
                if pending.commands >= window { try drain() }
            }
            try drain()
            let seconds = max(Date().timeIntervalSince(start), 0.001)
            var line = "restored \(restored) keys into \(address) in \(String(format: "%.1f", seconds)) s"
            line += " (\(Int(Double(restored) / seconds)) keys/s)"
            if present > 0 { line += "; \(present) keys already there left alone (use --replace to overwrite)" }
            if outcome.expired > 0 { line += "; \(outcome.expired) expired keys left out" }
            if let stopped = outcome.stoppedAt { line += "; stopped before the log of \(iso(stopped))" }
            if errorCount > 0 {
                line += "; \(errorCount) commands failed, first: " + errors.joined(separator: " | ")
            }
            print(line)
            exit(errorCount > 0 ? 1 : 0)
        } catch {
            fail("\(error)")
        }
    }

    /// Keys waiting to be sent, with their rebuilding commands.
    struct PendingKeys {
        struct Key {
            var db: Int
            var key: Bytes
            var commands: [[Bytes]]
        }
        var keys: [Key] = []
        var commands = 0
        var selectedDb = -1

        mutating func add(db: Int, key: Bytes, value: Value, deadline: Int64?) {
            let rebuild = AOFBaseWriter.commandArguments(rebuilding: key, value, deadline: deadline)
            keys.append(Key(db: db, key: key, commands: rebuild))
            commands += rebuild.count + 1
        }

        /// Sends the pending keys: without `replace`, one round trip of EXISTS first to leave
        /// present keys alone; then every rebuilding command, pipelined.
        mutating func send(over connection: RESPConnection, replace: Bool) throws -> (
            restored: Int, present: Int, errors: [String]
        ) {
            defer {
                keys.removeAll(keepingCapacity: true)
                commands = 0
            }
            guard !keys.isEmpty else { return (0, 0, []) }
            var errors: [String] = []
            var toSend = keys
            var present = 0
            if !replace {
                var out: [UInt8] = []
                var expected = 0
                var db = selectedDb
                for key in keys {
                    if key.db != db {
                        append(["SELECT", String(key.db)].map { Bytes($0) }, to: &out)
                        db = key.db
                        expected += 1
                    }
                    append([Bytes("EXISTS"), key.key], to: &out)
                    expected += 1
                }
                try connection.send(out)
                selectedDb = db
                var exists: [Bool] = []
                for _ in 0..<expected {
                    switch try connection.readReply() {
                    case .integer(let n): exists.append(n > 0)
                    case .error(let message): errors.append(message)
                    default: break
                    }
                }
                guard exists.count == keys.count else {
                    throw ConnectionError(description: "\(connection.address): EXISTS failed: \(errors.first ?? "")")
                }
                toSend = zip(keys, exists).filter { !$0.1 }.map { $0.0 }
                present = keys.count - toSend.count
            }
            var out: [UInt8] = []
            var expected = 0
            for key in toSend {
                if key.db != selectedDb {
                    append(["SELECT", String(key.db)].map { Bytes($0) }, to: &out)
                    selectedDb = key.db
                    expected += 1
                }
                if replace {
                    append([Bytes("DEL"), key.key], to: &out)
                    expected += 1
                }
                for command in key.commands { append(command, to: &out) }
                expected += key.commands.count
            }
            try connection.send(out)
            for _ in 0..<expected {
                if case .error(let message) = try connection.readReply() { errors.append(message) }
            }
            return (toSend.count, present, errors)
        }

        func append(_ args: [Bytes], to out: inout [UInt8]) {
            out += Array("*\(args.count)\r\n".utf8)
            for arg in args {
                out += Array("$\(arg.count)\r\n".utf8)
                arg.withUnsafeBytes { out += $0 }
                out += [13, 10]
            }
        }
    }

    // MARK: Into a data directory

    static func intoDirectory(_ source: KeySource, directory: String, options: Options, filter: KeyFilter) -> Never {
        let name = options.values["--dbfilename"] ?? "dump.sdb"
        guard !name.contains("/") else { usageError("--dbfilename takes a file name, not a path") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { fail("\(directory) is not a directory") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if !entries.isEmpty && !options.has("--force") {
                fail(
                    "\(directory) is not empty (\(entries.sorted().prefix(5).joined(separator: ", "))); "
                        + "give --force to replace \(name) in it")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                fail("cannot create \(directory): \(error)")
            }
        }
        var snapshotOptions = SnapshotOptions()
        let plain = name.hasSuffix(".rdb")
        snapshotOptions.codec =
            plain ? .none : ConvertCommand.codec(options, default: .lz4, source: source.path) ?? .lz4
        if plain, let codec = options.values["--codec"], codec != "none" { usageError("a .rdb file is uncompressed") }
        let target = directory + "/" + name
        do {
            let writer = try SnapshotStreamWriter(
                path: target, tempPath: directory + "/temp-restore-\(getpid()).sdb", options: snapshotOptions,
                now: source.now)
            do {
                let outcome = try source.forEachKey { db, key, value, deadline in
                    if filter.accepts(db: db, key: key, value: value, deadline: deadline) {
                        try writer.append(db: db, key: key, value: value, deadline: deadline)
                    }
                }
                let summary = try writer.finish()
                var line = "installed \(target): \(summary.keys) keys, \(humanBytes(summary.fileBytes))"
                if let stopped = outcome.stoppedAt { line += "; stopped before the log of \(iso(stopped))" }
                if let last = outcome.lastTimestamp, source.until != nil { line += "; last replayed: \(iso(last))" }
                if FileManager.default.fileExists(atPath: directory + "/appendonlydir") {
                    line +=
                        "\nnote: \(directory)/appendonlydir exists; a server with appendonly yes starts from it instead"
                }
                print(line)
                exit(0)
            } catch {
                writer.abandon()
                throw error
            }
        } catch {
            fail("\(error)")
        }
    }

    static func iso(_ seconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
