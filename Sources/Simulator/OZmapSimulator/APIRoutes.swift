/// The OZmap API v2 routes: authentication, then dispatch by method and path.
extension SimulatorEngine {
    func handleAPI(_ request: APIRequest) -> APIResponse {
        Self.answering {
            try authenticate(request)
            guard let segments = request.decodedSegments else { throw SimulatorError.badRequest("malformed path") }
            // segments[0...1] are "api", "v2".
            let route = Array(segments.dropFirst(2))
            let query = try QueryParameters(rawQuery: request.rawQuery)
            return try dispatch(request, route: route, query: query)
        }
    }

    /// The raw key, exactly: no `Bearer ` prefix, no other scheme.
    private func authenticate(_ request: APIRequest) throws(SimulatorError) {
        guard let key = request.header("Authorization") else {
            throw SimulatorError(status: 401, message: "Authorization header is missing")
        }
        guard key == configuration.apiKey else {
            throw SimulatorError(status: 401, message: "Invalid or expired API key")
        }
    }

    private func dispatch(_ request: APIRequest, route: [String], query: QueryParameters) throws -> APIResponse {
        switch (request.method, route.count) {
        case ("GET", 1) where route[0] == "authenticated":
            return .json(["authenticated": true])
        case ("GET", 1):
            if let resource = Resource(rawValue: route[0]) {
                return try list(resource, query: query)
            }
        case ("GET", 2):
            if let resource = Resource(rawValue: route[0]) {
                return try single(resource, id: route[1], query: query)
            }
        case ("GET", 3) where route[0] == "properties" && route[1] == "client":
            return try propertiesOfClient(code: route[2])
        case ("POST", 1) where route[0] == "properties":
            let body = try RequestBody(request)
            let sdkForms = sdkForms.load(ordering: .relaxed)
            let property = try withNetwork { try $0.createProperty(body, sdkForms: sdkForms) }
            return .json(.object(property), status: 201)
        case ("PATCH", 2) where route[0] == "properties":
            let body = try RequestBody(request)
            let sdkForms = sdkForms.load(ordering: .relaxed)
            try withNetwork { try $0.patchProperty(id: route[1], body, sdkForms: sdkForms) }
            return .noContent
        case ("DELETE", 2) where route[0] == "properties":
            try withNetwork { try $0.deleteProperty(id: route[1]) }
            return .noContent
        case ("POST", 2) where route == ["ftth-clients", "batch-update"]:
            let body = try RequestBody(request)
            try withNetwork { try $0.batchUpdateClients(body) }
            return .noContent
        case ("PATCH", 2) where route[0] == "ftth-clients":
            let body = try RequestBody(request)
            try withNetwork { try $0.patchClient(id: route[1], body) }
            return .noContent
        case ("DELETE", 2) where route[0] == "ftth-clients":
            try withNetwork { try $0.deleteClient(id: route[1]) }
            return .noContent
        default:
            break
        }
        throw SimulatorError.notFound("Cannot \(request.method) \(request.path)")
    }

    // MARK: reads

    private func single(_ resource: Resource, id: String, query: QueryParameters) throws -> APIResponse {
        let populateClient = resource == .properties && Self.populates(query, "client")
        let selection = FieldSelection(query["select"])
        let object = try withNetwork { network -> JSONObject in
            guard let object = network.table(resource)[id] else {
                throw SimulatorError.notFound("\(resource.singular) \(id) not found")
            }
            return populateClient ? network.populatingClient(of: object) : object
        }
        return .json(.object(selection.apply(to: object)))
    }

    private func propertiesOfClient(code: String) throws -> APIResponse {
        let properties = readNetwork { network in
            let clientIDs = network.clients.objects(withAnyOf: [code], at: "code").compactMap { $0["code"]?.string == code ? $0["id"]?.string : nil }
            return network.properties.objects(withAnyOf: clientIDs, at: "client")
                .filter { $0["client"]?.string.map(clientIDs.contains) ?? false }
                .map { network.populatingClient(of: $0) }
        }
        return .json(.array(properties.map { .object($0) }))
    }

    static func populates(_ query: QueryParameters, _ field: String) -> Bool {
        guard let populate = query["populate"] else { return false }
        return populate.split(whereSeparator: { $0 == "," || $0 == " " }).contains { $0 == field }
    }
}

extension Network {
    /// The property with `client` replaced by the client object (or null when it is gone).
    func populatingClient(of property: JSONObject) -> JSONObject {
        var populated = property
        if let clientID = property["client"]?.string {
            populated["client"] = clients[clientID].map { .object($0) } ?? .null
        }
        return populated
    }
}
