import Foundation

/// Loads a network from a JSON seed file instead of generating one (format in
/// docs/SIMULATOR.md). Fields the file gives win; missing fields get the generator's
/// defaults; ids may be given (24-hex) or are generated.
struct SeedFileLoader {
    private var network: Network
    private let time: String
    private let splitterOutputs: Int

    static func load(path: String, configuration: SimulatorConfiguration) throws -> Network {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SimulatorError.invalidConfiguration("cannot read seed file \(path): \(error.localizedDescription)")
        }
        let json: SimulatorJSON
        do {
            json = try SimulatorJSON.parse(data)
        } catch {
            throw SimulatorError.invalidConfiguration("seed file \(path) is not valid JSON")
        }
        return try load(json: json, configuration: configuration)
    }

    static func load(json: SimulatorJSON, configuration: SimulatorConfiguration) throws(SimulatorError) -> Network {
        guard case .object(let root) = json else { throw Self.invalid("the root must be an object") }
        var loader = SeedFileLoader(network: Network(seed: configuration.seed), splitterOutputs: configuration.splitterOutputs)
        try loader.load(root)
        return loader.network
    }

    private init(network: Network, splitterOutputs: Int) {
        self.network = network
        self.time = network.clock.current
        self.splitterOutputs = splitterOutputs
    }

    private mutating func load(_ root: JSONObject) throws(SimulatorError) {
        for (index, entry) in try Self.entries(root, "olts").enumerated() { try addOLT(entry, index: index) }
        for (index, entry) in try Self.entries(root, "boxes").enumerated() { try addBox(entry, index: index) }
        for (index, entry) in try Self.entries(root, "splitters").enumerated() { try addSplitter(entry, index: index) }
        let clientKey = ["ftth_clients", "ftth-clients", "clients"].first { root[$0] != nil } ?? "ftth_clients"
        for (index, entry) in try Self.entries(root, clientKey).enumerated() {
            try addClient(entry, label: "\(clientKey)[\(index)]")
        }
        for (index, entry) in try Self.entries(root, "properties").enumerated() {
            try addProperty(entry, index: index)
        }
    }

    private mutating func addOLT(_ entry: JSONObject, index: Int) throws(SimulatorError) {
        let label = "olts[\(index)]"
        let id = try takeID(entry, label: label, existing: network.olts)
        let name = try Self.string(entry, "name", label: label) ?? "OLT-\(index + 1)"
        var slots: [String] = []
        var pons: [[String]] = []
        for _ in 0..<NetworkGenerator.slotsPerOLT {
            slots.append(network.ids.next())
            pons.append((0..<NetworkGenerator.ponsPerSlot).map { _ in network.ids.next() })
        }
        let base = ModelBuilder.olt(
            id: id, name: name, project: try Self.string(entry, "project", label: label) ?? network.ids.next(),
            ip: "10.0.\(index + 1).1", parent: nil, oltType: network.ids.next(), slots: slots, at: time)
        network.olts.insert(Self.overlay(base, entry), id: id)
        network.oltPorts[id] = OLTPorts(slots: slots, pons: pons)
    }

    private mutating func addBox(_ entry: JSONObject, index: Int) throws(SimulatorError) {
        let label = "boxes[\(index)]"
        let id = try takeID(entry, label: label, existing: network.boxes)
        guard let name = try Self.string(entry, "name", label: label) else { throw Self.invalid("\(label).name is required") }
        let defaultProject = network.olts.first?["project"]?.string
        let project = try Self.string(entry, "project", label: label) ?? defaultProject ?? network.ids.next()
        var lat = entry["lat"]?.number ?? NetworkGenerator.centerLat
        var lng = entry["lng"]?.number ?? NetworkGenerator.centerLng
        if let coords = entry["coords"]?.array, coords.count == 2, let first = coords[0].number, let second = coords[1].number {
            lng = first
            lat = second
        }
        let base = ModelBuilder.box(
            id: id, name: name, project: project, lat: lat, lng: lng, pole: nil, boxType: network.ids.next(),
            address: nil, cables: [], at: time)
        var box = Self.overlay(base, entry)
        ModelBuilder.setCoordinates(&box, lat: lat, lng: lng)
        network.boxes.insert(box, id: id)
    }

    private mutating func addSplitter(_ entry: JSONObject, index: Int) throws(SimulatorError) {
        let label = "splitters[\(index)]"
        let id = try takeID(entry, label: label, existing: network.splitters)
        guard let boxID = try Self.string(entry, "parent", label: label), let box = network.boxes[boxID] else {
            throw Self.invalid("\(label).parent must be the id of a box of the file")
        }
        let isDrop = entry["isDrop"]?.bool ?? false
        let outputs = entry["ratio"]?["output"]?.int ?? entry["outputs"]?.int ?? (isDrop ? splitterOutputs : 8)
        guard (1...256).contains(outputs) else { throw Self.invalid("\(label).ratio.output must be within 1...256") }
        var trace: OLTTrace? = nil
        if let oltID = try Self.string(entry, "olt", label: label) {
            guard network.olts.contains(oltID) else { throw Self.invalid("\(label).olt \(oltID) is not an OLT of the file") }
            let fallback = (network.oltPorts[oltID] ?? OLTPorts(slots: [], pons: [])).trace(olt: oltID, slotIndex: 0, ponIndex: 0)
            trace = OLTTrace(
                olt: oltID, slot: try Self.string(entry, "slot", label: label) ?? fallback.slot,
                pon: try Self.string(entry, "pon", label: label) ?? fallback.pon)
        }
        let base = ModelBuilder.splitter(
            id: id, name: try Self.string(entry, "name", label: label) ?? (isDrop ? "SPL-C 1:\(outputs)" : "SPL 1:\(outputs)"),
            box: boxID, project: box["project"]?.string ?? "", splitterType: network.ids.next(), isDrop: isDrop,
            outputs: outputs, inputFiber: nil, trace: trace, at: time)
        var splitter = Self.overlay(base, entry)
        splitter["outputs"] = nil
        splitter["ratio"] = ["input": splitter["ratio"]?["input"] ?? 1, "output": .int(outputs)]
        guard SplitterPorts.outputs(splitter).count == outputs else {
            throw Self.invalid("\(label).connectables.output must have ratio.output (\(outputs)) entries")
        }
        network.insertSplitter(splitter, id: id)
    }

    private mutating func addClient(_ entry: JSONObject, label: String) throws(SimulatorError) {
        let id = try takeID(entry, label: label, existing: network.clients)
        guard let code = try Self.string(entry, "code", label: label) else { throw Self.invalid("\(label).code is required") }
        let base = ModelBuilder.client(
            id: id, code: code, name: code, implanted: false, certified: false, status: 0,
            onu: ModelBuilder.onu(serialNumber: "", macAddress: "", userPPPoE: ""), observation: "", tags: [], at: time)
        network.clients.insert(Self.overlay(base, entry), id: id)
    }

    /// `connections: [{"id": <splitter>, "port": <1-based>}]` occupy those ports.
    private mutating func addProperty(_ entry: JSONObject, index: Int) throws(SimulatorError) {
        let label = "properties[\(index)]"
        let id = try takeID(entry, label: label, existing: network.properties)
        guard let boxID = try Self.string(entry, "box", label: label), let box = network.boxes[boxID] else {
            throw Self.invalid("\(label).box must be the id of a box of the file")
        }
        let clientID = try Self.string(entry, "client", label: label)
        if let clientID, !network.clients.contains(clientID) {
            throw Self.invalid("\(label).client \(clientID) is not a client of the file")
        }
        var connections: [SimulatorJSON] = []
        for (position, connection) in (entry["connections"]?.array ?? []).enumerated() {
            let place = "\(label).connections[\(position)]"
            guard let splitterID = connection["id"]?.string, var splitter = network.splitters[splitterID],
                  splitter["parent"]?.string == boxID
            else { throw Self.invalid("\(place).id must be a splitter of the property's box") }
            guard let port = connection["port"]?.int, SplitterPorts.isFree(splitter, port: port) else {
                throw Self.invalid("\(place).port must be a free port of splitter \(splitterID)")
            }
            let fiber = network.ids.next()
            SplitterPorts.setOutput(&splitter, port: port, fiber: fiber)
            network.splitters.insert(splitter, id: splitterID)
            connections.append(ModelBuilder.connection(splitter: splitter, port: port, fiber: fiber))
        }
        let client = clientID.flatMap { network.clients[$0] }
        var property = ModelBuilder.property(
            id: id, project: box["project"]?.string ?? "", box: boxID, client: clientID,
            clientCode: client?["code"]?.string, name: client?["name"]?.string ?? "", address: "", observation: "",
            lat: box["lat"]?.number ?? 0, lng: box["lng"]?.number ?? 0, connections: connections, at: time)
        property = Self.overlay(property, entry)
        property["connections"] = .array(connections)
        if let lat = entry["lat"]?.number, let lng = entry["lng"]?.number {
            ModelBuilder.setCoordinates(&property, lat: lat, lng: lng)
        }
        network.properties.insert(property, id: id)
    }

    // MARK: helpers

    private mutating func takeID(_ entry: JSONObject, label: String, existing: ObjectTable) throws(SimulatorError) -> String {
        guard let value = entry["id"] ?? entry["_id"] else { return network.ids.next() }
        guard let id = value.string, ObjectIDGenerator.isObjectID(id) else {
            throw Self.invalid("\(label).id must be a 24-hex id")
        }
        guard !existing.contains(id) else { throw Self.invalid("\(label).id \(id) is repeated") }
        return id
    }

    /// The file's fields on top of the defaults; `id`, `_id` and `kind` stay consistent.
    private static func overlay(_ base: JSONObject, _ entry: JSONObject) -> JSONObject {
        var merged = base
        for (key, value) in entry where key != "id" && key != "_id" && key != "kind" {
            merged[key] = value
        }
        return merged
    }

    private static func entries(_ root: JSONObject, _ key: String) throws(SimulatorError) -> [JSONObject] {
        guard let value = root[key] else { return [] }
        guard case .array(let elements) = value else { throw invalid("\(key) must be an array") }
        var objects: [JSONObject] = []
        for (index, element) in elements.enumerated() {
            guard case .object(let object) = element else { throw invalid("\(key)[\(index)] must be an object") }
            objects.append(object)
        }
        return objects
    }

    private static func string(_ entry: JSONObject, _ key: String, label: String) throws(SimulatorError) -> String? {
        guard let value = entry[key], !value.isNull else { return nil }
        guard let text = value.string else { throw invalid("\(label).\(key) must be a string") }
        return text
    }

    private static func invalid(_ message: String) -> SimulatorError {
        .invalidConfiguration("seed file: " + message)
    }
}
