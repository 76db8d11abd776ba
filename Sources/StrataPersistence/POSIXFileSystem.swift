//! The production file system: each operation is one system call (retried on `EINTR`),
//! with the flags the persistence layer has always used, and each failure reports the
//! call's errno.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The disk, through POSIX system calls.
public final class POSIXFileSystem: FileSystem {
    /// The one instance tools and tests use by default (it holds no state).
    public static let shared = POSIXFileSystem()

    /// The disk.
    public init() {}

    public func openForReading(_ path: String) throws(DurableFileError) -> any ReadableFile {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DurableFileError(path: path, operation: "open", code: errno) }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        return POSIXReadableFile(fd: fd, path: path, size: size)
    }

    public func create(_ path: String) throws(DurableFileError) -> any WritableFile {
        try openForWriting(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
    }

    /// Standard output as a file to write to; it stays open when the file is released.
    public static func standardOutput() -> any WritableFile {
        POSIXWritableFile(fd: STDOUT_FILENO, path: "standard output", closesOnRelease: false)
    }

    public func openForAppending(_ path: String) throws(DurableFileError) -> any WritableFile {
        try openForWriting(path, flags: O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC)
    }

    public func openForOverwriting(_ path: String) throws(DurableFileError) -> any WritableFile {
        try openForWriting(path, flags: O_WRONLY | O_CREAT | O_CLOEXEC)
    }

    private func openForWriting(_ path: String, flags: Int32) throws(DurableFileError) -> any WritableFile {
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw DurableFileError(path: path, operation: "open", code: errno) }
        return POSIXWritableFile(fd: fd, path: path)
    }

    public func rename(_ source: String, to destination: String) throws(DurableFileError) {
        #if canImport(Glibc)
            let status = Glibc.rename(source, destination)
        #else
            let status = Darwin.rename(source, destination)
        #endif
        if status != 0 { throw DurableFileError(path: source, operation: "rename", code: errno) }
    }

    public func remove(_ path: String) {
        unlink(path)
    }

    public func truncate(_ path: String, to size: Int) throws(DurableFileError) {
        #if canImport(Glibc)
            let status = Glibc.truncate(path, off_t(size))
        #else
            let status = Darwin.truncate(path, off_t(size))
        #endif
        if status != 0 { throw DurableFileError(path: path, operation: "truncate", code: errno) }
    }

    public func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        Glibc.close(fd)
    }

    public func size(of path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }
}

/// A file descriptor open for reading.
final class POSIXReadableFile: ReadableFile {
    let path: String
    let size: Int
    private let fd: Int32

    init(fd: Int32, path: String, size: Int) {
        self.fd = fd
        self.path = path
        self.size = size
    }

    deinit { Glibc.close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DurableFileError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw DurableFileError(path: path, operation: "read", code: errno) }
        }
    }

    func seek(to offset: Int) throws(DurableFileError) {
        if lseek(fd, off_t(offset), SEEK_SET) < 0 {
            throw DurableFileError(path: path, operation: "seek", code: errno)
        }
    }
}

/// A file descriptor open for writing. `write` and `sync` may run on two threads at once
/// (the kernel orders them); `close` only once neither can.
final class POSIXWritableFile: WritableFile, @unchecked Sendable {
    let path: String
    private var fd: Int32
    /// Whether releasing the file closes its descriptor (not for standard output).
    private let closesOnRelease: Bool

    init(fd: Int32, path: String, closesOnRelease: Bool = true) {
        self.fd = fd
        self.path = path
        self.closesOnRelease = closesOnRelease
    }

    deinit { if closesOnRelease { close() } }

    func write(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) -> Int {
        while true {
            let n = Glibc.write(fd, bytes.baseAddress, bytes.count)
            if n >= 0 { return n }
            if errno != EINTR { throw DurableFileError(path: path, operation: "write", code: errno) }
        }
    }

    func sync(dataOnly: Bool) throws(DurableFileError) {
        #if canImport(Glibc)
            let status = dataOnly ? fdatasync(fd) : fsync(fd)
        #else
            let status = fsync(fd)
        #endif
        if status != 0 { throw DurableFileError(path: path, operation: "fsync", code: errno) }
    }

    func truncate(to size: Int) throws(DurableFileError) {
        if ftruncate(fd, off_t(size)) != 0 {
            throw DurableFileError(path: path, operation: "truncate", code: errno)
        }
    }

    func currentSize() throws(DurableFileError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFileError(path: path, operation: "stat", code: errno) }
        return Int(info.st_size)
    }

    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }
}
