import Foundation

/// What ArchOLT asks when it provisions an ONU.
public struct ProvisionRequest: Sendable {
    public var archoltOLTID: String
    public var onuID: String
    public var serialNumber: String
    public var macAddress: String
    public var pppoeUser: String
    public var cto: String
    /// nil leaves it as it is (a new ONU: not implanted).
    public var implanted: Bool?
    public var requireCTO: Bool

    public init(archoltOLTID: String, onuID: String, serialNumber: String, macAddress: String, pppoeUser: String,
                cto: String, implanted: Bool?, requireCTO: Bool) {
        self.archoltOLTID = archoltOLTID
        self.onuID = onuID
        self.serialNumber = serialNumber
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.cto = cto
        self.implanted = implanted
        self.requireCTO = requireCTO
    }
}

/// The provisioning flow: validates, records the ONU and queues its OZmap
/// change in one transaction, then waits (up to the call's deadline) for the
/// outbox worker to apply it.
public struct Provisioning: Sendable {
    let store: any ProvisioningStore
    let cache: BoxCache
    let links: OLTLinks
    let worker: OutboxWorker
    /// The longest a call waits for OZmap before answering "pending".
    private let maximumWait: Duration
    /// OZmap for the reads of reconcile and import; nil while credentials are unset or rejected.
    let ozmap: @Sendable () -> (any OZmapProvisioner)?
    /// Requests made to OZmap so far (reconcile and import report their share).
    let requestCount: @Sendable () -> Int
    /// The last reconcile dry-run's counts.
    public let drift: DriftMonitor

    public init(store: any ProvisioningStore, cache: BoxCache, links: OLTLinks, worker: OutboxWorker,
                maximumWait: Duration = .seconds(10), drift: DriftMonitor = DriftMonitor(),
                requestCount: @escaping @Sendable () -> Int = { 0 },
                ozmap: @escaping @Sendable () -> (any OZmapProvisioner)? = { nil }) {
        self.store = store
        self.cache = cache
        self.links = links
        self.worker = worker
        self.maximumWait = maximumWait
        self.drift = drift
        self.requestCount = requestCount
        self.ozmap = ozmap
    }

    public typealias Outcome = (onu: ONURecord, operation: OutboxOperation?)

    public func provision(_ request: ProvisionRequest, deadline: ContinuousClock.Instant) async throws -> Outcome {
        let (request, box) = try validated(request)
        return try await settle(try record(request, at: box), deadline: deadline)
    }

    /// The request with its fields checked and normalised, and its CTO resolved (nil without one).
    func validated(_ request: ProvisionRequest) throws -> (ProvisionRequest, CachedBox?) {
        var request = request
        try ONUValidation.identifier(request.archoltOLTID, field: "archolt_olt_id")
        try ONUValidation.onuID(request.onuID)
        request.serialNumber = try ONUValidation.serialNumber(request.serialNumber)
        request.macAddress = try ONUValidation.macAddress(request.macAddress)
        try ONUValidation.text(request.pppoeUser, field: "pppoe_user", maximum: 128)
        try ONUValidation.text(request.cto, field: "cto", maximum: 128)
        let link = try links.require(request.archoltOLTID)
        // ArchOLT aborts the activation on this answer: it comes before anything is written.
        if request.cto.isEmpty, link.requireCTOOnActivation || request.requireCTO {
            throw IntegrationError(.ctoRequired, "OLT \(request.archoltOLTID) requires a CTO at activation: give the ONU's CTO (box name or OZmap id)")
        }
        let box = try request.cto.isEmpty ? nil : resolve(request.cto, link: link, onuID: request.onuID)
        return (request, box)
    }

    /// The ONU as the request leaves it: `current` updated, or a new record. Throws when it is
    /// provisioned on another OLT.
    static func provisioned(_ current: ONURecord?, by request: ProvisionRequest, now: String) throws -> (live: ONURecord?, onu: ONURecord) {
        if let current, current.state != .deprovisioned, current.archoltOLTID != request.archoltOLTID {
            throw IntegrationError(.conflict, "ONU \(request.onuID) is provisioned on OLT \(current.archoltOLTID); deprovision it there first")
        }
        let live = current?.state == .deprovisioned ? nil : current
        var onu = live ?? ONURecord(onuID: request.onuID, archoltOLTID: request.archoltOLTID, serialNumber: "", macAddress: "",
                                    pppoeUser: "", implanted: false, implantedStated: false, state: .waitingForCTO,
                                    createdAt: now, updatedAt: now)
        onu.archoltOLTID = request.archoltOLTID
        onu.serialNumber = request.serialNumber
        onu.macAddress = request.macAddress
        onu.pppoeUser = request.pppoeUser
        if let implanted = request.implanted {
            onu.implanted = implanted
            onu.implantedStated = true
        }
        onu.updatedAt = now
        if onu.state != .synced { onu.state = onu.ctoBoxID.isEmpty ? .waitingForCTO : onu.state }
        return (live, onu)
    }

    /// Records the ONU and queues its OZmap change, in one transaction (`force`: queued even
    /// when ozmapd believes OZmap already matches).
    func record(_ request: ProvisionRequest, at box: CachedBox?, force: Bool = false) throws -> Outcome {
        let now = Timestamp.now()
        return try durably { try store.changeONU(id: request.onuID) { current in
            var (live, onu) = try Self.provisioned(current, by: request, now: now)
            let before = live ?? onu
            guard let box else {
                // Without a CTO an ONU already placed keeps its CTO, and OZmap gets its new data;
                // a new one waits for AssignCTO.
                guard let placed = live.flatMap(placedBox), Self.payload(before) != Self.payload(onu) else { return (onu, nil) }
                let operation = Self.queueEnsure(&onu, from: before, at: placed, now: now)
                return (onu, operation)
            }
            let operation = Self.queueEnsure(&onu, from: before, at: box, now: now, force: force)
            return (onu, operation)
        } }
    }

    /// "Alterar CTO (OZMAP)": put an already provisioned ONU's client at another CTO.
    /// An ONU ozmapd never saw (provisioned before the integration) is taken over when the call
    /// names its OLT and serial: recorded, and its client adopted, attached, moved or created at
    /// the CTO, as ProvisionONU does, implantation left as OZmap has it.
    public func assignCTO(onuID: String, cto: String, archoltOLTID: String = "", serialNumber: String = "",
                          deadline: ContinuousClock.Instant) async throws -> Outcome {
        try ONUValidation.onuID(onuID)
        guard !cto.isEmpty else { throw IntegrationError.invalidInput(field: "cto", "is required (a box name or OZmap box id)") }
        try ONUValidation.text(cto, field: "cto", maximum: 128)
        guard let existing = try store.onu(id: onuID), existing.state != .deprovisioned else {
            guard !archoltOLTID.isEmpty, !serialNumber.isEmpty else {
                throw IntegrationError(.notFound, "ozmapd has no ONU \(onuID): give archolt_olt_id and serial_number to take it over, or ProvisionONU first")
            }
            return try await provision(ProvisionRequest(archoltOLTID: archoltOLTID, onuID: onuID, serialNumber: serialNumber,
                                                        macAddress: "", pppoeUser: "", cto: cto, implanted: nil, requireCTO: false),
                                       deadline: deadline)
        }
        let link = try links.require(existing.archoltOLTID)
        let box = try resolve(cto, link: link, onuID: onuID)
        let now = Timestamp.now()
        let outcome = try durably { try store.changeONU(id: onuID) { current in
            guard var onu = current, onu.state != .deprovisioned else {
                throw IntegrationError(.notFound, "ONU \(onuID) is not provisioned (ProvisionONU first)")
            }
            let before = onu
            onu.updatedAt = now
            let operation = Self.queueEnsure(&onu, from: before, at: box, now: now)
            return (onu, operation)
        } }
        return try await settle(outcome, deadline: deadline)
    }

    /// Removes the ONU's client and property from OZmap; also for ONUs ozmapd never saw (found by code).
    public func deprovision(onuID: String, deadline: ContinuousClock.Instant) async throws -> Outcome {
        try ONUValidation.onuID(onuID)
        let now = Timestamp.now()
        let outcome = try durably { try store.changeONU(id: onuID) { current in
            var onu = current ?? ONURecord(onuID: onuID, archoltOLTID: "", serialNumber: "", macAddress: "", pppoeUser: "",
                                           implanted: false, state: .pending, createdAt: now, updatedAt: now)
            onu.state = .pending
            onu.updatedAt = now
            let operation = OutboxOperation(onuID: onuID, kind: .deleteClient, client: Self.payload(onu), box: nil,
                                            linked: onu.linked, nextAttemptAt: now, createdAt: now, updatedAt: now)
            return (onu, operation)
        } }
        return try await settle(outcome, deadline: deadline)
    }

    public func onu(id: String) throws -> ONURecord {
        try ONUValidation.onuID(id)
        guard let onu = try store.onu(id: id) else { throw IntegrationError(.notFound, "ozmapd has no ONU \(id)") }
        return onu
    }

    /// Puts a failed operation back in the queue.
    public func retry(operationID: Int64) throws -> OutboxOperation {
        guard let failed = try store.operation(id: operationID) else {
            throw IntegrationError(.notFound, "no operation \(operationID)")
        }
        guard failed.state == .failed else {
            throw IntegrationError(.conflict, "operation \(operationID) is \(failed.state.rawValue); only failed operations can be retried")
        }
        var operation = failed
        operation.state = .pending
        operation.nextAttemptAt = Timestamp.now()
        operation.updatedAt = operation.nextAttemptAt
        try store.record(operation) { _, onu, laterUnfinished in
            if !laterUnfinished || onu.state == .failed { onu.state = .pending }
        }
        worker.wake()
        return operation
    }

    // MARK: -

    /// Runs a store change; a failure of the store (disk full, read-only, ...) becomes
    /// UNAVAILABLE: nothing was recorded, and ArchOLT may retry.
    func durably<T>(_ change: () throws -> T) throws -> T {
        do {
            return try change()
        } catch let error as IntegrationError {
            throw error
        } catch {
            throw IntegrationError(.notReady, "ozmapd cannot record the change in its state directory (\(error)); nothing was stored, retry later")
        }
    }

    static func payload(_ onu: ONURecord) -> ClientPayload {
        ClientPayload(code: onu.onuID, name: onu.serialNumber.isEmpty ? onu.onuID : onu.serialNumber, serialNumber: onu.serialNumber,
                      macAddress: onu.macAddress, pppoeUser: onu.pppoeUser, implanted: onu.implanted,
                      keepImplanted: onu.implantedStated ? nil : true)
    }

    /// The box an ONU's client is at, as a target for an update in place.
    func placedBox(_ onu: ONURecord) -> TargetBox? {
        guard !onu.ctoBoxID.isEmpty else { return nil }
        guard let box = cache.snapshot.boxesByID[onu.ctoBoxID] else {
            return TargetBox(id: onu.ctoBoxID, name: onu.ctoBoxName, project: "", lat: 0, lng: 0)
        }
        return TargetBox(id: box.id, name: box.name, project: box.project, lat: box.lat, lng: box.lng)
    }

    /// Points the ONU at the box and returns the operation that makes OZmap hold it there with
    /// the ONU's data (adopt, attach, move, update or create: the applier decides); nil when
    /// OZmap already holds exactly that.
    /// `force` queues it even then (reconcile and import found OZmap differing).
    static func queueEnsure(_ onu: inout ONURecord, from before: ONURecord, at box: TargetBox, now: String,
                            force: Bool = false) -> OutboxOperation? {
        let unchanged = !force && before.state == .synced && before.ctoBoxID == box.id && payload(before) == payload(onu)
        let linked = before.linked
        onu.ctoBoxID = box.id
        onu.ctoBoxName = box.name.isEmpty ? onu.ctoBoxName : box.name
        guard !unchanged else { return nil }
        onu.state = .pending
        return OutboxOperation(onuID: onu.onuID, kind: .createClient, client: payload(onu), box: box, linked: linked,
                               nextAttemptAt: now, createdAt: now, updatedAt: now)
    }

    private static func queueEnsure(_ onu: inout ONURecord, from before: ONURecord, at box: CachedBox, now: String,
                                    force: Bool = false) -> OutboxOperation? {
        queueEnsure(&onu, from: before, at: TargetBox(id: box.id, name: box.name, project: box.project, lat: box.lat, lng: box.lng),
                    now: now, force: force)
    }

    /// The CTO among the boxes connected to the linked OZmap OLT, by id or by name.
    /// By id or by name as people type it (docs/INTEGRATION.md, "CTO names"). A CTO the cache
    /// shows full is still tried: the ERP's client for this ONU may hold one of its ports (then it
    /// is adopted); otherwise OZmap refuses the create and the answer is "no free customer port".
    private func resolve(_ cto: String, link: LinkedOLT, onuID: String) throws -> CachedBox {
        try CTOResolver(cache: cache).resolve(cto, oltID: link.ozmapOLTID, oltName: link.ozmapOLTName)
    }

    /// Wakes the worker and waits for the operation's outcome: at most `maximumWait`,
    /// and a second before the call's deadline, so that "pending" always gets out in time.
    private func settle(_ outcome: Outcome, deadline: ContinuousClock.Instant) async throws -> Outcome {
        guard let queued = outcome.operation else { return outcome }
        if let paused = worker.pausedReason {
            // Nothing is sent to OZmap now: say why at once rather than wait for nothing.
            var operation = queued
            operation.lastError = paused
            return (outcome.onu, operation)
        }
        worker.wake()
        let operation = try await worker.outcome(of: queued.id, by: min(deadline - .seconds(1), .now + maximumWait))
        let onu = try store.onu(id: outcome.onu.onuID) ?? outcome.onu
        if operation.state == .failed {
            if operation.ctoFull == true {
                throw IntegrationError(.ctoFull, "\(operation.lastError) (ONU \(onu.onuID), operation \(operation.id)): choose another CTO")
            }
            throw IntegrationError(.ozmapRefused(httpStatus: operation.lastHTTPStatus), "OZmap refused the change for ONU \(onu.onuID) (operation \(operation.id)): \(operation.lastError); fix it, then RetryOperation \(operation.id)")
        }
        return (onu, operation)
    }
}

/// Field checks for ONU requests; INVALID_ARGUMENT names the field.
enum ONUValidation {
    static func identifier(_ value: String, field: String) throws {
        try Validate.identifier(value, field: field)
    }

    static func onuID(_ value: String) throws {
        try Validate.identifier(value, field: "onu_id")
        guard value.count <= 64 else { throw IntegrationError.invalidInput(field: "onu_id", "is longer than 64 characters") }
    }

    /// Upper-cased; letters and digits (GPON serials such as ZTEG12345678), 4 to 32 of them.
    static func serialNumber(_ value: String) throws -> String {
        let serial = value.trimmingCharacters(in: .whitespaces).uppercased()
        guard !serial.isEmpty else { throw IntegrationError.invalidInput(field: "serial_number", "is required") }
        guard (4...32).contains(serial.count), serial.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) }) else {
            throw IntegrationError.invalidInput(field: "serial_number", "must be 4 to 32 letters and digits, such as ZTEG12345678")
        }
        return serial
    }

    /// Empty, or six hex pairs (any of `:`, `-` or nothing between them), written AA:BB:CC:DD:EE:FF.
    static func macAddress(_ value: String) throws -> String {
        let hex = value.uppercased().filter { $0 != ":" && $0 != "-" && $0 != "." }
        if value.isEmpty { return "" }
        guard hex.count == 12, hex.allSatisfy(\.isHexDigit) else {
            throw IntegrationError.invalidInput(field: "mac_address", "must be a MAC address such as AA:BB:CC:DD:EE:FF")
        }
        return stride(from: 0, to: 12, by: 2).map { offset -> String in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return String(hex[start..<hex.index(start, offsetBy: 2)])
        }.joined(separator: ":")
    }

    static func text(_ value: String, field: String, maximum: Int) throws {
        guard value.count <= maximum else { throw IntegrationError.invalidInput(field: field, "is longer than \(maximum) characters") }
        guard !value.unicodeScalars.contains(where: \.isControlCharacter) else {
            throw IntegrationError.invalidInput(field: field, "contains control characters")
        }
    }
}
