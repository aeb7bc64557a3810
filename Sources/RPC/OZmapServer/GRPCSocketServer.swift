import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Standard gRPC — HTTP/2 without TLS — on a second Unix socket (`grpc_socket`), as a lifecycle
/// `Service`: GRPCCore's server over grpc-swift-nio-transport's `HTTP2ServerTransport.Posix`,
/// serving the same service with the same interceptors as the framed socket, so that any
/// language's stock gRPC library (and grpcurl) can call ozmapd.
///
/// What differs from the framed socket (docs/OPERATIONS.md, "Standard gRPC"):
/// - the peer allowlist is checked on each accepted connection, before HTTP/2 begins, through
///   the transport's `onAcceptTCPConnection` callback: a peer not listed is disconnected (its
///   client sees UNAVAILABLE, ozmapd logs who was refused) rather than told PERMISSION_DENIED;
/// - a call's deadline is its `grpc-timeout` header: GRPCCore cancels the handler when it
///   runs out, and the handlers see it as `context.callDeadline` (`CallDeadlineInterceptor`);
///   a call without one gets no deadline from the transport, only the handlers' default waits;
/// - `max_frame_bytes`, `max_calls_in_flight` and `idle_timeout_ms` become the HTTP/2 server's
///   largest request message, concurrent streams per connection and idle connection time;
///   `max_running_calls` and the fair scheduler, `max_connections` and `frame_timeout_ms` are
///   the framed transport's and do not apply here.
public final class GRPCSocketServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var socketPath: String
        /// As the framed socket's: the file's mode, and its group (nil keeps the process's).
        public var socketMode: UInt32 = 0o660
        public var socketGroup: String?
        public var peerPolicy = PeerPolicy()
        /// How long shutdown waits for calls in flight before cancelling them.
        public var shutdownGracePeriod: Duration = .seconds(10)
        /// The framed socket's limits in HTTP/2's terms: the largest request message
        /// (`max_frame_bytes`), the streams one connection may have open (`max_calls_in_flight`),
        /// and how long a connection with none may stay (`idle_timeout_ms`; nil: for ever).
        public var maximumRequestBytes = 4 << 20
        public var maximumCallsInFlightPerConnection = 128
        public var idleTimeout: Duration? = .seconds(900)

        public init(socketPath: String) {
            self.socketPath = socketPath
        }
    }

    public let configuration: Configuration
    private let services: [any RegistrableRPCService]
    private let interceptors: [any ServerInterceptor]
    private let logger: Logger
    /// The bound file's identity, so that stop removes only the file this server created.
    private let socketIdentity = Mutex<(device: UInt64, inode: UInt64)?>(nil)

    /// `interceptors` run after the server's own (deadlines, errors to statuses, the request-text rules).
    public init(configuration: Configuration, services: [any RegistrableRPCService],
                interceptors: [any ServerInterceptor] = [], logger: Logger) {
        self.configuration = configuration
        self.services = services
        self.interceptors = [CallDeadlineInterceptor()] + ServerInterceptors.standard + interceptors
        self.logger = logger
    }

    public func run() async throws {
        let path = configuration.socketPath
        defer { SocketFile.remove(path, ifIdentity: socketIdentity.withLock { $0 }) }
        try SocketFile.prepare(path)
        let transport = HTTP2ServerTransport.Posix(
            address: .unixDomainSocket(path: path), transportSecurity: .plaintext,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = configuration.maximumRequestBytes
                config.http2.maxConcurrentStreams = configuration.maximumCallsInFlightPerConnection
                config.connection.maxIdleTime = configuration.idleTimeout
                config.channelDebuggingCallbacks.onAcceptTCPConnection = admission()
            })
        let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask { [configuration, logger] in
                _ = try await transport.listeningAddress
                self.socketIdentity.withLock { $0 = SocketFile.identity(path) }
                try SocketFile.applyPermissions(path, mode: configuration.socketMode, group: configuration.socketGroup)
                logger.info("listening (gRPC over HTTP/2)", metadata: ["grpc_socket": "\(path)",
                                                                       "mode": "\(String(configuration.socketMode, radix: 8))"])
                do { try await gracefulShutdown() } catch { return } // cancelled: the group ends anyway
                server.beginGracefulShutdown()
                try? await Task.sleep(for: configuration.shutdownGracePeriod)
                if !Task.isCancelled {
                    logger.warning("gRPC calls still running after the grace period; cancelling them",
                                   metadata: ["grace": "\(configuration.shutdownGracePeriod)"])
                }
            }
            // The server stopped (drained, or failed), or the grace period ran out: end the other.
            defer { group.cancelAll() }
            try await group.next()
        }
        logger.info("stopped", metadata: ["grpc_socket": "\(path)"])
    }

    /// The allowlist at accept: the peer's SO_PEERCRED against `peerPolicy`; a refused peer's
    /// connection is closed, and its initializer failed, before any HTTP/2 frame is read.
    private func admission() -> (@Sendable (any Channel) -> EventLoopFuture<Void>)? {
        let policy = configuration.peerPolicy
        guard !policy.allowsEveryone else { return nil }
        let logger = logger
        return { channel in
            PeerCredentials.read(channel).flatMap { peer in
                guard let denial = policy.denial(for: peer) else { return channel.eventLoop.makeSucceededVoidFuture() }
                logger.warning("refused a gRPC connection", metadata: [
                    "uid": "\(peer.map { String($0.uid) } ?? "?")", "gid": "\(peer.map { String($0.gid) } ?? "?")",
                    "reason": "\(denial.message)",
                ])
                // A failed initializer alone leaves the connection open (and the peer waiting): close it.
                return channel.close().flatMapThrowing { throw denial }
            }
        }
    }
}

/// Where a call arrived with gRPC's `grpc-timeout` header: its deadline, for the handlers.
/// (The framed transport's `UnixSocketCall` carries its `timeout_ms` the same way.)
public struct GRPCTimeoutCall: ServerContext.TransportSpecific {
    public var deadline: ContinuousClock.Instant

    /// A `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n); nil when malformed.
    static func parse(_ value: String) -> Duration? {
        guard let unit = value.last, (2...9).contains(value.count), let amount = Int64(value.dropLast()), amount >= 0 else {
            return nil
        }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }
}

extension ServerContext {
    /// When the call must be answered, as its transport carries it: the framed socket's
    /// `timeout_ms` (or `call_timeout_ms`), gRPC's `grpc-timeout`; nil when neither does.
    public var callDeadline: ContinuousClock.Instant? {
        socketCall?.deadline ?? (transportSpecific as? GRPCTimeoutCall)?.deadline
    }
}

/// Hands a call's `grpc-timeout` to the handlers as `context.callDeadline`. GRPCCore itself
/// cancels the handler when it runs out.
struct CallDeadlineInterceptor: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard context.socketCall == nil, let header = Array(request.metadata[stringValues: "grpc-timeout"]).first,
              let timeout = GRPCTimeoutCall.parse(header) else {
            return try await next(request, context)
        }
        var context = context
        context.transportSpecific = GRPCTimeoutCall(deadline: .now + timeout)
        return try await next(request, context)
    }
}
