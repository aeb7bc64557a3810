@_exported public import ArcholtOZmapV1
@_exported public import GRPCCore

/// Runs `body` with the generated client on a connection of its own to ozmapd's socket;
/// the connection closes when `body` returns.
public func withOZmapIntegration<Result: Sendable>(
    socketPath: String, _ body: (OZmapIntegration.Client<UnixSocketClientTransport>) async throws -> Result
) async throws -> Result {
    try await withGRPCClient(transport: try await UnixSocketClientTransport.connect(socketPath: socketPath)) { client in
        try await body(OZmapIntegration.Client(wrapping: client))
    }
}

/// The generated client on a connection of its own to ozmapd, open until `close()`: for a
/// caller that keeps one across calls rather than in one scope (`withOZmapIntegration`).
///
/// ```swift
/// let ozmapd = try await OZmapIntegrationConnection.connect(socketPath: "/run/ozmapd/ozmapd.sock")
/// let status = try await ozmapd.rpc.getStatus(GetStatusRequest())
/// let sync = try await ozmapd.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: .timeout(.seconds(600)))
/// await ozmapd.close()
/// ```
public final class OZmapIntegrationConnection: Sendable {
    /// The typed stubs; ozmapd's statuses arrive as GRPCCore's `RPCError`.
    public let rpc: OZmapIntegration.Client<UnixSocketClientTransport>
    /// The socket the calls go out on.
    public let connection: OZmapClient
    private let grpc: GRPCClient<UnixSocketClientTransport>
    private let running: Task<Void, Never>

    /// The typed client on a connection already open.
    public init(_ connection: OZmapClient) {
        let grpc = GRPCClient(transport: UnixSocketClientTransport(connection))
        self.connection = connection
        self.grpc = grpc
        self.rpc = OZmapIntegration.Client(wrapping: grpc)
        self.running = Task { try? await grpc.runConnections() }
    }

    public static func connect(socketPath: String) async throws -> OZmapIntegrationConnection {
        OZmapIntegrationConnection(try await OZmapClient.connect(socketPath: socketPath))
    }

    /// Lets the calls in flight finish, then closes the connection; later calls fail.
    public func close() async {
        grpc.beginGracefulShutdown()
        await running.value
    }

    deinit {
        grpc.beginGracefulShutdown()
    }
}

extension CallOptions {
    /// The defaults with this deadline (the envelope's `timeout_ms`, and the client's own wait).
    public static func timeout(_ timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }
}
