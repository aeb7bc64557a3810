/// A copy of the simulated network at one instant, for assertions in tests: counts, and
/// every object as a typed summary plus its full JSON (`json`).
public struct SimulatorSnapshot: Sendable {
    public struct Counts: Sendable, Equatable {
        public var olts: Int
        public var boxes: Int
        /// Boxes with at least one splitter traced to an OLT (what the integration caches).
        public var connectedBoxes: Int
        public var splitters: Int
        public var clients: Int
        public var properties: Int
        /// Non-null outputs of customer splitters (`isDrop`).
        public var occupiedPorts: Int
        /// Null outputs of customer splitters (`isDrop`) in connected boxes.
        public var freeCustomerPorts: Int

        init(_ network: Network) {
            olts = network.olts.count
            boxes = network.boxes.count
            splitters = network.splitters.count
            clients = network.clients.count
            properties = network.properties.count
            var connected = Set<String>()
            var occupied = 0
            var free = 0
            for splitter in network.splitters.all {
                let traced = splitter["olt"]?.string != nil
                if traced, let box = splitter["parent"]?.string, network.boxes.contains(box) { connected.insert(box) }
                guard splitter["isDrop"]?.bool == true else { continue }
                for output in SplitterPorts.outputs(splitter) {
                    if output.isNull {
                        if traced { free += 1 }
                    } else {
                        occupied += 1
                    }
                }
            }
            connectedBoxes = connected.count
            occupiedPorts = occupied
            freeCustomerPorts = free
        }
    }

    public struct OLT: Sendable {
        public var id: String
        public var name: String
        public var ip: String
        public var project: String
        public var updatedAt: String
        public var json: SimulatorJSON
    }

    public struct Box: Sendable {
        public var id: String
        public var name: String
        public var project: String
        public var lat: Double
        public var lng: Double
        /// The OLT of the box's first traced splitter; nil when not connected.
        public var connectedOLT: String?
        public var updatedAt: String
        public var json: SimulatorJSON
    }

    public struct Splitter: Sendable {
        public var id: String
        public var name: String
        /// The box (`parent`).
        public var box: String
        public var isDrop: Bool
        public var olt: String?
        public var slot: String?
        public var pon: String?
        /// `connectables.output`: index i is port i+1, nil when free.
        public var outputs: [String?]
        public var updatedAt: String
        public var json: SimulatorJSON

        /// 1-based free ports.
        public var freePorts: [Int] {
            outputs.enumerated().compactMap { $0.element == nil ? $0.offset + 1 : nil }
        }
    }

    public struct FTTHClient: Sendable {
        public var id: String
        public var code: String
        public var name: String
        public var implanted: Bool
        public var certified: Bool
        public var status: Int
        public var serialNumber: String
        public var updatedAt: String
        public var json: SimulatorJSON
    }

    public struct Property: Sendable {
        public struct Connection: Sendable, Equatable {
            public var splitter: String
            public var port: Int
            public var fiber: String
        }

        public var id: String
        public var box: String
        public var client: String?
        public var connections: [Connection]
        public var potencyRead: Double?
        public var updatedAt: String
        public var json: SimulatorJSON
    }

    public var counts: Counts
    public var olts: [OLT]
    public var boxes: [Box]
    public var splitters: [Splitter]
    public var clients: [FTTHClient]
    public var properties: [Property]

    public func box(id: String) -> Box? { boxes.first { $0.id == id } }
    public func box(named name: String) -> Box? { boxes.first { $0.name == name } }
    public func splitter(id: String) -> Splitter? { splitters.first { $0.id == id } }
    public func splitters(inBox box: String) -> [Splitter] { splitters.filter { $0.box == box } }
    public func client(id: String) -> FTTHClient? { clients.first { $0.id == id } }
    public func clients(code: String) -> [FTTHClient] { clients.filter { $0.code == code } }
    public func property(id: String) -> Property? { properties.first { $0.id == id } }
    public func properties(ofClient client: String) -> [Property] { properties.filter { $0.client == client } }
    public var connectedBoxes: [Box] { boxes.filter { $0.connectedOLT != nil } }

    init(_ network: Network) {
        counts = Counts(network)
        olts = network.olts.all.map { object in
            OLT(
                id: Self.text(object, "id"), name: Self.text(object, "name"), ip: Self.text(object, "ip"),
                project: Self.text(object, "project"), updatedAt: Self.text(object, "updatedAt"), json: .object(object))
        }
        var oltOfBox: [String: String] = [:]
        splitters = network.splitters.all.map { object in
            let splitter = Splitter(
                id: Self.text(object, "id"), name: Self.text(object, "name"), box: Self.text(object, "parent"),
                isDrop: object["isDrop"]?.bool ?? false, olt: object["olt"]?.string, slot: object["slot"]?.string,
                pon: object["pon"]?.string, outputs: SplitterPorts.outputs(object).map(\.string),
                updatedAt: Self.text(object, "updatedAt"), json: .object(object))
            if let olt = splitter.olt, oltOfBox[splitter.box] == nil { oltOfBox[splitter.box] = olt }
            return splitter
        }
        boxes = network.boxes.all.map { object in
            let id = Self.text(object, "id")
            return Box(
                id: id, name: Self.text(object, "name"), project: Self.text(object, "project"),
                lat: object["lat"]?.number ?? 0, lng: object["lng"]?.number ?? 0, connectedOLT: oltOfBox[id],
                updatedAt: Self.text(object, "updatedAt"), json: .object(object))
        }
        clients = network.clients.all.map { object in
            FTTHClient(
                id: Self.text(object, "id"), code: Self.text(object, "code"), name: Self.text(object, "name"),
                implanted: object["implanted"]?.bool ?? false, certified: object["certified"]?.bool ?? false,
                status: object["status"]?.int ?? 0, serialNumber: object["onu"]?["serial_number"]?.string ?? "",
                updatedAt: Self.text(object, "updatedAt"), json: .object(object))
        }
        properties = network.properties.all.map { object in
            let connections = (object["connections"]?.array ?? []).compactMap { connection -> Property.Connection? in
                guard let splitter = connection["id"]?.string, let port = connection["port"]?.int else { return nil }
                return Property.Connection(splitter: splitter, port: port, fiber: connection["fiber"]?.string ?? "")
            }
            return Property(
                id: Self.text(object, "id"), box: Self.text(object, "box"), client: object["client"]?.string,
                connections: connections, potencyRead: object["potencyRead"]?.number,
                updatedAt: Self.text(object, "updatedAt"), json: .object(object))
        }
    }

    private static func text(_ object: JSONObject, _ key: String) -> String {
        object[key]?.string ?? ""
    }
}
