//! The file system under the persistence layer. Snapshot and AOF readers and writers, the
//! durable-file writer and the AOF loader open, write, sync and rename files only through
//! these protocols, so that the same code runs on the disk (``POSIXFileSystem``), under
//! injected faults (``FaultInjectingFileSystem``) and in memory with simulated crashes
//! (``MemoryFileSystem``). Errors carry the errno the operation failed with, as the system
//! calls report them.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed file operation, naming the file and the system error.
public struct DurableFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the operation was about.
    public let path: String
    /// The operation: `open`, `write`, `fsync`, `rename`, `read`, `truncate`...
    public let operation: String
    /// The errno it failed with.
    public let code: Int32

    /// An error of `operation` on `path` with errno `code`.
    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// Files by path: what the persistence layer needs of a file system.
public protocol FileSystem: AnyObject, Sendable {
    /// Opens `path` for reading.
    func openForReading(_ path: String) throws(DurableFileError) -> any ReadableFile

    /// Creates `path` for writing, truncating any file of that name (`O_CREAT|O_TRUNC`).
    func create(_ path: String) throws(DurableFileError) -> any WritableFile

    /// Opens `path` for appending, creating it when missing (`O_APPEND|O_CREAT`).
    func openForAppending(_ path: String) throws(DurableFileError) -> any WritableFile

    /// Opens `path` for writing from its start without truncating it, creating it when
    /// missing (`O_CREAT` alone): a small file rewritten in place, as Redis rewrites
    /// `nodes.conf` (truncating, or renaming over it, makes ext4 flush it at once).
    func openForOverwriting(_ path: String) throws(DurableFileError) -> any WritableFile

    /// Renames `source` to `destination`, replacing any file there (atomic on a disk).
    func rename(_ source: String, to destination: String) throws(DurableFileError)

    /// Removes `path`; a missing file is not an error.
    func remove(_ path: String)

    /// Cuts (or extends with zeros) `path` to `size` bytes.
    func truncate(_ path: String, to size: Int) throws(DurableFileError)

    /// Makes the renames and creations in directory `path` durable; errors are ignored, as
    /// Redis ignores them.
    func syncDirectory(_ path: String)

    /// The size of `path`, nil when it does not exist or cannot be read.
    func size(of path: String) -> Int?
}

/// A file system that hands each operation it does not implement itself to `base`: a
/// wrapper that observes or changes some operations declares only those.
public protocol ForwardingFileSystem: FileSystem {
    /// The file system the other operations go to.
    var base: any FileSystem { get }
}

extension ForwardingFileSystem {
    public func openForReading(_ path: String) throws(DurableFileError) -> any ReadableFile {
        try base.openForReading(path)
    }
    public func create(_ path: String) throws(DurableFileError) -> any WritableFile { try base.create(path) }
    public func openForAppending(_ path: String) throws(DurableFileError) -> any WritableFile {
        try base.openForAppending(path)
    }
    public func openForOverwriting(_ path: String) throws(DurableFileError) -> any WritableFile {
        try base.openForOverwriting(path)
    }
    public func rename(_ source: String, to destination: String) throws(DurableFileError) {
        try base.rename(source, to: destination)
    }
    public func remove(_ path: String) { base.remove(path) }
    public func truncate(_ path: String, to size: Int) throws(DurableFileError) {
        try base.truncate(path, to: size)
    }
    public func syncDirectory(_ path: String) { base.syncDirectory(path) }
    public func size(of path: String) -> Int? { base.size(of: path) }
}

/// A file open for reading, read front to back (with an optional seek first).
public protocol ReadableFile: AnyObject {
    /// The file's path.
    var path: String { get }
    /// Its size when it was opened.
    var size: Int { get }

    /// Reads up to `buffer.count` bytes at the current position; 0 at the end of the file.
    /// May read fewer bytes than asked before the end (a short read).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DurableFileError) -> Int

    /// Moves the current position to `offset`.
    func seek(to offset: Int) throws(DurableFileError)
}

/// A file open for writing.
public protocol WritableFile: AnyObject {
    /// The file's path.
    var path: String { get }

    /// Writes up to `bytes.count` bytes at the current position (the end, for a file opened
    /// for appending) and returns how many were written, which may be fewer (a short write).
    func write(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) -> Int

    /// Makes what was written durable (`fsync`, or `fdatasync` when `dataOnly`).
    func sync(dataOnly: Bool) throws(DurableFileError)

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int) throws(DurableFileError)

    /// The file's current size.
    func currentSize() throws(DurableFileError) -> Int

    /// Closes the file; later operations fail with `EBADF`.
    func close()
}

extension ReadableFile {
    /// Reads until `count` bytes or the end of the file, whichever comes first (short reads
    /// are completed).
    public func read(upTo count: Int) throws(DurableFileError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(0, count))
        var filled = 0
        while filled < bytes.count {
            let n = try bytes.withUnsafeMutableBytes { raw in
                Result { () throws(DurableFileError) in
                    try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                }
            }.get()
            if n == 0 { break }
            filled += n
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }
}

extension WritableFile {
    /// Writes all of `bytes`, going on after short writes; a write that moves nothing is a
    /// full disk (ENOSPC) rather than a loop forever.
    ///
    /// - Returns: the bytes written, and the error that stopped it early.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) -> (written: Int, error: DurableFileError?) {
        var offset = 0
        while offset < bytes.count {
            do {
                let n = try write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                guard n > 0 else { return (offset, DurableFileError(path: path, operation: "write", code: ENOSPC)) }
                offset += n
            } catch {
                return (offset, error)
            }
        }
        return (offset, nil)
    }
}

extension FileSystem {
    /// The whole contents of `path`, refused past `limit` bytes (a file that should be
    /// small, such as a manifest, is not allocated whole when it is not).
    public func contents(of path: String, limit: Int = .max) throws(DurableFileError) -> [UInt8] {
        let file = try openForReading(path)
        guard file.size <= limit else { throw DurableFileError(path: path, operation: "read", code: EFBIG) }
        return try file.read(upTo: file.size)
    }

    /// Whether `path` exists.
    public func fileExists(_ path: String) -> Bool { size(of: path) != nil }

    /// Without a file system's own: a truncating create.
    public func openForOverwriting(_ path: String) throws(DurableFileError) -> any WritableFile {
        try create(path)
    }

    /// Replaces the contents of `path` in place with `bytes`, without fsync: written over the
    /// old bytes (padded with newlines to the old length when shorter, then cut). Not
    /// atomic; for files whose readers skip blank lines and that are rewritten often.
    public func overwrite(_ path: String, with bytes: [UInt8]) throws(DurableFileError) {
        let oldSize = size(of: path) ?? 0
        var padded = bytes
        if oldSize > bytes.count { padded += [UInt8](repeating: 0x0A, count: oldSize - bytes.count) }
        let file = try openForOverwriting(path)
        defer { file.close() }
        if let error = padded.withUnsafeBytes({ file.writeAll($0) }).error { throw error }
        if padded.count != bytes.count { try truncate(path, to: bytes.count) }
    }
}
