//! Watches a TLS connection until its handshake completes: a handshake that fails (no
//! client certificate when one is required, a certificate from another authority,
//! plaintext sent to the TLS port) is logged as Redis logs it, "Error accepting a client
//! connection: <reason>", and the connection closed; one that does not complete within
//! `tls-handshake-timeout` (Strata's own; Redis has none) is closed too, so a peer that
//! connects and stays silent cannot hold a connection slot forever. Once the handshake is
//! done the guard leaves the pipeline: it costs nothing per command.

import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Sits after `NIOSSLServerHandler` until the handshake completes.
final class TLSHandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let timeout: TimeAmount?
    private let logger: Logger
    private var timer: Scheduled<Void>?
    private var finished = false

    /// - Parameter timeoutMilliseconds: 0 for no limit.
    init(timeoutMilliseconds: Int, logger: Logger) {
        self.timeout = timeoutMilliseconds > 0 ? .milliseconds(Int64(timeoutMilliseconds)) : nil
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    private func startTimer(_ context: ChannelHandlerContext) {
        guard timer == nil, !finished, let timeout else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            guard !handler.finished else { return }
            handler.finished = true
            handler.logger.warning(
                "Error accepting a client connection: TLS handshake not completed within \(timeout.nanoseconds / 1_000_000) ms (tls-handshake-timeout)"
            )
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent, !finished {
            finished = true
            timer?.cancel()
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !finished else {
            context.fireErrorCaught(error)
            return
        }
        finished = true
        timer?.cancel()
        logger.warning("Error accepting a client connection: \(TLSContextBuilder.describe(error))")
        context.close(promise: nil)
    }
}
