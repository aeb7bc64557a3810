import Foundation
import GRPCCore
import OZmapClient
import OZmapTestSupport
import Testing

/// OZmapClient (under the generated client) over a connection ozmapd closed: a call that was never sent goes
/// out on a new connection; nothing else is repeated.
@Suite(.timeLimit(.minutes(3))) struct ClientReconnectTests {
    /// The same path as an idle timeout (a connection ozmapd closed), without its race:
    /// a call written just as the timeout fires is lost with the connection.
    @Test func afterARestartTheNextCallsGoOutOnANewConnection() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ozmapd.sock"
        let first = try await TestServer(socketPath: path)
        let client = try await OZmapIntegrationConnection.connect(socketPath: path)
        _ = try await client.rpc.getStatus(GetStatusRequest())
        try await first.stop()
        try await waitUntil("the client sees the connection closed") { !client.connection.isConnected }

        let second = try await TestServer(socketPath: path)
        // Calls that all find the connection closed at once: each is served once, and
        // the connections opened by the race but not kept are closed again.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = try await client.rpc.getStatus(GetStatusRequest()) } }
            try await group.waitForAll()
        }
        #expect(client.connection.isConnected)
        #expect(try await client.rpc.getStatus(GetStatusRequest()).callsServed == 20, "each call served once")
        try await waitUntil("only the kept connection is open") { second.server.stats.snapshot.connectionsOpen == 1 }
        await client.close()
        try await second.stop()
    }

    @Test func aClosedClientDoesNotConnectAgain() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        _ = try await client.rpc.getStatus(GetStatusRequest())
        await client.connection.close()
        #expect(!client.connection.isConnected)
        let error = await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.getStatus(GetStatusRequest()) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("this client was closed") == true, "\(error?.message ?? "")")
        try await waitUntil("the server saw the close") { server.server.stats.snapshot.connectionsOpen == 0 }
        #expect(server.server.stats.snapshot.connectionsAccepted == 1, "no new connection")
        try await server.stop()
    }

    @Test func withOZmapdGoneTheCallFailsOnceWithUnavailable() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        _ = try await client.rpc.getStatus(GetStatusRequest())
        try await server.stop()
        try await waitUntil("the client sees ozmapd gone") { !client.connection.isConnected }
        let error = await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.getStatus(GetStatusRequest()) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("cannot connect to ozmapd") == true, "\(error?.message ?? "")")
        await client.close()
    }
}
