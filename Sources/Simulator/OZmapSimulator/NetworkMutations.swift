/// Changes made behind the API's back, as an OZmap user would in the UI: the control API
/// and the in-process methods of `OZmapSimulator` use them to exercise the integration's sync.
extension Network {
    mutating func renameBox(id: String, to name: String) throws(SimulatorError) {
        guard !name.isEmpty else { throw .badRequest("name must not be empty") }
        guard var box = boxes[id] else { throw .notFound("box \(id) not found") }
        box["name"] = .string(name)
        touch(&box)
        boxes.insert(box, id: id)
    }

    /// Re-points the `olt`/`slot`/`pon` of every splitter in the box at another OLT (keeping
    /// the slot/PON position when it can), or removes the trace when `oltID` is nil. Only the
    /// splitters change, as on a real OZmap: the box's own `updatedAt` does not move.
    mutating func moveBox(id: String, toOLT oltID: String?) throws(SimulatorError) {
        guard boxes.contains(id) else { throw .notFound("box \(id) not found") }
        let splitterIDs = splitters(inBox: id).compactMap { $0["id"]?.string }
        guard !splitterIDs.isEmpty else { throw .badRequest("box \(id) has no splitter to trace to an OLT") }
        var ports: OLTPorts? = nil
        if let oltID {
            guard olts.contains(oltID) else { throw .notFound("OLT \(oltID) not found") }
            ports = oltPorts[oltID] ?? OLTPorts(slots: [], pons: [])
        }
        let now = clock.tick()
        let knownPorts = oltPorts  // a copy: `splitters` is being mutated below
        for splitterID in splitterIDs {
            splitters.update(splitterID) { splitter in
                var trace: OLTTrace? = nil
                if let oltID, let ports {
                    let position = splitter["olt"]?.string
                        .flatMap { knownPorts[$0] }
                        .flatMap { oldPorts in splitter["pon"]?.string.flatMap(oldPorts.position(ofPON:)) }
                    trace = ports.trace(olt: oltID, slotIndex: position?.slot ?? 0, ponIndex: position?.pon ?? 0)
                }
                ModelBuilder.setTrace(&splitter, trace)
                splitter["updatedAt"] = .string(now)
            }
        }
    }

    /// Removes the box, its splitters and its properties. Their clients stay, without a
    /// property (find them with `ftth-clients?filter=...`).
    mutating func deleteBox(id: String) throws(SimulatorError) {
        guard boxes.remove(id) != nil else { throw .notFound("box \(id) not found") }
        for splitterID in splitters(inBox: id).compactMap({ $0["id"]?.string }) {
            removeSplitter(splitterID)
        }
        for propertyID in properties.objects(withAnyOf: [id], at: "box").compactMap({ $0["id"]?.string }) {
            properties.remove(propertyID)
        }
    }

    /// Removes a splitter; properties connected to it lose that connection.
    mutating func deleteSplitter(id: String) throws(SimulatorError) {
        guard removeSplitter(id) != nil else { throw .notFound("splitter \(id) not found") }
        let connected = properties.objects { property in
            property["connections"]?.array?.contains { $0["id"]?.string == id } ?? false
        }
        guard !connected.isEmpty else { return }
        let now = clock.tick()
        for property in connected {
            guard let propertyID = property["id"]?.string else { continue }
            properties.update(propertyID) { property in
                let kept = (property["connections"]?.array ?? []).filter { $0["id"]?.string != id }
                property["connections"] = .array(kept)
                property["updatedAt"] = .string(now)
            }
        }
    }

    /// Adds a box with free ports: traced to `oltID` (primary + customer splitter) or not
    /// (customer splitter only). Returns the new box.
    mutating func addBox(
        name: String, oltID: String?, lat: Double?, lng: Double?, splitterOutputs: Int
    ) throws(SimulatorError) -> JSONObject {
        guard !name.isEmpty else { throw .badRequest("name must not be empty") }
        var trace: OLTTrace? = nil
        let template = boxes.first
        var project = template?["project"]?.string ?? ids.next()
        if let oltID {
            guard let olt = olts[oltID] else { throw .notFound("OLT \(oltID) not found") }
            project = olt["project"]?.string ?? project
            trace = (oltPorts[oltID] ?? OLTPorts(slots: [], pons: [])).trace(olt: oltID, slotIndex: 0, ponIndex: 0)
        }
        let boxType = template?["boxType"]?.string ?? ids.next()
        let now = clock.tick()
        let id = ids.next()
        let box = ModelBuilder.box(
            id: id, name: name, project: project, lat: lat ?? NetworkGenerator.centerLat,
            lng: lng ?? NetworkGenerator.centerLng, pole: nil, boxType: boxType, address: nil, cables: [], at: now)
        boxes.insert(box, id: id)
        var customerInput: String? = nil
        if let trace {
            let primaryID = ids.next()
            customerInput = ids.next()
            var primary = ModelBuilder.splitter(
                id: primaryID, name: "SPL-P 1:\(NetworkGenerator.primarySplitterOutputs)", box: id, project: project,
                splitterType: ids.next(), isDrop: false, outputs: NetworkGenerator.primarySplitterOutputs,
                inputFiber: ids.next(), trace: trace, at: now)
            SplitterPorts.setOutput(&primary, port: 1, fiber: customerInput)
            insertSplitter(primary, id: primaryID)
        }
        let customerID = ids.next()
        let customer = ModelBuilder.splitter(
            id: customerID, name: "SPL-C 1:\(splitterOutputs)", box: id, project: project, splitterType: ids.next(),
            isDrop: true, outputs: splitterOutputs, inputFiber: customerInput, trace: trace, at: now)
        insertSplitter(customer, id: customerID)
        return box
    }
}
