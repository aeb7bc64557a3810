/// `PATCH properties/{id}` (reference §3.5). With `sdkForms` (the default) it takes what the
/// SDK's `UpdatePropertyDTO` accepts [S]: `box` + `auto_connect` or `connector`/`port` moves the
/// property (same ids, history kept), `client: null` detaches the client, `client: "<id>"`
/// attaches one. Without `sdkForms` it behaves as a stricter server: `box` and `client` are 400.
extension Network {
    /// Fields no PATCH may change: `project` follows the box, `connections` the port choice.
    static let propertyFieldsNeverPatched: Set<String> = ["connections", "project", "history"]
    /// Fields only the SDK's schema lets a PATCH change [S].
    static let propertyFieldsOfSDKForms: Set<String> = ["box", "client"]

    /// Where a PATCH puts the property: a box, and a port in it (nil: not connected).
    private struct Rehoming {
        var box: JSONObject
        var port: PortChoice?
    }

    private enum ClientChange {
        case detach(String)
        case attach(JSONObject)
    }

    mutating func patchProperty(id: String, _ body: RequestBody, sdkForms: Bool = true) throws(SimulatorError) {
        guard var property = properties[id] else { throw .notFound("property \(id) not found") }
        let fixed = sdkForms ? Self.propertyFieldsNeverPatched : Self.propertyFieldsNeverPatched.union(Self.propertyFieldsOfSDKForms)
        for field in body.fields.keys.sorted() where Self.immutableFields.contains(field) || fixed.contains(field) {
            throw .badRequest("\(field) cannot be changed")
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
        let current = (lat: property["lat"]?.number ?? 0, lng: property["lng"]?.number ?? 0)
        if let location = try Self.location(in: body, current: current) {
            ModelBuilder.setCoordinates(&property, lat: location.lat, lng: location.lng)
        }
        // A stricter server ignores the fields it does not know, as Mongoose does.
        var rehoming: Rehoming? = nil
        var clientChange: ClientChange? = nil
        if sdkForms {
            _ = try body.optionalBool("force")  // undocumented; accepted and ignored
            rehoming = try self.rehoming(of: property, body)
            clientChange = try self.clientChange(of: property, body)
        }

        // Every check passed: apply.
        let now = clock.tick()
        if let rehoming {
            freePorts(of: property)
            let connection = rehoming.port.flatMap { occupy($0) }
            property["connections"] = .array(connection.map { [$0] } ?? [])
            property["box"] = rehoming.box["id"] ?? .null
            property["project"] = rehoming.box["project"] ?? .null
        }
        switch clientChange {
        case .detach(let clientID)?:
            property["client"] = .null
            Self.recordExit(of: clientID, at: now, in: &property)
        case .attach(let client)?:
            property["client"] = client["id"] ?? .null
            Self.recordEntry(of: client, at: now, in: &property)
        case nil:
            break
        }
        property["updatedAt"] = .string(now)  // the instant of the history entry, if any
        properties.insert(property, id: id)
    }

    /// The move a PATCH asks for; nil when the box and the connection stay as they are.
    /// `box` alone moves the property unconnected (as a create without `auto_connect`);
    /// `auto_connect` at the box it is connected in keeps its port.
    private func rehoming(of property: JSONObject, _ body: RequestBody) throws(SimulatorError) -> Rehoming? {
        let currentBoxID = property["box"]?.string ?? ""
        var boxID = currentBoxID
        if let value = body["box"] {
            guard !value.isNull else { throw .badRequest("box cannot be null: a property is always in a box") }
            boxID = try body.requiredString("box")
        }
        let autoConnect = try body.optionalBool("auto_connect") ?? false
        let connector = try body.optionalString("connector")
        let port = try body.optionalInt("port")
        if boxID == currentBoxID {
            let held = heldPorts(of: property)
            if !autoConnect, connector == nil, port == nil { return nil }
            if autoConnect, connector == nil, port == nil, !held.isEmpty { return nil }
            if let connector, let port, held.contains(PortChoice(splitterID: connector, port: port)) { return nil }
        }
        guard let box = boxes[boxID] else { throw .badRequest("box \(boxID) not found") }
        return Rehoming(box: box, port: try portChoice(in: box, body))
    }

    /// The ports the property really holds: its connections whose fiber is still on the splitter.
    private func heldPorts(of property: JSONObject) -> [PortChoice] {
        (property["connections"]?.array ?? []).compactMap { connection in
            guard let splitterID = connection["id"]?.string, let port = connection["port"]?.int,
                  let fiber = connection["fiber"]?.string, let splitter = splitters[splitterID]
            else { return nil }
            let outputs = SplitterPorts.outputs(splitter)
            guard outputs.indices.contains(port - 1), outputs[port - 1].string == fiber else { return nil }
            return PortChoice(splitterID: splitterID, port: port)
        }
    }

    /// `client: null` detaches the client (it survives); `client: "<id>"` attaches an existing
    /// client without a property to a property without a client.
    private func clientChange(of property: JSONObject, _ body: RequestBody) throws(SimulatorError) -> ClientChange? {
        guard let value = body["client"] else { return nil }
        let propertyID = property["id"]?.string ?? ""
        let current = property["client"]?.string
        switch value {
        case .null:
            return current.map { .detach($0) }
        case .string(let clientID):
            if clientID == current { return nil }
            if let current {
                throw .badRequest(
                    "property \(propertyID) already has client \(current): detach it first with {\"client\": null}")
            }
            return .attach(try attachableClient(clientID))
        default:
            throw .badRequest("client must be the id of an existing client, or null to detach it")
        }
    }

    /// Appends the entry of a client that enters the property at `time`.
    static func recordEntry(of client: JSONObject, at time: String, in property: inout JSONObject) {
        var history = property["history"]?.object ?? [:]
        var entries = history["clients"]?.array ?? []
        entries.append(
            ModelBuilder.historyEntry(client: client["id"]?.string ?? "", code: client["code"]?.string ?? "", at: time))
        history["clients"] = .array(entries)
        property["history"] = .object(history)
    }
}
