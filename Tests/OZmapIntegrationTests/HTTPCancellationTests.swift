import Foundation
import OZmapAdapter
import OZmapClient
import OZmapDaemon
import OZmapSimulator
import OZmapTestSupport
import Testing

/// What a cancelled caller does to its OZmap requests, through libcurl against the simulator
/// holding each request (a latency fault): a read ends at once, a write runs to its answer.
@Suite struct HTTPCancellationTests {
    private func get(_ rig: TestRig, _ route: String) -> HTTPRequest {
        HTTPRequest(method: "GET", url: "\(rig.simulator.baseURL)/\(route)", headers: [("Authorization", simulatorKey)])
    }

    @Test func aCancelledReadUnderWayEndsAtOnce() async throws {
        let rig = try await TestRig(boxes: 5, olts: 1)
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 60_000))
        let http = CurlHTTPClient(configuration: HTTPClientConfiguration())
        let read = Task { try await http.send(get(rig, "boxes")) }
        try await waitUntil("the simulator holds the read") { rig.simulator.heldRequests().count == 1 }
        let cancelled = ContinuousClock.now
        read.cancel()
        await #expect(throws: CancellationError.self) { try await read.value }
        #expect(ContinuousClock.now - cancelled < .seconds(5), "ended by the cancellation, not by the 60 s latency")
    }

    @Test func aCancelledReadStillQueuedIsNeverSent() async throws {
        let rig = try await TestRig(boxes: 5, olts: 1)
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 60_000))
        var configuration = HTTPClientConfiguration()
        configuration.concurrency = 1
        let http = CurlHTTPClient(configuration: configuration)
        let first = Task { try await http.send(get(rig, "boxes")) }
        try await waitUntil("the simulator holds the first read") { rig.simulator.heldRequests().count == 1 }
        let queued = Task { try await http.send(get(rig, "splitters")) }
        queued.cancel()
        first.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        await #expect(throws: CancellationError.self) { try await first.value }
        #expect(rig.simulator.requestLog().map(\.path).allSatisfy { !$0.contains("splitters") }, "the queued read was not sent")
    }

    /// Whether OZmap applied a write must be known: cancelling its caller does not cut it short.
    @Test func aCancelledWriteRunsToItsAnswer() async throws {
        let rig = try await TestRig(boxes: 5, olts: 1)
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 1_500))
        let http = CurlHTTPClient(configuration: HTTPClientConfiguration())
        let client = try #require(rig.simulator.snapshot().clients.first)
        let write = Task {
            try await http.send(HTTPRequest(method: "PATCH", url: "\(rig.simulator.baseURL)/ftth-clients/\(client.id)",
                                            headers: [("Authorization", simulatorKey), ("Content-Type", "application/json")],
                                            body: Array(#"{"name":"renamed while its caller left"}"#.utf8)))
        }
        try await waitUntil("the simulator holds the write") { rig.simulator.heldRequests().count == 1 }
        write.cancel()
        let response = try await write.value
        #expect((200..<300).contains(response.status), "the write's own answer: \(response.status)")
        #expect(rig.simulator.snapshot().client(id: client.id)?.name == "renamed while its caller left")
    }
}

/// ozmapd stopping while OZmap holds a read of its drift check (the check after each full
/// pass, which a graceful shutdown cancels and waits for) stops at once, not after OZmap answers.
@Suite struct ShutdownDuringSlowOZmapTests {
    @Test func aGracefulStopDoesNotWaitForTheDriftChecksHeldRead() async throws {
        let rig = try await TestRig(boxes: 20, olts: 1)
        try await rig.startDaemon { $0.ozmapTimeoutMs = 120_000 }
        let client = try await rig.client()
        _ = try await rig.connect(client)
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 60_000, routes: [FaultRoute(method: "GET", pathPrefix: "ftth-clients")]))
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        try await waitUntil("the drift check's read of the clients is held") {
            rig.simulator.heldRequests().contains { $0.path.contains("ftth-clients") }
        }
        await client.close()
        let stopping = ContinuousClock.now
        try await rig.stopDaemon()
        #expect(ContinuousClock.now - stopping < .seconds(15), "stopped by cancelling the read, not after OZmap's 60 s")
        #expect(rig.logs.all.contains { $0.contains("reconcile dry-run stopped") }, "\(rig.logs.all.suffix(5))")
    }

    /// The pass the timer runs at start-up (the service waits for it) and a pass a call started
    /// (nothing waits for it) are both cancelled by a graceful stop, and waited for: nothing of
    /// theirs runs on once ozmapd has stopped.
    @Test(arguments: [false, true])
    func aGracefulStopCancelsTheBoxSyncPassAndWaitsForIt(startedByACall: Bool) async throws {
        let rig = try await TestRig(boxes: 20, olts: 1)
        let heldSplitters = SimulatorFaults(latencyMilliseconds: 60_000, routes: [FaultRoute(method: "GET", pathPrefix: "splitters")])
        func patientReads(_ configuration: inout DaemonConfiguration) { configuration.ozmapTimeoutMs = 120_000 }
        try await rig.startDaemon(configure: patientReads)
        let client = try await rig.client()
        if startedByACall {
            // No credentials at start, so no start-up pass: SetCredentials starts a full pass, and returns.
            rig.simulator.setFaults(heldSplitters)
            _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: simulatorKey))
            await client.close()
        } else {
            _ = try await rig.connect(client)
            await client.close()
            try await rig.stopDaemon()
            // Started again with credentials: its start-up pass reads the splitters changed since the watermark.
            rig.simulator.setFaults(heldSplitters)
            try await rig.startDaemon(configure: patientReads)
        }
        let metrics = try rig.daemon.metrics
        try await waitUntil("the pass's read of the splitters is held") { rig.simulator.heldRequests().contains { $0.path.contains("splitters") } }
        let stopping = ContinuousClock.now
        try await rig.stopDaemon()
        #expect(ContinuousClock.now - stopping < .seconds(15), "stopped by cancelling the pass, not after OZmap's 60 s")
        #expect(rig.logs.all.contains { $0.contains("box sync pass cancelled: ozmapd is stopping") }, "\(rig.logs.all.suffix(5))")
        // The pass ended before the stop returned: its end was counted.
        let kind = startedByACall ? "full" : "incremental"
        #expect(metrics.render().contains("ozmapd_sync_passes_total{kind=\"\(kind)\",outcome=\"cancelled\"} 1"),
                "\(metrics.render().split(separator: "\n").filter { $0.contains("sync_passes") })")
        try await rig.tearDown()
    }
}
