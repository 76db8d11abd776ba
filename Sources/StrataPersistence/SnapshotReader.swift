//! Reads a snapshot — a Strata `dump.sdb` (LZ4 or gzip frames) or a plain RDB file such as
//! Redis's `dump.rdb` — streaming: one frame (or a 1 MiB window of a plain file) is in
//! memory at a time besides the data being loaded. Keys whose deadline has passed are
//! dropped. A damaged file is an error naming the file and the offset; with `salvage` the
//! reader skips damaged chunks, keeps the rest, and reports what it skipped.

import Dispatch
import StrataEngine

/// What reading a snapshot found.
public struct SnapshotReport: Sendable {
    /// A chunk skipped in salvage mode.
    public struct Skipped: Sendable, Equatable {
        public var fileOffset: Int
        public var fileBytes: Int
        public var reason: String
    }

    /// How the file is laid out.
    public var layout = SnapshotLayout.plain
    /// The RDB version of the stream.
    public var rdbVersion = 0
    /// Keys loaded.
    public var keys = 0
    /// Keys left out because their deadline had passed.
    public var expiredKeys = 0
    /// Whether the RDB checksum matched (nil: the file carries none).
    public var checksumMatches: Bool?
    /// The index frame, when the file has one.
    public var index: SnapshotIndex?
    /// AUX fields of the stream.
    public var aux: [String: String] = [:]
    /// The code of each function library the stream holds, in order.
    public var functions: [Bytes] = []
    /// Chunks skipped (salvage mode only).
    public var skipped: [Skipped] = []
    /// Bytes of RDB data decoded (for a plain file: where anything after it, such as the
    /// commands of an old single-file AOF with an RDB preamble, begins).
    public var rdbBytes = 0
}

/// One key read from a snapshot.
public struct SnapshotRecord {
    /// Its database.
    public var db: Int
    /// The key.
    public var key: Bytes
    /// Its value.
    public var value: Value
    /// Its deadline (Unix ms), if it has one.
    public var deadline: Int64?
    /// Bytes of its record in the (uncompressed) record stream, expiry opcode included.
    public var encodedBytes: Int
    /// Its memcached flags and CAS unique, when it has some.
    public var metadata: ItemMetadata?

    /// A record of `key` in database `db`.
    public init(
        db: Int, key: Bytes, value: Value, deadline: Int64?, encodedBytes: Int, metadata: ItemMetadata? = nil
    ) {
        (self.db, self.key, self.value, self.deadline) = (db, key, value, deadline)
        (self.encodedBytes, self.metadata) = (encodedBytes, metadata)
    }
}

/// Reads snapshot files.
public enum SnapshotReader {
    /// Reads the snapshot at `path`, calling `body` for every live key.
    ///
    /// - Parameters:
    ///   - now: Unix ms; keys whose deadline is not after it are dropped.
    ///   - salvage: skip damaged chunks instead of failing.
    ///   - body: receives database index, key, value and deadline.
    public static func read(
        path: String, fileSystem: any FileSystem = POSIXFileSystem.shared, settings: EngineSettings, now: Int64,
        salvage: Bool = false, sizeHint: (_ db: Int, _ keys: Int) -> Void = { _, _ in },
        _ body: (_ db: Int, _ key: Bytes, _ value: Value, _ deadline: Int64?) throws -> Void
    ) throws -> SnapshotReport {
        try records(
            path: path, fileSystem: fileSystem, settings: settings, salvage: salvage, sizeHint: sizeHint,
            dropExpiredBy: now
        ) {
            try body($0.db, $0.key, $0.value, $0.deadline)
        }
    }

    /// Reads the snapshot at `path` record by record, expired keys included, with each
    /// record's size in the record stream (for `strata-dump inspect --keys` and
    /// `--memory`). Memory is bounded by one frame and one record.
    ///
    /// - Parameters:
    ///   - dropExpiredBy: keys whose deadline is not after it are counted in
    ///     `expiredKeys` and not passed to `body` (`.min`: none are dropped).
    ///   - function: receives each function library's code as it is read (they come
    ///     before the first key).
    public static func records(
        path: String, fileSystem: any FileSystem = POSIXFileSystem.shared, settings: EngineSettings,
        salvage: Bool = false,
        sizeHint: (_ db: Int, _ keys: Int) -> Void = { _, _ in }, dropExpiredBy now: Int64 = .min,
        function: (_ code: Bytes) throws -> Void = { _ in },
        _ body: (SnapshotRecord) throws -> Void
    ) throws -> SnapshotReport {
        let frames = try SnapshotFrameReader(path: path, fileSystem: fileSystem)
        var report = SnapshotReport()
        report.layout = frames.layout
        var chunkStart = 0
        var sawEnd = false
        let stream = RDBStream {
            if frames.layout == .plain { return try frames.nextPlainPiece() }
            while let frame = try frames.nextFrame(salvage: salvage) {
                switch frame {
                case .chunk(let bytes, let fileOffset, _):
                    chunkStart = fileOffset
                    return bytes
                case .index(let index):
                    report.index = index
                case .damaged(let fileOffset, let fileBytes, let reason):
                    report.skipped.append(.init(fileOffset: fileOffset, fileBytes: fileBytes, reason: reason))
                }
            }
            return nil
        }
        let decoder = RDBDecoder(stream: stream, settings: settings)
        var db = 0
        do {
            try decoder.header()
            report.rdbVersion = decoder.version
            while !sawEnd {
                let recordStart = decoder.offset
                switch try decoder.next() {
                case .aux(let key, let value): report.aux[key.string] = value.string
                case .selectDB(let index): db = index
                case .resizeDB(let keys, _): sizeHint(db, keys)
                case .function(let code):
                    report.functions.append(code)
                    try function(code)
                case .entry(let key, let value, let deadline):
                    if let deadline, deadline <= now {
                        report.expiredKeys += 1
                        continue
                    }
                    try body(
                        SnapshotRecord(
                            db: db, key: key, value: value, deadline: deadline,
                            encodedBytes: decoder.offset - recordStart, metadata: decoder.entryMetadata))
                    report.keys += 1
                case .end(let matches):
                    report.checksumMatches = matches
                    report.rdbBytes = decoder.offset
                    sawEnd = true
                }
            }
            // Read on to the index frame that follows the last chunk.
            if frames.layout != .plain { _ = try stream.atEnd() }
        } catch let error as RDBError {
            let fileOffset = frames.layout == .plain ? error.offset : chunkStart
            throw FileDamageError(path: path, offset: fileOffset, reason: error.description)
        }
        if report.checksumMatches == false && !salvage {
            throw FileDamageError(path: path, offset: decoder.offset, reason: "RDB checksum mismatch")
        }
        return report
    }

    /// Reads the snapshot at `path` into `databaseCount` databases. Decoding (frames,
    /// decompression, checksums, records) runs on a second thread while this one inserts
    /// the keys, so loading uses two cores.
    ///
    /// - Parameter keepExpired: keep keys whose deadline has passed (an AOF base: the log
    ///   that follows records their expiry).
    public static func load(
        path: String, fileSystem: any FileSystem = POSIXFileSystem.shared, databaseCount: Int,
        settings: EngineSettings, now: Int64, salvage: Bool = false, keepExpired: Bool = false
    ) throws -> (databases: [Database], report: SnapshotReport) {
        var databases = Array(repeating: Database(), count: databaseCount)
        let clock = Entry.clock(now: now)
        let queue = LoadQueue()
        DispatchQueue.global(qos: .userInitiated).async {
            var batch: [LoadQueue.Key] = []
            batch.reserveCapacity(LoadQueue.batchSize)
            do {
                let report = try records(
                    path: path, fileSystem: fileSystem, settings: settings, salvage: salvage,
                    sizeHint: { db, keys in queue.put(.sizeHint(db: db, keys: keys)) },
                    dropExpiredBy: keepExpired ? .min : now
                ) { record in
                    batch.append(
                        LoadQueue.Key(
                            db: record.db, key: record.key, value: record.value, deadline: record.deadline,
                            metadata: record.metadata))
                    if batch.count == LoadQueue.batchSize {
                        guard queue.put(.keys(batch)) else { throw LoadQueue.Cancelled() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                queue.put(.keys(batch))
                queue.put(.done(.success(report)))
            } catch {
                queue.put(.done(.failure(error)))
            }
        }
        while true {
            switch queue.take() {
            case .sizeHint(let db, let keys):
                if db >= 0 && db < databaseCount { databases[db].reserve(keys: keys) }
            case .keys(let keys):
                for item in keys {
                    guard item.db >= 0 && item.db < databaseCount else {
                        queue.cancel()
                        while case .keys = queue.take() {}  // let the decoder stop
                        throw FileDamageError(
                            path: path, offset: 0,
                            reason: "key in database \(item.db), but only \(databaseCount) are configured")
                    }
                    databases[item.db].set(item.key, item.value, deadline: item.deadline, accessClock: clock)
                    if let metadata = item.metadata { databases[item.db].setItemMetadata(metadata, for: item.key) }
                }
            case .done(let result):
                return (databases, try result.get())
            }
        }
    }
}

/// Hands decoded keys from the decoding thread to the inserting one, a few batches at a
/// time (bounded memory).
final class LoadQueue: @unchecked Sendable {
    struct Key {
        var db: Int
        var key: Bytes
        var value: Value
        var deadline: Int64?
        var metadata: ItemMetadata?
    }

    enum Item {
        case sizeHint(db: Int, keys: Int)
        case keys([Key])
        case done(Result<SnapshotReport, Error>)
    }

    struct Cancelled: Error {}

    static let batchSize = 32768
    private let condition = ThreadCondition()
    private var items: [Item] = []
    private var cancelled = false
    private let capacity = 8

    /// Queues `item`, waiting while the queue is full; false once cancelled.
    @discardableResult
    func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled, case .keys = item { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// The next item, waiting for one.
    func take() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// Makes the producer stop at its next batch.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
