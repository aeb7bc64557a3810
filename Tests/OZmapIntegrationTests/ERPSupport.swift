import Foundation
import OZmapAdapter
import OZmapSimulator

/// The ISP's ERP (or a person in OZmap's screens) writing to OZmap beside ozmapd: plain
/// API v2 requests to the simulator over loopback, as another system would send them.
struct ERP: Sendable {
    let baseURL: String
    let http = CurlHTTPClient(configuration: HTTPClientConfiguration())

    init(_ simulator: OZmapSimulator) {
        baseURL = simulator.baseURL
    }

    struct Refused: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "OZmap answered \(status): \(body)" }
    }

    @discardableResult
    func request(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let data = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        let response = try await http.send(HTTPRequest(method: method, url: "\(baseURL)/\(path)", headers: [
            ("Authorization", simulatorKey), ("Content-Type", "application/json"), ("Accept", "application/json"),
        ], body: data))
        guard (200..<300).contains(response.status) else {
            throw Refused(status: response.status, body: String(decoding: response.body, as: UTF8.self))
        }
        guard !response.body.isEmpty else { return [:] }
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
    }

    /// Files a client with its property at the box (the ERP's own code and data); returns (client id, property id).
    @discardableResult
    func fileClient(code: String, name: String, serial: String, at box: String, project: String) async throws -> (client: String, property: String) {
        let property = try await request("POST", "properties", [
            "project": project, "box": box, "auto_connect": true, "address": "Rua das Flores, 10",
            "client": ["code": code, "name": name, "implanted": false, "status": 0,
                       "onu": ["serial_number": serial, "mac_address": "", "user_PPPoE": ""]] as [String: Any],
        ])
        return (property["client"] as? String ?? "", property["id"] as? String ?? "")
    }

    /// A client without a property: filed, then its property removed without it.
    @discardableResult
    func fileClientWithoutProperty(code: String, name: String, serial: String, at box: String, project: String) async throws -> String {
        let (client, property) = try await fileClient(code: code, name: name, serial: serial, at: box, project: project)
        try await request("PATCH", "properties/\(property)", ["client": NSNull()])
        try await request("DELETE", "properties/\(property)")
        return client
    }

    /// Takes every free customer port of the box with clients of its own.
    func fill(box: String, project: String, prefix: String) async throws {
        var index = 0
        while true {
            do {
                try await fileClient(code: "\(prefix)-\(index)", name: "Cliente \(index)", serial: "ERPF\(prefix.count)\(index)", at: box, project: project)
            } catch let refused as Refused where refused.status == 400 && refused.body.contains("no free port") {
                return
            }
            index += 1
        }
    }
}
