import GRPCCore
import Logging
import NIOCore
import NIOPosix
import OZmapRPC
import ServiceLifecycle

/// The RPC server on a Unix socket, as a lifecycle `Service`: GRPCCore's server
/// over `UnixSocketServerTransport`. It binds in `run()`; on graceful shutdown it
/// stops accepting, lets calls in flight finish (up to the grace period), closes
/// connections and removes its socket file.
public final class UnixSocketServer: Service, Sendable {
    public let transport: UnixSocketServerTransport
    private let services: [any RegistrableRPCService]
    private let interceptors: [any ServerInterceptor]

    public var configuration: ServerConfiguration { transport.configuration }
    public var stats: ServerStats { transport.stats }

    /// `interceptors` run after the server's own (errors to statuses, the request-text rules).
    /// `callExecutor`: where each call runs, from its request's decoding to its answer (nil: the cooperative pool).
    public init(configuration: ServerConfiguration, services: [any RegistrableRPCService],
                interceptors: [any ServerInterceptor] = [], stats: ServerStats = ServerStats(), logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                observer: UnixSocketServerTransport.CallObserver? = nil, callExecutor: (any TaskExecutor)? = nil) {
        transport = UnixSocketServerTransport(configuration: configuration, stats: stats, logger: logger, group: group, observer: observer,
                                              callExecutor: callExecutor)
        self.services = services
        self.interceptors = ServerInterceptors.standard + interceptors
    }

    /// Returns once the socket accepts connections (for tests and start-up ordering).
    public func waitUntilListening() async throws {
        try await transport.waitUntilListening()
    }

    public func run() async throws {
        let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
        // Stopped before the transport listened (a shutdown first, or an error): nobody waits for ever.
        defer { transport.markListening(ServerNotListening()) }
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}

/// What `waitUntilListening` throws when the server stopped before it listened.
struct ServerNotListening: Error, CustomStringConvertible {
    var description: String { "the socket server stopped before it listened" }
}
