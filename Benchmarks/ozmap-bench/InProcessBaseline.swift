import ArcholtOZmapV1
import GRPCCore
import GRPCInProcessTransport
import OZmapDaemon

/// GetStatus through GRPCCore's in-process transport: the daemon's own service and
/// interceptors, typed client and server coding, no socket, framing or envelope.
func inProcessGetStatus(_ daemon: Daemon, calls: Int) async throws -> Measurement {
    let transport = InProcessTransport()
    return try await withGRPCServer(transport: transport.server, services: [daemon.service], interceptors: daemon.interceptors) { _ in
        try await withGRPCClient(transport: transport.client) { client in
            let integration = OZmapIntegration.Client(wrapping: client)
            for _ in 0..<200 { _ = try await integration.getStatus(GetStatusRequest()) }
            return try await measure("GRPCCore in process (baseline)", calls: calls) {
                for _ in 0..<calls { _ = try await integration.getStatus(GetStatusRequest()) }
            }
        }
    }
}
