//! Start-up from an AOF directory: the manifest names a base (a snapshot, plain RDB, or
//! RESP commands, possibly an RDB preamble followed by commands as old single-file AOFs
//! have) and incremental files, replayed in order into an engine whose expiry is
//! suspended (the log holds every expiry as the `DEL` that happened). A truncated last
//! file is cut back to its last whole command when allowed; any other damage stops the
//! load with the file, the offset and how to repair it.

import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What loading an AOF directory did.
public struct AOFLoadReport: Sendable {
    /// One file replayed.
    public struct FileReport: Sendable {
        /// Its name.
        public var name: String
        /// Commands replayed from it.
        public var commands: Int
        /// Keys its snapshot part held.
        public var snapshotKeys: Int
        /// Its size.
        public var bytes: Int
    }

    /// The files, in replay order.
    public var files: [FileReport] = []
    /// When the last file ended mid-command: the file, the offset it was cut back to, and
    /// why.
    public var truncatedTail: FileDamageError?
    /// Bytes of all replayed files (after any truncation).
    public var totalBytes = 0
    /// The last `#TS:` annotation replayed (Unix seconds).
    public var lastTimestamp: Int64?
    /// Where a point-in-time replay stopped: the first `#TS:` annotation after `until`.
    public var stoppedAtTimestamp: Int64?
    /// The function library commands to apply, in order: `FUNCTION LOAD REPLACE <code>`
    /// for each library of the base snapshot, then the `FUNCTION` commands of the log.
    /// They touch no key, so the server applies them after the keys are loaded.
    public var functionCommands: [[Bytes]] = []
}

/// Loads AOF directories.
public enum AOFLoader {
    /// Whether `path` starts like a snapshot file in any of its layouts.
    static func startsWithSnapshot(_ path: String, fileSystem: any FileSystem = POSIXFileSystem.shared) -> Bool {
        guard let head = try? fileSystem.openForReading(path).read(upTo: 5) else { return false }
        return SnapshotLayout(head: head) != nil
    }

    /// Replays the files `manifest` lists from `directory` on `fileSystem` into `engine` (its
    /// databases are replaced).
    ///
    /// - Parameters:
    ///   - allowTruncatedTail: `aof-load-truncated`: cut a last file that ends mid-command
    ///     back to its last whole command instead of failing.
    ///   - until: Unix seconds: replay only what was logged up to then (the commands before
    ///     the first later `#TS:` annotation); the files are not changed.
    ///   - partition: load only this partition's keys and replay only the commands on them
    ///     (and the keyless ones), for replays in bounded memory (`strata-dump`).
    /// - Throws: ``FileDamageError`` naming the damaged file and offset.
    public static func load(
        directory: String, fileSystem: any FileSystem = POSIXFileSystem.shared, manifest: AOFManifest,
        into engine: Engine, now: Int64, allowTruncatedTail: Bool, until: Int64? = nil, partition: AOFPartition? = nil
    ) throws -> AOFLoadReport {
        var report = AOFLoadReport()
        let (savedEvents, savedRecording) = (engine.keyspaceEvents, engine.recordsEffects)
        engine.keyspaceEvents = []
        engine.recordsEffects = false
        engine.suspendsExpiry = true
        defer {
            engine.keyspaceEvents = savedEvents
            engine.recordsEffects = savedRecording
            engine.suspendsExpiry = false
        }
        engine.databases = Array(repeating: Database(), count: engine.databases.count)
        let files = manifest.replayOrder
        for (position, file) in files.enumerated() {
            let path = directory + "/" + file.name
            let isLast = position == files.count - 1
            var fileReport = AOFLoadReport.FileReport(name: file.name, commands: 0, snapshotKeys: 0, bytes: 0)
            var commandsStart = 0
            if startsWithSnapshot(path, fileSystem: fileSystem) {
                guard file.type == .base else {
                    throw FileDamageError(path: path, offset: 0, reason: "a snapshot can only be the base file")
                }
                let snapshot: SnapshotReport
                if let partition {
                    var databases = engine.databases
                    let clock = Entry.clock(now: now)
                    snapshot = try SnapshotReader.records(
                        path: path, fileSystem: fileSystem, settings: engine.settings
                    ) { record in
                        guard record.db < databases.count, partition.contains(record.key) else { return }
                        databases[record.db].set(
                            record.key, record.value, deadline: record.deadline, accessClock: clock)
                        databases[record.db].setItemMetadata(record.metadata, for: record.key)
                    }
                    engine.databases = databases
                } else {
                    let loaded = try SnapshotReader.load(
                        path: path, fileSystem: fileSystem, databaseCount: engine.databases.count,
                        settings: engine.settings, now: now,
                        keepExpired: true)
                    engine.databases = loaded.databases
                    snapshot = loaded.report
                }
                fileReport.snapshotKeys = snapshot.keys
                for code in snapshot.functions {
                    report.functionCommands.append([Bytes("FUNCTION"), Bytes("LOAD"), Bytes("REPLACE"), code])
                }
                commandsStart = snapshot.layout == .plain ? snapshot.rdbBytes : -1
            } else if !fileSystem.fileExists(path) {
                throw FileDamageError(path: path, offset: 0, reason: "listed in the manifest but missing")
            }
            if commandsStart >= 0 {
                let result = try replay(
                    path: path, fileSystem: fileSystem, from: commandsStart, into: engine, now: now, until: until,
                    partition: partition,
                    functionCommands: &report.functionCommands)
                fileReport.commands = result.commands
                fileReport.bytes = result.fileBytes
                report.lastTimestamp = result.lastTimestamp ?? report.lastTimestamp
                if let stopped = result.stoppedAtTimestamp {
                    report.stoppedAtTimestamp = stopped
                    fileReport.bytes = result.validBytes
                }
                if let reason = result.truncation {
                    let cut = FileDamageError(path: path, offset: result.validBytes, reason: reason)
                    guard isLast && allowTruncatedTail else {
                        throw FileDamageError(
                            path: path, offset: result.validBytes,
                            reason: reason + (isLast ? " (aof-load-truncated is no)" : " and is not the last file"))
                    }
                    do {
                        try fileSystem.truncate(path, to: result.validBytes)
                    } catch {
                        throw FileDamageError(
                            path: path, offset: result.validBytes,
                            reason: "cannot cut off the partial command: \(String(cString: strerror(error.code)))")
                    }
                    fileReport.bytes = result.validBytes
                    report.truncatedTail = cut
                }
            } else {
                fileReport.bytes = fileSize(path, fileSystem: fileSystem)
            }
            report.totalBytes += fileReport.bytes
            report.files.append(fileReport)
            if report.stoppedAtTimestamp != nil { break }
        }
        engine.stats = EngineStats()
        return report
    }

    /// Replays the commands of one file into `engine`.
    static func replay(
        path: String, fileSystem: any FileSystem, from start: Int, into engine: Engine, now: Int64, until: Int64? = nil,
        partition: AOFPartition? = nil, functionCommands: inout [[Bytes]]
    ) throws -> AOFReadResult {
        var db = 0
        return try AOFCommandReader.read(path: path, fileSystem: fileSystem, from: start, until: until) { args in
            if let partition, case .success(let spec) = engine.resolveLogged(args),
                !partition.runs(spec, args)
            {
                return
            }
            switch engine.resolveLogged(args) {
            case .failure(let error):
                if case .error(let text) = error { throw AOFCommandRejected(text) }
                throw AOFCommandRejected("cannot replay \(args[0].string)")
            case .success(let spec):
                if case .server(let command) = spec.handler, command.changesFunctionLibraries {
                    functionCommands.append(args)
                    return
                }
                guard case .engine(let handler) = spec.handler else {
                    throw AOFCommandRejected("'\(spec.name)' cannot be replayed from an append-only file")
                }
                _ = engine.run(handler, args: args, db: &db, now: now)
                engine.discardRecord()
            }
        }
    }

    /// The size of `path`, 0 when it cannot be read.
    public static func fileSize(_ path: String, fileSystem: any FileSystem = POSIXFileSystem.shared) -> Int {
        fileSystem.size(of: path) ?? 0
    }
}
