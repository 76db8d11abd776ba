//! A connection of the cluster bus, in either direction: frames are cut by the length in
//! their first 8 bytes (a wrong signature, or a length below a header or above the
//! limit, closes the link with Redis's log line), decoded, and handed to the server on the
//! event loop. Outgoing links belong to the node they were opened to; incoming ones
//! answer whoever pings.

import Logging
import NIOCore
import StrataCluster

/// One bus connection.
final class ClusterLink {
    /// The channel once connected (nil while an outgoing connection is being made).
    var channel: Channel?
    /// For an outgoing link, the node it was opened to (renamed with the node after a
    /// handshake); nil for an incoming link.
    var node: String?
    /// Unix ms when the link was created.
    let createdAt: Int64
    /// Bytes sent so far.
    var sentBytes = 0
    /// Bytes handed to the channel and not yet written to the socket: the link's send
    /// buffer (`CLUSTER LINKS`, `cluster-link-sendbuf-limit`).
    private(set) var pendingBytes = 0

    /// What a link costs before anything waits in it, bytes: the record and the first
    /// receive buffer (Redis counts its link record and 1 KiB of receive buffer).
    static let baseMemory = 1_024 + 128

    init(node: String?, createdAt: Int64) {
        self.node = node
        self.createdAt = createdAt
    }

    var isInbound: Bool { node == nil }

    /// Sends `message` when connected.
    func send(_ message: ClusterBusMessage) {
        guard let channel else { return }
        let bytes = message.encoded()
        sentBytes &+= bytes.count
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        pendingBytes &+= bytes.count
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { [self] _ in pendingBytes &-= bytes.count }
        channel.writeAndFlush(buffer, promise: written)
    }

    func close() {
        channel?.close(promise: nil)
        channel = nil
    }
}

/// Cuts the byte stream into whole bus frames.
struct ClusterBusFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// The largest frame accepted.
    let limit: Int

    /// The stream did not start with `RCmb` and a plausible length.
    struct BadFrame: Error {}

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 8 else { return .needMoreData }
        let length = buffer.withUnsafeReadableBytes {
            ClusterBusMessage.frameLength(UnsafeRawBufferPointer(rebasing: $0[0..<8]), limit: limit)
        }
        guard case .success(let frameLength) = length else { throw BadFrame() }
        guard buffer.readableBytes >= frameLength, let frame = buffer.readSlice(length: frameLength) else {
            return .needMoreData
        }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Hands decoded bus messages of one link to the server.
final class ClusterBusHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private unowned let core: ServerCore
    let link: ClusterLink

    init(core: ServerCore, link: ClusterLink) {
        self.core = core
        self.link = link
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let decoded = frame.withUnsafeReadableBytes { ClusterBusMessage.decode($0) }
        let peer = context.channel.remoteAddress?.ipAddress ?? ""
        let local = context.channel.localAddress?.ipAddress ?? ""
        switch decoded {
        case .success(let message):
            core.clusterReceived(message, on: link, peerIP: peer, localIP: local)
        case .failure(let error):
            core.clusterDropped(error, on: link)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is ClusterBusFrameDecoder.BadFrame {
            core.logger.warning("Bad message length or signature received from Cluster bus.")
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.clusterLinkClosed(link)
    }
}
