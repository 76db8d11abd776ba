//! The incremental file commands are appended to. Writes happen on the event loop;
//! `sync()` may run on another thread at the same time (the kernel orders them), which is
//! how `appendfsync always` overlaps one group's fsync with the next group's execution.
//! A write the disk refuses part-way is cut back so the file never ends in half a command
//! that later writes would follow.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An append-only file open for writing.
public final class AOFAppendFile: @unchecked Sendable {
    /// The file's path.
    public let path: String
    private let fd: Int32
    /// Its size: what is on the file system (written, not necessarily synced).
    public private(set) var size: Int

    /// Opens (creating it if needed) `path` for appending.
    public init(path: String) throws {
        self.path = path
        fd = FaultableIO.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFileError(path: path, operation: "open", code: errno) }
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    deinit { close(fd) }

    /// Appends all of `bytes`.
    ///
    /// - Returns: bytes written; on failure, the error and how many bytes of `bytes` the
    ///   file kept (0 when a partial write could be cut back, as it normally can).
    public func append(_ bytes: UnsafeRawBufferPointer) -> (written: Int, error: DurableFileError?) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return (0, nil) }
        var offset = 0
        while offset < bytes.count {
            let n = FaultableIO.write(fd, base + offset, bytes.count - offset, path: path)
            if n < 0 {
                if errno == EINTR { continue }
                let error = DurableFileError(path: path, operation: "write", code: errno)
                guard offset > 0 else { return (0, error) }
                // Cut the half-written command off; if that fails, the part stays.
                if ftruncate(fd, off_t(size)) == 0 { return (0, error) }
                size += offset
                return (offset, error)
            }
            if n == 0 {
                let error = DurableFileError(path: path, operation: "write", code: ENOSPC)
                if offset > 0 && ftruncate(fd, off_t(size)) != 0 {
                    size += offset
                    return (offset, error)
                }
                return (0, error)
            }
            offset += n
        }
        size += offset
        return (offset, nil)
    }

    /// Makes what was written durable (`fdatasync`).
    ///
    /// - Returns: the error, nil when the data is on disk.
    public func sync() -> DurableFileError? {
        let status = FaultableIO.fsync(fd, path: path, dataOnly: true)
        return status == 0 ? nil : DurableFileError(path: path, operation: "fsync", code: errno)
    }
}

/// Directory fsync after renames and creations, so that they survive a crash.
public enum DirectorySync {
    /// fsyncs `path` (a directory); errors are ignored, as Redis does.
    public static func sync(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
