//! Reads the commands of one append-only file, streaming: RESP multibulk requests parsed by
//! the same parser the network uses, `#` annotation lines (`#TS:<unix seconds>`) skipped,
//! and `MULTI … EXEC` delivered only once the `EXEC` is read, so a transaction cut short
//! by a crash is never half applied. A file that stops in the middle of a command (or of a
//! transaction) is reported as truncated with the offset up to which it is whole; anything
//! else that is not RESP is damage, reported with the offset where the bad command starts.

import NIOCore
import RESP
import StrataEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What reading one AOF file found.
public struct AOFReadResult: Sendable, Equatable {
    /// Commands delivered (transactions count their commands, not MULTI/EXEC).
    public var commands = 0
    /// The offset up to which the file holds whole commands (and whole transactions).
    public var validBytes = 0
    /// The file's size.
    public var fileBytes = 0
    /// Why the tail after `validBytes` was not used, when the file ends mid-command.
    public var truncation: String?
    /// The last `#TS:` annotation seen before `validBytes` (Unix seconds).
    public var lastTimestamp: Int64?
    /// The first `#TS:` annotation after `until`, where reading stopped (point-in-time reads).
    public var stoppedAtTimestamp: Int64?

    /// An empty result.
    public init() {}
}

/// A command the replay refused (unknown, wrong arity): damage in the file.
public struct AOFCommandRejected: Error {
    /// Why.
    public var reason: String

    /// A refusal.
    public init(_ reason: String) { self.reason = reason }
}

/// Streams the commands of an AOF file.
public enum AOFCommandReader {
    /// Reads `path` on `fileSystem` from `start`, calling `body` for each command in order.
    ///
    /// - Parameters:
    ///   - start: where the commands begin (after an RDB preamble).
    ///   - until: Unix seconds: stop before the first `#TS:` annotation later than it (the
    ///     state as of that moment, for point-in-time restores).
    /// - Throws: ``FileDamageError`` for damage (not for a truncated tail, which is reported
    ///   in the result) and for a file that cannot be read, or what `body` throws.
    public static func read(
        path: String, fileSystem: any FileSystem = POSIXFileSystem.shared, from start: Int = 0, until: Int64? = nil,
        _ body: ([Bytes]) throws -> Void
    ) throws -> AOFReadResult {
        let file: any ReadableFile
        do {
            file = try fileSystem.openForReading(path)
        } catch {
            throw FileDamageError(path: path, offset: 0, reason: String(cString: strerror(error.code)))
        }
        do {
            if start > 0 { try file.seek(to: start) }
        } catch {
            throw FileDamageError(path: path, offset: start, reason: String(cString: strerror(error.code)))
        }
        var result = AOFReadResult()
        result.fileBytes = file.size
        var limits = RESPParserLimits()
        limits.maxBulkLength = Int(Int32.max) * 4
        var parser = RESPRequestParser<Bytes>(limits: limits)
        var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
        var bufferBase = start  // file offset of buffer index 0
        var commandStart = start
        var transaction: [[Bytes]]?
        var transactionStart = start
        var exhausted = false
        result.validBytes = start

        func fill() throws {
            if buffer.readerIndex > 1 << 20 {
                bufferBase += buffer.readerIndex
                buffer.discardReadBytes()
            }
            let offset = bufferBase + buffer.writerIndex
            let n: Int
            do {
                n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) {
                    (raw) throws(DurableFileError) -> Int in try file.read(into: raw)
                }
            } catch {
                throw FileDamageError(path: path, offset: offset, reason: String(cString: strerror(error.code)))
            }
            if n == 0 { exhausted = true }
        }

        func damage(_ reason: String) -> FileDamageError {
            FileDamageError(path: path, offset: commandStart, reason: reason)
        }

        while true {
            if !parser.isMidRequest {
                commandStart = bufferBase + buffer.readerIndex
                if buffer.readableBytes == 0 {
                    if exhausted { break }
                    try fill()
                    continue
                }
                let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self)
                if first == UInt8(ascii: "#") {
                    // An annotation: one line.
                    guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                        if exhausted { break }
                        try fill()
                        continue
                    }
                    let line = buffer.readString(length: newline - buffer.readerIndex + 1) ?? ""
                    if transaction == nil, line.hasPrefix("#TS:"), let ts = Int64(line.dropFirst(4).trimmingSuffix()) {
                        if let until, ts > until {
                            result.stoppedAtTimestamp = ts
                            return result
                        }
                        result.lastTimestamp = ts
                    }
                    if transaction == nil { result.validBytes = bufferBase + buffer.readerIndex }
                    continue
                }
                guard first == UInt8(ascii: "*") else {
                    throw damage("not a RESP command (byte 0x\(String(first ?? 0, radix: 16)) where '*' was expected)")
                }
            }
            let command: [Bytes]?
            do {
                command = try parser.next(&buffer)
            } catch let error as RESPProtocolError {
                throw damage("bad RESP: \(error.message)")
            }
            guard let command else {
                if exhausted { break }
                try fill()
                continue
            }
            guard let name = command.first else { throw damage("empty command") }
            if name.equalsIgnoringCase("multi") {
                if transaction != nil { throw damage("MULTI inside MULTI") }
                transaction = []
                transactionStart = commandStart
            } else if name.equalsIgnoringCase("exec") {
                guard let queued = transaction else { throw damage("EXEC without MULTI") }
                transaction = nil
                for (i, queuedCommand) in queued.enumerated() {
                    do {
                        try body(queuedCommand)
                    } catch let rejected as AOFCommandRejected {
                        throw FileDamageError(
                            path: path, offset: transactionStart,
                            reason: "\(rejected.reason) (command \(i + 1) of a MULTI)")
                    }
                }
                result.commands += queued.count
                result.validBytes = bufferBase + buffer.readerIndex
            } else if transaction != nil {
                transaction?.append(command)
            } else {
                do {
                    try body(command)
                } catch let rejected as AOFCommandRejected {
                    throw damage(rejected.reason)
                }
                result.commands += 1
                result.validBytes = bufferBase + buffer.readerIndex
            }
        }
        let end = bufferBase + buffer.writerIndex
        if result.validBytes < end {
            result.truncation =
                transaction != nil && !parser.isMidRequest && buffer.readableBytes == 0
                ? "the file ends inside a MULTI/EXEC block" : "the file ends in the middle of a command"
        }
        return result
    }
}

/// Keys and arguments are parsed straight into ``Bytes``, for the network and the AOF alike,
/// and logged commands are encoded from them.
extension Bytes: RESPArgument, RESPEncodableArgument {}

extension Substring {
    fileprivate func trimmingSuffix() -> Substring {
        var s = self[...]
        while let last = s.last, last.isNewline || last == " " { s = s.dropLast() }
        return s
    }
}
