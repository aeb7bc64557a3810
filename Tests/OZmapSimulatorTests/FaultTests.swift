import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct FaultTests {
    @Test func forcedStatusWithRetryAfterIsNotApplied() async throws {
        try await SimulatorHarness.run { sim in
            sim.simulator.setFaults(.forcedStatus(429, retryAfterSeconds: 7, routes: [FaultRoute("POST properties")]))
            let before = sim.simulator.snapshot().counts
            let box = try #require(sim.simulator.snapshot().connectedBoxes.first)
            let response = try await sim.request("POST", "properties", json: PropertyTests.createBody(box: box, code: "F"))
            #expect(response.status == 429)
            #expect(response.header("Retry-After") == "7")
            #expect(try response.json()["message"]?.string != nil)
            #expect(sim.simulator.snapshot().counts == before)
            // Reads are not targeted.
            #expect(try await sim.request("GET", "boxes").status == 200)
            #expect(sim.simulator.requestLog().first?.outcome == .faulted)

            sim.simulator.setFaults(.none)
            let retried = try await sim.request("POST", "properties", json: PropertyTests.createBody(box: box, code: "F"))
            #expect(retried.status == 201)
        }
    }

    @Test func downAnswers503ButTheControlAPIStaysUp() async throws {
        try await SimulatorHarness.run { sim in
            let set = try await sim.request("POST", "/__sim/faults", json: ["down": true, "retry_after_s": 3])
            #expect(set.status == 200)
            for path in ["authenticated", "boxes", "olts/x"] {
                let response = try await sim.request("GET", path)
                #expect(response.status == 503)
                #expect(response.header("Retry-After") == "3")
            }
            #expect(try await sim.request("GET", "/__sim/health").status == 200)
            #expect(try await sim.request("DELETE", "/__sim/faults").status == 200)
            #expect(try await sim.request("GET", "authenticated").status == 200)
        }
    }

    @Test func droppedReplyIsAppliedButNeverAnswered() async throws {
        try await SimulatorHarness.run { sim in
            sim.simulator.setFaults(SimulatorFaults(dropReplyRate: 1, routes: [FaultRoute("POST properties")]))
            let before = sim.simulator.snapshot().counts
            let box = try #require(sim.simulator.snapshot().connectedBoxes.first)
            await #expect(throws: TestClientError.closedWithoutReply) {
                _ = try await sim.request("POST", "properties", json: PropertyTests.createBody(box: box, code: "DROP"))
            }
            let after = sim.simulator.snapshot()
            #expect(after.counts.properties == before.properties + 1)
            #expect(after.clients(code: "DROP").count == 1)
            #expect(sim.simulator.requestLog().last?.outcome == .dropped)
            #expect(sim.simulator.requestLog().last?.status == 201)
            // Other routes still answer.
            #expect(try await sim.request("GET", "properties/client/DROP").status == 200)
        }
    }

    @Test func latencyDelaysTheAnswer() async throws {
        try await SimulatorHarness.run { sim in
            // Generous figures: only the lower bound of a delay is reliable on a loaded machine.
            sim.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 1500, routes: [FaultRoute("GET olts")]))
            let clock = ContinuousClock()
            var response: TestResponse? = nil
            let slow = try await clock.measure { response = try await sim.request("GET", "olts") }
            #expect(response?.status == 200)
            #expect(slow >= .milliseconds(1500))
            // No upper bound on other routes: on a loaded machine a timing ceiling proves nothing.
        }
    }

    @Test func errorRateIsReproducibleForASeed() async throws {
        try await SimulatorHarness.run { sim in
            func statuses() async throws -> [Int] {
                var result: [Int] = []
                for _ in 0..<30 {
                    result.append(try await sim.request("GET", "authenticated").status)
                }
                return result
            }
            sim.simulator.setFaults(SimulatorFaults(errorRate: 0.5, status: 500, seed: 42))
            let first = try await statuses()
            sim.simulator.setFaults(SimulatorFaults(errorRate: 0.5, status: 500, seed: 42))
            let second = try await statuses()
            #expect(first == second)
            #expect(first.contains(500) && first.contains(200))
            #expect(Set(first) == [200, 500])
        }
    }

    @Test func controlAPIValidatesFaults() async throws {
        try await SimulatorHarness.run { sim in
            let typo = try await sim.request("POST", "/__sim/faults", json: ["latency": 100])
            #expect(typo.status == 400)
            #expect(try await sim.request("POST", "/__sim/faults", json: ["error_rate": 2]).status == 400)
            // `status` alone forces it on every matching request.
            let forced = try await sim.request("POST", "/__sim/faults", json: ["status": 502, "routes": "GET boxes"])
            #expect(forced.status == 200)
            #expect(sim.simulator.faults.errorRate == 1)
            #expect(sim.simulator.faults.routes == [FaultRoute(method: "GET", pathPrefix: "boxes")])
            #expect(try await sim.request("GET", "boxes").status == 502)
            #expect(try await sim.request("GET", "olts").status == 200)
            let current = try await sim.getJSON("/__sim/faults")
            #expect(current["status"]?.int == 502)
        }
    }
}
