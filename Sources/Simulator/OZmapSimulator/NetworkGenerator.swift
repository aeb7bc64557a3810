/// Generates a deterministic network from the configuration: OLTs in Florianópolis, CTO
/// boxes spread round-robin over them, each with a primary splitter traced to its OLT and
/// a customer splitter partly occupied by existing clients, plus a few boxes not traced to
/// any OLT.
struct NetworkGenerator {
    static let slotsPerOLT = 2
    static let ponsPerSlot = 16
    static let primarySplitterOutputs = 8
    static let centerLat = -27.59
    static let centerLng = -48.55
    /// About 3 km around the center.
    static let spreadDegrees = 0.03

    private let configuration: SimulatorConfiguration
    private var random: SeededRandom
    private var network: Network
    /// The `createdAt`/`updatedAt` of what is being generated: each box with its splitters,
    /// clients and properties gets its own millisecond, as on a tenant built over time, the
    /// last at the start time: the boxes not connected first, then the connected ones in
    /// creation order. So an incremental query `updatedAt >= <the newest time a full load
    /// saw>` matches what changed since, not the whole network nor the boxes it leaves out.
    private var time: String
    private let startMilliseconds: Int64
    private var clientNumber = 0

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        random = SeededRandom(seed: configuration.seed)
        network = Network(seed: configuration.seed)
        startMilliseconds = network.clock.lastMilliseconds
        let allBoxes = configuration.boxes + Int((Double(configuration.boxes) * configuration.unconnectedBoxRatio).rounded())
        time = ISOTime.format(milliseconds: startMilliseconds - Int64(allBoxes) - 1)  // the OLTs'
    }

    private var unconnectedBoxes: Int {
        Int((Double(configuration.boxes) * configuration.unconnectedBoxRatio).rounded())
    }

    /// Stamps what follows `offset` milliseconds before the start time.
    private mutating func setTime(millisecondsBeforeStart offset: Int) {
        time = ISOTime.format(milliseconds: startMilliseconds - Int64(offset))
    }

    static func generate(_ configuration: SimulatorConfiguration) -> Network {
        var generator = NetworkGenerator(configuration: configuration)
        return generator.run()
    }

    private mutating func run() -> Network {
        let boxType = network.ids.next()
        let primaryType = network.ids.next()
        let customerType = network.ids.next()
        network.deferTimeIndexes()
        let olts = (0..<configuration.olts).map { makeOLT(index: $0) }

        var boxesPerOLT = Array(repeating: 0, count: olts.count)
        for index in 0..<configuration.boxes {
            let oltIndex = index % olts.count
            boxesPerOLT[oltIndex] += 1
            let number = boxesPerOLT[oltIndex]
            let ponPosition = (number - 1) % (Self.slotsPerOLT * Self.ponsPerSlot)
            let olt = olts[oltIndex]
            setTime(millisecondsBeforeStart: configuration.boxes - 1 - index)
            let trace = olt.ports.trace(
                olt: olt.id, slotIndex: ponPosition / Self.ponsPerSlot, ponIndex: ponPosition % Self.ponsPerSlot)
            makeBox(
                name: Self.boxName(oltIndex: oltIndex, number: number), project: olt.project, trace: trace,
                boxType: boxType, primaryType: primaryType, customerType: customerType)
        }

        let unconnected = unconnectedBoxes
        for index in 0..<unconnected where !olts.isEmpty {
            let oltIndex = index % olts.count
            setTime(millisecondsBeforeStart: configuration.boxes + unconnected - index)
            boxesPerOLT[oltIndex] += 1
            makeBox(
                name: Self.boxName(oltIndex: oltIndex, number: boxesPerOLT[oltIndex]),
                project: olts[oltIndex].project, trace: nil,
                boxType: boxType, primaryType: primaryType, customerType: customerType)
        }
        network.buildTimeIndexes()
        return network
    }

    /// `CTO-01-001`: the OLT's number, then the box's number within that OLT.
    static func boxName(oltIndex: Int, number: Int) -> String {
        "CTO-" + zeroPadded(oltIndex + 1, 2) + "-" + zeroPadded(number, 3)
    }

    static func zeroPadded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // MARK: OLTs

    private struct GeneratedOLT {
        var id: String
        var project: String
        var ports: OLTPorts
    }

    private mutating func makeOLT(index: Int) -> GeneratedOLT {
        let project = network.ids.next()
        let pop = network.ids.next()
        let oltType = network.ids.next()
        let id = network.ids.next()
        let ports = makePorts()
        let number = Self.zeroPadded(index + 1, 2)
        let olt = ModelBuilder.olt(
            id: id, name: "OLT-FLN-" + number, project: project, ip: "10.0.\(index + 1).1", parent: pop,
            oltType: oltType, slots: ports.slots, at: time)
        network.olts.insert(olt, id: id)
        network.oltPorts[id] = ports
        return GeneratedOLT(id: id, project: project, ports: ports)
    }

    private mutating func makePorts() -> OLTPorts {
        var slots: [String] = []
        var pons: [[String]] = []
        for _ in 0..<Self.slotsPerOLT {
            slots.append(network.ids.next())
            pons.append((0..<Self.ponsPerSlot).map { _ in network.ids.next() })
        }
        return OLTPorts(slots: slots, pons: pons)
    }

    // MARK: boxes, splitters, clients

    private mutating func makeBox(
        name: String, project: String, trace: OLTTrace?, boxType: String, primaryType: String, customerType: String
    ) {
        let id = network.ids.next()
        let lat = Self.rounded(Self.centerLat + random.uniform(-Self.spreadDegrees, Self.spreadDegrees))
        let lng = Self.rounded(Self.centerLng + random.uniform(-Self.spreadDegrees, Self.spreadDegrees))
        let feederCable = network.ids.next()
        let box = ModelBuilder.box(
            id: id, name: name, project: project, lat: lat, lng: lng, pole: network.ids.next(), boxType: boxType,
            address: "Rua Simulada \(Int(random.uniform(1, 400))), Florianópolis - SC", cables: [feederCable],
            at: time)
        network.boxes.insert(box, id: id)

        // A box wired to an OLT: OLT fiber -> primary splitter -> customer splitter.
        // A box not wired: only a customer splitter, with no trace and no clients.
        var customerInput: String? = nil
        if let trace {
            let primaryID = network.ids.next()
            let inputFiber = network.ids.next()
            customerInput = network.ids.next()
            var primary = ModelBuilder.splitter(
                id: primaryID, name: "SPL-P 1:\(Self.primarySplitterOutputs)", box: id, project: project,
                splitterType: primaryType, isDrop: false, outputs: Self.primarySplitterOutputs,
                inputFiber: inputFiber, trace: trace, at: time)
            SplitterPorts.setOutput(&primary, port: 1, fiber: customerInput)
            network.insertSplitter(primary, id: primaryID)
        }
        let outputs = configuration.splitterOutputs
        let customerID = network.ids.next()
        var customer = ModelBuilder.splitter(
            id: customerID, name: "SPL-C 1:\(outputs)", box: id, project: project, splitterType: customerType,
            isDrop: true, outputs: outputs, inputFiber: customerInput, trace: trace, at: time)
        if trace != nil {
            let occupied = Int((Double(outputs) * configuration.occupiedPortRatio).rounded())
            for port in pickPorts(count: occupied, of: outputs) {
                connectExistingClient(box: box, splitter: &customer, port: port)
            }
        }
        network.insertSplitter(customer, id: customerID)
    }

    /// `count` distinct 1-based ports out of `total`, in ascending order (partial Fisher-Yates).
    private mutating func pickPorts(count: Int, of total: Int) -> [Int] {
        var ports = Array(1...max(total, 1))
        let wanted = min(count, total)
        for index in 0..<wanted {
            let other = index + Int(random.next() % UInt64(total - index))
            ports.swapAt(index, other)
        }
        return ports.prefix(wanted).sorted()
    }

    private mutating func connectExistingClient(box: JSONObject, splitter: inout JSONObject, port: Int) {
        clientNumber += 1
        let code = String(100_000 + clientNumber)
        let clientID = network.ids.next()
        let propertyID = network.ids.next()
        let fiber = network.ids.next()
        let serial = "ZTEG" + ObjectIDGenerator.hex(random.next() & 0xFFFF_FFFF, width: 8).uppercased()
        let client = ModelBuilder.client(
            id: clientID, code: code, name: "Cliente \(code)", implanted: random.unit() < 0.9,
            certified: random.unit() < 0.5, status: random.unit() < 0.95 ? 0 : 1,
            onu: ModelBuilder.onu(serialNumber: serial, macAddress: "", userPPPoE: "cliente\(code)"),
            observation: "", tags: [], at: time)
        network.clients.insert(client, id: clientID)

        SplitterPorts.setOutput(&splitter, port: port, fiber: fiber)
        let lat = Self.rounded((box["lat"]?.number ?? Self.centerLat) + random.uniform(-0.0005, 0.0005))
        let lng = Self.rounded((box["lng"]?.number ?? Self.centerLng) + random.uniform(-0.0005, 0.0005))
        let property = ModelBuilder.property(
            id: propertyID, project: box["project"]?.string ?? "", box: box["id"]?.string ?? "",
            client: clientID, clientCode: code, name: "Cliente \(code)",
            address: "Rua Simulada \(Int(random.uniform(1, 400))), \(Int(random.uniform(1, 2000))) - Florianópolis/SC",
            observation: "", lat: lat, lng: lng,
            connections: [ModelBuilder.connection(splitter: splitter, port: port, fiber: fiber)], at: time)
        network.properties.insert(property, id: propertyID)
    }

    /// Six decimals (about 10 cm), as coordinates usually come.
    private static func rounded(_ degrees: Double) -> Double {
        (degrees * 1_000_000).rounded() / 1_000_000
    }
}
