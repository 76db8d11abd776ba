//! The incremental file commands are appended to. Writes happen on the event loop;
//! `sync()` may run on another thread at the same time (the kernel orders them), which is
//! how `appendfsync always` overlaps one group's fsync with the next group's execution.
//! A write the disk refuses part-way is cut back so the file never ends in half a command
//! that later writes would follow. The descriptor is closed by ``BackgroundFileWork``:
//! closing a file just written can wait for its write-back (18 ms was seen at the end of a
//! rewrite), and the last reference is usually dropped on the event loop.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An append-only file open for writing.
public final class AOFAppendFile: @unchecked Sendable {
    /// The file's path.
    public let path: String
    private let file: any WritableFile
    /// Its size: what is on the file system (written, not necessarily synced).
    public private(set) var size: Int

    /// Opens (creating it if needed) `path` on `fileSystem` for appending.
    public init(path: String, fileSystem: any FileSystem = POSIXFileSystem.shared) throws {
        self.path = path
        file = try fileSystem.openForAppending(path)
        // Not 0 on failure: a failed append cuts the file back to this size.
        size = try file.currentSize()
    }

    deinit {
        BackgroundFileWork.close(file)
    }

    /// Appends all of `bytes`.
    ///
    /// - Returns: bytes written; on failure, the error and how many bytes of `bytes` the
    ///   file kept (0 when a partial write could be cut back, as it normally can).
    public func append(_ bytes: UnsafeRawBufferPointer) -> (written: Int, error: DurableFileError?) {
        guard bytes.count > 0 else { return (0, nil) }
        let (written, error) = file.writeAll(bytes)
        if let error { return cutBack(written: written, error: error) }
        size += written
        return (written, nil)
    }

    /// After a failed write: cuts the `written` bytes of the half-written command off; if
    /// that fails, the part stays and is counted.
    private func cutBack(written: Int, error: DurableFileError) -> (written: Int, error: DurableFileError?) {
        guard written > 0 else { return (0, error) }
        do {
            try file.truncate(to: size)
            return (0, error)
        } catch {
            size += written
            return (written, error)
        }
    }

    /// Makes what was written durable (`fdatasync`).
    ///
    /// - Returns: the error, nil when the data is on disk.
    public func sync() -> DurableFileError? {
        do {
            try file.sync(dataOnly: true)
            return nil
        } catch {
            return error
        }
    }
}
