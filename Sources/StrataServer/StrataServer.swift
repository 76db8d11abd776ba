//! The daemon's life cycle: bind, serve on one event loop, run background tasks, and shut
//! down gracefully (stop accepting, let replies in flight finish, close clients).

import Logging
import NIOCore
import NIOPosix
import StrataEngine

#if canImport(Glibc)
    import Glibc
#endif

/// A running Strata server.
public final class StrataServer: @unchecked Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let core: ServerCore
    private var serverChannels: [Channel] = []
    private let logger: Logger
    private let finished: EventLoopPromise<Void>

    /// Creates a server with `config`; call ``start()`` to bind.
    public init(config: ServerConfig, logger: Logger) {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.logger = logger
        let loop = group.next()
        self.core = ServerCore(config: config, logger: logger, eventLoop: loop)
        self.finished = loop.makePromise(of: Void.self)
    }

    /// The port bound (useful when configured with port 0).
    public var port: Int { core.boundPort }

    /// Binds every `bind` address and starts serving.
    ///
    /// - Throws: when no address can be bound.
    public func start() throws {
        let core = self.core
        core.config.maxClients = OpenFilesLimit.adjust(maxClients: core.config.maxClients, logger: logger)
        let config = core.config
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 511)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // Nothing is accepted until loading has begun (below): a command served before
            // would see an empty keyspace, and a write would be lost or miss the AOF.
            .serverChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: config.tcpKeepalive > 0 ? 1 : 0)
            .childChannelOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPIDLE)),
                value: SocketOptionValue(max(1, config.tcpKeepalive))
            )
            .childChannelOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPINTVL)),
                value: SocketOptionValue(max(1, config.tcpKeepalive / 3))
            )
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let fd = core.socketDescriptors.find(remote: channel.remoteAddress, local: channel.localAddress)
                    let session = core.makeSession(remote: channel.remoteAddress, local: channel.localAddress, fd: fd)
                    let handler = ConnectionHandler(core: core, session: session, allocator: channel.allocator)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        // Connections a busy script accepted itself join the server here.
        let group = self.group
        core.adoptSocket = { fd, unanswered, session in
            _ = ClientBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelOption(ChannelOptions.maxMessagesPerRead, value: 16)
                .channelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        core.socketDescriptors.remember(Int(fd))
                        let handler = ConnectionHandler(core: core, session: session, allocator: channel.allocator)
                        handler.pendingInput = unanswered
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .withConnectedSocket(fd)
        }
        var addresses: [(String, Bool)] = []
        for address in config.bind {
            let optional = address.hasPrefix("-")
            var host = optional ? String(address.dropFirst()) : address
            if host == "*" { host = "0.0.0.0" }
            if host == "::*" { host = "::" }
            addresses.append((host, optional))
        }
        var port = config.port
        for (host, optional) in addresses {
            do {
                let channel = try bootstrap.bind(host: host, port: port).wait()
                serverChannels.append(channel)
                if let bound = channel.localAddress?.port { port = bound }
            } catch {
                if optional { continue }
                throw error
            }
        }
        core.boundPort = port
        core.listeningDescriptors = SocketDescriptors.listening(port: port)
        let logger = self.logger
        try group.next().submit {
            ProcessMemory.enableBackgroundPurging()
            core.startupMemory = ProcessMemory.allocatedBytes()
            core.shutdownRequested = { [weak self] in self?.beginShutdown() }
            core.startBackgroundTasks()
            let fail: (String) -> Void = { message in
                logger.critical("\(message)")
                exit(1)
            }
            if let message = core.loadInitialUsers() {
                fail(message)
                return
            }
            if core.config.appendOnly {
                core.beginAppendOnlyLoading(failed: fail)
            } else {
                core.beginLoading(failed: fail)
            }
            core.followConfiguredPrimary()
        }.wait()
        for channel in serverChannels {
            try channel.setOption(ChannelOptions.autoRead, value: true).wait()
        }
        logger.notice("Ready to accept connections tcp on port \(port)")
    }

    /// Blocks until the server has shut down.
    public func waitUntilFinished() throws {
        try finished.futureResult.wait()
        try group.syncShutdownGracefully()
    }

    /// Starts a graceful shutdown from any thread (signal handlers): saves first when
    /// save points are configured, and keeps running if that save fails (as Redis).
    public func requestShutdown() {
        core.eventLoop.execute {
            guard self.core.prepareShutdown() else { return }
            self.beginShutdown()
        }
    }

    private var shuttingDown = false

    /// On the event loop: stop accepting, finish replies in flight, close clients.
    private func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        logger.notice("Received shutdown request, closing listening sockets and clients")
        let loop = core.eventLoop
        let closes = serverChannels.map { $0.close() }
        EventLoopFuture.andAllComplete(closes, on: loop).whenComplete { _ in
            for client in self.core.clients.values { client.terminate() }
            // Give in-flight replies a moment to drain, then finish.
            loop.scheduleTask(in: .milliseconds(100)) {
                self.logger.notice("Strata is now ready to exit, bye bye...")
                self.finished.succeed(())
            }
        }
    }
}
