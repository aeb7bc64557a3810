import Foundation
import OZmapDomain

/// Client lookup, creation, attachment, moves, updates and removal (reference §3.4, §3.5,
/// and the SDK's request schemas, [S]). Every request is sent once: the outbox has its own
/// retries, and looks the client up again before any new attempt.
extension OZmapAPIClient: OZmapProvisioner {
    public func properties(clientCode code: String) async throws -> [OZmapProperty] {
        let body = try await read("properties/client/\(Self.escape(code))", route: "properties/client/{code}", attempts: 1)
        guard let rows = OZmapJSON.objects(body) else {
            throw OZmapCallError(error: IntegrationError(.ozmapUnreachable, "OZmap answered GET properties/client/{code} without a JSON array"), httpStatus: 200)
        }
        return rows.compactMap(OZmapJSON.property)
    }

    public func property(id: String) async throws -> OZmapProperty? {
        do {
            let body = try await read("properties/\(Self.escape(id))", route: "properties/{id}", attempts: 1)
            return OZmapJSON.property(try OZmapJSON.object(body))
        } catch let failure as OZmapCallError where failure.httpStatus == 404 {
            return nil
        }
    }

    public func clients(code: String) async throws -> [FTTHClientRecord] {
        try await pages("ftth-clients", filter: [Filter("code", "=", code)]).compactMap(OZmapJSON.client)
    }

    public func clients(serialNumber: String) async throws -> [FTTHClientRecord] {
        try await pages("ftth-clients", filter: [Filter("onu.serial_number", "in", Self.serialForms([serialNumber]))])
            .compactMap(OZmapJSON.client)
    }

    /// Filters match exactly, and ERPs type serials in lower case too: each is asked in both forms
    /// (the outbox's lookup and the bulk reads of reconcile and import alike).
    static func serialForms(_ serials: [String]) -> [String] {
        var seen = Set<String>()
        return serials.flatMap { [$0, $0.lowercased()] }.filter { seen.insert($0).inserted }
    }

    public func createProperty(client: ClientPayload, at box: TargetBox) async throws -> OZmapProperty {
        let marker = ClientOwnership.marker(onuID: client.code)
        var clientBody: [String: Any] = [
            "code": client.code, "name": client.name, "implanted": client.implanted, "status": 0, "external_id": marker,
            "onu": ["serial_number": client.serialNumber, "mac_address": client.macAddress, "user_PPPoE": client.pppoeUser],
        ]
        var body = Self.placement(at: box)
        body["force"] = false
        body["external_id"] = marker
        body["client"] = clientBody
        do {
            return try await createdProperty(body)
        } catch let refusal as OZmapCallError where refusal.isRefusal && refusal.error.message.contains("external_id") {
            // A server that refuses `external_id`: the mark goes in the observation instead.
            clientBody["external_id"] = nil
            clientBody["observation"] = ClientOwnership.observation(onuID: client.code)
            body["external_id"] = nil
            body["observation"] = ClientOwnership.observation(onuID: client.code)
            body["client"] = clientBody
            return try await createdProperty(body)
        }
    }

    public func attachProperty(clientID: String, at box: TargetBox) async throws -> OZmapProperty {
        var body = Self.placement(at: box)
        body["client"] = clientID
        return try await Self.sdkForm(field: "client") { try await createdProperty(body) }
    }

    public func moveProperty(id: String, to box: TargetBox) async throws -> OZmapProperty {
        try await Self.sdkForm(field: "box") {
            try await write("PATCH", "properties/\(Self.escape(id))", route: "properties/{id}", ["box": box.id, "auto_connect": true])
        }
        // PATCH answers 204: the property as it is now tells the port it landed on.
        guard let moved = try await property(id: id) else {
            throw OZmapCallError(error: IntegrationError(.ozmapUnreachable, "property \(id) vanished from OZmap right after it was moved"), httpStatus: 404)
        }
        guard moved.boxID == box.id else {
            // A server whose schema drops unknown fields answers 204 and moves nothing.
            throw OZmapCallError(error: IntegrationError(.ozmapRefused(httpStatus: 204), "OZmap answered 204 to PATCH properties/{id} with a new box, "
                                                 + "but property \(id) stayed at box \(moved.boxID): this server does not move properties"),
                                 httpStatus: 204, unsupportedForm: true)
        }
        return moved
    }

    public func detachClient(propertyID: String) async throws {
        try await Self.sdkForm(field: "client") {
            try await write("PATCH", "properties/\(Self.escape(propertyID))", route: "properties/{id}", ["client": NSNull()])
        }
        // The property is deleted next: it must no longer hold the client, or the client goes with it.
        if let after = try await property(id: propertyID), !after.clientID.isEmpty {
            throw OZmapCallError(error: IntegrationError(.ozmapRefused(httpStatus: 204), "OZmap answered 204 to PATCH properties/{id} with client null, "
                                                 + "but property \(propertyID) still holds client \(after.clientID): this server does not detach clients"),
                                 httpStatus: 204, unsupportedForm: true)
        }
    }

    /// Runs a request in a form the reference tags [S]. A 400/422 whose message names `field`
    /// ("box cannot be changed", "property box should not exist") means the server does not take
    /// the form, as opposed to refusing this one request.
    private static func sdkForm<T>(field: String, _ request: () async throws -> T) async throws -> T {
        do {
            return try await request()
        } catch var refusal as OZmapCallError where refusal.httpStatus == 400 || refusal.httpStatus == 422 {
            let words = refusal.error.message.lowercased().split { !$0.isLetter && $0 != "_" }
            refusal.unsupportedForm = words.contains { $0 == Substring(field) }
            throw refusal
        }
    }

    public func updateClient(id: String, _ changes: ClientChanges) async throws {
        var body: [String: Any] = [:]
        if let name = changes.name { body["name"] = name }
        if let implanted = changes.implanted { body["implanted"] = implanted }
        var onu: [String: Any] = [:]
        if let serial = changes.serialNumber { onu["serial_number"] = serial }
        if let mac = changes.macAddress { onu["mac_address"] = mac }
        if let user = changes.pppoeUser { onu["user_PPPoE"] = user }
        if !onu.isEmpty { body["onu"] = onu }
        try await write("PATCH", "ftth-clients/\(Self.escape(id))", route: "ftth-clients/{id}", body)
    }

    public func deleteProperty(id: String) async throws {
        try await delete("properties/\(Self.escape(id))", route: "properties/{id}")
    }

    public func deleteClient(id: String) async throws {
        try await delete("ftth-clients/\(Self.escape(id))", route: "ftth-clients/{id}")
    }

    /// Where a new property goes: the box, the first free customer port, and the box's location
    /// as `coords` `[lng, lat]` (the SDK's create schema) beside `lat`/`lng` (the wiki's samples).
    private static func placement(at box: TargetBox) -> [String: Any] {
        ["project": box.project, "box": box.id, "coords": [box.lng, box.lat], "lat": box.lat, "lng": box.lng, "auto_connect": true]
    }

    private func createdProperty(_ body: [String: Any]) async throws -> OZmapProperty {
        let data = try JSONSerialization.data(withJSONObject: body)
        let response = try await send(method: "POST", path: "properties", query: [], body: Array(data), route: "properties")
        guard let created = try? OZmapJSON.object(response), let property = OZmapJSON.property(created) else {
            throw OZmapCallError(error: IntegrationError(.ozmapUnreachable, "OZmap created a property but its answer could not be read"), httpStatus: 201)
        }
        return property
    }

    private func write(_ method: String, _ path: String, route: String, _ body: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: body)
        _ = try await send(method: method, path: path, query: [], body: Array(data), route: route)
    }

    /// A DELETE; 404 means it is already gone, which is what was wanted.
    private func delete(_ path: String, route: String) async throws {
        do {
            _ = try await send(method: "DELETE", path: path, query: [], body: nil, route: route)
        } catch let failure as OZmapCallError where failure.httpStatus == 404 {
            return
        }
    }

    // MARK: bulk lookups (reconcile, import): reads retried as the box sync's are

    public func clients(codes: [String]) async throws -> [FTTHClientRecord] {
        try await chunked(codes) { try await list("ftth-clients", filter: [Filter("code", "in", $0)]) }.compactMap(OZmapJSON.client)
    }

    public func clients(serialNumbers: [String]) async throws -> [FTTHClientRecord] {
        try await chunked(Self.serialForms(serialNumbers)) {
            try await list("ftth-clients", filter: [Filter("onu.serial_number", "in", $0)])
        }.compactMap(OZmapJSON.client)
    }

    /// Both places the mark is written: `external_id`, and `observation` on servers that refuse it.
    /// The reference lists `like` without defining it [?]: a server where it matches nothing makes
    /// this read empty (docs/OZMAP.md).
    public func markedClients() async throws -> [FTTHClientRecord] {
        let byExternalID = try await list("ftth-clients", filter: [Filter("external_id", "like", ClientOwnership.markerPrefix)])
        let byObservation = try await list("ftth-clients", filter: [Filter("observation", "like", ClientOwnership.observationPrefix)])
        var seen = Set<String>()
        return (byExternalID + byObservation).compactMap(OZmapJSON.client).filter { $0.markedONU != nil && seen.insert($0.id).inserted }
    }

    public func properties(clientIDs: [String]) async throws -> [OZmapProperty] {
        try await chunked(clientIDs) { try await list("properties", filter: [Filter("client", "in", $0)]) }.compactMap(OZmapJSON.property)
    }

    public func properties(ids: [String]) async throws -> [OZmapProperty] {
        try await chunked(ids) { try await list("properties", filter: [Filter("id", "in", $0)]) }.compactMap(OZmapJSON.property)
    }

    /// `in` filters carry at most 100 values a request (the reference's box recipe), distinct, in order,
    /// and at most ~4,000 characters of them, so that long codes keep the URL within what servers take.
    private func chunked(_ values: [String], _ fetch: ([String]) async throws -> [JSONObject]) async throws -> [JSONObject] {
        var seen = Set<String>()
        let distinct = values.filter { !$0.isEmpty && seen.insert($0).inserted }
        var rows: [JSONObject] = []
        var chunk: [String] = []
        var length = 0
        for value in distinct {
            let cost = value.utf8.count * 3 + 6 // percent-encoded, quoted, separated
            if !chunk.isEmpty, chunk.count == 100 || length + cost > 4_000 {
                rows += try await fetch(chunk)
                chunk = []
                length = 0
            }
            chunk.append(value)
            length += cost
        }
        if !chunk.isEmpty { rows += try await fetch(chunk) }
        return rows
    }

    /// `list`, throwing `OZmapCallError` for the outbox.
    private func pages(_ route: String, filter: [Filter]) async throws -> [JSONObject] {
        try await list(route, filter: filter) { path, query, route in
            try await read(path, query: query, route: route, attempts: 1)
        }
    }
}
