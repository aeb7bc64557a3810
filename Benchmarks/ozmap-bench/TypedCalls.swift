import ArcholtOZmapV1
import GRPCCore
import GRPCInProcessTransport
import OZmapClient
import OZmapDaemon

/// GetCredentials (no work) and GetStatus through GRPCCore's in-process transport: the daemon's
/// own service and interceptors, typed client and server coding, no socket, framing or envelope.
func inProcessCalls(_ daemon: Daemon, calls: Int) async throws -> [Measurement] {
    let transport = InProcessTransport()
    return try await withGRPCServer(transport: transport.server, services: [daemon.service], interceptors: daemon.interceptors) { _ in
        try await withGRPCClient(transport: transport.client) { client in
            let integration = OZmapIntegration.Client(wrapping: client)
            for _ in 0..<500 {
                _ = try await integration.getCredentials(GetCredentialsRequest())
                _ = try await integration.getStatus(GetStatusRequest())
            }
            return [
                try await measure("GetCredentials", calls: calls) {
                    for _ in 0..<calls { _ = try await integration.getCredentials(GetCredentialsRequest()) }
                },
                try await measure("GetStatus", calls: calls) {
                    for _ in 0..<calls { _ = try await integration.getStatus(GetStatusRequest()) }
                },
            ]
        }
    }
}
