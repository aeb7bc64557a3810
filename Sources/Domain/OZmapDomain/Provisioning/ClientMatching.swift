/// How ozmapd tells the ONU's client among what OZmap holds: one rule for the outbox's
/// per-ONU lookup and for the bulk reads of reconcile and import.
enum ClientMatching {
    /// ozmapd's own client for the ONU: its mark names the ONU, or ozmapd recorded it as created
    /// (clients an older ozmapd made carry no mark). Anything else is adopted: the ERP's, a person's.
    static func isOwn(_ client: FTTHClientRecord, onuID: String, linked: LinkedClient?) -> Bool {
        if let marked = client.markedONU { return marked == onuID }
        guard let linked, linked.clientID == client.id else { return false }
        return !linked.adopted
    }

    /// The client's property: the one at `box` if it has several.
    static func property(of client: FTTHClientRecord, in properties: [OZmapProperty], box: String) -> OZmapProperty? {
        let own = properties.filter { $0.clientID == client.id }
        return own.first { $0.boxID == box } ?? own.first
    }

    /// The candidates best first: the client already at the box, then the one ozmapd knew, then
    /// the one under the ONU's own code, then the rest in the order found.
    static func ranked(_ clients: [FTTHClientRecord], properties: [OZmapProperty], box: String, linkedID: String,
                       code: String) -> [FTTHClientRecord] {
        func rank(_ client: FTTHClientRecord) -> Int {
            if property(of: client, in: properties, box: box)?.boxID == box { return 0 }
            if client.id == linkedID { return 1 }
            return client.code == code ? 2 : 3
        }
        return clients.enumerated().sorted { a, b in (rank(a.element), a.offset) < (rank(b.element), b.offset) }.map(\.element)
    }

    /// Clients found (by serial, or by code after a person retyped it) that may be the ONU's:
    /// never one ozmapd marked for another ONU.
    static func notMarkedForAnotherONU(_ clients: [FTTHClientRecord], onuID: String) -> [FTTHClientRecord] {
        clients.filter { $0.markedONU == nil || $0.markedONU == onuID }
    }
}

/// What OZmap holds for some ONUs, indexed for `match`: read in bulk for reconcile and import
/// (`read`: `in` filters of 100 values a request), or gathered per ONU by the outbox's lookup.
struct OZmapClientSnapshot: Sendable {
    private(set) var clientsByID: [String: FTTHClientRecord] = [:]
    private var idsByCode: [String: [String]] = [:]
    private var idsBySerial: [String: [String]] = [:]
    private(set) var propertiesByID: [String: OZmapProperty] = [:]
    private var propertyIDsOfClient: [String: [String]] = [:]
    /// Every client ozmapd marked as its own (when asked for).
    private(set) var marked: [FTTHClientRecord] = []

    static func read(codes: [String], serials: [String], propertyIDs: [String], marked readMarked: Bool,
                     from ozmap: any OZmapProvisioner) async throws -> OZmapClientSnapshot {
        var snapshot = OZmapClientSnapshot()
        for client in try await ozmap.clients(codes: codes) { snapshot.add(client) }
        for client in try await ozmap.clients(serialNumbers: serials) { snapshot.add(client) }
        if readMarked {
            snapshot.marked = try await ozmap.markedClients()
            for client in snapshot.marked { snapshot.add(client) }
        }
        for property in try await ozmap.properties(clientIDs: Array(snapshot.clientsByID.keys).sorted()) { snapshot.add(property) }
        let missing = propertyIDs.filter { !$0.isEmpty && snapshot.propertiesByID[$0] == nil }
        for property in try await ozmap.properties(ids: missing) { snapshot.add(property) }
        return snapshot
    }

    mutating func add(_ client: FTTHClientRecord) {
        guard clientsByID.updateValue(client, forKey: client.id) == nil else { return }
        idsByCode[client.code, default: []].append(client.id)
        if !client.serialNumber.isEmpty { idsBySerial[client.serialNumber.uppercased(), default: []].append(client.id) }
    }

    mutating func add(_ property: OZmapProperty) {
        guard propertiesByID.updateValue(property, forKey: property.id) == nil else { return }
        if !property.clientID.isEmpty { propertyIDsOfClient[property.clientID, default: []].append(property.id) }
    }

    func properties(of clientID: String) -> [OZmapProperty] {
        (propertyIDsOfClient[clientID] ?? []).compactMap { propertiesByID[$0] }
    }

    /// The ONU's clients as the outbox's lookup would find them (by code, the adopted client,
    /// then by serial), ranked, with their properties.
    func match(onuID: String, serialNumber: String, box: String, linked: LinkedClient?) -> ClientMatch {
        var clients = ClientMatching.notMarkedForAnotherONU((idsByCode[onuID] ?? []).compactMap { clientsByID[$0] }, onuID: onuID)
        if let linked, linked.adopted, !linked.clientID.isEmpty, !clients.contains(where: { $0.id == linked.clientID }),
           let adopted = clientsByID[linked.clientID] {
            clients.append(adopted)
        }
        if clients.isEmpty, !serialNumber.isEmpty {
            let found = (idsBySerial[serialNumber.uppercased()] ?? []).compactMap { clientsByID[$0] }
            clients = ClientMatching.notMarkedForAnotherONU(found, onuID: onuID)
        }
        let found = clients.flatMap { properties(of: $0.id) }
        let ranked = ClientMatching.ranked(clients, properties: found, box: box, linkedID: linked?.clientID ?? "", code: onuID)
        return ClientMatch(clients: ranked, property: ranked.first.flatMap { ClientMatching.property(of: $0, in: found, box: box) })
    }
}

/// The ONU's clients in OZmap, best first, and the first one's property.
struct ClientMatch: Sendable {
    var clients: [FTTHClientRecord]
    var property: OZmapProperty?

    var chosen: FTTHClientRecord? { clients.first }
}
