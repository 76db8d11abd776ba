//! A file system that injects the faults of a ``FaultPlan`` into another one: before each
//! operation it asks the plan, and fails the operation with the armed errno, shortens a
//! read or a write, or tears a write (its prefix reaches the disk, synced, then the file
//! system stops answering as after a power cut). Around ``POSIXFileSystem`` it is what the
//! server runs on, so that `DEBUG FAULT` can fail the real disk; around
//! ``MemoryFileSystem`` it is what crash and fault unit tests run on.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Another file system, with faults injected.
public final class FaultInjectingFileSystem: FileSystem {
    /// The file system operations go to when no fault stops them.
    public let base: any FileSystem
    /// The armed faults.
    public let faults: FaultPlan

    /// `base`, with the faults of `faults` injected.
    public init(wrapping base: any FileSystem, faults: FaultPlan = FaultPlan()) {
        self.base = base
        self.faults = faults
    }

    /// Throws the armed fault's error for `operation` on `path`, if any (a torn write is
    /// handled by the writing file).
    fileprivate func check(_ operation: FileOperation, _ path: String) throws(DurableFileError) -> FaultAction? {
        guard let action = faults.take(operation, path: path) else { return nil }
        if case .fail(let code) = action {
            throw DurableFileError(path: path, operation: operation.rawValue, code: code)
        }
        return action
    }

    public func openForReading(_ path: String) throws(DurableFileError) -> any ReadableFile {
        try checkPower(.open, path)
        return FaultInjectingReadableFile(try base.openForReading(path), system: self)
    }

    public func create(_ path: String) throws(DurableFileError) -> any WritableFile {
        _ = try check(.open, path)
        return FaultInjectingWritableFile(try base.create(path), system: self)
    }

    public func openForAppending(_ path: String) throws(DurableFileError) -> any WritableFile {
        _ = try check(.open, path)
        return FaultInjectingWritableFile(try base.openForAppending(path), system: self)
    }

    public func openForOverwriting(_ path: String) throws(DurableFileError) -> any WritableFile {
        _ = try check(.open, path)
        return FaultInjectingWritableFile(try base.openForOverwriting(path), system: self)
    }

    /// Throws `EIO` once a torn write has cut the power.
    fileprivate func checkPower(_ operation: FileOperation, _ path: String) throws(DurableFileError) {
        if faults.isPoweredOff { throw DurableFileError(path: path, operation: operation.rawValue, code: EIO) }
    }

    public func rename(_ source: String, to destination: String) throws(DurableFileError) {
        do {
            _ = try check(.rename, destination)
        } catch {
            throw DurableFileError(path: source, operation: "rename", code: error.code)
        }
        try base.rename(source, to: destination)
    }

    public func remove(_ path: String) {
        guard !faults.isPoweredOff else { return }
        base.remove(path)
    }

    public func truncate(_ path: String, to size: Int) throws(DurableFileError) {
        try checkPower(.write, path)
        try base.truncate(path, to: size)
    }

    public func syncDirectory(_ path: String) {
        guard !faults.isPoweredOff else { return }
        base.syncDirectory(path)
    }

    public func size(of path: String) -> Int? {
        faults.isPoweredOff ? nil : base.size(of: path)
    }
}

private final class FaultInjectingReadableFile: ReadableFile {
    private let file: any ReadableFile
    private let system: FaultInjectingFileSystem
    var path: String { file.path }
    var size: Int { file.size }

    init(_ file: any ReadableFile, system: FaultInjectingFileSystem) {
        self.file = file
        self.system = system
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DurableFileError) -> Int {
        var buffer = buffer
        if try system.check(.read, path) != nil, buffer.count > 1 {
            buffer = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(buffer.count / 2)])
        }
        return try file.read(into: buffer)
    }

    func seek(to offset: Int) throws(DurableFileError) {
        try file.seek(to: offset)
    }
}

private final class FaultInjectingWritableFile: WritableFile, @unchecked Sendable {
    private let file: any WritableFile
    private let system: FaultInjectingFileSystem
    var path: String { file.path }

    init(_ file: any WritableFile, system: FaultInjectingFileSystem) {
        self.file = file
        self.system = system
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) -> Int {
        switch try system.check(.write, path) {
        case nil:
            return try file.write(bytes)
        case .short:
            return try file.write(
                UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, max(1, bytes.count / 2))]))
        case .tear(let keeping):
            let kept = UnsafeRawBufferPointer(rebasing: bytes[0..<min(max(0, keeping), bytes.count)])
            if let error = file.writeAll(kept).error { throw error }
            try file.sync(dataOnly: true)
            system.faults.cutPower()
            throw DurableFileError(path: path, operation: "write", code: EIO)
        case .fail(let code):
            throw DurableFileError(path: path, operation: "write", code: code)
        }
    }

    func sync(dataOnly: Bool) throws(DurableFileError) {
        _ = try system.check(.fsync, path)
        try file.sync(dataOnly: dataOnly)
    }

    func truncate(to size: Int) throws(DurableFileError) {
        try system.checkPower(.write, path)
        try file.truncate(to: size)
    }

    func currentSize() throws(DurableFileError) -> Int {
        try file.currentSize()
    }

    func close() { file.close() }
}
