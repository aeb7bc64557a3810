import Foundation
import OZmapSimulator
import OZmapTestSupport
import Testing

/// A running simulator plus request helpers (one fresh connection per request unless a
/// client is given).
struct SimulatorHarness: Sendable {
    static let apiKey = "sim-test-key-0123456789"

    let simulator: OZmapSimulator
    let port: Int

    /// Starts a small network by default (2 OLTs, 40 boxes); `configure` adjusts it.
    static func run(
        _ configure: (inout SimulatorConfiguration) -> Void = { _ in },
        _ body: (SimulatorHarness) async throws -> Void
    ) async throws {
        var configuration = SimulatorConfiguration(apiKey: apiKey)
        configuration.boxes = 40
        configure(&configuration)
        try await run(simulator: try OZmapSimulator(configuration: configuration), body)
    }

    /// Serves an already built simulator for the duration of `body`.
    static func run(simulator: OZmapSimulator, _ body: (SimulatorHarness) async throws -> Void) async throws {
        let port = try await simulator.start()
        let harness = SimulatorHarness(simulator: simulator, port: port)
        do {
            try await body(harness)
        } catch {
            try? await simulator.stop()
            throw error
        }
        try await simulator.stop()
    }

    /// Unauthenticated-by-choice requests pass `authorization: nil`.
    func request(
        _ method: String, _ path: String, json: SimulatorJSON? = nil, rawBody: String? = nil,
        authorization: String? = apiKey, contentType: String? = "application/json", client: HTTPTestClient? = nil
    ) async throws -> TestResponse {
        var headers: [(String, String)] = [("Accept", "application/json"), ("Accept-Encoding", "gzip, deflate")]
        if let authorization { headers.append(("Authorization", authorization)) }
        var body: [UInt8]? = nil
        if let json {
            body = json.serialized()
        } else if let rawBody {
            body = Array(rawBody.utf8)
        }
        if body != nil, let contentType { headers.append(("Content-Type", contentType)) }
        let uri = path.hasPrefix("/") ? path : "/api/v2/" + path
        if let client {
            return try await client.send(method, uri, headers: headers, body: body)
        }
        let connection = try await HTTPTestClient.connect(port: port)
        defer { Task { await connection.close() } }
        return try await connection.send(method, uri, headers: headers, body: body)
    }

    /// GET returning parsed JSON, expecting `status`.
    func getJSON(
        _ path: String, expect status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> SimulatorJSON {
        let response = try await request("GET", path)
        #expect(response.status == status, "GET \(path): \(response.text)", sourceLocation: sourceLocation)
        return try response.json()
    }

    /// `boxes?filter=<encoded>&...`
    static func listPath(_ resource: String, filter: SimulatorJSON? = nil, extra: String = "") -> String {
        var path = resource + "?"
        if let filter { path += "filter=" + encoded(filter.jsonText) + "&" }
        return path + extra
    }

    func list(
        _ resource: String, filter: SimulatorJSON? = nil, extra: String = "limit=500",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> SimulatorJSON {
        try await getJSON(Self.listPath(resource, filter: filter, extra: extra), sourceLocation: sourceLocation)
    }

    /// The ids of `rows`.
    static func ids(_ envelope: SimulatorJSON) -> [String] {
        (envelope["rows"]?.array ?? []).compactMap { $0["id"]?.string }
    }

    static func encoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Polls `condition` until it holds or the deadline passes.
    static func eventually(
        timeout: Duration = .seconds(5), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        do {
            try await waitUntil("the condition holds", timeout: timeout, condition)
            return true
        } catch is TimedOut {
            return false
        }
    }
}

/// A filter condition as JSON.
func condition(_ property: String, _ op: String, _ value: SimulatorJSON) -> SimulatorJSON {
    ["property": .string(property), "operator": .string(op), "value": value]
}
