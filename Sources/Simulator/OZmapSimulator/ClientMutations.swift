/// FTTH client writes: `PATCH ftth-clients/{id}`, `DELETE ftth-clients/{id}`,
/// `POST ftth-clients/batch-update` (reference §3.4).
extension Network {
    /// Fields that no update may touch.
    static let immutableFields: Set<String> = ["id", "_id", "kind", "createdAt", "updatedAt"]

    /// Applies a subset of fields. Unknown fields are ignored, as Mongoose's strict mode does;
    /// a known field with a wrong type is a 400 naming it.
    mutating func patchClient(id: String, _ body: RequestBody) throws(SimulatorError) {
        guard let current = clients[id] else { throw .notFound("FTTH client \(id) not found") }
        var updated = current
        for field in body.fields.keys where Self.immutableFields.contains(field) {
            throw .badRequest("\(field) cannot be changed")
        }
        if body["code"] != nil { updated["code"] = .string(try body.requiredString("code")) }
        if let name = try body.optionalString("name") { updated["name"] = .string(name) }
        if let observation = try body.optionalString("observation") { updated["observation"] = .string(observation) }
        if let implanted = try body.optionalBool("implanted") { updated["implanted"] = .bool(implanted) }
        if let certified = try body.optionalBool("certified") { updated["certified"] = .bool(certified) }
        if let status = try body.optionalStatus() { updated["status"] = .int(status) }
        if let onu = try body.optionalObject("onu") {
            var merged = current["onu"]?.object ?? [:]
            for field in ["serial_number", "mac_address", "user_PPPoE"] {
                if let value = try onu.optionalString(field, label: "onu.\(field)") { merged[field] = .string(value) }
            }
            updated["onu"] = .object(merged)
        }
        if let tags = body["tags"] {
            guard case .array = tags else { throw .badRequest("tags must be an array") }
            updated["tags"] = tags
        }
        if body["external_id"] != nil {
            updated["external_id"] = .optionalString(try body.optionalString("external_id"))
        }
        touch(&updated)
        clients.insert(updated, id: id)
    }

    /// Removes the client only: its property stays, with `client: null`, still connected
    /// (the port stays occupied), and its history records the exit.
    mutating func deleteClient(id: String) throws(SimulatorError) {
        guard clients.remove(id) != nil else { throw .notFound("FTTH client \(id) not found") }
        let affected = properties.objects(withAnyOf: [id], at: "client").compactMap { $0["id"]?.string }
        let now = clock.tick()
        for propertyID in affected {
            properties.update(propertyID) { property in
                property["client"] = .null
                Self.recordExit(of: id, at: now, in: &property)
                property["updatedAt"] = .string(now)
            }
        }
    }

    static let batchUpdatableFields: Set<String> = ["certified", "implanted", "status"]

    /// `{"update": {...}, "filter": [...]}`: only `certified`, `implanted` and `status`.
    mutating func batchUpdateClients(_ body: RequestBody) throws(SimulatorError) {
        guard let update = try body.optionalObject("update") else { throw .badRequest("update is required") }
        for field in update.fields.keys where !Self.batchUpdatableFields.contains(field) {
            throw .badRequest("update.\(field) cannot be changed by batch-update (only certified, implanted, status)")
        }
        guard !update.fields.isEmpty else {
            throw .badRequest("update must set at least one of certified, implanted, status")
        }
        let certified = try update.optionalBool("certified", label: "update.certified")
        let implanted = try update.optionalBool("implanted", label: "update.implanted")
        let status = try update.optionalStatus(label: "update.status")
        guard let filterJSON = body["filter"] else { throw .badRequest("filter is required") }
        let filter = try RecordFilter.parse(json: filterJSON, parameter: "filter")

        let targets = clients.objects(where: filter.matches).compactMap { $0["id"]?.string }
        guard !targets.isEmpty else { return }
        let now = clock.tick()
        for id in targets {
            clients.update(id) { client in
                if let certified { client["certified"] = .bool(certified) }
                if let implanted { client["implanted"] = .bool(implanted) }
                if let status { client["status"] = .int(status) }
                client["updatedAt"] = .string(now)
            }
        }
    }

    /// Sets `exit_date` on the open history entry of `clientID`.
    static func recordExit(of clientID: String, at time: String, in property: inout JSONObject) {
        guard case .object(var history)? = property["history"], case .array(var entries)? = history["clients"]
        else { return }
        for index in entries.indices {
            guard case .object(var entry) = entries[index], entry["id"]?.string == clientID,
                  entry["exit_date"]?.isNull ?? true
            else { continue }
            entry["exit_date"] = .string(time)
            entries[index] = .object(entry)
        }
        history["clients"] = .array(entries)
        property["history"] = .object(history)
    }
}
