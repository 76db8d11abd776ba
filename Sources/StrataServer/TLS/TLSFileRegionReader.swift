//! Sends files over TLS. The server writes snapshots and held replication streams as
//! `FileRegion`s (sendfile); TLS must encrypt every byte, so `NIOSSLHandler` takes only
//! buffers. This handler, placed just after it in TLS pipelines, reads a file region in
//! chunks and writes them as buffers, the next chunk once the previous one was written (so
//! a large snapshot never sits in memory whole), holding every later write and flush until
//! the file is done so that the stream keeps its order. Plain TCP pipelines keep sendfile.

import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns `FileRegion` writes into buffer writes, in order.
final class TLSFileRegionReader: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = ByteBuffer

    /// Bytes read and written per step.
    static let chunkSize = 256 * 1024

    private struct Current {
        var region: FileRegion
        var promise: EventLoopPromise<Void>?
    }

    private var current: Current?
    /// Writes (and flushes, as nil data) issued while a file is being sent.
    private var held: CircularBuffer<(data: IOData?, promise: EventLoopPromise<Void>?)> = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let io = unwrapOutboundIn(data)
        if current != nil || !held.isEmpty {
            held.append((io, promise))
            return
        }
        pass(io, promise: promise, context: context)
    }

    func flush(context: ChannelHandlerContext) {
        if current != nil || !held.isEmpty {
            held.append((nil, nil))
            return
        }
        context.flush()
    }

    private func pass(_ io: IOData, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        switch io {
        case .byteBuffer(let buffer):
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .fileRegion(let region):
            current = Current(region: region, promise: promise)
            sendChunk(context)
        }
    }

    /// Reads and writes the next chunk of the current file; when it is done, releases what
    /// was held behind it.
    private func sendChunk(_ context: ChannelHandlerContext) {
        guard var file = current else { return }
        let remaining = file.region.readableBytes
        if remaining == 0 {
            current = nil
            file.promise?.succeed(())
            releaseHeld(context)
            return
        }
        let count = min(remaining, TLSFileRegionReader.chunkSize)
        var buffer = context.channel.allocator.buffer(capacity: count)
        let offset = file.region.readerIndex
        let read: Int
        do {
            read = try file.region.fileHandle.withUnsafeFileDescriptor { fd in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                    let n = pread(fd, raw.baseAddress, count, off_t(offset))
                    return n > 0 ? n : 0
                }
            }
        } catch {
            return fail(error, context)
        }
        guard read > 0 else { return fail(IOError(errnoCode: EIO, reason: "reading a file to send over TLS"), context) }
        file.region.moveReaderIndex(forwardBy: read)
        current = file
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { result in
            // On a later turn: a write that completes at once would otherwise recurse once
            // per chunk.
            context.eventLoop.execute {
                let (reader, context) = loopBound.value
                switch result {
                case .success: reader.sendChunk(context)
                case .failure(let error): reader.fail(error, context)
                }
            }
        }
    }

    private func releaseHeld(_ context: ChannelHandlerContext) {
        while current == nil, let (data, promise) = held.popFirst() {
            if let data {
                pass(data, promise: promise, context: context)
            } else {
                context.flush()
            }
        }
    }

    private func fail(_ error: Error, _ context: ChannelHandlerContext) {
        current?.promise?.fail(error)
        current = nil
        while let (_, promise) = held.popFirst() { promise?.fail(error) }
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        current?.promise?.fail(ChannelError.ioOnClosedChannel)
        current = nil
        while let (_, promise) = held.popFirst() { promise?.fail(ChannelError.ioOnClosedChannel) }
    }
}
