/// Property writes: `POST properties` (client nested, or an existing client's id [S]),
/// `DELETE properties/{id}` (reference §3.5); `PATCH properties/{id}` is in PropertyPatch.swift.
extension Network {
    /// Where a property connects: a splitter and a 1-based port.
    struct PortChoice: Equatable {
        var splitterID: String
        var port: Int
    }

    /// The client of a create: a new one (nested object) or an existing one, by id [S].
    private enum CreatedPropertyClient {
        case new(JSONObject)
        case existing(JSONObject)
    }

    /// Creates the property (and its client when nested), occupies the port; returns the
    /// property (`client` = the client's id). Nothing changes unless every check passes.
    /// Without `sdkForms`, `client` must be an object, as on a server stricter than the SDK.
    mutating func createProperty(_ body: RequestBody, sdkForms: Bool = true) throws(SimulatorError) -> JSONObject {
        let project = try body.requiredString("project")
        let boxID = try body.requiredString("box")
        guard let box = boxes[boxID] else { throw .badRequest("box \(boxID) not found") }
        let boxProject = box["project"]?.string ?? ""
        guard project == boxProject else {
            throw .badRequest("project \(project) is not the project of box \(boxID) (\(boxProject))")
        }
        let coordinates = try Self.location(in: body, current: nil)
            ?? (box["lat"]?.number ?? 0, box["lng"]?.number ?? 0)
        let address = try body.optionalString("address") ?? box["address"]?.string ?? ""
        let observation = try body.optionalString("observation") ?? ""
        let potencyRead = try body.optionalNumber("potencyRead")
        _ = try body.optionalBool("force")  // undocumented; accepted and ignored
        let client = try createdClient(body, sdkForms: sdkForms)
        let choice = try portChoice(in: box, body)
        let externalID = try body.optionalString("external_id")

        let now = clock.tick()
        let clientObject: JSONObject?
        switch client {
        case .new(var newClient)?:
            let id = ids.next()
            newClient["id"] = .string(id)
            newClient["_id"] = .string(id)
            newClient["createdAt"] = .string(now)
            newClient["updatedAt"] = .string(now)
            clients.insert(newClient, id: id)
            clientObject = newClient
        case .existing(let existing)?:
            // The client document is not changed: the tie lives on the property (§3.4).
            clientObject = existing
        case nil:
            clientObject = nil
        }
        let connections = choice.flatMap { occupy($0) }.map { [$0] } ?? []
        let propertyID = ids.next()
        var property = ModelBuilder.property(
            id: propertyID, project: project, box: boxID, client: clientObject?["id"]?.string,
            clientCode: clientObject?["code"]?.string,
            name: try body.optionalString("name") ?? clientObject?["name"]?.string ?? "", address: address,
            observation: observation, lat: coordinates.lat, lng: coordinates.lng, connections: connections, at: now)
        if let potencyRead { property["potencyRead"] = .number(potencyRead) }
        if let externalID { property["external_id"] = .string(externalID) }
        properties.insert(property, id: propertyID)
        return property
    }

    /// `client` of a create: an object makes a new client; a string is the id of an existing
    /// client without a property (the SDK's `CreatePropertyDTO` [S]), refused without `sdkForms`.
    private func createdClient(_ body: RequestBody, sdkForms: Bool) throws(SimulatorError) -> CreatedPropertyClient? {
        switch body["client"] {
        case nil, .null?:
            return nil
        case .object(let fields)?:
            return .new(try Self.validatedClient(RequestBody(fields: fields)))
        case .string(let id)? where sdkForms:
            return .existing(try attachableClient(id))
        default:
            throw .badRequest(
                sdkForms ? "client must be an object (a new client) or the id of an existing client" : "client must be an object")
        }
    }

    /// An existing client that may get a property: it exists and has none.
    func attachableClient(_ id: String) throws(SimulatorError) -> JSONObject {
        guard let client = clients[id] else { throw .badRequest("client \(id) not found") }
        if let holder = property(ofClient: id) {
            throw .badRequest("client \(id) already has property \(holder)")
        }
        return client
    }

    /// The id of the property whose `client` is `clientID`, if any.
    func property(ofClient clientID: String) -> String? {
        properties.objects(withAnyOf: [clientID], at: "client").first?["id"]?.string
    }

    /// Sets the chosen splitter port to a new fiber (the splitter's `updatedAt` moves);
    /// returns the property's connection to it.
    mutating func occupy(_ choice: PortChoice) -> SimulatorJSON? {
        guard var splitter = splitters[choice.splitterID] else { return nil }
        let fiber = ids.next()
        SplitterPorts.setOutput(&splitter, port: choice.port, fiber: fiber)
        touch(&splitter)
        splitters.insert(splitter, id: choice.splitterID)
        return ModelBuilder.connection(splitter: splitter, port: choice.port, fiber: fiber)
    }

    /// `auto_connect: true` takes the first free port of the box's customer splitters
    /// (`isDrop`); `connector` + `port` name one. Neither: the property is not connected.
    func portChoice(in box: JSONObject, _ body: RequestBody) throws(SimulatorError) -> PortChoice? {
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

    /// The location a body gives, nil when none: `coords` `[lng, lat]` (GeoJSON order, the
    /// SDK's form [S]), `lat`/`lng` (the wiki's), or both when they agree. `current` completes a
    /// lone `lat` or `lng` (PATCH); without it (create) they come together.
    static func location(
        in body: RequestBody, current: (lat: Double, lng: Double)?
    ) throws(SimulatorError) -> (lat: Double, lng: Double)? {
        let coords = try optionalCoords(in: body)
        let lat = try body.optionalNumber("lat")
        let lng = try body.optionalNumber("lng")
        if let lat, !(-90...90).contains(lat) { throw .badRequest("lat must be within -90...90") }
        if let lng, !(-180...180).contains(lng) { throw .badRequest("lng must be within -180...180") }
        if let coords {
            // Equal up to float noise (1e-9° is a tenth of a millimetre).
            let agrees = abs((lat ?? coords.lat) - coords.lat) <= 1e-9 && abs((lng ?? coords.lng) - coords.lng) <= 1e-9
            guard agrees else {
                let given = [lat.map { "lat \($0)" }, lng.map { "lng \($0)" }].compactMap { $0 }.joined(separator: ", ")
                throw .badRequest(
                    "coords [lng, lat] = [\(coords.lng), \(coords.lat)] disagrees with \(given): coords and lat/lng must be the same point")
            }
            return coords
        }
        switch (lat, lng) {
        case (nil, nil):
            return nil
        case (let lat?, let lng?):
            return (lat, lng)
        case (let lat, let lng):
            guard let current else { throw .badRequest("lat and lng must be given together") }
            return (lat ?? current.lat, lng ?? current.lng)
        }
    }

    /// `coords`: exactly two numbers, longitude first.
    private static func optionalCoords(in body: RequestBody) throws(SimulatorError) -> (lat: Double, lng: Double)? {
        guard let value = body["coords"], !value.isNull else { return nil }
        guard case .array(let pair) = value, pair.count == 2,
              let lng = pair[0].number, let lat = pair[1].number, lng.isFinite, lat.isFinite
        else { throw .badRequest("coords must be [lng, lat]: an array of exactly two numbers") }
        guard (-180...180).contains(lng) else { throw .badRequest("coords[0] (lng) must be within -180...180") }
        guard (-90...90).contains(lat) else { throw .badRequest("coords[1] (lat) must be within -90...90") }
        return (lat, lng)
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
