//! One memcached client: bytes in, requests cut by `MemcachedTextParser`, answers written
//! once per read. Memory stays bounded: the parser closes a connection whose line grows
//! past memcached's limit, data blocks are bounded by the item size, a refused block is
//! skipped as it arrives rather than kept, and a client that does not read its answers
//! stops being read until the socket drains (the channel's write watermarks). A binary
//! protocol request (first byte 0x80) is logged and the connection closed.

import Logging
import NIOCore
import StrataMemcached

final class MemcachedConnection: ChannelInboundHandler, HeldRepliesClient {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private unowned let core: ServerCore
    /// Bytes received and not yet parsed.
    private var pending: [UInt8] = []
    /// Bytes of a refused data block still to skip.
    private var skipping = 0
    /// Whether anything was received yet (the first byte tells the protocol).
    private var started = false
    private var closing = false
    /// The AOF offset this client's last write ended at: with `appendfsync always` its
    /// answers wait until the log is synced that far.
    var durableOffsetNeeded: UInt64 = 0
    /// Answers waiting for that fsync (input waits with them, so their order holds).
    private var held: [UInt8]?
    /// How many bytes at the start of `pending` are known to hold no line end: a line
    /// trickling in is scanned once, not again with every byte.
    private var scannedWithoutLineEnd = 0
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func releaseHeldReplies() {
        guard let context, let answers = held else { return }
        held = nil
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: answers)), promise: nil)
        if closing { return close(context) }
        process(context)
        resumeReadingIfIdle(context)
    }

    /// Reads again unless answers are held or the socket is not taking them.
    private func resumeReadingIfIdle(_ context: ChannelHandlerContext) {
        if held == nil && !closing && context.channel.isWritable {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }

    private func pauseReading(_ context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    }

    init(core: ServerCore) {
        self.core = core
    }

    func channelActive(context: ChannelHandlerContext) {
        core.memcached?.connections += 1
        core.memcached?.stats.totalConnections &+= 1
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.memcached?.connections -= 1
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, let memcached = core.memcached else { return }
        var buffer = unwrapInboundIn(data)
        memcached.stats.bytesRead &+= buffer.readableBytes
        if !started, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
            started = true
            if first == 0x80 {
                let peer = context.remoteAddress.map { "\($0)" } ?? "?"
                core.logger.warning(
                    "memcached binary protocol request from \(peer) refused: only the text protocol is served; closing")
                return close(context)
            }
        }
        if skipping > 0 {
            let skipped = min(skipping, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: skipped)
            skipping -= skipped
        }
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { pending += bytes }
        process(context)
    }

    /// Answers what `pending` holds, a bounded amount at a time: when the socket stops
    /// taking answers, the rest waits (and the client is not read) until it drains.
    private func process(_ context: ChannelHandlerContext) {
        guard let memcached = core.memcached, held == nil else { return }
        let now = core.clock.wallMilliseconds()
        while !closing {
            var out: [UInt8] = []
            out.reserveCapacity(min(pending.count, MemcachedConnection.answerBatch))
            var offset = 0
            parsing: while offset < pending.count && skipping == 0 && out.count < MemcachedConnection.answerBatch {
                // A line still without its end: decided from what is known, not rescanned.
                if offset == 0 && scannedWithoutLineEnd > 0 {
                    guard pending[scannedWithoutLineEnd...].contains(UInt8(ascii: "\n")) else {
                        scannedWithoutLineEnd = pending.count
                        if memcached.parser.withoutLineEnd(pending[...]) == .close { closing = true }
                        break parsing
                    }
                    scannedWithoutLineEnd = 0
                }
                let result = memcached.parser.parse(pending[offset...])
                if result == .needMore && !pending[offset...].contains(UInt8(ascii: "\n")) {
                    // Remembered once the consumed bytes are dropped below.
                    scannedWithoutLineEnd = -(pending.count - offset)
                }
                switch result {
                case .needMore:
                    break parsing
                case .command(let command, let consumed):
                    offset += consumed
                    let logged = core.aof.feed.appendedOffset
                    let outcome = core.memcachedExecute(command, now: now)
                    // A read may have expired a key: its deletion goes out now, not later.
                    core.commitWrites(now: now)
                    if core.aof.feed.appendedOffset != logged { durableOffsetNeeded = core.aof.feed.appendedOffset }
                    out += outcome.reply
                    if outcome.close {
                        closing = true
                        break parsing
                    }
                case .reply(let line, let consumed):
                    offset += consumed
                    if let line { out += Array((line + "\r\n").utf8) }
                case .skip(let line, let consumed, let skip, let removing):
                    offset += consumed
                    if let line { out += Array((line + "\r\n").utf8) }
                    if let removing { core.memcachedRemoveAfterRefusedSet(removing, now: now) }
                    if line?.hasPrefix("SERVER_ERROR object too large") == true { memcached.stats.storeTooLarge &+= 1 }
                    let available = min(skip, pending.count - offset)
                    offset += available
                    skipping = skip - available
                case .close:
                    closing = true
                    break parsing
                }
            }
            pending.removeFirst(offset)
            if scannedWithoutLineEnd < 0 { scannedWithoutLineEnd = -scannedWithoutLineEnd }
            if !out.isEmpty && core.mustHoldReplies(until: durableOffsetNeeded) {
                // Acknowledged only once durable: the answers and the rest of the input wait.
                memcached.stats.bytesWritten &+= out.count
                held = out
                pauseReading(context)
                core.holdUntilDurable(self)
                return
            }
            if !out.isEmpty {
                memcached.stats.bytesWritten &+= out.count
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: out)), promise: nil)
            }
            if closing { return close(context) }
            // A client that does not read its answers is not read either until they drain.
            if !context.channel.isWritable {
                pauseReading(context)
                return
            }
            // Done, or waiting for more bytes: read on.
            if out.count < MemcachedConnection.answerBatch { break }
        }
    }

    /// Answers are written in batches of about this many bytes.
    static let answerBatch = 256 * 1024

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            process(context)
            resumeReadingIfIdle(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func close(_ context: ChannelHandlerContext) {
        closing = true
        pending = []
        context.close(promise: nil)
    }
}
