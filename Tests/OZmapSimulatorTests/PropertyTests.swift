import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct PropertyTests {
    static func createBody(box: SimulatorSnapshot.Box, code: String, extra: [String: SimulatorJSON] = ["auto_connect": true])
        -> SimulatorJSON
    {
        var body: [String: SimulatorJSON] = [
            "project": .string(box.project), "box": .string(box.id), "address": "Rua Teste, 1", "force": false,
            "client": [
                "code": .string(code), "name": "ZTEG00000001", "implanted": true, "status": 0,
                "onu": ["serial_number": "ZTEG00000001", "mac_address": "", "user_PPPoE": ""],
            ],
        ]
        for (key, value) in extra { body[key] = value }
        return .object(body)
    }

    @Test func autoConnectTakesTheFirstFreeCustomerPort() async throws {
        try await SimulatorHarness.run { sim in
            let before = sim.simulator.snapshot()
            let box = try #require(before.connectedBoxes.first)
            let customer = try #require(before.splitters(inBox: box.id).first { $0.isDrop })
            let expectedPort = try #require(customer.freePorts.first)

            let response = try await sim.request("POST", "properties", json: Self.createBody(box: box, code: "ONU-1"))
            #expect(response.status == 201, "\(response.text)")
            let property = try response.json()
            #expect(property["kind"] == "Property")
            #expect(property["box"]?.string == box.id)
            #expect(property["project"]?.string == box.project)
            #expect(property["coords"] == [.number(box.lng), .number(box.lat)])
            let clientID = try #require(property["client"]?.string)
            #expect(ObjectIDCheck.isObjectID(clientID))
            let connection = try #require(property["connections"]?[0])
            #expect(connection["id"]?.string == customer.id)
            #expect(connection["kind"] == "Splitter")
            #expect(connection["port"]?.int == expectedPort)
            let fiber = try #require(connection["fiber"]?.string)

            let splitter = try await sim.getJSON("splitters/\(customer.id)")
            #expect(splitter["connectables"]?["output"]?[expectedPort - 1]?.string == fiber)
            #expect((splitter["updatedAt"]?.string ?? "") > customer.updatedAt)

            let client = try await sim.getJSON("ftth-clients/\(clientID)")
            #expect(client["code"] == "ONU-1")
            #expect(client["implanted"] == true)
            #expect(client["onu"]?["serial_number"] == "ZTEG00000001")
            let propertyID = try #require(property["id"]?.string)
            #expect(try await sim.getJSON("properties/\(propertyID)")["client"]?.string == clientID)

            let after = sim.simulator.snapshot().counts
            #expect(after.clients == before.counts.clients + 1)
            #expect(after.properties == before.counts.properties + 1)
            #expect(after.occupiedPorts == before.counts.occupiedPorts + 1)
        }
    }

    @Test func connectorAndPortPickAPortAndOccupiedPortsAreRefused() async throws {
        try await SimulatorHarness.run { sim in
            let snapshot = sim.simulator.snapshot()
            let box = try #require(snapshot.connectedBoxes.last)
            let customer = try #require(snapshot.splitters(inBox: box.id).first { $0.isDrop })
            let port = try #require(customer.freePorts.last)
            let explicit: [String: SimulatorJSON] = ["connector": .string(customer.id), "port": .int(port)]

            let created = try await sim.request("POST", "properties", json: Self.createBody(box: box, code: "A", extra: explicit))
            #expect(created.status == 201, "\(created.text)")
            #expect(try created.json()["connections"]?[0]?["port"]?.int == port)

            let again = try await sim.request("POST", "properties", json: Self.createBody(box: box, code: "B", extra: explicit))
            #expect(again.status == 400)
            #expect(try again.json()["message"]?.string?.contains("occupied") == true)

            let occupiedPort = try #require(customer.outputs.firstIndex { $0 != nil }).advanced(by: 1)
            let taken = try await sim.request(
                "POST", "properties",
                json: Self.createBody(box: box, code: "C", extra: ["connector": .string(customer.id), "port": .int(occupiedPort)]))
            #expect(taken.status == 400)

            let outOfRange = try await sim.request(
                "POST", "properties",
                json: Self.createBody(box: box, code: "D", extra: ["connector": .string(customer.id), "port": 99]))
            #expect(outOfRange.status == 400)
            let otherBox = try #require(snapshot.connectedBoxes.first)
            let elsewhere = try await sim.request(
                "POST", "properties",
                json: Self.createBody(box: otherBox, code: "E", extra: ["connector": .string(customer.id), "port": 1]))
            #expect(elsewhere.status == 400)
            #expect(sim.simulator.snapshot().counts.clients == snapshot.counts.clients + 1)
        }
    }

    @Test func invalidCreatesAre400NamingTheField() async throws {
        try await SimulatorHarness.run { sim in
            let before = sim.simulator.snapshot()
            let box = try #require(before.connectedBoxes.first)
            let valid = Self.createBody(box: box, code: "X")
            func without(_ key: String) -> SimulatorJSON {
                var fields = valid.object ?? [:]
                fields[key] = nil
                return .object(fields)
            }
            func with(_ key: String, _ value: SimulatorJSON) -> SimulatorJSON {
                var fields = valid.object ?? [:]
                fields[key] = value
                return .object(fields)
            }
            var badClient = valid["client"]?.object ?? [:]
            badClient["implanted"] = "yes"
            var noCode = valid["client"]?.object ?? [:]
            noCode["code"] = nil
            let cases: [(SimulatorJSON, String)] = [
                (without("project"), "project"),
                (without("box"), "box"),
                (with("box", "ffffffffffffffffffffffff"), "box"),
                (with("project", "ffffffffffffffffffffffff"), "project"),
                (with("client", .object(badClient)), "client.implanted"),
                (with("client", .object(noCode)), "client.code"),
                (with("lat", -27.5), "lng"),
                (with("auto_connect", "true"), "auto_connect"),
            ]
            for (body, field) in cases {
                let response = try await sim.request("POST", "properties", json: body)
                #expect(response.status == 400, "\(field): \(response.text)")
                #expect(try response.json()["message"]?.string?.contains(field) == true, "\(field): \(response.text)")
            }
            let notJSON = try await sim.request("POST", "properties", rawBody: "{nope")
            #expect(notJSON.status == 400)
            let formEncoded = try await sim.request(
                "POST", "properties", rawBody: valid.jsonText, contentType: "application/x-www-form-urlencoded")
            #expect(formEncoded.status == 400)
            #expect(try formEncoded.json()["message"]?.string?.contains("Content-Type") == true)
            #expect(sim.simulator.snapshot().counts == before.counts)
        }
    }

    @Test func noFreePortIsAClearError() async throws {
        try await SimulatorHarness.run({ $0.occupiedPortRatio = 1 }) { sim in
            let box = try #require(sim.simulator.snapshot().connectedBoxes.first)
            let response = try await sim.request("POST", "properties", json: Self.createBody(box: box, code: "FULL"))
            #expect(response.status == 400)
            #expect(try response.json()["message"]?.string?.contains("no free port") == true)
        }
    }

    @Test func propertiesByClientCodeIsAnArrayWithTheClientPopulated() async throws {
        try await SimulatorHarness.run { sim in
            let boxes = sim.simulator.snapshot().connectedBoxes
            let code = "ONU 1/2/3"
            // Duplicated codes are not refused by OZmap: both creates succeed.
            for box in boxes.prefix(2) {
                let response = try await sim.request("POST", "properties", json: Self.createBody(box: box, code: code))
                #expect(response.status == 201)
            }
            let found = try await sim.getJSON("properties/client/" + SimulatorHarness.encoded(code))
            let rows = try #require(found.array)
            #expect(rows.count == 2)
            for row in rows {
                #expect(row["client"]?["code"]?.string == code)
                #expect(row["client"]?["kind"] == "FTTHClient")
            }
            #expect(try await sim.getJSON("properties/client/nobody") == [])
            let clients = try await sim.list("ftth-clients", filter: [condition("code", "=", .string(code))])
            #expect(clients["total"]?.int == 2)
        }
    }

    @Test func deletingAPropertyRemovesItsClientAndFreesThePort() async throws {
        try await SimulatorHarness.run { sim in
            let box = try #require(sim.simulator.snapshot().connectedBoxes.first)
            let created = try await sim.request("POST", "properties", json: Self.createBody(box: box, code: "GONE"))
            let property = try created.json()
            let propertyID = try #require(property["id"]?.string)
            let clientID = try #require(property["client"]?.string)
            let splitterID = try #require(property["connections"]?[0]?["id"]?.string)
            let port = try #require(property["connections"]?[0]?["port"]?.int)
            let occupiedAt = try #require(try await sim.getJSON("splitters/\(splitterID)")["updatedAt"]?.string)

            #expect(try await sim.request("DELETE", "properties/\(propertyID)").status == 204)
            let splitter = try await sim.getJSON("splitters/\(splitterID)")
            #expect(splitter["connectables"]?["output"]?[port - 1] == .null)
            #expect((splitter["updatedAt"]?.string ?? "") > occupiedAt)
            #expect(try await sim.request("GET", "ftth-clients/\(clientID)").status == 404)
            #expect(try await sim.request("GET", "properties/\(propertyID)").status == 404)
            #expect(try await sim.request("DELETE", "properties/\(propertyID)").status == 404)
            #expect(try await sim.getJSON("properties/client/GONE") == [])
        }
    }

    @Test func patchingAPropertyMovesUpdatedAt() async throws {
        try await SimulatorHarness.run { sim in
            let property = try #require(sim.simulator.snapshot().properties.first)
            let patched = try await sim.request("PATCH", "properties/\(property.id)", json: ["potencyRead": -19.5])
            #expect(patched.status == 204)
            #expect(patched.body.isEmpty)
            let after = try await sim.getJSON("properties/\(property.id)")
            #expect(after["potencyRead"]?.number == -19.5)
            #expect((after["updatedAt"]?.string ?? "") > property.updatedAt)
            #expect(try await sim.request("PATCH", "properties/\(property.id)", json: ["potencyRead": "low"]).status == 400)
            #expect(try await sim.request("PATCH", "properties/\(property.id)", json: ["box": "x"]).status == 400)
            #expect(try await sim.request("PATCH", "properties/ffffffffffffffffffffffff", json: ["name": "x"]).status == 404)
        }
    }
}
