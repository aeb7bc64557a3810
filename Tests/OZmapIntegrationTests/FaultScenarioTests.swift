import Foundation
import OZmapClient
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Testing

/// `make soak` sets OZMAPD_SOAK to run these scenarios that many times longer.
let soakFactor = max(1, Int(ProcessInfo.processInfo.environment["OZMAPD_SOAK"] ?? "") ?? 1)

/// The faults of issue 5, each with its figures: what was sent, what ozmapd acknowledged,
/// and what OZmap holds once the outbox has drained. Lost and duplicated must be zero.
@Suite(.timeLimit(.minutes(30)), .serialized) struct FaultScenarioTests {
    @Test func anOutageInTheMiddleOfAThousandOperations() async throws {
        let rig = try await TestRig(boxes: 600, occupied: 0.05)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        let workload = MixedWorkload(operations: 1000 * soakFactor, onus: 250 * soakFactor, boxes: boxes, prefix: "outage", seed: 5)
        let runner = WorkloadRunner()
        rig.simulator.clearRequestLog()
        let started = ContinuousClock.now
        let traffic = Task { await runner.run(workload, client: client) }

        // Refused connections, then 503s, then 429 with Retry-After, each for a stretch of the traffic.
        let total = workload.count
        try await waitUntil("a quarter is sent", timeout: .seconds(120)) { runner.sent >= total / 4 }
        await rig.simulator.stopListening()
        try await waitUntil("two fifths are sent", timeout: .seconds(120)) { runner.sent >= total * 2 / 5 }
        try await rig.simulator.resumeListening()
        rig.simulator.setFaults(SimulatorFaults(down: true))
        try await waitUntil("half is sent", timeout: .seconds(120)) { runner.sent >= total / 2 }
        rig.simulator.setFaults(.forcedStatus(429, retryAfterSeconds: 2))
        try await waitUntil("two thirds are sent", timeout: .seconds(120)) { runner.sent >= total * 2 / 3 }
        // Some 429s were answered before OZmap recovers.
        try await waitUntil("OZmap throttled ozmapd", timeout: .seconds(30)) { rig.simulator.requestLog().contains { $0.status == 429 } }
        rig.simulator.setFaults(.none)
        await traffic.value
        let sentAt = ContinuousClock.now
        try await rig.outboxDrained(client, timeout: .seconds(300))
        let drained = ContinuousClock.now

        let tally = Tally(expected: runner.expected, snapshot: rig.simulator.snapshot())
        let log = rig.simulator.requestLog()
        let throttled = log.filter { $0.status == 429 }
        // Nothing sent while a Retry-After ran, once ozmapd had the answer (250 ms for it to arrive).
        var early = 0
        for answer in throttled {
            early += log.filter {
                let gap = $0.receivedAt.timeIntervalSince(answer.receivedAt)
                return gap > 0.25 && gap < 1.95
            }.count
        }
        let failed = try await client.rpc.getStatus(GetStatusRequest()).operationsFailed
        report("outage", ["operations": total, "acknowledged": runner.acknowledged, "refused": runner.refused.count,
                          "lost": tally.lost, "duplicated": tally.duplicated, "orphans": tally.orphans,
                          "ozmap_requests": log.count, "answered_429": throttled.count, "sent_during_retry_after": early,
                          "traffic_s": seconds(sentAt - started), "drain_s": seconds(drained - sentAt)])
        #expect(runner.refused.isEmpty, "\(runner.refused.prefix(5))")
        #expect(runner.acknowledged == total)
        #expect(tally.lost == 0 && tally.duplicated == 0 && tally.orphans == 0, "\(tally.problems.prefix(10))")
        #expect(failed == 0)
        #expect(!throttled.isEmpty)
        #expect(early == 0, "requests sent before Retry-After expired")
        await client.close()
        try await rig.tearDown()
    }

    @Test func oneWriteInFiveLosesItsReply() async throws {
        let rig = try await TestRig(boxes: 400, occupied: 0.05)
        let (client, olt) = try await rig.provisioningReady { $0.ozmapTimeoutMs = 1_000 }
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        let workload = MixedWorkload(operations: 300 * soakFactor, onus: 100 * soakFactor, boxes: boxes, prefix: "lost", seed: 7)
        let runner = WorkloadRunner()
        rig.simulator.clearRequestLog()
        // Applied, then the connection is closed without an answer.
        rig.simulator.setFaults(SimulatorFaults(dropReplyRate: 0.2, routes: [FaultRoute("POST"), FaultRoute("DELETE")], seed: 11))
        let started = ContinuousClock.now
        await runner.run(workload, client: client)

        // Then creates answered only after ozmapd gave up waiting (1 s), applied all the same.
        let lateOnes = MixedWorkload(operations: 20, onus: 20, boxes: boxes.reversed(), prefix: "late", seed: 13)
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 1_500, routes: [FaultRoute("POST properties")]))
        await runner.run(lateOnes, client: client)
        try await rig.outboxDrained(client, timeout: .seconds(300))
        rig.simulator.setFaults(.none)
        let drained = ContinuousClock.now

        let tally = Tally(expected: runner.expected, snapshot: rig.simulator.snapshot())
        let log = rig.simulator.requestLog()
        let dropped = log.filter { $0.outcome == .dropped }.count
        report("lost replies", ["operations": workload.count + lateOnes.count, "acknowledged": runner.acknowledged,
                                "writes": log.filter { $0.method != "GET" }.count, "replies_dropped": dropped,
                                "lost": tally.lost, "duplicated": tally.duplicated, "orphans": tally.orphans,
                                "drain_s": seconds(drained - started)])
        #expect(runner.refused.isEmpty, "\(runner.refused.prefix(5))")
        #expect(dropped > 0)
        #expect(tally.lost == 0 && tally.duplicated == 0 && tally.orphans == 0, "\(tally.problems.prefix(10))")
        await client.close()
        try await rig.tearDown()
    }

    @Test func aSlowOZmapKeepsTheSocketResponsive() async throws {
        let rig = try await TestRig(boxes: 200)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        let probe = try await rig.client()
        let quiet = try await statusLatencies(probe, calls: 400)

        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 2_000))
        let timeout = Duration.seconds(5)
        let calls = Task {
            try await withThrowingTaskGroup(of: (ONUState, Duration).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let started = ContinuousClock.now
                        let response = try await client.rpc.provisionONU(
                                                             provision("slow-\(index)", cto: boxes[index % boxes.count].id), options: .timeout(timeout))
                        return (response.onu?.state ?? .unspecified, ContinuousClock.now - started)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        try await waitUntil("the provisions are queued", timeout: .seconds(10)) {
            try await probe.rpc.getStatus(GetStatusRequest()).operationsPending >= 40
        }
        let busy = try await statusLatencies(probe, calls: 400)
        let outcomes = try await calls.value
        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)

        let slowest = outcomes.map(\.1).max() ?? .zero
        report("slow OZmap (2 s per request)", ["provisions": outcomes.count, "answered_pending": outcomes.filter { $0.0 == .pending }.count,
                                                "slowest_provision_ms": milliseconds(slowest),
                                                "status_p99_quiet_us": microseconds(quiet.p99), "status_p99_busy_us": microseconds(busy.p99),
                                                "ratio": String(format: "%.2f", busy.p99 / quiet.p99)])
        #expect(outcomes.count == 40, "every provision answered within its \(timeout) timeout")
        #expect(outcomes.allSatisfy { $0.0 == .pending || $0.0 == .synced })
        // p99 within 2× of the quiet one; below 20 ms (a debug build beside the rest of the suite on 2 cores) it is scheduling noise.
        #expect(busy.p99 <= max(quiet.p99 * 2, .milliseconds(20)))
        for index in 0..<40 { #expect(rig.ozmapClients(code: "slow-\(index)").clients == 1) }
        await probe.close()
        await client.close()
        try await rig.tearDown()
    }
}

/// Sequential GetStatus round trips; p50 and p99.
func statusLatencies(_ client: OZmapIntegrationConnection, calls: Int) async throws -> (p50: Duration, p99: Duration) {
    var samples: [Duration] = []
    for _ in 0..<calls {
        let started = ContinuousClock.now
        _ = try await client.rpc.getStatus(GetStatusRequest())
        samples.append(ContinuousClock.now - started)
    }
    return percentiles(samples)
}

func seconds(_ duration: Duration) -> String { String(format: "%.1f", duration / .seconds(1)) }
