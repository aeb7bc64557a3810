import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct ControlAPITests {
    @Test func renameIsVisibleAndMovesUpdatedAt() async throws {
        try await SimulatorHarness.run { sim in
            let box = try #require(sim.simulator.snapshot().boxes.first)
            let response = try await sim.request("POST", "/__sim/boxes/\(box.id)/rename", json: ["name": "CTO-NOVA"])
            #expect(response.status == 204)
            let after = try await sim.getJSON("boxes/\(box.id)")
            #expect(after["name"] == "CTO-NOVA")
            #expect((after["updatedAt"]?.string ?? "") > box.updatedAt)
            #expect(try await sim.request("POST", "/__sim/boxes/ffffffffffffffffffffffff/rename", json: ["name": "x"]).status == 404)
            #expect(throws: SimulatorError.self) { try sim.simulator.renameBox(id: "nope", to: "x") }
        }
    }

    @Test func moveRepointsTheSplittersNotTheBox() async throws {
        try await SimulatorHarness.run { sim in
            let snapshot = sim.simulator.snapshot()
            let box = try #require(snapshot.connectedBoxes.first)
            let otherOLT = try #require(snapshot.olts.first { $0.id != box.connectedOLT })
            let response = try await sim.request("POST", "/__sim/boxes/\(box.id)/move", json: ["olt": .string(otherOLT.id)])
            #expect(response.status == 204)

            let splitters = try await sim.list("splitters", filter: [condition("parent", "=", .string(box.id))])
            #expect(splitters["total"]?.int == 2)
            for row in splitters["rows"]?.array ?? [] {
                #expect(row["olt"]?.string == otherOLT.id)
                let before = snapshot.splitter(id: row["id"]?.string ?? "")
                #expect((row["updatedAt"]?.string ?? "") > (before?.updatedAt ?? "~"))
                #expect(row["pon"]?.string != before?.pon)
            }
            #expect(try await sim.getJSON("boxes/\(box.id)")["updatedAt"]?.string == box.updatedAt)

            // Disconnecting removes the trace: the box leaves the "olt exists" recipe.
            #expect(try await sim.request("POST", "/__sim/boxes/\(box.id)/move", json: ["olt": nil]).status == 204)
            let traced = try await sim.list(
                "splitters", filter: [condition("olt", "exists", true), condition("parent", "=", .string(box.id))])
            #expect(traced["total"]?.int == 0)
            #expect(try await sim.request("POST", "/__sim/boxes/\(box.id)/move", json: ["olt": "ffffffffffffffffffffffff"]).status == 404)
            #expect(try await sim.request("POST", "/__sim/boxes/\(box.id)/move", json: [:]).status == 400)
        }
    }

    @Test func deleteBoxRemovesItsSplittersAndProperties() async throws {
        try await SimulatorHarness.run { sim in
            let snapshot = sim.simulator.snapshot()
            let box = try #require(snapshot.connectedBoxes.first)
            #expect(try await sim.request("DELETE", "/__sim/boxes/\(box.id)").status == 204)
            #expect(try await sim.request("GET", "boxes/\(box.id)").status == 404)
            let splitters = try await sim.list("splitters", filter: [condition("parent", "=", .string(box.id))])
            #expect(splitters["total"]?.int == 0)
            let properties = try await sim.list("properties", filter: [condition("box", "=", .string(box.id))])
            #expect(properties["total"]?.int == 0)
            #expect(sim.simulator.snapshot().counts.boxes == snapshot.counts.boxes - 1)
            #expect(try await sim.request("DELETE", "/__sim/boxes/\(box.id)").status == 404)
        }
    }

    @Test func deleteSplitterAndAddBox() async throws {
        try await SimulatorHarness.run { sim in
            let snapshot = sim.simulator.snapshot()
            let splitter = try #require(snapshot.splitters.first { $0.isDrop && $0.olt != nil })
            #expect(try await sim.request("DELETE", "/__sim/splitters/\(splitter.id)").status == 204)
            #expect(try await sim.request("GET", "splitters/\(splitter.id)").status == 404)
            let orphaned = try await sim.list("properties", filter: [condition("connections.id", "=", .string(splitter.id))])
            #expect(orphaned["total"]?.int == 0)

            let olt = try #require(snapshot.olts.first)
            let added = try await sim.request("POST", "/__sim/boxes", json: ["name": "CTO-NEW", "olt": .string(olt.id)])
            #expect(added.status == 201)
            let boxID = try #require(try added.json()["id"]?.string)
            let traced = try await sim.list(
                "splitters", filter: [condition("parent", "=", .string(boxID)), condition("olt", "=", .string(olt.id))])
            #expect(traced["total"]?.int == 2)
            let unconnectedID = try sim.simulator.addBox(name: "CTO-LOOSE", toOLT: nil)
            #expect(sim.simulator.snapshot().box(id: unconnectedID)?.connectedOLT == nil)
        }
    }

    @Test func stateCountsMatchTheSnapshot() async throws {
        try await SimulatorHarness.run { sim in
            let counts = sim.simulator.snapshot().counts
            let state = try await sim.getJSON("/__sim/state")
            #expect(state["counts"]?["olts"]?.int == counts.olts)
            #expect(state["counts"]?["boxes"]?.int == counts.boxes)
            #expect(state["counts"]?["connected_boxes"]?.int == counts.connectedBoxes)
            #expect(state["counts"]?["splitters"]?.int == counts.splitters)
            #expect(state["counts"]?["clients"]?.int == counts.clients)
            #expect(state["counts"]?["properties"]?.int == counts.properties)
            #expect(state["boxes"] == nil)
            let full = try await sim.getJSON("/__sim/state?full=1")
            #expect(full["boxes"]?.array?.count == counts.boxes)
            #expect(full["ftth-clients"]?.array?.count == counts.clients)
        }
    }

    @Test func requestLogRecordsWhatWasSent() async throws {
        try await SimulatorHarness.run { sim in
            _ = try await sim.request("GET", "boxes?limit=2&filter=" + SimulatorHarness.encoded(#"[{"property":"name","operator":"=","value":"a b"}]"#))
            _ = try await sim.request("GET", "authenticated", authorization: "Bearer \(SimulatorHarness.apiKey)")
            let client = try #require(sim.simulator.snapshot().clients.first)
            _ = try await sim.request("PATCH", "ftth-clients/\(client.id)", json: ["status": 1])
            _ = try await sim.request("GET", "/__sim/health")

            let log = sim.simulator.requestLog()
            #expect(log.count == 3, "control requests are not logged")
            #expect(log.map(\.sequence) == [1, 2, 3])
            #expect(log[0].method == "GET")
            #expect(log[0].path == "/api/v2/boxes")
            #expect(log[0].queryParameters["limit"] == "2")
            #expect(log[0].queryParameters["filter"]?.contains("a b") == true)
            #expect(log[0].authorization == SimulatorHarness.apiKey)
            #expect(log[0].status == 200)
            #expect(log[1].authorization == "Bearer \(SimulatorHarness.apiKey)")
            #expect(log[1].status == 401)
            #expect(log[2].bodyJSON?["status"]?.int == 1)
            #expect(log[2].header("content-type") == "application/json")
            #expect(log[2].status == 204)

            let overHTTP = try await sim.getJSON("/__sim/requests")
            #expect(overHTTP["count"]?.int == 3)
            #expect(overHTTP["requests"]?[1]?["authorization"]?.string == "Bearer \(SimulatorHarness.apiKey)")
            #expect(try await sim.request("DELETE", "/__sim/requests").status == 204)
            #expect(sim.simulator.requestLog().isEmpty)
        }
    }
}
