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
    public static func write(
        _ databases: [Database], to path: String, tempPath: String, options: SnapshotOptions, now: Int64
    ) throws -> SnapshotSummary {
        let file = try DurableFileWriter(path: path, tempPath: tempPath)
        var state = State(file: file, options: options, now: now)
        do {
            try state.writeAll(databases)
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

        mutating func writeAll(_ databases: [Database]) throws {
            encoder.header()
            encoder.aux("redis-ver", options.redisVersion)
            encoder.aux("redis-bits", "64")
            encoder.aux("ctime", String(now / 1000))
            encoder.aux("used-mem", "0")
            encoder.aux("aof-base", options.aofBase ? "1" : "0")
            for (index, database) in databases.enumerated() where database.count > 0 {
                encoder.selectDB(index, keys: database.count, expires: database.deadlineCount)
                var types: [String: Int] = [:]
                var expires = 0
                try database.forEachLive(now: now) { key, value, deadline in
                    if deadline != nil { expires += 1 }
                    encoder.entry(key: key, value: value, deadline: deadline)
                    types[value.typeName, default: 0] += 1
                    summary.keys += 1
                    keysInChunk += 1
                    if encoder.bytes.count >= options.chunkBytes {
                        try flush(final: false)
                        encoder.selectDB(index)
                    }
                }
                keysByType[String(index)] = types
                expiresByDB[String(index)] = expires
            }
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
