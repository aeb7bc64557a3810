/// Builds the stored JSON of each OZmap model with the fields of the reference (§3).
/// Every object carries both `id` and `_id`, and `createdAt`/`updatedAt`.
enum ModelBuilder {
    static func olt(
        id: String, name: String, project: String, ip: String, parent: String?, oltType: String,
        slots: [String], at time: String
    ) -> JSONObject {
        var object = common(id: id, kind: "OLT", at: time)
        object["name"] = .string(name)
        object["label"] = .string(name)
        object["parent"] = .optionalString(parent)
        object["project"] = .string(project)
        object["oltType"] = .string(oltType)
        object["ip"] = .string(ip)
        object["port"] = 22
        object["implanted"] = true
        // Not documented; the slot ids are what a splitter's `slot` points at.
        object["connectables"] = .array(slots.map { .string($0) })
        return object
    }

    static func box(
        id: String, name: String, project: String, lat: Double, lng: Double, pole: String?, boxType: String,
        address: String?, cables: [String], at time: String
    ) -> JSONObject {
        var object = common(id: id, kind: "Box", at: time)
        object["name"] = .string(name)
        object["project"] = .string(project)
        object["pole"] = .optionalString(pole)
        object["boxType"] = .string(boxType)
        object["hierarchyLevel"] = 2
        object["implanted"] = true
        object["certified"] = false
        object["draft"] = false
        object["shared"] = false
        object["default_reserve"] = 0
        if let address { object["address"] = .string(address) }
        object["observation"] = ""
        setCoordinates(&object, lat: lat, lng: lng)
        object["tags"] = []
        object["cables"] = .array(cables.map { .string($0) })
        return object
    }

    static func splitter(
        id: String, name: String, box: String, project: String, splitterType: String, isDrop: Bool,
        outputs: Int, inputFiber: String?, trace: OLTTrace?, at time: String
    ) -> JSONObject {
        var object = common(id: id, kind: "Splitter", at: time)
        object["name"] = .string(name)
        object["parent"] = .string(box)
        object["project"] = .string(project)
        object["splitterType"] = .string(splitterType)
        object["implanted"] = true
        object["isDrop"] = .bool(isDrop)
        object["ratio"] = ["input": 1, "output": .int(outputs)]
        object["connectables"] = [
            "input": [.optionalString(inputFiber)],
            "output": .array(Array(repeating: .null, count: outputs)),
        ]
        setTrace(&object, trace)
        return object
    }

    /// A splitter not traced to an OLT has no `olt`, `slot` or `pon` field at all.
    static func setTrace(_ splitter: inout JSONObject, _ trace: OLTTrace?) {
        if let trace {
            splitter["olt"] = .string(trace.olt)
            splitter["slot"] = .string(trace.slot)
            splitter["pon"] = .string(trace.pon)
        } else {
            splitter["olt"] = nil
            splitter["slot"] = nil
            splitter["pon"] = nil
        }
    }

    static func client(
        id: String, code: String, name: String, implanted: Bool, certified: Bool, status: Int,
        onu: JSONObject, observation: String, tags: [SimulatorJSON], at time: String
    ) -> JSONObject {
        var object = common(id: id, kind: "FTTHClient", at: time)
        object["code"] = .string(code)
        object["name"] = .string(name)
        object["observation"] = .string(observation)
        object["implanted"] = .bool(implanted)
        object["certified"] = .bool(certified)
        object["status"] = .int(status)
        object["onu"] = .object(onu)
        object["tags"] = .array(tags)
        return object
    }

    static func onu(serialNumber: String, macAddress: String, userPPPoE: String) -> JSONObject {
        ["serial_number": .string(serialNumber), "mac_address": .string(macAddress), "user_PPPoE": .string(userPPPoE)]
    }

    static func property(
        id: String, project: String, box: String, client: String?, clientCode: String?, name: String,
        address: String, observation: String, lat: Double, lng: Double, connections: [SimulatorJSON],
        at time: String
    ) -> JSONObject {
        var object = common(id: id, kind: "Property", at: time)
        object["project"] = .string(project)
        object["box"] = .string(box)
        object["pole"] = .null
        // No cables are simulated, so there is never a drop cable to clean up.
        object["drop"] = .null
        object["client"] = .optionalString(client)
        object["name"] = .string(name)
        object["address"] = .string(address)
        object["observation"] = .string(observation)
        setCoordinates(&object, lat: lat, lng: lng)
        object["connections"] = .array(connections)
        var history: [SimulatorJSON] = []
        if let client, let clientCode {
            history.append(historyEntry(client: client, code: clientCode, at: time))
        }
        object["history"] = ["clients": .array(history)]
        return object
    }

    /// One `history.clients` entry: the client entered the property at `time` and is still there.
    static func historyEntry(client: String, code: String, at time: String) -> SimulatorJSON {
        ["id": .string(client), "code": .string(code), "enter_date": .string(time), "exit_date": .null]
    }

    static func connection(splitter: JSONObject, port: Int, fiber: String) -> SimulatorJSON {
        [
            "id": splitter["id"] ?? .null,
            "kind": "Splitter",
            "name": splitter["name"] ?? .null,
            "port": .int(port),
            "implanted": splitter["implanted"] ?? true,
            "fiber": .string(fiber),
        ]
    }

    /// `coords` is GeoJSON order, `[lng, lat]`; `lat` and `lng` repeat it.
    static func setCoordinates(_ object: inout JSONObject, lat: Double, lng: Double) {
        object["coords"] = [.number(lng), .number(lat)]
        object["lat"] = .number(lat)
        object["lng"] = .number(lng)
    }

    private static func common(id: String, kind: String, at time: String) -> JSONObject {
        var object = JSONObject(minimumCapacity: 24)
        object["id"] = .string(id)
        object["_id"] = .string(id)
        object["kind"] = .string(kind)
        object["createdAt"] = .string(time)
        object["updatedAt"] = .string(time)
        return object
    }
}
