//! Durable replacement of a file: write a temp file in the same directory, fsync it,
//! rename it over the target, fsync the directory. A crash at any moment leaves either
//! the old file or the new one, never a mix; a failed write (a full disk) removes the temp
//! file and leaves the old one untouched.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file being written to a temp name, published by ``commit()``.
public final class DurableFileWriter {
    /// The file this writer replaces.
    public let path: String
    /// The temp file being written.
    public let tempPath: String
    private let fileSystem: any FileSystem
    private var file: (any WritableFile)?
    /// Bytes written so far.
    public private(set) var bytesWritten = 0

    /// Creates `tempPath` on `fileSystem` (truncating any leftover of that name).
    public init(path: String, tempPath: String, fileSystem: any FileSystem = POSIXFileSystem.shared) throws {
        self.path = path
        self.tempPath = tempPath
        self.fileSystem = fileSystem
        file = try fileSystem.create(tempPath)
    }

    deinit {
        if file != nil { abandon() }
    }

    /// Appends `bytes`; on failure the temp file is removed.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let file else { throw DurableFileError(path: tempPath, operation: "write", code: EBADF) }
        if let error = file.writeAll(bytes).error {
            abandon()
            throw error
        }
        bytesWritten += bytes.count
    }

    /// Appends `bytes`; on failure the temp file is removed.
    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// fsyncs the temp file, renames it over ``path`` and fsyncs the directory.
    public func commit() throws {
        guard let file else { throw DurableFileError(path: tempPath, operation: "fsync", code: EBADF) }
        do {
            try file.sync(dataOnly: false)
        } catch {
            abandon()
            throw error
        }
        file.close()
        self.file = nil
        do {
            try fileSystem.rename(tempPath, to: path)
        } catch {
            fileSystem.remove(tempPath)
            throw DurableFileError(path: path, operation: "rename", code: error.code)
        }
        fileSystem.syncDirectory(DurableFileWriter.directory(of: path))
    }

    /// Closes and removes the temp file.
    public func abandon() {
        file?.close()
        file = nil
        fileSystem.remove(tempPath)
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
    /// Replaces `path` with `bytes` durably on `fileSystem`.
    public static func write(_ bytes: [UInt8], to path: String, fileSystem: any FileSystem = POSIXFileSystem.shared)
        throws
    {
        let writer = try DurableFileWriter(path: path, tempPath: path + ".tmp-\(getpid())", fileSystem: fileSystem)
        try writer.append(bytes)
        try writer.commit()
    }
}
