//! A file system in memory that models what survives a crash, for crash tests: every file
//! has the bytes written to it and the bytes last synced to it, and every directory the
//! names it holds now and the names it held when it was last synced (a creation, a rename
//! or a removal is durable only once its directory is synced, as on Linux file systems
//! without a journal for data). ``crash()`` keeps only what was durable, as a power cut
//! followed by a reboot would; files opened before it stop working. Wrap it in a
//! ``FaultInjectingFileSystem`` to inject faults.

import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files in memory, with crash semantics.
public final class MemoryFileSystem: FileSystem, @unchecked Sendable {
    /// One file: what was written, and what a crash keeps.
    fileprivate final class Node {
        var bytes: [UInt8]
        var synced: [UInt8]

        init(bytes: [UInt8], synced: [UInt8]) {
            self.bytes = bytes
            self.synced = synced
        }
    }

    fileprivate let lock = NIOLock()
    /// The names in every directory now.
    private var names: [String: Node] = [:]
    /// The names as of each directory's last sync.
    private var syncedNames: [String: Node] = [:]
    /// Bumped by each crash: files opened before it fail with `EIO`.
    fileprivate var generation = 0

    /// An empty file system.
    public init() {}

    // MARK: Test set-up and inspection

    /// Stores `bytes` at `path`, durably (name and contents survive a crash).
    public func install(_ bytes: [UInt8], at path: String) {
        lock.lock()
        defer { lock.unlock() }
        let node = Node(bytes: bytes, synced: bytes)
        names[path] = node
        syncedNames[path] = node
    }

    /// The bytes at `path` now (written, synced or not), nil when there is no such file.
    public func bytes(at path: String) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return names[path]?.bytes
    }

    /// Every path, sorted.
    public var paths: [String] {
        lock.lock()
        defer { lock.unlock() }
        return names.keys.sorted()
    }

    /// A power cut and a reboot: every file goes back to its synced bytes, every directory
    /// to its synced names, and files opened before fail with `EIO`.
    public func crash() {
        lock.lock()
        defer { lock.unlock() }
        names = syncedNames
        for node in names.values { node.bytes = node.synced }
        generation += 1
    }

    // MARK: FileSystem

    public func openForReading(_ path: String) throws(DurableFileError) -> any ReadableFile {
        lock.lock()
        defer { lock.unlock() }
        guard let node = names[path] else { throw DurableFileError(path: path, operation: "open", code: ENOENT) }
        return MemoryReadableFile(path: path, snapshot: node.bytes)
    }

    public func create(_ path: String) throws(DurableFileError) -> any WritableFile {
        lock.lock()
        defer { lock.unlock() }
        let node = names[path] ?? Node(bytes: [], synced: [])
        node.bytes = []
        names[path] = node
        return MemoryWritableFile(system: self, node: node, path: path, appending: false)
    }

    public func openForAppending(_ path: String) throws(DurableFileError) -> any WritableFile {
        lock.lock()
        defer { lock.unlock() }
        let node = names[path] ?? Node(bytes: [], synced: [])
        names[path] = node
        return MemoryWritableFile(system: self, node: node, path: path, appending: true)
    }

    public func rename(_ source: String, to destination: String) throws(DurableFileError) {
        lock.lock()
        defer { lock.unlock() }
        guard let node = names.removeValue(forKey: source) else {
            throw DurableFileError(path: source, operation: "rename", code: ENOENT)
        }
        names[destination] = node
    }

    public func remove(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        names[path] = nil
    }

    public func truncate(_ path: String, to size: Int) throws(DurableFileError) {
        lock.lock()
        defer { lock.unlock() }
        guard let node = names[path] else { throw DurableFileError(path: path, operation: "truncate", code: ENOENT) }
        node.resize(to: size)
    }

    public func syncDirectory(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        for name in Set(names.keys).union(syncedNames.keys) where DurableFileWriter.directory(of: name) == path {
            syncedNames[name] = names[name]
        }
    }

    public func size(of path: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return names[path]?.bytes.count
    }
}

extension MemoryFileSystem.Node {
    fileprivate func resize(to size: Int) {
        let size = max(0, size)
        if size < bytes.count {
            bytes.removeLast(bytes.count - size)
        } else {
            bytes += [UInt8](repeating: 0, count: size - bytes.count)
        }
    }
}

/// A file read from memory: its bytes when it was opened.
private final class MemoryReadableFile: ReadableFile {
    let path: String
    private let snapshot: [UInt8]
    private var position = 0
    var size: Int { snapshot.count }

    init(path: String, snapshot: [UInt8]) {
        self.path = path
        self.snapshot = snapshot
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DurableFileError) -> Int {
        let count = min(buffer.count, max(0, snapshot.count - position))
        guard count > 0 else { return 0 }
        snapshot.withUnsafeBytes {
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<(position + count)]))
        }
        position += count
        return count
    }

    func seek(to offset: Int) throws(DurableFileError) {
        guard offset >= 0 else { throw DurableFileError(path: path, operation: "seek", code: EINVAL) }
        position = offset
    }
}

/// A file written in memory.
private final class MemoryWritableFile: WritableFile, @unchecked Sendable {
    let path: String
    private let system: MemoryFileSystem
    private let node: MemoryFileSystem.Node
    private let appending: Bool
    private let generation: Int
    private var position = 0
    private var closed = false

    init(system: MemoryFileSystem, node: MemoryFileSystem.Node, path: String, appending: Bool) {
        self.system = system
        self.node = node
        self.path = path
        self.appending = appending
        generation = system.generation
    }

    /// Runs `body` under the file system's lock, if this file is still usable.
    private func locked<R>(_ operation: String, _ body: () -> R) throws(DurableFileError) -> R {
        system.lock.lock()
        defer { system.lock.unlock() }
        if closed { throw DurableFileError(path: path, operation: operation, code: EBADF) }
        if generation != system.generation { throw DurableFileError(path: path, operation: operation, code: EIO) }
        return body()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) -> Int {
        try locked("write") {
            if appending { position = node.bytes.count }
            if position > node.bytes.count { node.resize(to: position) }
            let overlap = min(bytes.count, node.bytes.count - position)
            node.bytes.replaceSubrange(position..<(position + overlap), with: bytes)
            position += bytes.count
            return bytes.count
        }
    }

    func sync(dataOnly: Bool) throws(DurableFileError) {
        try locked("fsync") { node.synced = node.bytes }
    }

    func truncate(to size: Int) throws(DurableFileError) {
        try locked("truncate") { node.resize(to: size) }
    }

    func currentSize() throws(DurableFileError) -> Int {
        try locked("stat") { node.bytes.count }
    }

    func close() {
        system.lock.lock()
        defer { system.lock.unlock() }
        closed = true
    }
}
