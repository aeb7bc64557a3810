/// Property writes: `POST properties` (client nested), `PATCH properties/{id}`,
/// `DELETE properties/{id}` (reference §3.5).
extension Network {
    /// Where a new property connects: a splitter and a 1-based port.
    private struct PortChoice {
        var splitterID: String
        var port: Int
    }

    /// Creates the client and the property, occupies the port; returns the property
    /// (`client` = the new client's id). Nothing changes unless every check passes.
    mutating func createProperty(_ body: RequestBody) throws(SimulatorError) -> JSONObject {
        let project = try body.requiredString("project")
        let boxID = try body.requiredString("box")
        guard let box = boxes[boxID] else { throw .badRequest("box \(boxID) not found") }
        let boxProject = box["project"]?.string ?? ""
        guard project == boxProject else {
            throw .badRequest("project \(project) is not the project of box \(boxID) (\(boxProject))")
        }
        let coordinates = try Self.coordinates(in: body, default: (box["lat"]?.number ?? 0, box["lng"]?.number ?? 0))
        let address = try body.optionalString("address") ?? box["address"]?.string ?? ""
        let observation = try body.optionalString("observation") ?? ""
        let potencyRead = try body.optionalNumber("potencyRead")
        _ = try body.optionalBool("force")  // undocumented; accepted and ignored
        let newClient = try body.optionalObject("client").map { clientBody throws(SimulatorError) in
            try Self.validatedClient(clientBody)
        }
        let choice = try portChoice(in: box, body)
        let externalID = try body.optionalString("external_id")

        let now = clock.tick()
        var clientID: String? = nil
        if var client = newClient {
            let id = ids.next()
            client["id"] = .string(id)
            client["_id"] = .string(id)
            client["createdAt"] = .string(now)
            client["updatedAt"] = .string(now)
            clients.insert(client, id: id)
            clientID = id
        }
        var connections: [SimulatorJSON] = []
        if let choice, var splitter = splitters[choice.splitterID] {
            let fiber = ids.next()
            SplitterPorts.setOutput(&splitter, port: choice.port, fiber: fiber)
            touch(&splitter)
            splitters.insert(splitter, id: choice.splitterID)
            connections.append(ModelBuilder.connection(splitter: splitter, port: choice.port, fiber: fiber))
        }
        let propertyID = ids.next()
        let clientName = newClient?["name"]?.string
        var property = ModelBuilder.property(
            id: propertyID, project: project, box: boxID, client: clientID, clientCode: newClient?["code"]?.string,
            name: try body.optionalString("name") ?? clientName ?? "", address: address, observation: observation,
            lat: coordinates.lat, lng: coordinates.lng, connections: connections, at: now)
        if let potencyRead { property["potencyRead"] = .number(potencyRead) }
        if let externalID { property["external_id"] = .string(externalID) }
        properties.insert(property, id: propertyID)
        return property
    }

    /// `auto_connect: true` takes the first free port of the box's customer splitters
    /// (`isDrop`); `connector` + `port` name one. Neither: the property is not connected.
    private func portChoice(in box: JSONObject, _ body: RequestBody) throws(SimulatorError) -> PortChoice? {
        let boxID = box["id"]?.string ?? ""
        let boxName = box["name"]?.string ?? boxID
        let autoConnect = try body.optionalBool("auto_connect") ?? false
        let connector = try body.optionalString("connector")
        let port = try body.optionalInt("port")
        if autoConnect {
            guard connector == nil, port == nil else {
                throw .badRequest("auto_connect cannot be combined with connector/port")
            }
            let customerSplitters = splitters(inBox: boxID).filter { $0["isDrop"]?.bool == true }
            guard !customerSplitters.isEmpty else {
                throw .badRequest("auto_connect: box \(boxName) (\(boxID)) has no customer splitter (isDrop)")
            }
            for splitter in customerSplitters {
                if let free = SplitterPorts.freePorts(splitter).first, let id = splitter["id"]?.string {
                    return PortChoice(splitterID: id, port: free)
                }
            }
            throw .badRequest("auto_connect: no free port in box \(boxName) (\(boxID)): every customer splitter port is occupied")
        }
        guard connector != nil || port != nil else { return nil }
        guard let connector else { throw .badRequest("connector is required with port") }
        guard let port else { throw .badRequest("port is required with connector") }
        guard let splitter = splitters[connector] else { throw .badRequest("connector \(connector) is not a splitter") }
        guard splitter["parent"]?.string == boxID else {
            throw .badRequest("connector \(connector) is not inside box \(boxName) (\(boxID))")
        }
        let outputs = SplitterPorts.outputs(splitter).count
        guard (1...max(outputs, 1)).contains(port), outputs > 0 else {
            throw .badRequest("port \(port) is out of range: splitter \(connector) has ports 1...\(outputs)")
        }
        guard SplitterPorts.isFree(splitter, port: port) else {
            throw .badRequest("port \(port) of splitter \(connector) is already occupied")
        }
        return PortChoice(splitterID: connector, port: port)
    }

    /// The client object of a create, without id and timestamps.
    private static func validatedClient(_ body: RequestBody) throws(SimulatorError) -> JSONObject {
        let code = try body.requiredString("code", label: "client.code")
        var onu = ModelBuilder.onu(serialNumber: "", macAddress: "", userPPPoE: "")
        if let onuBody = try body.optionalObject("onu", label: "client.onu") {
            for field in ["serial_number", "mac_address", "user_PPPoE"] {
                if let value = try onuBody.optionalString(field, label: "client.onu.\(field)") {
                    onu[field] = .string(value)
                }
            }
        }
        var tags: [SimulatorJSON] = []
        if let value = body["tags"], !value.isNull {
            guard case .array(let elements) = value else { throw .badRequest("client.tags must be an array") }
            tags = elements
        }
        var client = ModelBuilder.client(
            id: "", code: code, name: try body.optionalString("name", label: "client.name") ?? code,
            implanted: try body.optionalBool("implanted", label: "client.implanted") ?? false,
            certified: try body.optionalBool("certified", label: "client.certified") ?? false,
            status: try body.optionalStatus(label: "client.status") ?? 0, onu: onu,
            observation: try body.optionalString("observation", label: "client.observation") ?? "",
            tags: tags, at: "")
        if let externalID = try body.optionalString("external_id", label: "client.external_id") {
            client["external_id"] = .string(externalID)
        }
        return client
    }

    /// `lat` and `lng` together, within range; the default when both are absent.
    private static func coordinates(
        in body: RequestBody, default fallback: (lat: Double, lng: Double)
    ) throws(SimulatorError) -> (lat: Double, lng: Double) {
        let lat = try body.optionalNumber("lat")
        let lng = try body.optionalNumber("lng")
        switch (lat, lng) {
        case (nil, nil):
            return fallback
        case (let lat?, let lng?):
            guard (-90...90).contains(lat) else { throw .badRequest("lat must be within -90...90") }
            guard (-180...180).contains(lng) else { throw .badRequest("lng must be within -180...180") }
            return (lat, lng)
        default:
            throw .badRequest("lat and lng must be given together")
        }
    }

    /// Fields a PATCH may not change here: moving a client is delete + create (reference §4).
    static let propertyFieldsFixedAfterCreate: Set<String> = ["box", "client", "connections", "project", "history"]

    mutating func patchProperty(id: String, _ body: RequestBody) throws(SimulatorError) {
        guard var property = properties[id] else { throw .notFound("property \(id) not found") }
        for field in body.fields.keys where Self.immutableFields.contains(field) {
            throw .badRequest("\(field) cannot be changed")
        }
        for field in body.fields.keys where Self.propertyFieldsFixedAfterCreate.contains(field) {
            throw .badRequest("\(field) cannot be changed with PATCH by ozmap-sim: delete the property and create it again")
        }
        for field in ["name", "address", "observation"] {
            if let value = try body.optionalString(field) { property[field] = .string(value) }
        }
        if body["potencyRead"] != nil {
            property["potencyRead"] = try body.optionalNumber("potencyRead").map { .number($0) } ?? .null
        }
        for field in ["external_id", "pole", "drop"] where body[field] != nil {
            property[field] = .optionalString(try body.optionalString(field))
        }
        let lat = try body.optionalNumber("lat") ?? property["lat"]?.number
        let lng = try body.optionalNumber("lng") ?? property["lng"]?.number
        if body["lat"] != nil || body["lng"] != nil, let lat, let lng {
            guard (-90...90).contains(lat) else { throw .badRequest("lat must be within -90...90") }
            guard (-180...180).contains(lng) else { throw .badRequest("lng must be within -180...180") }
            ModelBuilder.setCoordinates(&property, lat: lat, lng: lng)
        }
        touch(&property)
        properties.insert(property, id: id)
    }

    /// Deletes the property and its client, and frees its ports.
    mutating func deleteProperty(id: String) throws(SimulatorError) {
        guard let property = properties.remove(id) else { throw .notFound("property \(id) not found") }
        if let clientID = property["client"]?.string {
            clients.remove(clientID)
        }
        freePorts(of: property)
    }

    /// Frees the splitter ports a property holds (only where its fiber is still there).
    mutating func freePorts(of property: JSONObject) {
        for connection in property["connections"]?.array ?? [] {
            guard let splitterID = connection["id"]?.string, let port = connection["port"]?.int,
                  let fiber = connection["fiber"]?.string, var splitter = splitters[splitterID]
            else { continue }
            let outputs = SplitterPorts.outputs(splitter)
            guard outputs.indices.contains(port - 1), outputs[port - 1].string == fiber else { continue }
            SplitterPorts.setOutput(&splitter, port: port, fiber: nil)
            touch(&splitter)
            splitters.insert(splitter, id: splitterID)
        }
    }
}
