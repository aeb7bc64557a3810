import Foundation

/// Applies one outbox operation to OZmap. Every attempt starts by looking the
/// client code up, so an attempt after a timeout, a lost reply or a crash sees
/// what the previous one did and never creates the client twice.
struct OperationApplier: Sendable {
    let provisioner: any OZmapProvisioner
    let audit: @Sendable (AuditEntry) -> Void
    /// Called before each write is sent, so the operation is known to have touched OZmap.
    let willWrite: @Sendable () -> Void

    /// The OZmap client and property ids the operation left (empty after a delete).
    /// Failures are `OZmapCallError`s.
    func apply(_ operation: OutboxOperation) async throws -> (clientID: String, propertyID: String) {
        switch operation.kind {
        case .createClient: try await ensureClient(operation)
        case .deleteClient: try await removeClient(operation)
        }
    }

    private func ensureClient(_ operation: OutboxOperation) async throws -> (clientID: String, propertyID: String) {
        guard let box = operation.box else { return ("", "") }
        let code = operation.client.code
        let properties = try await provisioner.properties(clientCode: code)
        var keep: OZmapProperty?
        for property in properties {
            if property.boxID == box.id, keep == nil {
                keep = property // already there: nothing to create
            } else {
                // At another box (a move), or a duplicate: the property goes, and its client with it.
                try await audited(operation, "DELETE", "properties/{id}", status: 204) {
                    try await provisioner.deleteProperty(id: property.id)
                }
            }
        }
        if let keep { return (keep.clientID, keep.id) }
        // A client with this code but no property: OZmap documents no way to attach an
        // existing client to a new property, so it goes and the create below brings it back.
        for client in try await provisioner.clients(code: code) {
            try await audited(operation, "DELETE", "ftth-clients/{id}", status: 204) {
                try await provisioner.deleteClient(id: client.id)
            }
        }
        let created = try await audited(operation, "POST", "properties", status: 201) {
            try await provisioner.createProperty(client: operation.client, at: box)
        }
        return (created.clientID, created.id)
    }

    private func removeClient(_ operation: OutboxOperation) async throws -> (clientID: String, propertyID: String) {
        let code = operation.client.code
        for property in try await provisioner.properties(clientCode: code) {
            try await audited(operation, "DELETE", "properties/{id}", status: 204) {
                try await provisioner.deleteProperty(id: property.id)
            }
        }
        // Clients left without a property ("the customer is deleted along with the property" otherwise).
        for client in try await provisioner.clients(code: code) {
            try await audited(operation, "DELETE", "ftth-clients/{id}", status: 204) {
                try await provisioner.deleteClient(id: client.id)
            }
        }
        return ("", "")
    }

    /// Runs one OZmap mutation and writes its audit entry, whatever the outcome.
    private func audited<T>(_ operation: OutboxOperation, _ method: String, _ route: String, status: Int,
                            _ call: () async throws -> T) async throws -> T {
        willWrite()
        let started = ContinuousClock.now
        func entry(_ httpStatus: Int, _ result: String, _ error: String) -> AuditEntry {
            AuditEntry(at: Timestamp.now(), onuID: operation.onuID, operationID: operation.id, httpMethod: method, route: route,
                       httpStatus: httpStatus, durationMs: Int((ContinuousClock.now - started) / .milliseconds(1)),
                       result: result, error: error)
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
