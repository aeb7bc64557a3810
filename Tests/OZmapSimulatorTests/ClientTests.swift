import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct ClientTests {
    @Test func patchChangesASubsetAndMovesUpdatedAt() async throws {
        try await SimulatorHarness.run { sim in
            let client = try #require(sim.simulator.snapshot().clients.first)
            let response = try await sim.request(
                "PATCH", "ftth-clients/\(client.id)",
                json: ["implanted": true, "status": 1, "onu": ["mac_address": "AA:BB:CC:DD:EE:FF"]])
            #expect(response.status == 204)
            let after = try await sim.getJSON("ftth-clients/\(client.id)")
            #expect(after["implanted"] == true)
            #expect(after["status"]?.int == 1)
            #expect(after["onu"]?["mac_address"] == "AA:BB:CC:DD:EE:FF")
            #expect(after["onu"]?["serial_number"]?.string == client.serialNumber)
            #expect(after["code"]?.string == client.code)
            #expect((after["updatedAt"]?.string ?? "") > client.updatedAt)

            let badStatus = try await sim.request("PATCH", "ftth-clients/\(client.id)", json: ["status": 2])
            #expect(badStatus.status == 400)
            #expect(try badStatus.json()["message"]?.string?.contains("status") == true)
            let badImplanted = try await sim.request("PATCH", "ftth-clients/\(client.id)", json: ["implanted": "true"])
            #expect(badImplanted.status == 400)
            #expect(try await sim.request("PATCH", "ftth-clients/ffffffffffffffffffffffff", json: ["status": 0]).status == 404)
        }
    }

    @Test func batchUpdateChangesOnlyMatchingClients() async throws {
        try await SimulatorHarness.run { sim in
            let clients = sim.simulator.snapshot().clients
            let targets = clients.prefix(3).map(\.code)
            let filter: SimulatorJSON = [condition("code", "in", .array(targets.map { .string($0) }))]
            let response = try await sim.request(
                "POST", "ftth-clients/batch-update", json: ["update": ["status": 1, "certified": true], "filter": filter])
            #expect(response.status == 204)
            let after = sim.simulator.snapshot().clients
            for client in after {
                let targeted = targets.contains(client.code)
                if targeted {
                    #expect(client.status == 1 && client.certified)
                } else {
                    let original = clients.first { $0.id == client.id }
                    #expect(client.updatedAt == original?.updatedAt)
                }
            }
            let forbidden = try await sim.request(
                "POST", "ftth-clients/batch-update", json: ["update": ["name": "x"], "filter": filter])
            #expect(forbidden.status == 400)
            #expect(try forbidden.json()["message"]?.string?.contains("update.name") == true)
            let badFilter = try await sim.request(
                "POST", "ftth-clients/batch-update",
                json: ["update": ["status": 0], "filter": [condition("code", "eq", "1")]])
            #expect(badFilter.status == 400)
        }
    }

    @Test func deletingAClientKeepsItsPropertyWithNullClient() async throws {
        try await SimulatorHarness.run { sim in
            let before = sim.simulator.snapshot()
            let property = try #require(before.properties.first)
            let clientID = try #require(property.client)
            #expect(try await sim.request("DELETE", "ftth-clients/\(clientID)").status == 204)
            #expect(try await sim.request("GET", "ftth-clients/\(clientID)").status == 404)
            let after = try await sim.getJSON("properties/\(property.id)")
            #expect(after["client"] == .null)
            #expect(after["history"]?["clients"]?[0]?["exit_date"]?.string != nil)
            // The property still holds its port.
            #expect(sim.simulator.snapshot().counts.occupiedPorts == before.counts.occupiedPorts)
            #expect(try await sim.request("DELETE", "ftth-clients/\(clientID)").status == 404)
        }
    }
}
