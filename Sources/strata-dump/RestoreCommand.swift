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

    /// Keys per round trip.
    static let window = 5000

    static func toServer(_ source: KeySource, address: String, options: Options, filter: KeyFilter) -> Never {
        let start = Date()
        do {
            let connection = try RESPConnection(address)
            try connection.authenticate(user: options.values["--user"], password: options.values["--password"])
            if case .error(let message) = try connection.call(["PING"]) {
                throw ConnectionError(description: "\(address): \(message)")
            }
            var pipeline = RestorePipeline(connection: connection, replace: options.has("--replace"))
            let outcome = try source.forEachKey { db, key, value, deadline in
                guard filter.accepts(db: db, key: key, value: value, deadline: deadline) else { return }
                pipeline.add(db: db, key: key, value: value, deadline: deadline)
                if pipeline.waiting >= window { try pipeline.roundTrip() }
            }
            try pipeline.finish()
            let seconds = max(Date().timeIntervalSince(start), 0.001)
            var line = "restored \(pipeline.restored) keys into \(address) in \(String(format: "%.1f", seconds)) s"
            line += " (\(Int(Double(pipeline.restored) / seconds)) keys/s)"
            if pipeline.present > 0 {
                line += "; \(pipeline.present) keys already there left alone (use --replace to overwrite)"
            }
            if outcome.expired > 0 { line += "; \(outcome.expired) expired keys left out" }
            if let stopped = outcome.stoppedAt { line += "; stopped before the log of \(iso(stopped))" }
            if pipeline.errorCount > 0 {
                line += "; \(pipeline.errorCount) commands failed, first: " + pipeline.errors.joined(separator: " | ")
            }
            print(line)
            exit(pipeline.errorCount > 0 ? 1 : 0)
        } catch {
            fail("\(error)")
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
