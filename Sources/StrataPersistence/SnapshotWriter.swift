//! Writes a snapshot: the RDB record stream of frozen databases, cut at record boundaries
//! into chunks of about `chunkBytes`, each compressed into its own frame (every chunk after
//! the first starts with a SELECTDB record, so chunks can be decoded alone), followed by
//! the index frame. The file is written under a temp name and published atomically.
//! Runs on any thread: it only reads the frozen copy it is given.

import StrataEngine

/// How to write a snapshot.
public struct SnapshotOptions: Sendable {
    /// Frame codec: `lz4` (default), `zlib`, or `none` for a plain RDB file.
    public var codec: CompressionCodec = .lz4
    /// Whether the RDB stream ends with its CRC-64 (`rdbchecksum`).
    public var checksum = true
    /// Target bytes of RDB stream per chunk.
    public var chunkBytes = 256 * 1024
    /// The writer's name in the index and the `redis-ver` field.
    public var writer = "strata"
    /// The Redis version the stream claims (`redis-ver` AUX field).
    public var redisVersion = "7.0.15"
    /// Whether the file is the base of an append-only file (the `aof-base` aux field).
    public var aofBase = false
    /// The replication stream the keyspace corresponds to (`repl-stream-db`, `repl-id`,
    /// `repl-offset` aux fields, as Redis writes them), so that a restarted server continues
    /// its history with a partial sync; nil to write none.
    public var replication: (streamDb: Int, id: String, offset: Int64)?
    /// The code of each function library, written as `FUNCTION2` records before the
    /// first database (as Redis 7 writes them).
    public var functions: [Bytes] = []

    public init() {}
}

/// What a save wrote.
public struct SnapshotSummary: Sendable, Equatable {
    /// Keys written (expired keys are left out).
    public var keys = 0
    /// Bytes of the file.
    public var fileBytes = 0
    /// Bytes of the RDB stream inside it.
    public var rdbBytes = 0
    /// Frames holding records.
    public var chunks = 0
}

/// Serializes databases into a snapshot file.
public enum SnapshotWriter {
    /// Writes `databases` to `path` durably (temp file in the same directory, fsync,
    /// rename, directory fsync). On failure the temp file is removed and any existing file
    /// at `path` is untouched.
    ///
    /// - Parameters:
    ///   - now: the snapshot's time (Unix ms): keys whose deadline has passed are left out.
    ///   - tempPath: where to write before the rename.
    ///   - fileSystem: where the files are.
    public static func write(
        _ databases: [Database], to path: String, tempPath: String, fileSystem: any FileSystem = POSIXFileSystem.shared,
        options: SnapshotOptions, now: Int64
    ) throws -> SnapshotSummary {
        var copy = databases
        return try write(
            draining: &copy, to: path, tempPath: tempPath, fileSystem: fileSystem, options: options, now: now)
    }

    /// As ``write(_:to:tempPath:fileSystem:options:now:)``, emptying `databases` shard by
    /// shard as they are written: given a frozen copy of the keyspace that nothing else
    /// holds, the memory the live keyspace stopped sharing with it is freed during the
    /// save rather than after it.
    public static func write(
        draining databases: inout [Database], to path: String, tempPath: String,
        fileSystem: any FileSystem = POSIXFileSystem.shared, options: SnapshotOptions, now: Int64
    ) throws -> SnapshotSummary {
        let file = try DurableFileWriter(path: path, tempPath: tempPath, fileSystem: fileSystem)
        var state = State(file: file, options: options, now: now)
        do {
            try state.writeAll(&databases)
            try file.commit()
        } catch {
            file.abandon()
            throw error
        }
        return state.summary
    }

    /// The running state of one save.
    struct State {
        let file: DurableFileWriter
        let options: SnapshotOptions
        let now: Int64
        var encoder = RDBEncoder()
        var checksum = CRC64()
        var summary = SnapshotSummary()
        var chunks: [SnapshotIndex.Chunk] = []
        var keysInChunk = 0
        var keysByType: [String: [String: Int]] = [:]
        var expiresByDB: [String: Int] = [:]

        init(file: DurableFileWriter, options: SnapshotOptions, now: Int64) {
            self.file = file
            self.options = options
            self.now = now
            encoder.bytes.reserveCapacity(options.chunkBytes + 64 * 1024)
        }

        /// The database records are being written for, and its counts so far.
        var currentDB = -1
        var typesInDB: [String: Int] = [:]
        var expiresInDB = 0

        mutating func writeAll(_ databases: inout [Database]) throws {
            begin()
            for index in databases.indices where databases[index].count > 0 {
                beginDatabase(index, keys: databases[index].count, expires: databases[index].deadlineCount)
                let metadata = databases[index].allItemMetadata
                try databases[index].drainLive(now: now) { key, value, deadline in
                    try add(
                        key: key, value: value, deadline: deadline,
                        metadata: metadata.isEmpty ? nil : metadata[key].flatMap { $0.persistsNothing ? nil : $0 })
                }
            }
            try finish()
        }

        /// The header and AUX fields.
        mutating func begin() {
            encoder.header()
            encoder.aux("redis-ver", options.redisVersion)
            encoder.aux("redis-bits", "64")
            encoder.aux("ctime", String(now / 1000))
            encoder.aux("used-mem", "0")
            if let replication = options.replication {
                encoder.aux("repl-stream-db", String(replication.streamDb))
                encoder.aux("repl-id", replication.id)
                encoder.aux("repl-offset", String(replication.offset))
            }
            encoder.aux("aof-base", options.aofBase ? "1" : "0")
            for code in options.functions { encoder.function(code) }
        }

        /// Starts the records of database `index` (with a RESIZEDB hint when the counts are known).
        mutating func beginDatabase(_ index: Int, keys: Int? = nil, expires: Int? = nil) {
            closeDatabase()
            currentDB = index
            if let keys, let expires {
                encoder.selectDB(index, keys: keys, expires: expires)
            } else {
                encoder.selectDB(index)
            }
        }

        /// Adds one key of the current database (after the AUX field carrying its memcached
        /// metadata, when it has some).
        mutating func add(key: Bytes, value: Value, deadline: Int64?, metadata: ItemMetadata? = nil) throws {
            if deadline != nil { expiresInDB += 1 }
            if let metadata { encoder.aux(ItemMetadata.snapshotAuxField, metadata.auxText) }
            encoder.entry(key: key, value: value, deadline: deadline)
            typesInDB[value.typeName, default: 0] += 1
            summary.keys += 1
            keysInChunk += 1
            if encoder.bytes.count >= options.chunkBytes {
                try flush(final: false)
                encoder.selectDB(currentDB)
            }
        }

        /// Records the current database's counts for the index.
        mutating func closeDatabase() {
            guard currentDB >= 0 else { return }
            for (type, count) in typesInDB { keysByType[String(currentDB), default: [:]][type, default: 0] += count }
            expiresByDB[String(currentDB), default: 0] += expiresInDB
            typesInDB.removeAll(keepingCapacity: true)
            expiresInDB = 0
        }

        /// The end of the stream, its checksum, the last chunk and the index.
        mutating func finish() throws {
            closeDatabase()
            encoder.end(checksum: &checksum, enabled: options.checksum)
            try flush(final: true)
            if options.codec != .none {
                let index = SnapshotIndex(
                    writer: options.writer, created: now, codec: options.codec.rawValue, rdbVersion: RDB.writtenVersion,
                    rdbBytes: summary.rdbBytes, chunks: chunks, keys: keysByType, expires: expiresByDB)
                let payload = index.encoded()
                try file.append(
                    options.codec == .lz4
                        ? SnapshotFrames.lz4IndexFrame(payload) : SnapshotFrames.gzipIndexMember(payload))
            }
            summary.fileBytes = file.bytesWritten
        }

        /// Compresses the pending records into one frame and writes it. The final chunk
        /// was already added to the checksum by `RDBEncoder.end`.
        mutating func flush(final: Bool) throws {
            guard !encoder.bytes.isEmpty else { return }
            if !final { checksum.update(encoder.bytes) }
            let frame = try options.codec.compress(encoder.bytes)
            chunks.append(
                SnapshotIndex.Chunk(
                    fileOffset: file.bytesWritten, fileBytes: frame.count, rdbOffset: summary.rdbBytes,
                    rdbBytes: encoder.bytes.count, keys: keysInChunk))
            try file.append(frame)
            summary.rdbBytes += encoder.bytes.count
            summary.chunks += 1
            keysInChunk = 0
            encoder.bytes.removeAll(keepingCapacity: true)
        }
    }
}

/// Writes a snapshot key by key, for tools that stream one file into another without
/// holding the keyspace: memory is bounded by one chunk. Keys must come grouped by
/// database. The file is published by `finish()` (temp file, fsync, rename); `abandon()`
/// removes the temp file.
public final class SnapshotStreamWriter {
    private let file: DurableFileWriter
    private var state: SnapshotWriter.State
    private var finished = false
    private var begun = false
    /// Function libraries to write before the first key (set them before appending one).
    public var functions: [Bytes] = []

    /// Starts writing `path` through `tempPath` on `fileSystem`.
    ///
    /// - Parameter now: the snapshot's time (Unix ms) for its `ctime` and index.
    public init(
        path: String, tempPath: String, fileSystem: any FileSystem = POSIXFileSystem.shared, options: SnapshotOptions,
        now: Int64
    ) throws {
        file = try DurableFileWriter(path: path, tempPath: tempPath, fileSystem: fileSystem)
        state = SnapshotWriter.State(file: file, options: options, now: now)
    }

    /// The header, AUX fields and function libraries, before the first key.
    private func beginIfNeeded() {
        guard !begun else { return }
        begun = true
        if !functions.isEmpty {
            var options = state.options
            options.functions += functions
            state = SnapshotWriter.State(file: file, options: options, now: state.now)
        }
        state.begin()
    }

    /// Adds `key` of database `db`, with its memcached metadata if it has some.
    public func append(db: Int, key: Bytes, value: Value, deadline: Int64?, metadata: ItemMetadata? = nil) throws {
        beginIfNeeded()
        if db != state.currentDB { state.beginDatabase(db) }
        try state.add(key: key, value: value, deadline: deadline, metadata: metadata)
    }

    /// Ends the stream and publishes the file.
    public func finish() throws -> SnapshotSummary {
        beginIfNeeded()
        try state.finish()
        try file.commit()
        finished = true
        return state.summary
    }

    /// Removes the temp file (after a failure).
    public func abandon() {
        if !finished { file.abandon() }
    }
}
