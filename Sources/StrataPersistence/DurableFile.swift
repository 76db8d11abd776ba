//! Durable replacement of a file: write a temp file in the same directory, fsync it,
//! rename it over the target, fsync the directory. A crash at any moment leaves either
//! the old file or the new one, never a mix; a failed write (a full disk) removes the temp
//! file and leaves the old one untouched.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed file operation, naming the file and the system error.
public struct DurableFileError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let code: Int32

    /// An error of `operation` on `path` with errno `code`.
    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// A file being written to a temp name, published by ``commit()``.
public final class DurableFileWriter {
    /// The file this writer replaces.
    public let path: String
    /// The temp file being written.
    public let tempPath: String
    private var fd: Int32
    /// Bytes written so far.
    public private(set) var bytesWritten = 0

    /// Creates `tempPath` (truncating any leftover of that name).
    public init(path: String, tempPath: String) throws {
        self.path = path
        self.tempPath = tempPath
        fd = FaultableIO.open(tempPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DurableFileError(path: tempPath, operation: "open", code: errno) }
    }

    deinit {
        if fd >= 0 { abandon() }
    }

    /// Appends `bytes`; on failure the temp file is removed.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = FaultableIO.write(fd, base + offset, bytes.count - offset, path: tempPath)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                abandon()
                throw DurableFileError(path: tempPath, operation: "write", code: code)
            }
            offset += n
        }
        bytesWritten += bytes.count
    }

    /// Appends `bytes`; on failure the temp file is removed.
    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// fsyncs the temp file, renames it over ``path`` and fsyncs the directory.
    public func commit() throws {
        if FaultableIO.fsync(fd, path: tempPath) != 0 {
            let code = errno
            abandon()
            throw DurableFileError(path: tempPath, operation: "fsync", code: code)
        }
        close(fd)
        fd = -1
        if FaultableIO.rename(tempPath, path) != 0 {
            let code = errno
            unlink(tempPath)
            throw DurableFileError(path: path, operation: "rename", code: code)
        }
        let directory = DurableFileWriter.directory(of: path)
        let dirfd = open(directory, O_RDONLY)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    /// Closes and removes the temp file.
    public func abandon() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(tempPath)
    }

    /// The directory part of `path` (`.` when it has none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}

/// One-call durable replacement of a small file.
public enum DurableFile {
    /// Replaces `path` with `bytes` durably.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let writer = try DurableFileWriter(path: path, tempPath: path + ".tmp-\(getpid())")
        try writer.append(bytes)
        try writer.commit()
    }
}
