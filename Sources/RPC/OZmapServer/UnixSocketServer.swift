import Logging
import Synchronization
import NIOCore
import NIOPosix
import OZmapRPC
import OZmapWire
import ServiceLifecycle

/// The RPC server on a Unix socket, as a lifecycle `Service`: it binds in
/// `run()`, and on graceful shutdown stops accepting, lets calls in flight
/// finish (up to the grace period), closes connections and removes its socket file.
///
/// Each connection's pipeline, one job per handler:
/// frame decoder → frame encoder → envelope codec → admission → call dispatch → protocol errors.
public final class UnixSocketServer: Service, Sendable {
    public let configuration: ServerConfiguration
    public let stats: ServerStats
    private let dispatcher: RPCDispatcher
    private let logger: Logger
    private let group: any EventLoopGroup
    private let tracker = CallTracker()
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let listening = Mutex<[CheckedContinuation<Void, any Error>]?>([])

    public init(configuration: ServerConfiguration, dispatcher: RPCDispatcher, stats: ServerStats = ServerStats(),
                logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.dispatcher = dispatcher
        self.stats = stats
        self.logger = logger
        self.group = group
    }

    /// Returns once the socket accepts connections (for tests and start-up ordering).
    public func waitUntilListening() async throws {
        try await withCheckedThrowingContinuation { continuation in
            let ready = listening.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters!.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func markListening(_ error: (any Error)? = nil) {
        let waiters = listening.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    public func run() async throws {
        let path = configuration.socketPath
        let serverChannel: any Channel
        let identity: (device: UInt64, inode: UInt64)?
        do {
            if let inherited = configuration.inheritedSocket {
                // systemd's socket (docs/INSTALL.md): its file, mode and group are the socket unit's.
                serverChannel = try await bootstrap().withBoundSocket(inherited).get()
                identity = nil
            } else {
                try SocketFile.prepare(path)
                serverChannel = try await bootstrap().bind(unixDomainSocketPath: path).get()
                identity = SocketFile.identity(path)
                try SocketFile.applyPermissions(path, mode: configuration.socketMode, group: configuration.socketGroup)
            }
        } catch {
            markListening(error)
            throw error
        }
        if let inherited = configuration.inheritedSocket {
            logger.info("listening on the socket inherited from systemd", metadata: ["socket": "\(path)", "fd": "\(inherited)"])
        } else {
            logger.info("listening", metadata: ["socket": "\(path)", "mode": "\(String(configuration.socketMode, radix: 8))"])
        }
        markListening()

        await withGracefulShutdownHandler {
            try? await serverChannel.closeFuture.get()
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        try? await serverChannel.close()

        logger.info("draining calls in flight", metadata: ["in_flight": "\(stats.snapshot.callsInFlight)"])
        if !(await tracker.drain(within: configuration.shutdownGracePeriod)) {
            logger.warning("calls still running after the grace period; closing their connections",
                           metadata: ["grace": "\(configuration.shutdownGracePeriod)"])
        }
        let open = connections.withLock { Array($0.values) }
        for channel in open {
            try? await channel.close()
        }
        SocketFile.remove(path, ifIdentity: identity) // nil for an inherited socket: its file stays
        logger.info("stopped", metadata: ["socket": "\(path)"])
    }

    private func bootstrap() -> ServerBootstrap {
        let configuration = self.configuration
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                PeerCredentials.read(channel).flatMapThrowing { peer in
                    let open = self.track(channel, peer: peer)
                    let refusal = configuration.peerPolicy.denial(for: peer)
                        ?? (open > configuration.maximumConnections
                            ? RPCError(.resourceExhausted, "ozmapd serves at most \(configuration.maximumConnections) connections at once (max_connections); close idle ones or retry later")
                            : nil)
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(
                            maximumFrameLength: configuration.maximumFrameLength,
                            incompleteFrameTimeout: .nanoseconds(Int64(configuration.incompleteFrameTimeout / .nanoseconds(1))))),
                        MessageToByteHandler(LengthPrefixedFrameEncoder()),
                        EnvelopeCodecHandler(serverCodec: .ozmap),
                        AdmissionHandler(refusal: refusal),
                    ])
                    if let idle = configuration.idleTimeout {
                        try channel.pipeline.syncOperations.addHandler(IdleConnectionHandler(timeout: .nanoseconds(Int64(idle / .nanoseconds(1)))))
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        CallDispatchHandler(dispatcher: self.dispatcher, peer: peer,
                                            maximumInFlight: configuration.maximumCallsInFlightPerConnection,
                                            tracker: self.tracker, stats: self.stats),
                        ProtocolErrorHandler(logger: self.logger),
                    ])
                }
            }
    }

    /// Registers the connection; returns how many are open, this one included.
    private func track(_ channel: any Channel, peer: PeerIdentity?) -> Int {
        let key = ObjectIdentifier(channel)
        let open = connections.withLock { connections in
            connections[key] = channel
            return connections.count
        }
        stats.connectionOpened()
        logger.debug("connection opened", metadata: ["peer": "\(peer.map(\.description) ?? "unknown")"])
        channel.closeFuture.whenComplete { [self] _ in
            connections.withLock { _ = $0.removeValue(forKey: key) }
            stats.connectionClosed()
        }
        return open
    }
}
