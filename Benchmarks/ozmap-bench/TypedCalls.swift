import ArcholtOZmapV1
import GRPCCore
import GRPCInProcessTransport
import OZmapClient
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

/// `connections` typed clients, each keeping `depth` GetStatus calls in flight until `perConnection` are done.
func socketRun(_ path: String, connections: Int, depth: Int, perConnection: Int) async throws {
    try await withThrowingDiscardingTaskGroup { group in
        for _ in 0..<connections {
            group.addTask {
                try await withOZmapIntegration(socketPath: path) { client in
                    try await withThrowingDiscardingTaskGroup { calls in
                        for lane in 0..<depth {
                            calls.addTask {
                                for _ in stride(from: lane, to: perConnection, by: depth) {
                                    _ = try await client.getStatus(GetStatusRequest())
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Latencies of `count` GetStatus calls, one at a time, on a connection of their own.
func loneCallLatencies(_ path: String, count: Int) async throws -> [Duration] {
    try await withOZmapIntegration(socketPath: path) { client in
        var samples: [Duration] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            _ = try await client.getStatus(GetStatusRequest())
            samples.append(ContinuousClock.now - start)
        }
        return samples
    }
}
