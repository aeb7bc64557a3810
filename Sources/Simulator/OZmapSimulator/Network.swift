/// The resources of the API, by their route name.
enum Resource: String, CaseIterable, Sendable {
    case olts
    case splitters
    case boxes
    case ftthClients = "ftth-clients"
    case properties

    /// The singular used in error messages.
    var singular: String {
        switch self {
        case .olts: "OLT"
        case .splitters: "splitter"
        case .boxes: "box"
        case .ftthClients: "FTTH client"
        case .properties: "property"
        }
    }
}

/// Where a splitter is traced to: the ids of an OLT, one of its slots and one of its PONs.
struct OLTTrace: Sendable, Equatable {
    var olt: String
    var slot: String
    var pon: String
}

/// The slot and PON ids of an OLT, so that moving a box can point its splitters at real ones.
struct OLTPorts: Sendable {
    var slots: [String]
    /// `pons[slotIndex][ponIndex]`
    var pons: [[String]]

    func trace(olt: String, slotIndex: Int, ponIndex: Int) -> OLTTrace {
        let slot = slots.isEmpty ? 0 : slotIndex % slots.count
        let ponsOfSlot = pons.indices.contains(slot) ? pons[slot] : []
        let pon = ponsOfSlot.isEmpty ? "" : ponsOfSlot[ponIndex % ponsOfSlot.count]
        return OLTTrace(olt: olt, slot: slots.isEmpty ? "" : slots[slot], pon: pon)
    }

    /// The (slot, pon) position of a PON id, if it belongs to this OLT.
    func position(ofPON pon: String) -> (slot: Int, pon: Int)? {
        for (slotIndex, ponsOfSlot) in pons.enumerated() {
            if let ponIndex = ponsOfSlot.firstIndex(of: pon) { return (slotIndex, ponIndex) }
        }
        return nil
    }
}

/// The whole simulated OZmap tenant. A value type kept behind one lock by the engine.
struct Network: Sendable {
    // Indexed: the fields of the lookups ozmapd makes (`=`/`in` filters, properties/client/{code},
    // `olt exists`); every table indexes `updatedAt` (ObjectTable).
    var olts = ObjectTable(indexing: ["id"])
    var boxes = ObjectTable(indexing: ["id"])
    var splitters = ObjectTable(indexing: ["id", "parent", "olt"])
    var clients = ObjectTable(indexing: ["id", "code", "onu.serial_number"])
    var properties = ObjectTable(indexing: ["id", "client", "box"])
    var oltPorts: [String: OLTPorts] = [:]
    private(set) var splitterIDsByBox: [String: [String]] = [:]
    var ids: ObjectIDGenerator
    var clock: SimulatedClock

    init(seed: UInt64, clock: SimulatedClock = SimulatedClock()) {
        ids = ObjectIDGenerator(seed: seed)
        self.clock = clock
    }

    func table(_ resource: Resource) -> ObjectTable {
        switch resource {
        case .olts: olts
        case .splitters: splitters
        case .boxes: boxes
        case .ftthClients: clients
        case .properties: properties
        }
    }

    /// For a bulk of inserts not in time order (see `ObjectTable.deferTimeIndex`).
    mutating func deferTimeIndexes() {
        olts.deferTimeIndex()
        boxes.deferTimeIndex()
        splitters.deferTimeIndex()
        clients.deferTimeIndex()
        properties.deferTimeIndex()
    }

    mutating func buildTimeIndexes() {
        olts.buildTimeIndex()
        boxes.buildTimeIndex()
        splitters.buildTimeIndex()
        clients.buildTimeIndex()
        properties.buildTimeIndex()
    }

    // MARK: splitters, indexed by their box

    mutating func insertSplitter(_ splitter: JSONObject, id: String) {
        if !splitters.contains(id), let box = splitter["parent"]?.string {
            splitterIDsByBox[box, default: []].append(id)
        }
        splitters.insert(splitter, id: id)
    }

    @discardableResult
    mutating func removeSplitter(_ id: String) -> JSONObject? {
        guard let removed = splitters.remove(id) else { return nil }
        if let box = removed["parent"]?.string {
            splitterIDsByBox[box]?.removeAll { $0 == id }
            if splitterIDsByBox[box]?.isEmpty == true { splitterIDsByBox[box] = nil }
        }
        return removed
    }

    /// The splitters inside a box, in creation order.
    func splitters(inBox box: String) -> [JSONObject] {
        (splitterIDsByBox[box] ?? []).compactMap { splitters[$0] }
    }

    /// Sets `updatedAt` of an object to a fresh tick.
    mutating func touch(_ object: inout JSONObject) {
        object["updatedAt"] = .string(clock.tick())
    }
}
