//! The replication stream held for a replica until its snapshot is sent (and, diskless,
//! loaded): a sync under a write load holds as much stream as the sync lasts, hundreds of
//! MB for a large keyspace. The first few MiB stay in memory, in chunks filled in turn;
//! the rest goes to a temporary file in the data directory — the page cache, not the
//! primary's memory — and is sent from it with sendfile after the chunks. Redis keeps it
//! all in memory; with no fork, this and the copy-on-write of the keyspace's tables are
//! what a full sync costs the primary.

import NIOCore
import StrataPersistence

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The stream held for one syncing replica.
final class HeldStream {
    /// What was held, handed over: the chunks, then the file (its path and size; the
    /// receiver removes it once opened).
    struct Contents {
        var chunks: [ByteBuffer] = []
        var file: (path: String, bytes: Int)?
    }

    /// In-memory chunks, in order, then what went to the file.
    private(set) var chunks: [ByteBuffer] = []
    /// The temporary file holding what came after the chunks, and its size.
    private(set) var filePath: String?
    private(set) var fileBytes = 0
    private var fileDescriptor: Int32 = -1
    /// Everything held (counts toward the replica's output-buffer limit).
    private(set) var bytes = 0
    /// Bytes kept in memory before the rest goes to the file.
    let memoryLimit: Int
    private static let chunkSize = 4 << 20
    private let makePath: () -> String

    init(memoryLimit: Int = 8 << 20, makePath: @escaping () -> String) {
        self.memoryLimit = memoryLimit
        self.makePath = makePath
    }

    deinit { discard() }

    /// Holds a pass's stream. Throws when the file cannot take it (the replica must then
    /// sync again: what is held would have a hole).
    func append(_ buffer: ByteBuffer) throws {
        var buffer = buffer
        let size = buffer.readableBytes
        if fileDescriptor < 0 && bytes + size <= memoryLimit {
            if let last = chunks.indices.last, chunks[last].writableBytes >= size {
                chunks[last].writeBuffer(&buffer)
            } else {
                var chunk = ByteBufferAllocator().buffer(capacity: max(Self.chunkSize, size))
                chunk.writeBuffer(&buffer)
                chunks.append(chunk)
            }
            bytes += size
            return
        }
        if fileDescriptor < 0 {
            let path = makePath()
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw DurableFileError(path: path, operation: "open", code: errno) }
            fileDescriptor = descriptor
            filePath = path
        }
        try buffer.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = write(fileDescriptor, base + offset, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    throw DurableFileError(path: filePath ?? "", operation: "write", code: written < 0 ? errno : EIO)
                }
                offset += written
            }
        }
        fileBytes += size
        bytes += size
    }

    /// Hands over what is held. Nothing is held afterwards.
    func take() -> Contents {
        if fileDescriptor >= 0 { close(fileDescriptor) }
        let taken = Contents(chunks: chunks, file: filePath.map { ($0, fileBytes) })
        fileDescriptor = -1
        filePath = nil
        chunks = []
        fileBytes = 0
        bytes = 0
        return taken
    }

    /// Drops what is held (the replica left), removing the file.
    func discard() {
        if let path = take().file?.path { unlink(path) }
    }
}
