import Foundation
import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct GenerationTests {
    static func configuration(seed: UInt64 = 1, _ change: (inout SimulatorConfiguration) -> Void = { _ in })
        -> SimulatorConfiguration
    {
        var configuration = SimulatorConfiguration(apiKey: SimulatorHarness.apiKey)
        configuration.seed = seed
        change(&configuration)
        return configuration
    }

    @Test func defaultNetworkShape() throws {
        let snapshot = try OZmapSimulator(configuration: Self.configuration()).snapshot()
        #expect(snapshot.counts.olts == 2)
        #expect(snapshot.counts.boxes == 315)
        #expect(snapshot.counts.connectedBoxes == 300)
        #expect(snapshot.olts.map(\.name) == ["OLT-FLN-01", "OLT-FLN-02"])
        #expect(snapshot.olts.allSatisfy { $0.ip.hasPrefix("10.") })
        #expect(snapshot.box(named: "CTO-01-001") != nil)
        #expect(snapshot.box(named: "CTO-02-150") != nil)
        for box in snapshot.boxes {
            #expect(box.name.wholeMatch(of: /CTO-0[12]-\d{3}/) != nil, "\(box.name)")
            #expect(ObjectIDCheck.isObjectID(box.id))
            #expect(abs(box.lat - -27.59) < 0.05 && abs(box.lng - -48.55) < 0.05)
            let splitters = snapshot.splitters(inBox: box.id)
            if let olt = box.connectedOLT {
                #expect(splitters.count == 2)
                #expect(splitters.allSatisfy { $0.olt == olt && $0.slot != nil && $0.pon != nil })
                let customer = try #require(splitters.first { $0.isDrop })
                #expect(customer.outputs.count == 8)
                #expect(customer.outputs.compactMap { $0 }.count == 3)  // 8 x 0.4, rounded
                #expect(snapshot.olts.first { $0.id == olt }?.project == box.project)
            } else {
                #expect(splitters.count == 1)
                #expect(splitters.allSatisfy { $0.olt == nil && $0.json["olt"] == nil })
            }
        }
        #expect(snapshot.counts.clients == 900)
        #expect(snapshot.counts.properties == 900)
        #expect(snapshot.counts.occupiedPorts == 900)
        #expect(snapshot.counts.freeCustomerPorts == 300 * 5)
    }

    @Test func generationIsDeterministicForASeed() throws {
        let first = try OZmapSimulator(configuration: Self.configuration(seed: 7)).snapshot()
        let second = try OZmapSimulator(configuration: Self.configuration(seed: 7)).snapshot()
        let other = try OZmapSimulator(configuration: Self.configuration(seed: 8)).snapshot()
        #expect(first.boxes.map(\.id) == second.boxes.map(\.id))
        #expect(first.boxes.map(\.lat) == second.boxes.map(\.lat))
        #expect(first.splitters.map(\.outputs) == second.splitters.map(\.outputs))
        #expect(first.clients.map(\.serialNumber) == second.clients.map(\.serialNumber))
        #expect(first.boxes.map(\.lat) != other.boxes.map(\.lat))
    }

    @Test func configurationIsValidated() {
        #expect(throws: SimulatorError.self) {
            _ = try OZmapSimulator(configuration: Self.configuration { $0.occupiedPortRatio = 1.5 })
        }
        #expect(throws: SimulatorError.self) {
            _ = try OZmapSimulator(configuration: Self.configuration { $0.olts = 0 })
        }
        #expect(throws: SimulatorError.self) {
            _ = try OZmapSimulator(configuration: SimulatorConfiguration(apiKey: ""))
        }
    }

    @Test func seedFileDescribesTheNetwork() async throws {
        let olt = "aaaaaaaaaaaaaaaaaaaaaa01"
        let box = "bbbbbbbbbbbbbbbbbbbbbb01"
        let loose = "bbbbbbbbbbbbbbbbbbbbbb02"
        let splitter = "cccccccccccccccccccccc01"
        let seed: SimulatorJSON = [
            "olts": [["id": .string(olt), "name": "OLT-SEED", "project": "dddddddddddddddddddddd01", "ip": "10.9.9.9"]],
            "boxes": [
                ["id": .string(box), "name": "CTO-SEED-1", "lat": -27.6, "lng": -48.5],
                ["id": .string(loose), "name": "CTO-SEED-2", "coords": [-48.4, -27.4]],
            ],
            "splitters": [
                ["id": .string(splitter), "parent": .string(box), "isDrop": true, "ratio": ["input": 1, "output": 4], "olt": .string(olt)],
                ["parent": .string(loose), "isDrop": true],
            ],
            "ftth_clients": [["id": "eeeeeeeeeeeeeeeeeeeeee01", "code": "SEED-1"]],
            "properties": [["box": .string(box), "client": "eeeeeeeeeeeeeeeeeeeeee01", "connections": [["id": .string(splitter), "port": 2]]]],
        ]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ozmap-sim-seed-\(UUID().uuidString).json").path
        try Data(seed.serialized()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let simulator = try OZmapSimulator(configuration: Self.configuration { $0.seedFile = path })
        let snapshot = simulator.snapshot()
        #expect(snapshot.counts.olts == 1 && snapshot.counts.boxes == 2 && snapshot.counts.connectedBoxes == 1)
        #expect(snapshot.box(id: loose)?.lat == -27.4)
        #expect(snapshot.box(id: loose)?.lng == -48.4)
        #expect(snapshot.splitter(id: splitter)?.outputs.map { $0 != nil } == [false, true, false, false])

        try await SimulatorHarness.run(simulator: simulator) { sim in
            let olts = try await sim.list("olts")
            #expect(olts["rows"]?[0]?["name"] == "OLT-SEED")
            #expect(olts["rows"]?[0]?["ip"] == "10.9.9.9")
            let found = try await sim.getJSON("properties/client/SEED-1")
            #expect(found[0]?["client"]?["code"] == "SEED-1")
            let created = try await sim.request(
                "POST", "properties",
                json: ["project": "dddddddddddddddddddddd01", "box": .string(box), "auto_connect": true, "client": ["code": "NEW"]])
            #expect(created.status == 201, "\(created.text)")
            #expect(try created.json()["connections"]?[0]?["port"]?.int == 1)
        }

        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("ozmap-sim-bad-\(UUID().uuidString).json").path
        try Data(#"{"boxes": [{"name": "X"}], "splitters": [{"parent": "ffffffffffffffffffffffff"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: broken))
        defer { try? FileManager.default.removeItem(atPath: broken) }
        #expect(throws: SimulatorError.self) {
            _ = try OZmapSimulator(configuration: Self.configuration { $0.seedFile = broken })
        }
    }
}
