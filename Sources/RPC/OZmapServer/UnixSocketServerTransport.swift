import GRPCCore
import Logging
import NIOCore
import NIOPosix
import ArcholtOZmapV1
import OZmapRPC
import OZmapWire
import Synchronization

/// GRPCCore's server transport over the framed Unix-socket protocol (docs/PROTOCOL.md):
/// each request envelope is one unary RPC stream. The wire is unchanged; what runs a
/// call — routing, interceptors, the generated handlers — is GRPCCore's.
///
/// Each connection's pipeline, one job per handler:
/// frame decoder → frame encoder → envelope codec → admission → call hand-off → protocol errors.
/// Calls run as child tasks of `listen`'s task group, at most `max_running_calls` at once,
/// a free slot going to the connection with the fewest outstanding (`CallScheduler`); calls of the
/// methods that wait on OZmap start at once, outside that limit. On graceful shutdown the transport
/// stops accepting, lets calls in flight finish (up to the grace period, then cancels
/// them), closes connections and removes its socket file.
public final class UnixSocketServerTransport: ServerTransport, Sendable {
    public typealias Bytes = [UInt8]

    public let configuration: ServerConfiguration
    public let stats: ServerStats
    private let logger: Logger
    private let group: any EventLoopGroup
    private let observer: CallObserver?
    private let tracker = CallTracker()
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let listening = Mutex<[CheckedContinuation<Void, any Error>]?>([])
    private let methods = Mutex<[String: GRPCCore.MethodDescriptor]>([:])
    private let scheduler: CallScheduler
    private let deadlines = CallDeadlines()
    /// Where each call runs, from decoding its request to handing its answer to the event loop
    /// (nil: the cooperative pool). The answer leaves before the call's task hops back, one
    /// thread hand-off less on the caller's path than an interceptor that moves only the handler.
    private let callExecutor: (any TaskExecutor)?
    private let serverChannel = Mutex<(any Channel)?>(nil)

    /// Told of every call as it is answered: the method's name ("unknown" for a path the service
    /// does not declare, so callers cannot grow the label set), its status code and how long it took.
    public typealias CallObserver = @Sendable (_ method: String, _ code: GRPCCore.Status.Code, _ duration: Duration) -> Void

    public init(configuration: ServerConfiguration, stats: ServerStats = ServerStats(), logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, observer: CallObserver? = nil,
                callExecutor: (any TaskExecutor)? = nil) {
        self.callExecutor = callExecutor
        self.configuration = configuration
        self.stats = stats
        self.logger = logger
        self.group = group
        self.observer = observer
        scheduler = CallScheduler(limit: configuration.maximumRunningCalls, waitingMethods: configuration.waitingMethods)
    }

    public func configure(context: GRPCServerContext) {
        methods.withLock { methods in
            for method in context.methods { methods["/\(method.fullyQualifiedMethod)"] = method }
        }
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

    /// Wakes `waitUntilListening`; a no-op once it has been woken.
    func markListening(_ error: (any Error)? = nil) {
        let waiters = listening.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    public func listen(streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void) async throws {
        let path = configuration.socketPath
        let channel: any Channel
        let identity: (device: UInt64, inode: UInt64)?
        do {
            if let inherited = configuration.inheritedSocket {
                // systemd's socket (docs/INSTALL.md): its file, mode and group are the socket unit's.
                channel = try await bootstrap().withBoundSocket(inherited).get()
                identity = nil
            } else {
                try SocketFile.prepare(path)
                channel = try await bootstrap().bind(unixDomainSocketPath: path).get()
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
        serverChannel.withLock { $0 = channel }
        markListening()

        let localPeer = "unix:\(path)"
        await withDiscardingTaskGroup { group in
            while let first = await scheduler.next() {
                group.addTask {
                    var next: AcceptedCall? = first
                    while let call = next {
                        await self.serve(call, localPeer: localPeer, streamHandler)
                        // A deadline cancelled this task: a new worker starts the next call.
                        next = self.scheduler.ended(call, takingNext: !Task.isCancelled)
                    }
                }
            }
            // Graceful shutdown began (or the task was cancelled): no new calls from here.
            scheduler.abandon() // none waits when the shutdown was graceful: every accepted call has started
            if !Task.isCancelled {
                logger.info("draining calls in flight", metadata: ["in_flight": "\(stats.snapshot.callsInFlight)"])
                if !(await tracker.drain(within: configuration.shutdownGracePeriod)) {
                    logger.warning("calls still running after the grace period; cancelling them and closing their connections",
                                   metadata: ["grace": "\(configuration.shutdownGracePeriod)"])
                    group.cancelAll()
                    // Cancelled handlers answer CANCELLED: give those answers a moment to reach the socket.
                    _ = await tracker.drain(within: .seconds(1))
                }
            }
            // Answered calls whose handlers ignored their deadline, and calls past the grace period.
            group.cancelAll()
            // Closed before the group waits for its children: a handler that ignores
            // cancellation keeps only its own task, not the connections, alive.
            try? await channel.close()
            let open = connections.withLock { Array($0.values) }
            for connection in open {
                try? await connection.close()
            }
        }
        SocketFile.remove(path, ifIdentity: identity) // nil for an inherited socket: its file stays
        logger.info("stopped", metadata: ["socket": "\(path)"])
    }

    public func beginGracefulShutdown() {
        scheduler.close()
        serverChannel.withLock { $0 }?.close(promise: nil)
    }

    /// Runs one call: GRPCCore's handler, in this task, under the call's deadline.
    private func serve(_ call: AcceptedCall, localPeer: String,
                       _ streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void) async {
        let started = call.accepted
        let request = call.request
        let observer = self.observer
        let known = methods.withLock { $0[request.method] }
        let respond: @Sendable (ResponseEnvelope) -> Void = { response in
            observer?(known?.method ?? "unknown", response.outcome.grpcCode, ContinuousClock.now - started)
            call.respond(response)
        }
        guard let method = known else {
            let service = methods.withLock { $0.values.first?.service.fullyQualifiedService } ?? "archolt.ozmap.v1.OZmapIntegration"
            return respond(ResponseEnvelope(callId: request.callId, status: ArcholtOZmapV1.Status(
                .unimplemented,
                "unknown method '\(request.method)'; ListMethods lists the methods this server knows (paths look like /\(service)/GetStatus)")))
        }
        let timeout = request.timeoutMs == 0 ? configuration.defaultCallTimeout : .milliseconds(Int64(request.timeoutMs))
        guard started + timeout > .now else {
            // It waited for a running slot past its deadline: the handler would answer too late.
            return respond(ResponseEnvelope(callId: request.callId, status: ArcholtOZmapV1.Status(
                .deadlineExceeded, "\(method.method) waited past its \(timeout.readable) timeout for a running slot (max_running_calls)")))
        }
        let writer = UnaryResponseWriter(callID: request.callId, deliver: respond)
        let stream = RPCStream(descriptor: method,
                               inbound: RPCAsyncSequence(wrapping: UnaryRequestParts(metadata: [:], payload: request.payload)),
                               outbound: RPCWriter.Closable(wrapping: writer))
        await withServerContextRPCCancellationHandle { handle in
            var callContext = ServerContext(descriptor: method, remotePeer: call.peer.map { "unix:\($0)" } ?? "unix:unknown",
                                            localPeer: localPeer, cancellation: handle)
            callContext.transportSpecific = UnixSocketCall(callID: request.callId, peer: call.peer, deadline: started + timeout)
            let context = callContext
            // The handler runs in this task; at the deadline the caller is answered and this task
            // cancelled. A handler that ignores cancellation is still answered then (its task ends later).
            // `task` outlives `withUnsafeCurrentTask`'s closure for `cancel()` only, which runs under
            // `deadlines`' lock before `remove` below returns: the task is alive then.
            nonisolated(unsafe) let task = withUnsafeCurrentTask { $0 }
            let deadline = deadlines.add(started + timeout) {
                handle.cancel()
                writer.answer(GRPCCore.Status(code: .deadlineExceeded,
                                              message: "\(method.method) did not finish within its \(timeout.readable) timeout"), [:])
                task?.cancel()
            }
            await withTaskExecutorPreference(callExecutor) { await streamHandler(stream, context) }
            deadlines.remove(deadline)
        }
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
                            ? GRPCCore.RPCError(code: .resourceExhausted, message: "ozmapd serves at most \(configuration.maximumConnections) connections at once (max_connections); close idle ones or retry later")
                            : nil)
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(
                            maximumFrameLength: configuration.maximumFrameLength,
                            incompleteFrameTimeout: .nanoseconds(Int64(configuration.incompleteFrameTimeout / .nanoseconds(1))))),
                        MessageToByteHandler(LengthPrefixedFrameEncoder()),
                        EnvelopeCodecHandler.server(),
                        AdmissionHandler(refusal: refusal),
                    ])
                    if let idle = configuration.idleTimeout {
                        try channel.pipeline.syncOperations.addHandler(IdleConnectionHandler(timeout: .nanoseconds(Int64(idle / .nanoseconds(1)))))
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        CallDispatchHandler(submit: { self.scheduler.submit($0) }, dropQueued: { self.scheduler.dropWaiting(of: $0) }, peer: peer,
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
