import Foundation
import OZmapSimulator
import OZmapTestSupport
import Testing

/// The request forms only the SDK's schemas document (reference §3.5 "Update, attach, move",
/// [S]): attach by client id, coords, PATCH box/client; and the switch that refuses them.
@Suite(.timeLimit(.minutes(3)))
struct SDKFormsTests {
    // MARK: helpers

    /// Deletes a connected box through the control API: its clients stay, without property.
    /// Returns those clients (at least one).
    static func clientsWithoutProperty(_ sim: SimulatorHarness) throws -> [SimulatorSnapshot.FTTHClient] {
        let snapshot = sim.simulator.snapshot()
        let box = try #require(snapshot.connectedBoxes.last { box in snapshot.properties.contains { $0.box == box.id && $0.client != nil } })
        let clientIDs = snapshot.properties.filter { $0.box == box.id }.compactMap(\.client)
        try sim.simulator.deleteBox(id: box.id)
        let clients = clientIDs.compactMap { sim.simulator.snapshot().client(id: $0) }
        #expect(clients.count == clientIDs.count && !clients.isEmpty)
        return clients
    }

    /// A port is occupied iff some property's connection holds its fiber (customer splitters).
    static func expectPortsConsistent(_ snapshot: SimulatorSnapshot, sourceLocation: SourceLocation = #_sourceLocation) {
        var occupied = Set<String>()
        for splitter in snapshot.splitters where splitter.isDrop {
            for (index, fiber) in splitter.outputs.enumerated() {
                if let fiber { occupied.insert("\(splitter.id)/\(index + 1)/\(fiber)") }
            }
        }
        var held: [String] = []
        for property in snapshot.properties {
            for connection in property.connections where snapshot.splitter(id: connection.splitter) != nil {
                held.append("\(connection.splitter)/\(connection.port)/\(connection.fiber)")
            }
        }
        #expect(occupied.subtracting(held).isEmpty, "occupied by no property", sourceLocation: sourceLocation)
        #expect(Set(held).subtracting(occupied).isEmpty, "held by a property but free", sourceLocation: sourceLocation)
        #expect(held.count == Set(held).count, "two connections hold the same port", sourceLocation: sourceLocation)
    }

    static func message(_ response: TestResponse) -> String {
        (try? response.json()["message"]?.string) ?? response.text
    }

    /// A box with free customer ports, other than `excluding`.
    static func boxWithFreePort(_ snapshot: SimulatorSnapshot, excluding: Set<String> = []) throws -> SimulatorSnapshot.Box {
        try #require(snapshot.connectedBoxes.first { box in
            !excluding.contains(box.id) && snapshot.splitters(inBox: box.id).contains { $0.isDrop && !$0.freePorts.isEmpty }
        })
    }

    static func firstFreePort(_ snapshot: SimulatorSnapshot, box: String) throws -> (splitter: String, port: Int) {
        let splitter = try #require(snapshot.splitters(inBox: box).first { $0.isDrop && !$0.freePorts.isEmpty })
        return (splitter.id, try #require(splitter.freePorts.first))
    }

    /// Creates a property with a nested client at `box` (auto_connect); returns its JSON.
    static func createProperty(_ sim: SimulatorHarness, box: SimulatorSnapshot.Box, code: String) async throws -> SimulatorJSON {
        let response = try await sim.request("POST", "properties", json: PropertyTests.createBody(box: box, code: code))
        #expect(response.status == 201, "\(response.text)")
        return try response.json()
    }

    // MARK: POST properties with an existing client's id

    @Test func createAttachesAnExistingClientByID() async throws {
        try await SimulatorHarness.run { sim in
            let client = try #require(try Self.clientsWithoutProperty(sim).first)
            let before = sim.simulator.snapshot()
            let box = try Self.boxWithFreePort(before)
            let free = try Self.firstFreePort(before, box: box.id)
            let body: SimulatorJSON = [
                "project": .string(box.project), "box": .string(box.id), "auto_connect": true,
                "client": .string(client.id), "external_id": "ozmapd",
            ]
            let response = try await sim.request("POST", "properties", json: body)
            #expect(response.status == 201, "\(response.text)")
            let property = try response.json()
            let propertyID = try #require(property["id"]?.string)
            #expect(property["client"]?.string == client.id)
            #expect(property["external_id"] == "ozmapd")
            #expect(property["name"]?.string == client.name)
            let connection = try #require(property["connections"]?[0])
            #expect(connection["id"]?.string == free.splitter)
            #expect(connection["port"]?.int == free.port)
            let entries = try #require(property["history"]?["clients"]?.array)
            #expect(entries.count == 1)
            #expect(entries.first?["id"]?.string == client.id)
            #expect(entries.first?["code"]?.string == client.code)
            #expect(entries.first?["enter_date"]?.string == property["createdAt"]?.string)
            #expect(entries.first?["exit_date"] == .null)

            // The same client, not deleted and re-created.
            let after = sim.simulator.snapshot()
            #expect(after.counts.clients == before.counts.clients)
            #expect(after.counts.properties == before.counts.properties + 1)
            #expect(after.counts.occupiedPorts == before.counts.occupiedPorts + 1)
            #expect(after.client(id: client.id)?.json == client.json)
            let splitter = try #require(after.splitter(id: free.splitter))
            #expect(splitter.outputs[free.port - 1] == connection["fiber"]?.string)
            #expect(splitter.updatedAt > (before.splitter(id: free.splitter)?.updatedAt ?? "~"))
            let byCode = try await sim.getJSON("properties/client/" + SimulatorHarness.encoded(client.code))
            #expect(byCode.array?.compactMap { $0["id"]?.string } == [propertyID])
            Self.expectPortsConsistent(after)
        }
    }

    @Test func createWithAClientIDIsRefusedWhenUnknownOrAlreadyHoused() async throws {
        try await SimulatorHarness.run { sim in
            let before = sim.simulator.snapshot()
            let box = try Self.boxWithFreePort(before)
            let housed = try #require(before.properties.first { $0.client != nil })
            let housedClient = try #require(housed.client)
            func body(_ client: SimulatorJSON) -> SimulatorJSON {
                ["project": .string(box.project), "box": .string(box.id), "auto_connect": true, "client": client]
            }
            let unknown = try await sim.request("POST", "properties", json: body("ffffffffffffffffffffffff"))
            #expect(unknown.status == 400)
            #expect(Self.message(unknown) == "client ffffffffffffffffffffffff not found")
            let taken = try await sim.request("POST", "properties", json: body(.string(housedClient)))
            #expect(taken.status == 400)
            #expect(Self.message(taken) == "client \(housedClient) already has property \(housed.id)")
            let number = try await sim.request("POST", "properties", json: body(42))
            #expect(number.status == 400)
            #expect(Self.message(number).hasPrefix("client must be"))
            let after = sim.simulator.snapshot()
            #expect(after.counts == before.counts)
            #expect(after.splitters.map(\.updatedAt) == before.splitters.map(\.updatedAt))
        }
    }

    // MARK: PATCH properties: move

    @Test func moveKeepsTheIDsFreesTheOldPortAndTakesANewOne() async throws {
        try await SimulatorHarness.run { sim in
            let start = sim.simulator.snapshot()
            let from = try Self.boxWithFreePort(start)
            let created = try await Self.createProperty(sim, box: from, code: "MOVE-1")
            let propertyID = try #require(created["id"]?.string)
            let clientID = try #require(created["client"]?.string)
            let old = try #require(sim.simulator.snapshot().property(id: propertyID)?.connections.first)
            let before = sim.simulator.snapshot()
            let to = try Self.boxWithFreePort(before, excluding: [from.id])
            let target = try Self.firstFreePort(before, box: to.id)

            let moved = try await sim.request("PATCH", "properties/\(propertyID)", json: ["box": .string(to.id), "auto_connect": true])
            #expect(moved.status == 204, "\(moved.text)")
            #expect(moved.body.isEmpty)

            let property = try await sim.getJSON("properties/\(propertyID)")
            #expect(property["id"]?.string == propertyID)
            #expect(property["client"]?.string == clientID)
            #expect(property["box"]?.string == to.id)
            #expect(property["project"]?.string == to.project)
            #expect(property["history"] == created["history"])
            #expect(property["createdAt"] == created["createdAt"])
            #expect(property["coords"] == created["coords"], "the house does not move with the CTO")
            let connections = try #require(property["connections"]?.array)
            #expect(connections.count == 1)
            #expect(connections.first?["id"]?.string == target.splitter)
            #expect(connections.first?["port"]?.int == target.port)

            let after = sim.simulator.snapshot()
            #expect(after.client(id: clientID)?.json == before.client(id: clientID)?.json)
            #expect(after.splitter(id: old.splitter)?.outputs[old.port - 1] == nil)
            #expect(after.splitter(id: target.splitter)?.outputs[target.port - 1] == connections.first?["fiber"]?.string)
            #expect((after.splitter(id: old.splitter)?.updatedAt ?? "") > (before.splitter(id: old.splitter)?.updatedAt ?? "~"))
            #expect((after.splitter(id: target.splitter)?.updatedAt ?? "") > (before.splitter(id: target.splitter)?.updatedAt ?? "~"))
            #expect(after.counts.occupiedPorts == before.counts.occupiedPorts)
            #expect(after.counts.clients == before.counts.clients && after.counts.properties == before.counts.properties)
            let incremental = try await sim.list(
                "splitters", filter: [condition("updatedAt", ">", .string(before.splitters.map(\.updatedAt).max() ?? ""))])
            #expect(Set(SimulatorHarness.ids(incremental)) == [old.splitter, target.splitter])
            Self.expectPortsConsistent(after)

            // The same box with auto_connect: the property keeps its port.
            let again = try await sim.request("PATCH", "properties/\(propertyID)", json: ["box": .string(to.id), "auto_connect": true])
            #expect(again.status == 204, "\(again.text)")
            let unchanged = sim.simulator.snapshot()
            #expect(unchanged.property(id: propertyID)?.connections == after.property(id: propertyID)?.connections)
            #expect(unchanged.splitters.map(\.updatedAt) == after.splitters.map(\.updatedAt))

            // connector + port pick the port (here in the same box).
            let splitter = try #require(unchanged.splitter(id: target.splitter))
            let otherPort = try #require(splitter.freePorts.last)
            let reported = try await sim.request(
                "PATCH", "properties/\(propertyID)", json: ["connector": .string(splitter.id), "port": .int(otherPort)])
            #expect(reported.status == 204, "\(reported.text)")
            let final = sim.simulator.snapshot()
            #expect(final.property(id: propertyID)?.connections.map(\.port) == [otherPort])
            #expect(final.splitter(id: splitter.id)?.outputs[target.port - 1] == nil)
            #expect(final.counts.occupiedPorts == before.counts.occupiedPorts)
            Self.expectPortsConsistent(final)
        }
    }

    @Test func moveToAFullOrUnknownBoxChangesNothing() async throws {
        try await SimulatorHarness.run({ $0.occupiedPortRatio = 1 }) { sim in
            let start = sim.simulator.snapshot()
            let full = try #require(start.connectedBoxes.first)
            let olt = try #require(start.olts.first)
            let spareID = try sim.simulator.addBox(name: "CTO-SPARE", toOLT: olt.id)
            let spare = try #require(sim.simulator.snapshot().box(id: spareID))
            let created = try await Self.createProperty(sim, box: spare, code: "STAYS")
            let propertyID = try #require(created["id"]?.string)
            let before = sim.simulator.snapshot()
            let fullSplitter = try #require(before.splitters(inBox: full.id).first { $0.isDrop })
            let refusals: [(SimulatorJSON, String)] = [
                (["box": .string(full.id), "auto_connect": true, "name": "renamed"], "no free port"),
                (["box": "ffffffffffffffffffffffff", "auto_connect": true], "box ffffffffffffffffffffffff not found"),
                (["box": .string(full.id), "connector": .string(fullSplitter.id), "port": 1], "already occupied"),
                (["connector": .string(fullSplitter.id), "port": 1], "is not inside box"),
                (["box": .string(full.id), "auto_connect": true, "connector": .string(fullSplitter.id)], "auto_connect"),
                (["box": nil, "auto_connect": true], "box"),
                (["box": .string(full.id), "auto_connect": "yes"], "auto_connect"),
                (["project": .string(full.project)], "project cannot be changed"),
                (["connections": []], "connections cannot be changed"),
            ]
            for (body, expected) in refusals {
                let response = try await sim.request("PATCH", "properties/\(propertyID)", json: body)
                #expect(response.status == 400, "\(body.jsonText): \(response.text)")
                #expect(Self.message(response).contains(expected), "\(body.jsonText): \(response.text)")
            }
            let after = sim.simulator.snapshot()
            #expect(after.property(id: propertyID)?.json == before.property(id: propertyID)?.json)
            #expect(after.splitters.map(\.json) == before.splitters.map(\.json))
            #expect(after.counts == before.counts)
            Self.expectPortsConsistent(after)
        }
    }

    // MARK: PATCH properties: detach, attach

    @Test func detachKeepsTheClientAndAttachGivesItAProperty() async throws {
        try await SimulatorHarness.run { sim in
            let before = sim.simulator.snapshot()
            let property = try #require(before.properties.first { $0.client != nil })
            let clientID = try #require(property.client)

            let detached = try await sim.request("PATCH", "properties/\(property.id)", json: ["client": nil])
            #expect(detached.status == 204, "\(detached.text)")
            let afterDetach = try await sim.getJSON("properties/\(property.id)")
            #expect(afterDetach["client"] == .null)
            let exit = try #require(afterDetach["history"]?["clients"]?[0]?["exit_date"]?.string)
            #expect(exit == afterDetach["updatedAt"]?.string)
            #expect(try await sim.getJSON("ftth-clients/\(clientID)")["id"]?.string == clientID)
            // The property keeps its port.
            #expect(sim.simulator.snapshot().property(id: property.id)?.connections == property.connections)
            #expect(sim.simulator.snapshot().counts.occupiedPorts == before.counts.occupiedPorts)
            #expect(try await sim.request("PATCH", "properties/\(property.id)", json: ["client": nil]).status == 204)

            // Refusals: unknown client, a client that has a property, a property that has a client.
            let housed = try #require(before.properties.first { $0.client != nil && $0.id != property.id })
            let housedClient = try #require(housed.client)
            let unknown = try await sim.request("PATCH", "properties/\(property.id)", json: ["client": "ffffffffffffffffffffffff"])
            #expect(unknown.status == 400)
            #expect(Self.message(unknown) == "client ffffffffffffffffffffffff not found")
            let taken = try await sim.request("PATCH", "properties/\(property.id)", json: ["client": .string(housedClient)])
            #expect(taken.status == 400)
            #expect(Self.message(taken) == "client \(housedClient) already has property \(housed.id)")
            let occupied = try await sim.request("PATCH", "properties/\(housed.id)", json: ["client": .string(clientID)])
            #expect(occupied.status == 400)
            #expect(Self.message(occupied).hasPrefix("property \(housed.id) already has client \(housedClient)"))
            let wrongType = try await sim.request("PATCH", "properties/\(property.id)", json: ["client": ["code": "X"]])
            #expect(wrongType.status == 400)
            #expect(Self.message(wrongType).hasPrefix("client must be"))
            #expect(sim.simulator.snapshot().property(id: property.id)?.json["client"] == .null)

            let attached = try await sim.request("PATCH", "properties/\(property.id)", json: ["client": .string(clientID)])
            #expect(attached.status == 204, "\(attached.text)")
            let afterAttach = try await sim.getJSON("properties/\(property.id)")
            #expect(afterAttach["client"]?.string == clientID)
            let entries = try #require(afterAttach["history"]?["clients"]?.array)
            #expect(entries.count == 2)
            #expect(entries[0]["exit_date"]?.string == exit)
            #expect(entries[1]["id"]?.string == clientID)
            #expect(entries[1]["enter_date"]?.string == afterAttach["updatedAt"]?.string)
            #expect(entries[1]["exit_date"] == .null)
            let byCode = try await sim.getJSON("properties/client/" + SimulatorHarness.encoded(before.client(id: clientID)?.code ?? ""))
            #expect(byCode.array?.compactMap { $0["id"]?.string } == [property.id])
            let after = sim.simulator.snapshot()
            #expect(after.counts.clients == before.counts.clients)
            Self.expectPortsConsistent(after)
        }
    }

    // MARK: coords

    @Test func coordsAreLongitudeFirstAndMustAgreeWithLatLng() async throws {
        try await SimulatorHarness.run { sim in
            let box = try Self.boxWithFreePort(sim.simulator.snapshot())
            func create(_ extra: [String: SimulatorJSON], code: String) async throws -> TestResponse {
                try await sim.request("POST", "properties", json: PropertyTests.createBody(box: box, code: code, extra: extra))
            }
            let alone = try await create(["coords": [-48.5274, -27.5782]], code: "C1")
            #expect(alone.status == 201, "\(alone.text)")
            let property = try alone.json()
            #expect(property["lat"]?.number == -27.5782)
            #expect(property["lng"]?.number == -48.5274)
            #expect(property["coords"] == [-48.5274, -27.5782])
            let both = try await create(["coords": [-48.5274, -27.5782], "lat": -27.5782, "lng": -48.5274], code: "C2")
            #expect(both.status == 201, "\(both.text)")
            #expect(try both.json()["lat"]?.number == -27.5782)

            let before = sim.simulator.snapshot().counts
            let refusals: [([String: SimulatorJSON], String)] = [
                (["coords": [-27.5782, -48.5274], "lat": -27.5782, "lng": -48.5274], "disagrees with lat"),
                (["coords": [-48.5274, -27.5782], "lat": -27.5], "coords"),
                (["coords": [-48.5]], "coords must be [lng, lat]"),
                (["coords": [-48.5, -27.5, 0]], "coords must be [lng, lat]"),
                (["coords": ["-48.5", "-27.5"]], "coords must be [lng, lat]"),
                (["coords": "-48.5,-27.5"], "coords must be [lng, lat]"),
                (["coords": [-200, 0]], "coords[0] (lng)"),
                (["coords": [0, 95]], "coords[1] (lat)"),
            ]
            for (extra, expected) in refusals {
                let response = try await create(extra, code: "BAD")
                #expect(response.status == 400, "\(extra): \(response.text)")
                #expect(Self.message(response).contains(expected), "\(extra): \(response.text)")
            }
            #expect(sim.simulator.snapshot().counts == before)

            let propertyID = try #require(property["id"]?.string)
            let patched = try await sim.request("PATCH", "properties/\(propertyID)", json: ["coords": [-48.4, -27.4]])
            #expect(patched.status == 204, "\(patched.text)")
            let moved = try await sim.getJSON("properties/\(propertyID)")
            #expect(moved["lat"]?.number == -27.4 && moved["lng"]?.number == -48.4)
            #expect(moved["coords"] == [-48.4, -27.4])
            let disagree = try await sim.request("PATCH", "properties/\(propertyID)", json: ["coords": [-48.3, -27.3], "lng": -48.4])
            #expect(disagree.status == 400)
            #expect(Self.message(disagree).contains("coords") && Self.message(disagree).contains("lng"))
            #expect(try await sim.getJSON("properties/\(propertyID)")["coords"] == [-48.4, -27.4])
        }
    }

    // MARK: the stricter server

    @Test func withoutSDKFormsBothFormsAre400AndNothingChanges() async throws {
        try await SimulatorHarness.run { sim in
            let set = try await sim.request("POST", "/__sim/settings", json: ["sdk_forms": false])
            #expect(set.status == 200)
            #expect(try set.json() == ["sdk_forms": false])
            #expect(try await sim.getJSON("/__sim/settings") == ["sdk_forms": false])
            #expect(sim.simulator.sdkForms == false)

            let client = try #require(try Self.clientsWithoutProperty(sim).first)
            let before = sim.simulator.snapshot()
            let box = try Self.boxWithFreePort(before)
            let other = try Self.boxWithFreePort(before, excluding: [box.id])
            let property = try #require(before.properties.first { $0.client != nil })
            let attach = try await sim.request(
                "POST", "properties",
                json: ["project": .string(box.project), "box": .string(box.id), "auto_connect": true, "client": .string(client.id)])
            #expect(attach.status == 400)
            #expect(Self.message(attach) == "client must be an object")
            let move = try await sim.request("PATCH", "properties/\(property.id)", json: ["box": .string(other.id), "auto_connect": true])
            #expect(move.status == 400)
            #expect(Self.message(move) == "box cannot be changed")
            let detach = try await sim.request("PATCH", "properties/\(property.id)", json: ["client": nil])
            #expect(detach.status == 400)
            #expect(Self.message(detach) == "client cannot be changed")
            let after = sim.simulator.snapshot()
            #expect(after.counts == before.counts)
            #expect(after.property(id: property.id)?.json == property.json)
            #expect(after.splitters.map(\.json) == before.splitters.map(\.json))

            // The documented forms still work.
            #expect(try await sim.request("POST", "properties", json: PropertyTests.createBody(box: box, code: "NESTED")).status == 201)
            #expect(try await sim.request("PATCH", "properties/\(property.id)", json: ["potencyRead": -20]).status == 204)

            // Back on: at run time in process, and DELETE restores the start value.
            sim.simulator.setSDKForms(true)
            #expect(try await sim.getJSON("/__sim/settings") == ["sdk_forms": true])
            #expect(try await sim.request("POST", "/__sim/settings", json: ["sdk_forms": false]).status == 200)
            #expect(try await sim.request("DELETE", "/__sim/settings").status == 200)
            #expect(sim.simulator.sdkForms == true)
            let unknown = try await sim.request("POST", "/__sim/settings", json: ["sdk_form": false])
            #expect(unknown.status == 400)
            #expect(Self.message(unknown).contains("sdk_form"))
            let inFaults = try await sim.request("POST", "/__sim/faults", json: ["sdk_forms": false])
            #expect(inFaults.status == 400)
            #expect(Self.message(inFaults).contains("/__sim/settings"))
            #expect(try await sim.request("POST", "/__sim/settings", json: ["sdk_forms": "no"]).status == 400)
            #expect(sim.simulator.sdkForms == true)
        }
    }

    @Test func theConfigurationCanStartStrict() async throws {
        try await SimulatorHarness.run({ $0.sdkForms = false }) { sim in
            #expect(try await sim.getJSON("/__sim/settings") == ["sdk_forms": false])
            let property = try #require(sim.simulator.snapshot().properties.first)
            let response = try await sim.request("PATCH", "properties/\(property.id)", json: ["client": nil])
            #expect(response.status == 400)
            #expect(try await sim.request("DELETE", "/__sim/settings").status == 200)
            #expect(sim.simulator.sdkForms == false, "DELETE restores the configured value")
        }
    }

    @Test func theCommandLineFlagStartsStrict() async throws {
        let directory = try makeTemporaryDirectory(prefix: "ozmap-sim-test")
        let process = try ChildProcess(
            binary("ozmap-sim"), ["--port", "0", "--api-key", "k", "--boxes", "2", "--no-sdk-forms", "--log-level", "error"],
            directory: directory)
        try await waitUntil("ozmap-sim prints its URL") { process.output.contains("\n") || !process.process.isRunning }
        let line = process.output
        let url = try #require(line.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, "\(process.errorOutput)")
        let port = try #require(Int(url.split(separator: ":").last?.split(separator: "/").first ?? ""), "\(line)")
        let connection = try await HTTPTestClient.connect(port: port)
        let settings = try await connection.send("GET", "/__sim/settings")
        await connection.close()
        #expect(try settings.json() == ["sdk_forms": false])
        process.signal(SIGTERM)
        #expect(try await process.exitStatus() == 0)
    }

    // MARK: lookups the integration relies on

    @Test func serialNumberFilterAndExternalIDsOfACreate() async throws {
        try await SimulatorHarness.run { sim in
            let box = try Self.boxWithFreePort(sim.simulator.snapshot())
            var body = try #require(PropertyTests.createBody(box: box, code: "EXT-1").object)
            var client = try #require(body["client"]?.object)
            client["onu"] = ["serial_number": "ZTEGC0FFEE01", "mac_address": "", "user_PPPoE": ""]
            client["external_id"] = "ozmapd:client"
            body["client"] = .object(client)
            body["external_id"] = "ozmapd:property"
            let created = try await sim.request("POST", "properties", json: .object(body))
            #expect(created.status == 201, "\(created.text)")
            let property = try created.json()
            #expect(property["external_id"] == "ozmapd:property")
            let clientID = try #require(property["client"]?.string)

            let found = try await sim.list("ftth-clients", filter: [condition("onu.serial_number", "=", "ZTEGC0FFEE01")])
            #expect(SimulatorHarness.ids(found) == [clientID])
            #expect(found["rows"]?[0]?["external_id"] == "ozmapd:client")
            #expect(try await sim.getJSON("ftth-clients/\(clientID)")["external_id"] == "ozmapd:client")
            let propertyID = try #require(property["id"]?.string)
            #expect(try await sim.getJSON("properties/\(propertyID)")["external_id"] == "ozmapd:property")
            let byExternal = try await sim.list("properties", filter: [condition("external_id", "=", "ozmapd:property")])
            #expect(SimulatorHarness.ids(byExternal) == [propertyID])
            let none = try await sim.list("ftth-clients", filter: [condition("onu.serial_number", "=", "ZTEGNOTHERE")])
            #expect(none["total"]?.int == 0)
        }
    }
}
