//! How far loading the dataset at start-up has come, for `INFO persistence`'s `loading_*`
//! fields. The loaders run on a background thread and know nothing of progress; they read
//! through a file system wrapped here that counts the bytes read, so progress is measured
//! where the bytes are, without a hook in each format's reader.

import NIOConcurrencyHelpers
import StrataPersistence

/// Bytes read so far out of the bytes to load, shared with the loading thread.
final class LoadingProgress: Sendable {
    /// Unix seconds when loading started.
    let startedAt: Int64
    /// Bytes of the files to load.
    let totalBytes: Int
    private let loaded = NIOLockedValueBox(0)

    init(startedAt: Int64, totalBytes: Int) {
        self.startedAt = startedAt
        self.totalBytes = totalBytes
    }

    /// Bytes read so far.
    var loadedBytes: Int { loaded.withLockedValue { $0 } }

    func add(_ bytes: Int) {
        loaded.withLockedValue { $0 &+= bytes }
    }

    /// The `loading_*` fields Redis 7.0 prints while loading, at `now` (Unix seconds).
    func infoFields(now: Int64) -> [(String, String)] {
        let loaded = loadedBytes
        let remaining = max(0, totalBytes - loaded)
        let percent = totalBytes > 0 ? Double(loaded) / Double(totalBytes) * 100 : 0
        let elapsed = max(0, now - startedAt)
        // As Redis: a made-up second until a second has passed.
        let eta =
            elapsed == 0
            ? 1 : elapsed.multipliedReportingOverflow(by: Int64(remaining)).partialValue / Int64(loaded + 1)
        return [
            ("loading_start_time", String(startedAt)), ("loading_total_bytes", String(totalBytes)),
            ("loading_rdb_used_mem", "0"), ("loading_loaded_bytes", String(loaded)),
            ("loading_loaded_perc", String(printf: "%.2f", percent)), ("loading_eta_seconds", String(eta)),
        ]
    }
}

/// A file system whose reads are counted into a `LoadingProgress`.
final class ProgressCountingFileSystem: ForwardingFileSystem {
    let base: any FileSystem
    let progress: LoadingProgress

    init(_ base: any FileSystem, progress: LoadingProgress) {
        self.base = base
        self.progress = progress
    }

    func openForReading(_ path: String) throws(DurableFileError) -> any ReadableFile {
        ProgressCountingFile(try base.openForReading(path), progress: progress)
    }
}

/// A readable file whose reads are counted.
final class ProgressCountingFile: ReadableFile {
    let base: any ReadableFile
    let progress: LoadingProgress

    init(_ base: any ReadableFile, progress: LoadingProgress) {
        self.base = base
        self.progress = progress
    }

    var path: String { base.path }
    var size: Int { base.size }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DurableFileError) -> Int {
        let count = try base.read(into: buffer)
        progress.add(count)
        return count
    }

    func seek(to offset: Int) throws(DurableFileError) { try base.seek(to: offset) }
}

extension ServerCore {
    /// The `loading_*` fields, while loading.
    var loadingInfoFields: [(String, String)] {
        guard persistence.loading, let progress = loadingProgress else { return [] }
        return progress.infoFields(now: clock.wallMilliseconds() / 1000)
    }
}
