import ArcholtOZmapV1
import GRPCCore

/// Runs `body` with the generated client on a connection of its own to ozmapd's socket;
/// the connection closes when `body` returns.
public func withOZmapIntegration<Result: Sendable>(
    socketPath: String, _ body: (OZmapIntegration.Client<UnixSocketClientTransport>) async throws -> Result
) async throws -> Result {
    try await withGRPCClient(transport: try await UnixSocketClientTransport.connect(socketPath: socketPath)) { client in
        try await body(OZmapIntegration.Client(wrapping: client))
    }
}
