/// The control API under `/__sim/` (a prefix a real OZmap cannot have); no authentication.
/// Bodies are JSON; the Content-Type is not checked, so `curl -d '{...}'` works.
extension SimulatorEngine {
    func handleControl(_ request: APIRequest) -> APIResponse {
        Self.answering {
            guard let segments = request.decodedSegments else { throw SimulatorError.badRequest("malformed path") }
            let route = Array(segments.dropFirst())  // drop "__sim"
            let query = try QueryParameters(rawQuery: request.rawQuery)
            switch (request.method, route) {
            case ("GET", ["health"]):
                return .json(["status": "ok"])
            case ("GET", ["faults"]):
                return .json(faults.faults.json)
            case ("POST", ["faults"]), ("PUT", ["faults"]):
                let newFaults = try SimulatorFaults(json: try Self.controlBody(request))
                faults.set(newFaults)
                logger.info("faults set", metadata: ["faults": "\(newFaults.json.jsonText)"])
                return .json(newFaults.json)
            case ("DELETE", ["faults"]):
                faults.set(.none)
                return .json(SimulatorFaults.none.json)
            case ("GET", ["settings"]):
                return .json(settingsJSON)
            case ("POST", ["settings"]), ("PUT", ["settings"]):
                try applySettings(try Self.controlBody(request))
                logger.info("settings set", metadata: ["settings": "\(settingsJSON.jsonText)"])
                return .json(settingsJSON)
            case ("DELETE", ["settings"]):
                sdkForms.store(configuration.sdkForms, ordering: .relaxed)
                return .json(settingsJSON)
            case ("GET", ["requests"]):
                let entries = requestLog.entries
                return .json(["count": .int(entries.count), "requests": .array(entries.map(\.json))])
            case ("DELETE", ["requests"]):
                requestLog.clear()
                return .noContent
            case ("GET", ["state"]):
                let full = ["1", "true", "yes"].contains(query["full"] ?? "")
                return .json(readNetwork { $0.stateJSON(full: full) })
            case ("POST", ["boxes"]):
                let body = try Self.controlBody(request)
                let box = try withNetwork { network in
                    try network.addBox(
                        name: try body.requiredString("name"), oltID: try body.optionalString("olt"),
                        lat: try body.optionalNumber("lat"), lng: try body.optionalNumber("lng"),
                        splitterOutputs: try body.optionalInt("splitter_outputs") ?? configuration.splitterOutputs)
                }
                return .json(.object(box), status: 201)
            case ("POST", let path) where path.count == 3 && path[0] == "boxes" && path[2] == "rename":
                let body = try Self.controlBody(request)
                try withNetwork { try $0.renameBox(id: path[1], to: try body.requiredString("name")) }
                return .noContent
            case ("POST", let path) where path.count == 3 && path[0] == "boxes" && path[2] == "move":
                let body = try Self.controlBody(request)
                guard body["olt"] != nil else {
                    throw SimulatorError.badRequest("olt is required (an OLT id, or null to disconnect the box)")
                }
                let olt = try body.optionalString("olt")
                try withNetwork { try $0.moveBox(id: path[1], toOLT: olt) }
                return .noContent
            case ("DELETE", let path) where path.count == 2 && path[0] == "boxes":
                try withNetwork { try $0.deleteBox(id: path[1]) }
                return .noContent
            case ("DELETE", let path) where path.count == 2 && path[0] == "splitters":
                try withNetwork { try $0.deleteSplitter(id: path[1]) }
                return .noContent
            default:
                throw SimulatorError.notFound("Cannot \(request.method) \(request.path)")
            }
        }
    }

    static let settingsKeys: Set<String> = ["sdk_forms"]

    /// `{"sdk_forms": bool}`: how strictly the API reads the SDK-only request forms.
    private var settingsJSON: SimulatorJSON {
        ["sdk_forms": .bool(sdkForms.load(ordering: .relaxed))]
    }

    /// Sets the settings present in the body; the others keep their value. Unknown keys are
    /// 400, so that a typo cannot silently leave a setting as it was.
    private func applySettings(_ body: RequestBody) throws(SimulatorError) {
        for key in body.fields.keys.sorted() where !Self.settingsKeys.contains(key) {
            throw .badRequest("unknown setting '\(key)' (known: \(Self.settingsKeys.sorted().joined(separator: ", ")))")
        }
        if let accepted = try body.optionalBool("sdk_forms") {
            sdkForms.store(accepted, ordering: .relaxed)
        }
    }

    private static func controlBody(_ request: APIRequest) throws(SimulatorError) -> RequestBody {
        var lenient = request
        lenient.headers.removeAll { $0.name.lowercased() == "content-type" }
        lenient.headers.append(HTTPHeaderField(name: "Content-Type", value: "application/json"))
        return try RequestBody(lenient)
    }
}

extension Network {
    /// `GET /__sim/state`: counts, and every object when `full`.
    func stateJSON(full: Bool) -> SimulatorJSON {
        let counts = SimulatorSnapshot.Counts(self)
        var state: JSONObject = [
            "counts": [
                "olts": .int(counts.olts), "boxes": .int(counts.boxes), "connected_boxes": .int(counts.connectedBoxes),
                "splitters": .int(counts.splitters), "clients": .int(counts.clients),
                "properties": .int(counts.properties), "occupied_ports": .int(counts.occupiedPorts),
                "free_customer_ports": .int(counts.freeCustomerPorts),
            ]
        ]
        if full {
            for resource in Resource.allCases {
                state[resource.rawValue] = .array(table(resource).all.map { .object($0) })
            }
        }
        return .object(state)
    }
}
