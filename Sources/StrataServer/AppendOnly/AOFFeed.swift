//! The encoding side of the append-only log: effects from the write record become RESP
//! commands in one buffer, with `SELECT` when the database changes, `MULTI`/`EXEC` around
//! a command or transaction that logged more than one effect, and `#TS:` annotations once
//! a second when enabled. It counts every byte it ever took (a logical offset across files,
//! which `appendfsync always` compares with what is durable) and hands the buffer to a
//! writer. It does no I/O itself, so it is unit-tested on its bytes; a replication stream
//! is fed from the same effects.

import NIOCore
import StrataEngine
import StrataPersistence

/// Effects encoded and waiting to be written.
struct AOFFeed {
    /// Encoded commands not yet handed to the file.
    private(set) var buffer = ByteBufferAllocator().buffer(capacity: 64 * 1024)
    /// The database the last logged command applied to (-1 when the next file starts:
    /// its first command then selects).
    private(set) var selectedDb = -1
    /// Second of the last `#TS:` annotation.
    private var lastTimestamp: Int64 = 0
    /// Bytes ever taken into the buffer.
    private(set) var appendedOffset: UInt64 = 0

    /// Bytes waiting to be written.
    var pendingBytes: Int { buffer.readableBytes }

    /// Encodes `effects` (one command, or a transaction's); with `timestampSecond`, a
    /// `#TS:` line first when the second changed.
    ///
    /// - Returns: the bytes appended.
    @discardableResult
    mutating func append(_ effects: [Effect], timestampSecond: Int64?) -> Int {
        let before = buffer.writerIndex
        if let second = timestampSecond, second != lastTimestamp {
            lastTimestamp = second
            buffer.writeString("#TS:\(second)\r\n")
        }
        var selected = selectedDb
        AOFEncoding.append(effects, selectedDb: &selected, to: &buffer)
        selectedDb = selected
        let appended = buffer.writerIndex - before
        appendedOffset &+= UInt64(appended)
        return appended
    }

    /// Hands the pending bytes to `write`, which returns how many it wrote (and an error
    /// when it stopped short); those leave the buffer, the rest waits for the next try.
    mutating func write<Failure: Error>(_ write: (UnsafeRawBufferPointer) -> (Int, Failure?)) -> (Int, Failure?) {
        let (written, error) = buffer.withUnsafeReadableBytes { write($0) }
        buffer.moveReaderIndex(forwardBy: min(max(written, 0), buffer.readableBytes))
        if buffer.readableBytes == 0 { buffer.clear() }
        return (written, error)
    }

    /// A new file starts: its first command selects its database.
    mutating func startNewFile() {
        selectedDb = -1
    }
}
