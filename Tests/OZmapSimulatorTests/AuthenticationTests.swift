import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct AuthenticationTests {
    @Test func validKeyIsAuthenticated() async throws {
        try await SimulatorHarness.run { sim in
            let response = try await sim.request("GET", "authenticated")
            #expect(response.status == 200)
            #expect(try response.json()["authenticated"] == true)
            #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(response.header("Content-Length") == String(response.body.count))
        }
    }

    @Test func missingBearerAndWrongKeysAre401WithAMessage() async throws {
        try await SimulatorHarness.run { sim in
            for authorization in [nil, "Bearer \(SimulatorHarness.apiKey)", "wrong", SimulatorHarness.apiKey + " "] {
                for path in ["authenticated", "boxes", "olts", "properties/client/1"] {
                    let response = try await sim.request("GET", path, authorization: authorization)
                    #expect(response.status == 401, "\(path) with \(authorization ?? "no key")")
                    #expect(try response.json()["message"]?.string?.isEmpty == false)
                }
            }
            let write = try await sim.request(
                "POST", "properties", json: ["project": "x"], authorization: "Bearer \(SimulatorHarness.apiKey)")
            #expect(write.status == 401)
        }
    }

    @Test func unknownRoutesAre404Json() async throws {
        try await SimulatorHarness.run { sim in
            let unknown = try await sim.request("GET", "cables")
            #expect(unknown.status == 404)
            #expect(try unknown.json()["message"]?.string != nil)
            let missing = try await sim.request("GET", "boxes/ffffffffffffffffffffffff")
            #expect(missing.status == 404)
            #expect(try await sim.request("GET", "/other").status == 404)
        }
    }

    @Test func keepAliveServesManyRequestsOnOneConnection() async throws {
        try await SimulatorHarness.run { sim in
            let client = try await HTTPTestClient.connect(port: sim.port)
            for _ in 0..<20 {
                let response = try await sim.request("GET", "boxes?limit=5", client: client)
                #expect(response.status == 200)
                #expect(response.header("Connection")?.lowercased() == "keep-alive")
            }
            // A 401 and a 204 keep the connection usable too.
            #expect(try await sim.request("GET", "olts", authorization: nil, client: client).status == 401)
            #expect(client.isActive)
            await client.close()
        }
    }
}
