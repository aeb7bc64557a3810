import Foundation

/// Applies one outbox operation to OZmap, a record other systems write too (the ERP,
/// people in OZmap's screens). Every attempt starts by looking the client up — by code,
/// by the code of a client ozmapd adopted, and by the ONU's serial — so an attempt after a
/// timeout, a lost reply or a crash sees what the previous one did and never creates the
/// client twice; and what exists is adopted, attached or moved, never deleted in order to
/// be created again (docs/INTEGRATION.md, "What exists in OZmap").
struct OperationApplier: Sendable {
    let provisioner: any OZmapProvisioner
    let adoptedPolicy: AdoptedClientPolicy
    /// Re-reads these boxes' splitters into the box cache, so their free ports count
    /// ozmapd's own writes at once; answers the boxes as read (absent when unreadable).
    let refreshBoxes: @Sendable ([String]) async -> [String: CachedBox]
    let audit: @Sendable (AuditRecord) -> Void
    /// Called before each write is sent, so the operation is known to have touched OZmap.
    let willWrite: @Sendable () -> Void

    /// Where the operation left the client (`.none` after a removal). Failures are `OZmapCallError`s.
    func apply(_ operation: OutboxOperation) async throws -> ClientPlacement {
        switch operation.kind {
        case .createClient: try await ensureClient(operation)
        case .deleteClient: try await operation.onlyLinkedClient == true ? removeLinkedClient(operation) : removeClient(operation)
        }
    }

    // MARK: - ensure

    /// A client found in OZmap for the ONU, with its property when it has one.
    private struct Found {
        var client: FTTHClientRecord
        var property: OZmapProperty?
    }

    private func isOwn(_ client: FTTHClientRecord, _ operation: OutboxOperation) -> Bool {
        ClientMatching.isOwn(client, onuID: operation.onuID, linked: operation.linked)
    }

    private func ensureClient(_ operation: OutboxOperation) async throws -> ClientPlacement {
        guard let box = operation.box else { return .none }
        let payload = operation.client
        guard let found = try await lookUp(operation) else {
            // The ONU's property left without its client (deleted in OZmap) still holds a port: it goes
            // first. It has no client to lose, and OZmap has no form that gives it a new one.
            // Only a property ozmapd made: an adopted one is the ERP's record (address, drop, history).
            if let linked = operation.linked, !linked.adopted, !linked.propertyID.isEmpty,
               let empty = try await provisioner.property(id: linked.propertyID), empty.clientID.isEmpty {
                try await audited(operation, "DELETE", "properties/{id}", status: 204, detail: "property without client") {
                    try await provisioner.deleteProperty(id: empty.id)
                }
            }
            let created = try await refusalChecked(at: box) {
                try await audited(operation, "POST", "properties", status: 201) {
                    try await provisioner.createProperty(client: payload, at: box)
                }
            }
            _ = await refreshBoxes([box.id])
            return placement(created, code: payload.code, adopted: false, implanted: nil)
        }
        let client = found.client
        let own = isOwn(client, operation)
        // The client's data first: it does not depend on the box, and a refused move then leaves it right.
        let changes = Self.changes(from: client, to: payload, own: own)
        if !changes.isEmpty {
            try await audited(operation, "PATCH", "ftth-clients/{id}", status: 204, detail: changes.fieldNames.joined(separator: ",")) {
                try await provisioner.updateClient(id: client.id, changes)
            }
        }
        let implanted = payload.keepImplanted == true ? client.implanted : nil
        var property: OZmapProperty
        var touched = [box.id]
        if let current = found.property, current.boxID == box.id {
            property = current
            touched = []
        } else if let current = found.property {
            touched.append(current.boxID)
            property = try await move(current, of: client, own: own, to: box, operation)
            if property.clientID != client.id {
                // The fallback made ozmapd's own client again at the new box.
                _ = await refreshBoxes(touched)
                return placement(property, code: payload.code, adopted: false, implanted: nil)
            }
        } else {
            property = try await refusalChecked(at: box, orElse: { refusal in
                OZmapCallError(error: IntegrationError(.ozmapRefused(httpStatus: refusal.httpStatus), """
                    OZmap refused a property for the existing client \(client.id) (code \(client.code)) at CTO \(box.name): \
                    \(refusal.error.message). ozmapd does not delete a client to create it again: attach it at \(box.name) \
                    in OZmap, or remove it there, then RetryOperation \(operation.id)
                    """), httpStatus: refusal.httpStatus)
            }) {
                try await audited(operation, "POST", "properties", status: 201) {
                    try await provisioner.attachProperty(clientID: client.id, at: box)
                }
            }
        }
        if !touched.isEmpty { _ = await refreshBoxes(touched) }
        return placement(property, code: client.code, adopted: !own, clientID: client.id, implanted: implanted)
    }

    /// The ONU's client in OZmap: by the ONU's code, by the code of the client ozmapd adopted
    /// earlier, and by serial (never one ozmapd made for another ONU). Extra clients ozmapd
    /// itself made for the ONU (a create whose answer was lost) are removed; nobody else's are.
    private func lookUp(_ operation: OutboxOperation) async throws -> Found? {
        let code = operation.client.code
        let box = operation.box?.id ?? ""
        // What OZmap holds, gathered per ONU; `OZmapClientSnapshot.match` picks as reconcile and import do.
        var found = OZmapClientSnapshot()
        for property in try await provisioner.properties(clientCode: code) {
            found.add(property)
            // A property under the code whose client the list by code missed (a slow index): OZmap gave it populated.
            if let client = property.client { found.add(client) }
        }
        for client in try await provisioner.clients(code: code) { found.add(client) }
        if let linked = operation.linked, linked.adopted, !linked.clientCode.isEmpty, linked.clientCode != code,
           let theirs = try await provisioner.clients(code: linked.clientCode).first(where: { $0.id == linked.clientID }) {
            found.add(theirs)
            for property in try await provisioner.properties(clientCode: linked.clientCode) where property.clientID == theirs.id {
                found.add(property)
            }
        }
        var match = found.match(onuID: operation.onuID, serialNumber: "", box: box, linked: operation.linked)
        // By serial only when nothing else was found: a client the ERP filed under its own code.
        if match.clients.isEmpty, !operation.client.serialNumber.isEmpty {
            let bySerial = try await provisioner.clients(serialNumber: operation.client.serialNumber)
            bySerial.forEach { found.add($0) }
            let ids = Set(bySerial.map(\.id))
            for other in Set(bySerial.map(\.code)) {
                for property in try await provisioner.properties(clientCode: other) where ids.contains(property.clientID) { found.add(property) }
            }
            match = found.match(onuID: operation.onuID, serialNumber: operation.client.serialNumber, box: box, linked: operation.linked)
        }
        guard let chosen = match.chosen else { return nil }
        var removed = Set<String>()
        for extra in match.clients.dropFirst() where extra.markedONU == operation.onuID && extra.id != chosen.id && removed.insert(extra.id).inserted {
            for property in found.properties(of: extra.id) {
                try await audited(operation, "DELETE", "properties/{id}", status: 204, detail: "duplicate") {
                    try await provisioner.deleteProperty(id: property.id)
                }
            }
            try await audited(operation, "DELETE", "ftth-clients/{id}", status: 204, detail: "duplicate") {
                try await provisioner.deleteClient(id: extra.id)
            }
        }
        return Found(client: chosen, property: match.property)
    }

    /// Re-homes the property at the box, keeping its ids (`PATCH properties/{id}`). On a server that
    /// does not take that form, ozmapd's own client is created at the new box first and the old one
    /// removed after: never the other way round. Someone else's client is not re-created: the move
    /// fails. A move that changed nothing says so (`keptInPlace`): the ONU stays at its old CTO.
    private func move(_ property: OZmapProperty, of client: FTTHClientRecord, own: Bool, to box: TargetBox,
                      _ operation: OutboxOperation) async throws -> OZmapProperty {
        func keptInPlace(_ refusal: OZmapCallError) -> OZmapCallError {
            var refusal = refusal
            refusal.keptInPlace = property.boxID == operation.linked?.boxID
            return refusal
        }
        do {
            return try await refusalChecked(at: box) {
                try await audited(operation, "PATCH", "properties/{id}", status: 204, detail: "box") {
                    try await provisioner.moveProperty(id: property.id, to: box)
                }
            }
        } catch let refusal as OZmapCallError where refusal.isRefusal || refusal.unsupportedForm {
            guard refusal.unsupportedForm, !refusal.ctoFull else { throw keptInPlace(refusal) }
            guard own else {
                throw keptInPlace(OZmapCallError(error: IntegrationError(.ozmapRefused(httpStatus: refusal.httpStatus), """
                    OZmap refused moving property \(property.id) to CTO \(box.name): \(refusal.error.message). Its client \
                    \(client.id) (code \(client.code)) belongs to another system, so ozmapd does not re-create it: move it in OZmap
                    """), httpStatus: refusal.httpStatus))
            }
            let created: OZmapProperty
            do {
                created = try await refusalChecked(at: box) {
                    try await audited(operation, "POST", "properties", status: 201, detail: "move fallback") {
                        try await provisioner.createProperty(client: operation.client, at: box)
                    }
                }
            } catch let refusal as OZmapCallError where refusal.isRefusal {
                throw keptInPlace(refusal)
            }
            try await audited(operation, "DELETE", "properties/{id}", status: 204, detail: "move fallback") {
                try await provisioner.deleteProperty(id: property.id)
            }
            try await audited(operation, "DELETE", "ftth-clients/{id}", status: 204, detail: "move fallback") {
                try await provisioner.deleteClient(id: client.id)
            }
            return created
        }
    }

    /// Runs a create or move at `box`; when OZmap refuses it, re-reads the box: a box with no
    /// free customer port fails as "CTO full" (whatever OZmap's words), anything else as `orElse` says.
    private func refusalChecked<T>(at box: TargetBox, orElse: ((OZmapCallError) -> OZmapCallError)? = nil,
                                   _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let refusal as OZmapCallError where refusal.isRefusal {
            let reread = await refreshBoxes([box.id])[box.id]
            if let reread, reread.portsFree == 0 {
                throw OZmapCallError(error: IntegrationError(.ctoFull, """
                    CTO \(box.name) (\(box.id)) has no free customer port (\(reread.portsTotal) taken); OZmap said: \(refusal.error.message)
                    """), httpStatus: refusal.httpStatus, ctoFull: true, unsupportedForm: refusal.unsupportedForm)
            }
            throw orElse?(refusal) ?? refusal
        }
    }

    /// The fields of `client` that differ from what the ONU wants. The ONU's data (serial, MAC,
    /// PPPoE user, implanted) is ArchOLT's to say; the name is ozmapd's only on its own client or
    /// one with the ONU's code named after its old serial; no blank overwrites an adopted client's
    /// data; implanted stays as OZmap has it until ArchOLT says.
    static func changes(from client: FTTHClientRecord, to payload: ClientPayload, own: Bool) -> ClientChanges {
        let named = own || client.code == payload.code && (client.name == client.serialNumber || client.name.isEmpty)
        var changes = ClientChanges()
        if named, client.name != payload.name { changes.name = payload.name }
        if client.serialNumber.uppercased() != payload.serialNumber.uppercased(), own || !payload.serialNumber.isEmpty {
            changes.serialNumber = payload.serialNumber
        }
        if client.macAddress.uppercased() != payload.macAddress.uppercased(), own || !payload.macAddress.isEmpty {
            changes.macAddress = payload.macAddress
        }
        if client.pppoeUser != payload.pppoeUser, own || !payload.pppoeUser.isEmpty { changes.pppoeUser = payload.pppoeUser }
        if payload.keepImplanted != true, client.implanted != payload.implanted { changes.implanted = payload.implanted }
        return changes
    }

    private func placement(_ property: OZmapProperty, code: String, adopted: Bool, clientID: String? = nil,
                           implanted: Bool?) -> ClientPlacement {
        ClientPlacement(clientID: clientID ?? property.clientID, propertyID: property.id, clientCode: code, adopted: adopted,
                        connection: property.connections.first, implanted: implanted)
    }

    // MARK: - remove

    /// Removes the client and the property the ONU is linked to: those under its code, the
    /// adopted client's, and the stored property even when its client is already gone (else its
    /// port stays occupied). Clients that are not ozmapd's own go as `adopted_on_deprovision` says.
    private func removeClient(_ operation: OutboxOperation) async throws -> ClientPlacement {
        let code = operation.client.code
        let linked = operation.linked
        var clients = try await provisioner.clients(code: code)
        var properties = try await provisioner.properties(clientCode: code)
        if let linked, linked.adopted, !linked.clientID.isEmpty, !linked.clientCode.isEmpty, linked.clientCode != code {
            clients += try await provisioner.clients(code: linked.clientCode).filter { $0.id == linked.clientID }
            properties += try await provisioner.properties(clientCode: linked.clientCode).filter { $0.clientID == linked.clientID }
        }
        if let linked, !linked.propertyID.isEmpty, !properties.contains(where: { $0.id == linked.propertyID }),
           let stored = try await provisioner.property(id: linked.propertyID),
           stored.clientID.isEmpty || stored.clientID == linked.clientID {
            properties.append(stored)
        }
        let byID = Dictionary(clients.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func isOwn(_ clientID: String) -> Bool {
            if let client = byID[clientID] { return self.isOwn(client, operation) }
            return linked.map { $0.clientID == clientID && !$0.adopted } ?? false
        }
        var boxes: [String] = []
        var removedWithProperty = Set<String>()
        for property in properties {
            let policy: AdoptedClientPolicy = property.clientID.isEmpty || isOwn(property.clientID) ? .delete : adoptedPolicy
            switch policy {
            case .keep:
                continue
            case .detach:
                try await audited(operation, "PATCH", "properties/{id}", status: 204, detail: "client: null") {
                    do {
                        try await provisioner.detachClient(propertyID: property.id)
                    } catch let refusal as OZmapCallError where refusal.isRefusal || refusal.unsupportedForm {
                        throw OZmapCallError(error: IntegrationError(.ozmapRefused(httpStatus: refusal.httpStatus), """
                            OZmap did not detach client \(property.clientID) from property \(property.id) \
                            (\(refusal.error.message)): with adopted_on_deprovision = detach nothing was removed; \
                            choose delete or keep, then RetryOperation \(operation.id)
                            """), httpStatus: refusal.httpStatus)
                    }
                }
            case .delete:
                removedWithProperty.insert(property.clientID)
            }
            try await audited(operation, "DELETE", "properties/{id}", status: 204) {
                try await provisioner.deleteProperty(id: property.id)
            }
            boxes.append(property.boxID)
        }
        // Clients left without a property ("the customer is deleted along with the property" otherwise).
        for client in clients where !removedWithProperty.contains(client.id) {
            guard isOwn(client.id) || adoptedPolicy == .delete else { continue }
            try await audited(operation, "DELETE", "ftth-clients/{id}", status: 204) {
                try await provisioner.deleteClient(id: client.id)
            }
        }
        if !boxes.isEmpty { _ = await refreshBoxes(Array(Set(boxes))) }
        return .none
    }

    /// Removes exactly the linked client, while it still carries ozmapd's mark for the ONU, and its
    /// properties; nothing else under the code.
    private func removeLinkedClient(_ operation: OutboxOperation) async throws -> ClientPlacement {
        guard let linked = operation.linked, !linked.clientID.isEmpty else { return .none }
        let code = linked.clientCode.isEmpty ? operation.client.code : linked.clientCode
        guard let client = try await provisioner.clients(code: code).first(where: { $0.id == linked.clientID }),
              client.markedONU == operation.onuID else { return .none }
        var boxes: [String] = []
        for property in try await provisioner.properties(clientCode: code) where property.clientID == client.id {
            try await audited(operation, "DELETE", "properties/{id}", status: 204, detail: "unknown to ozmapd") {
                try await provisioner.deleteProperty(id: property.id)
            }
            boxes.append(property.boxID)
        }
        if boxes.isEmpty {
            try await audited(operation, "DELETE", "ftth-clients/{id}", status: 204, detail: "unknown to ozmapd") {
                try await provisioner.deleteClient(id: client.id)
            }
        } else {
            _ = await refreshBoxes(Array(Set(boxes)))
        }
        return .none
    }

    // MARK: -

    /// Runs one OZmap mutation and writes its audit entry, whatever the outcome.
    private func audited<T>(_ operation: OutboxOperation, _ method: String, _ route: String, status: Int, detail: String = "",
                            _ call: () async throws -> T) async throws -> T {
        willWrite()
        let started = ContinuousClock.now
        func entry(_ httpStatus: Int, _ result: String, _ error: String) -> AuditRecord {
            AuditRecord(at: Timestamp.now(), onuID: operation.onuID, operationID: operation.id, httpMethod: method, route: route,
                       httpStatus: httpStatus, durationMs: Int((ContinuousClock.now - started) / .milliseconds(1)),
                       result: result, error: error, detail: detail)
        }
        do {
            let value = try await call()
            audit(entry(status, "ok", ""))
            return value
        } catch let error as OZmapCallError {
            audit(entry(error.httpStatus, error.isRetryable ? "retry" : "failed", error.error.description))
            throw error
        }
    }
}
