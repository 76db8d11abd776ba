//! The destination of a diskless full sync (`repl-diskless-sync yes`, a replica that said
//! `REPLCONF capa eof`): the snapshot writer writes its RDB into this "file", which hands
//! the bytes to the replica's connection instead of the disk. The writer runs on the
//! snapshot queue and the socket belongs to the event loop, so the bytes cross in chunks
//! of 64 KiB, and the writer waits while more than a few chunks are on their way: a slow
//! replica slows the writer down instead of the primary's memory growing with the
//! snapshot. A connection that fails makes the next write fail, which abandons the save.

import NIOCore
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A write-only file system holding one file: the stream to a replica.
final class DisklessSnapshotSink: FileSystem, WritableFile, @unchecked Sendable {
    /// Sends one chunk to the replica, on the event loop; the future completes when the
    /// socket took it.
    typealias Deliver = (ByteBuffer) -> EventLoopFuture<Void>

    let path = "replica socket"
    private let eventLoop: EventLoop
    private let deliver: Deliver
    /// Bytes accumulated until a chunk is full (the writer's thread only).
    private var chunk = ByteBuffer()
    private static let chunkSize = 1024 * 1024
    /// Bytes handed to the loop and not yet taken by the socket, and whether a send
    /// failed; guarded by `condition`.
    private let condition = ThreadCondition()
    private var inFlight = 0
    private var failed = false
    private static let inFlightLimit = 8 * chunkSize
    /// Bytes sent, for the transfer's log line.
    private(set) var bytesSent = 0

    init(eventLoop: EventLoop, deliver: @escaping Deliver) {
        self.eventLoop = eventLoop
        self.deliver = deliver
        chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
    }

    // MARK: WritableFile

    func write(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) -> Int {
        chunk.writeBytes(bytes)
        if chunk.readableBytes >= Self.chunkSize { try sendChunk() }
        return bytes.count
    }

    /// The end of the snapshot: what is left of the last chunk goes out, and this waits
    /// until the socket took everything.
    func sync(dataOnly: Bool) throws(DurableFileError) {
        if chunk.readableBytes > 0 { try sendChunk() }
        condition.lock()
        defer { condition.unlock() }
        while inFlight > 0 && !failed { condition.wait() }
        if failed { throw brokenConnection }
    }

    private var brokenConnection: DurableFileError { DurableFileError(path: path, operation: "write", code: EPIPE) }

    private func sendChunk() throws(DurableFileError) {
        let buffer = chunk
        chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
        let size = buffer.readableBytes
        condition.lock()
        while inFlight > Self.inFlightLimit && !failed { condition.wait() }
        if failed {
            condition.unlock()
            throw brokenConnection
        }
        inFlight += size
        condition.unlock()
        bytesSent += size
        eventLoop.execute { [self] in
            deliver(buffer).whenComplete { [self] result in
                condition.lock()
                inFlight -= size
                if case .failure = result { failed = true }
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    func truncate(to size: Int) throws(DurableFileError) { throw unsupported("truncate") }
    func currentSize() throws(DurableFileError) -> Int { bytesSent + chunk.readableBytes }
    func close() {}

    // MARK: FileSystem

    func create(_ path: String) throws(DurableFileError) -> any WritableFile { self }
    func openForReading(_ path: String) throws(DurableFileError) -> any ReadableFile { throw unsupported("read") }
    func openForAppending(_ path: String) throws(DurableFileError) -> any WritableFile { throw unsupported("open") }
    func rename(_ source: String, to destination: String) throws(DurableFileError) {}
    func remove(_ path: String) {}
    func truncate(_ path: String, to size: Int) throws(DurableFileError) { throw unsupported("truncate") }
    func syncDirectory(_ path: String) {}
    func size(of path: String) -> Int? { nil }

    private func unsupported(_ operation: String) -> DurableFileError {
        DurableFileError(path: path, operation: operation, code: ENOTSUP)
    }
}
