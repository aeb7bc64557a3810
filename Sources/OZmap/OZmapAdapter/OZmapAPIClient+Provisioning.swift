import Foundation
import OZmapDomain
import OZmapRPC

/// Client creation and removal (reference §3.4, §3.5). Every request is sent
/// once: the outbox has its own retries, and looks the client up again before
/// any new attempt.
extension OZmapAPIClient: OZmapProvisioner {
    public func properties(clientCode code: String) async throws -> [OZmapProperty] {
        let body = try await read("properties/client/\(Self.escape(code))", route: "properties/client/{code}", attempts: 1)
        guard let rows = try? JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]] else {
            throw OZmapCallError(error: RPCError(.unavailable, "OZmap answered GET properties/client/{code} without a JSON array"), httpStatus: 200)
        }
        return rows.compactMap(OZmapJSON.property)
    }

    public func clients(code: String) async throws -> [OZmapClient] {
        try await pages("ftth-clients", filter: [Filter("code", "=", code)]).compactMap { row in
            OZmapJSON.id(row).map { OZmapClient(id: $0, code: OZmapJSON.string(row["code"]) ?? "") }
        }
    }

    public func createProperty(client: ClientPayload, at box: TargetBox) async throws -> OZmapProperty {
        let body: [String: Any] = [
            "project": box.project, "box": box.id, "lat": box.lat, "lng": box.lng,
            "auto_connect": true, "force": false,
            "client": [
                "code": client.code, "name": client.name, "implanted": client.implanted, "status": 0,
                "onu": ["serial_number": client.serialNumber, "mac_address": client.macAddress, "user_PPPoE": client.pppoeUser],
            ] as [String: Any],
        ]
        let data = try JSONSerialization.data(withJSONObject: body)
        let response = try await send(method: "POST", path: "properties", query: [], body: Array(data), route: "properties")
        guard let created = try? OZmapJSON.object(response), let property = OZmapJSON.property(created) else {
            throw OZmapCallError(error: RPCError(.unavailable, "OZmap created a property but its answer could not be read"), httpStatus: 201)
        }
        return property
    }

    public func deleteProperty(id: String) async throws {
        try await delete("properties/\(Self.escape(id))", route: "properties/{id}")
    }

    public func deleteClient(id: String) async throws {
        try await delete("ftth-clients/\(Self.escape(id))", route: "ftth-clients/{id}")
    }

    /// A DELETE; 404 means it is already gone, which is what was wanted.
    private func delete(_ path: String, route: String) async throws {
        do {
            _ = try await send(method: "DELETE", path: path, query: [], body: nil, route: route)
        } catch let failure as OZmapCallError where failure.httpStatus == 404 {
            return
        }
    }

    /// `list`, throwing `OZmapCallError` for the outbox.
    private func pages(_ route: String, filter: [Filter]) async throws -> [[String: Any]] {
        try await list(route, filter: filter) { path, query, route in
            try await read(path, query: query, route: route, attempts: 1)
        }
    }
}
