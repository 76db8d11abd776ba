//! The daemon's life cycle: bind, serve on one event loop, run background tasks, and shut
//! down gracefully (stop accepting, let replies in flight finish, close clients).

import Logging
import NIOCore
import NIOPosix
import NIOSSL
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

    /// Binds every `bind` address (on `port`, and on `tls-port` when set) and starts serving.
    ///
    /// - Throws: when no address can be bound.
    public func start() throws {
        let core = self.core
        core.config.maxClients = OpenFilesLimit.adjust(maxClients: core.config.maxClients, logger: logger)
        let config = core.config
        // As Redis: a certificate that does not load stops the server before it listens.
        if !core.configureTLSAtStart() { exit(1) }
        switch SystemdNotifier.decide(
            supervised: config.inertValues["supervised"] ?? "no",
            environment: ["NOTIFY_SOCKET": getenv("NOTIFY_SOCKET").map { String(cString: $0) } ?? ""])
        {
        case .supervised(let notifier):
            core.systemd = notifier
            logger.notice(
                "Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit."
            )
        case .missingSocket:
            logger.warning(
                "systemd supervision requested or auto-detected, but NOTIFY_SOCKET environment variable not found!")
        case .notSupervised:
            break
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
        listenAddresses = addresses
        // `port 0` with a `tls-port` serves TLS only, as in Redis; without one, port 0 binds
        // a free port (tests).
        var port = config.port
        if config.port != 0 || config.tls.port == 0 {
            serverChannels = try bindAll(makeBootstrap(encrypted: false), port: &port)
        }
        if config.tls.port != 0 {
            var tlsPort = config.tls.port
            do {
                tlsChannels = try bindAll(makeBootstrap(encrypted: true), port: &tlsPort)
            } catch {
                logger.critical("Failed listening on port \(config.tls.port) (tls), aborting: \(error)")
                exit(1)
            }
        }
        core.boundPort = port
        if config.clusterEnabled {
            do {
                clusterChannels = try bindClusterBus(port: config.clusterBusPort)
            } catch {
                logger.critical("Failed listening on the cluster bus port \(config.clusterBusPort), aborting: \(error)")
                exit(1)
            }
        }
        if config.memcachedPort != 0 {
            guard config.memcachedDatabase < config.databases else {
                logger.critical(
                    "memcached-db \(config.memcachedDatabase) is not a database (databases is \(config.databases)), aborting"
                )
                exit(1)
            }
            do {
                memcachedChannels = try bindMemcached(port: config.memcachedPort)
            } catch {
                logger.critical("Failed listening on the memcached port \(config.memcachedPort), aborting: \(error)")
                exit(1)
            }
        }
        core.listeningDescriptors = port == 0 ? [] : SocketDescriptors.listening(port: port)
        core.tlsRuntime.relisten = { [unowned self] port in self.relistenTLS(port) }
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
            if core.config.clusterEnabled, let message = core.startCluster() {
                fail(message)
                return
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
            core.notifyReadyWhenLoaded()
            core.followConfiguredPrimary()
        }.wait()
        for channel in serverChannels + tlsChannels + clusterChannels + memcachedChannels {
            try channel.setOption(ChannelOptions.autoRead, value: true).wait()
        }
        if !serverChannels.isEmpty { logger.notice("Ready to accept connections tcp on port \(port)") }
        if !tlsChannels.isEmpty { logger.notice("Ready to accept connections tls on port \(config.tls.port)") }
        if !memcachedChannels.isEmpty {
            logger.notice("Ready to accept memcached connections on port \(config.memcachedPort)")
        }
    }

    /// Binds `bootstrap` on every listen address at `port` (0: the first bind picks one,
    /// the others use it); an address marked optional may fail.
    private func bindAll(_ bootstrap: ServerBootstrap, port: inout Int) throws -> [Channel] {
        var channels: [Channel] = []
        for (host, optional) in listenAddresses {
            do {
                let channel = try bootstrap.bind(host: host, port: port).wait()
                channels.append(channel)
                if let bound = channel.localAddress?.port { port = bound }
            } catch {
                if optional { continue }
                throw error
            }
        }
        return channels
    }

    /// The listeners' addresses (host, whether failing to bind it is allowed).
    private var listenAddresses: [(String, Bool)] = []
    /// The TLS listeners.
    private var tlsChannels: [Channel] = []
    /// The cluster bus listeners.
    private var clusterChannels: [Channel] = []
    /// The memcached listeners.
    private var memcachedChannels: [Channel] = []

    /// Binds the memcached listener on `memcached-bind`: each connection gets its handler.
    private func bindMemcached(port: Int) throws -> [Channel] {
        let core = self.core
        try group.next().submit { core.startMemcached() }.wait()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 511)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MemcachedConnection(core: core))
                }
            }
        var channels: [Channel] = []
        for host in core.config.memcachedBind {
            channels.append(try bootstrap.bind(host: host, port: port).wait())
        }
        return channels
    }

    /// Binds the cluster bus on every listen address: each accepted connection gets the
    /// frame decoder and a handler that hands its messages to the server.
    private func bindClusterBus(port: Int) throws -> [Channel] {
        let core = self.core
        let limit = core.clusterFrameLimit
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 511)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if core.config.tls.cluster {
                        // `tls-cluster yes`: the bus is TLS only, with the client listener's context.
                        guard let contexts = core.tlsRuntime.contexts else { throw ChannelError.ioOnClosedChannel }
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: contexts.server))
                        try channel.pipeline.syncOperations.addHandler(
                            TLSHandshakeGuard(
                                timeoutMilliseconds: core.config.tls.handshakeTimeoutMilliseconds, logger: core.logger))
                    }
                    let link = ClusterLink(node: nil, createdAt: core.clock.wallMilliseconds())
                    link.channel = channel
                    core.clusterAccepted(link)
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(ClusterBusFrameDecoder(limit: limit)))
                    try channel.pipeline.syncOperations.addHandler(ClusterBusHandler(core: core, link: link))
                }
            }
        var busPort = port
        return try bindAll(bootstrap, port: &busPort)
    }

    /// A listener's bootstrap; `encrypted` puts TLS (`NIOSSLServerHandler` with the
    /// current context, the file reader, the handshake guard) before the connection
    /// handler, which is the same for both.
    private func makeBootstrap(encrypted: Bool) -> ServerBootstrap {
        let core = self.core
        let config = core.config
        return ServerBootstrap(group: group)
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
                    let pipeline = channel.pipeline.syncOperations
                    if encrypted {
                        // Contexts are replaced by CONFIG SET; each connection keeps the one it began with.
                        guard let contexts = core.tlsRuntime.contexts else { throw ChannelError.ioOnClosedChannel }
                        try pipeline.addHandler(NIOSSLServerHandler(context: contexts.server))
                        try pipeline.addHandler(TLSFileRegionReader())
                        try pipeline.addHandler(
                            TLSHandshakeGuard(
                                timeoutMilliseconds: core.config.tls.handshakeTimeoutMilliseconds, logger: core.logger))
                    }
                    let fd = core.socketDescriptors.find(remote: channel.remoteAddress, local: channel.localAddress)
                    let session = core.makeSession(remote: channel.remoteAddress, local: channel.localAddress, fd: fd)
                    session.encrypted = encrypted
                    let handler = ConnectionHandler(
                        core: core, session: session, allocator: channel.allocator, encrypted: encrypted)
                    try pipeline.addHandler(handler)
                }
            }
    }

    /// On the event loop (`CONFIG SET tls-port`): closes the TLS listeners and listens on
    /// `port` instead (none for 0). The port is tried first with a plain socket so that a
    /// port in use is refused at once, as Redis refuses it.
    private func relistenTLS(_ port: Int) -> String? {
        if port != 0 {
            for (host, optional) in listenAddresses where !optional {
                if let reason = StrataServer.bindProbe(host: host, port: port) {
                    logger.warning("Could not create server TCP listening socket \(host):\(port): \(reason)")
                    return "Unable to listen on this port. Check server logs."
                }
            }
        }
        for channel in tlsChannels { channel.close(promise: nil) }
        tlsChannels = []
        guard port != 0 else { return nil }
        let bootstrap = makeBootstrap(encrypted: true)
        let logger = self.logger
        for (host, _) in listenAddresses {
            bootstrap.bind(host: host, port: port).whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    tlsChannels.append(channel)
                    channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                    logger.notice("Ready to accept connections tls on port \(port)")
                case .failure(let error):
                    logger.warning("Failed listening on port \(port) (tls): \(error)")
                }
            }
        }
        return nil
    }

    /// Whether `host:port` can be bound now: nil, or the system's reason.
    private static func bindProbe(host: String, port: Int) -> String? {
        guard let address = try? SocketAddress(ipAddress: host, port: port) else { return nil }
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        return result == 0 ? nil : String(cString: strerror(errno))
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
        core.notifyStopping()
        let loop = core.eventLoop
        let closes = (serverChannels + tlsChannels + memcachedChannels).map { $0.close() }
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
