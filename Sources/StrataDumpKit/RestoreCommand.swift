//! `strata-dump restore SOURCE --to HOST:PORT`: loads a dump into a running server (Strata
//! or Redis) over RESP, pipelined in windows, each key rebuilt by the commands an AOF
//! rewrite would write (SET, RPUSH/SADD/HSET/ZADD in batches, PEXPIREAT). Without
//! `--replace` a key the server already has is left alone and counted (as RESTORE's
//! BUSYKEY); with it the key is deleted first.
//! `strata-dump restore SOURCE --into DIR`: installs the dump as a server's start-up data
//! (a snapshot under DIR, written under a temp name and renamed), refusing a non-empty DIR
//! unless `--force`. `--until TIME` replays an AOF directory only up to that moment.

import ArgumentParser
import Foundation
import StrataEngine
import StrataPersistence

struct RestoreCommand: DumpSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Loads a dump into a running server (--to) or installs it as a server's start-up data (--into).",
        usage: """
            strata-dump restore SOURCE --to HOST:PORT [--password P] [--user U] [--tls [--cacert FILE] [--cert FILE --key FILE] [--insecure]] [--db N] [--match GLOB] [--replace] [--until TIME]
            strata-dump restore SOURCE --into DIR [--dbfilename NAME] [--force] [--db N] [--match GLOB] [--until TIME]
            """)

    @Argument(
        help: ArgumentHelp("A snapshot, an RDB file, or an AOF directory, manifest or file.", valueName: "SOURCE"))
    var source: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("The server to load the keys into.", valueName: "HOST:PORT"))
    var to: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("The data directory to install the dump in.", valueName: "DIR"))
    var into: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --to: the password for AUTH.", valueName: "P"))
    var password: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --to and --password: the user for AUTH.", valueName: "U"))
    var user: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only keys of database N.", valueName: "N"))
    var db: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only keys matching the glob pattern.", valueName: "GLOB"))
    var match: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Replay an AOF directory only up to TIME: Unix seconds or ISO 8601 (2026-11-28T10:00:00Z).",
            valueName: "TIME"),
        transform: { try PointInTime.parse($0) })
    var until: PointInTime?

    @Flag(help: "With --to: replace keys the server has (else they are left alone).")
    var replace = false

    @Flag(help: "With --into: install into a directory that is not empty.")
    var force = false

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --into: the file name (default dump.sdb; .rdb for plain RDB).", valueName: "NAME"))
    var dbfilename = "dump.sdb"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --into: the snapshot's codec (default lz4).", valueName: "CODEC"))
    var codec: CompressionCodec?

    @OptionGroup var tlsOptions: TLSClientOptions

    /// Accepted as it always was, though the result is one line of text either way.
    @Flag(help: .hidden)
    var json = false

    init() {}

    func validate() throws {
        guard let source else { throw ValidationError("restore takes one SOURCE") }
        guard (to == nil) != (into == nil) else {
            throw ValidationError("restore takes either --to HOST:PORT or --into DIR")
        }
        try tlsOptions.validate()
        if tlsOptions.tls && to == nil { throw ValidationError("--tls goes with --to HOST:PORT") }
        try checkRange(db, "--db", in: KeyFilter.databases)
        if until != nil && !AppendOnlyInput.isAppendOnly(source) { throw ValidationError(KeySource.untilNeedsAnAOF) }
        if into != nil {
            if dbfilename.contains("/") { throw ValidationError("--dbfilename takes a file name, not a path") }
            if dbfilename.hasSuffix(".rdb"), let codec, codec != .none {
                throw ValidationError("a .rdb file is uncompressed")
            }
        }
    }

    func execute(output: DumpOutput) throws {
        guard let path = source else { throw DumpFailure.usage("restore takes one SOURCE") }
        var source = KeySource(path: path, output: output)
        source.until = until?.seconds
        var filter = KeyFilter()
        filter.db = db
        filter.pattern = match.map { Bytes($0) }
        filter.expired = false
        if let to {
            try toServer(source, address: to, filter: filter, output: output)
        } else if let into {
            try intoDirectory(source, directory: into, filter: filter, output: output)
        }
    }

    // MARK: Into a running server

    /// Keys per round trip.
    static let window = 5000

    func toServer(_ source: KeySource, address: String, filter: KeyFilter, output: DumpOutput) throws {
        let start = Date()
        let connection = try RESPConnection(address, tls: tlsOptions.makeContext())
        try connection.authenticate(user: user, password: password)
        if case .error(let message) = try connection.call(["PING"]) {
            throw ConnectionError(description: "\(address): \(message)")
        }
        var pipeline = RestorePipeline(connection: connection, replace: replace)
        var libraries = 0
        let outcome = try source.forEachKey(function: { code in
            // Loaded first, replacing a library of the same name, as Redis loads an RDB's.
            if case .error(let message) = try connection.call(["FUNCTION", "LOAD", "REPLACE", code.string]) {
                throw ConnectionError(description: "\(address): FUNCTION LOAD: \(message)")
            }
            libraries += 1
        }) { db, key, value, deadline, _ in
            guard filter.accepts(db: db, key: key, value: value, deadline: deadline) else { return }
            pipeline.add(db: db, key: key, value: value, deadline: deadline)
            if pipeline.waiting >= Self.window { try pipeline.roundTrip() }
        }
        try pipeline.finish()
        let seconds = max(Date().timeIntervalSince(start), 0.001)
        var line = "restored \(pipeline.restored) keys into \(address) in \(String(format: "%.1f", seconds)) s"
        line += " (\(Int(Double(pipeline.restored) / seconds)) keys/s)"
        if libraries > 0 { line += "; \(libraries) function libraries" }
        if pipeline.present > 0 {
            line += "; \(pipeline.present) keys already there left alone (use --replace to overwrite)"
        }
        if outcome.expired > 0 { line += "; \(outcome.expired) expired keys left out" }
        if let stopped = outcome.stoppedAt { line += "; stopped before the log of \(Self.iso(stopped))" }
        if pipeline.errorCount > 0 {
            line += "; \(pipeline.errorCount) commands failed, first: " + pipeline.errors.joined(separator: " | ")
        }
        output.print(line)
        if pipeline.errorCount > 0 { throw DumpFailure.damaged }
    }

    // MARK: Into a data directory

    func intoDirectory(_ source: KeySource, directory: String, filter: KeyFilter, output: DumpOutput) throws {
        let name = dbfilename
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DumpFailure.failed("\(directory) is not a directory") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if !entries.isEmpty && !force {
                throw DumpFailure.failed(
                    "\(directory) is not empty (\(entries.sorted().prefix(5).joined(separator: ", "))); "
                        + "give --force to replace \(name) in it")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw DumpFailure.failed("cannot create \(directory): \(error)")
            }
        }
        var snapshotOptions = SnapshotOptions()
        let plain = name.hasSuffix(".rdb")
        snapshotOptions.codec = plain ? .none : codec ?? .lz4
        let target = directory + "/" + name
        let writer = try SnapshotStreamWriter(
            path: target, tempPath: directory + "/temp-restore-\(getpid()).sdb", options: snapshotOptions,
            now: source.now)
        do {
            let outcome = try source.forEachKey(function: { writer.functions.append($0) }) {
                db, key, value, deadline, metadata in
                if filter.accepts(db: db, key: key, value: value, deadline: deadline) {
                    try writer.append(db: db, key: key, value: value, deadline: deadline, metadata: metadata)
                }
            }
            let summary = try writer.finish()
            var line = "installed \(target): \(summary.keys) keys, \(humanBytes(summary.fileBytes))"
            if let stopped = outcome.stoppedAt { line += "; stopped before the log of \(Self.iso(stopped))" }
            if let last = outcome.lastTimestamp, source.until != nil { line += "; last replayed: \(Self.iso(last))" }
            if FileManager.default.fileExists(atPath: directory + "/appendonlydir") {
                line +=
                    "\nnote: \(directory)/appendonlydir exists; a server with appendonly yes starts from it instead"
            }
            output.print(line)
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// `seconds` (Unix) as an ISO 8601 time.
    static func iso(_ seconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
