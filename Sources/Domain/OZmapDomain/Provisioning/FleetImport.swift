
/// One ONU of the ISP's existing fleet, as a row of the import file.
public struct ImportRowRequest: Sendable, Hashable {
    public var archoltOLTID: String
    public var onuID: String
    public var serialNumber: String
    public var cto: String
    public var macAddress: String
    public var pppoeUser: String
    /// nil leaves it as OZmap has it.
    public var implanted: Bool?

    public init(archoltOLTID: String, onuID: String, serialNumber: String, cto: String, macAddress: String = "",
                pppoeUser: String = "", implanted: Bool? = nil) {
        self.archoltOLTID = archoltOLTID
        self.onuID = onuID
        self.serialNumber = serialNumber
        self.cto = cto
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.implanted = implanted
    }
}

/// What an import apply does for a row.
public enum ImportRowAction: String, Sendable, Hashable, CaseIterable {
    /// Found in OZmap (by code or serial) at that CTO: ozmapd takes it on, writing the fields that differ.
    case adopt
    /// Found without a property: one is made for it at the CTO.
    case attach
    /// Found at another box: its property moves to the CTO (same ids).
    case move
    /// Not in OZmap: created at the CTO.
    case create
    /// Known to ozmapd, at the CTO, with fields to write.
    case update
    /// Known to ozmapd and OZmap matches.
    case nothing
    /// The row cannot be imported (`error` says why).
    case error
}

public struct ImportRowOutcome: Sendable, Hashable {
    /// 1-based position in the batch.
    public var row: Int
    public var onuID: String
    public var action: ImportRowAction
    public var detail: String
    public var error: String
    public var ctoBoxID: String
    public var ctoBoxName: String
    public var clientID: String
    /// After an apply: the operation queued.
    public var operationID: Int64?
}

public struct ImportReport: Sendable {
    public var dryRun: Bool
    public var rows: [ImportRowOutcome]
    public var ozmapRequests: Int

    /// Every action with its count, 0 included.
    public var counts: [(action: ImportRowAction, count: Int)] {
        ImportRowAction.allCases.map { action in (action, rows.filter { $0.action == action }.count) }
    }

    public var errors: Int { rows.filter { $0.action == .error }.count }
}

extension Provisioning {
    public static let importBatchLimit = 1_000

    /// Onboards ONUs provisioned before the integration. Each row is checked (OLT linked, CTO known,
    /// fields valid) and looked up in OZmap by code and by serial (bulk reads); the answer says per row
    /// what an apply does. An apply records each ONU and queues only what is needed, one transaction a
    /// row: running the same rows again changes nothing, and an interrupted import resumes that way.
    public func importONUs(_ rows: [ImportRowRequest], dryRun: Bool) async throws -> ImportReport {
        guard !rows.isEmpty else { throw IntegrationError.invalidInput(field: "rows", "is empty: give at least one ONU") }
        guard rows.count <= Self.importBatchLimit else {
            throw IntegrationError.invalidInput(field: "rows", "has \(rows.count) rows; send at most \(Self.importBatchLimit) a call")
        }
        let ozmap = try requireOZmap()
        let requestsBefore = requestCount()

        struct Checked {
            var row: Int
            var request: ProvisionRequest
            var box: CachedBox
            var live: ONURecord?
            var onu: ONURecord
        }
        var outcomes: [ImportRowOutcome] = []
        var checked: [Checked] = []
        var firstRow: [String: Int] = [:]
        var serialRow: [String: Int] = [:]
        let now = Timestamp.now()
        for (index, row) in rows.enumerated() {
            let number = index + 1
            func failed(_ message: String) {
                outcomes.append(ImportRowOutcome(row: number, onuID: row.onuID, action: .error, detail: "", error: message, ctoBoxID: "",
                                                 ctoBoxName: "", clientID: "", operationID: nil))
            }
            if let earlier = firstRow[row.onuID] {
                failed("onu_id \(row.onuID) is also in row \(earlier) of this batch")
                continue
            }
            guard !row.cto.isEmpty else {
                failed("cto is required (a box name or OZmap box id)")
                continue
            }
            do {
                let (request, resolved) = try validated(ProvisionRequest(
                    archoltOLTID: row.archoltOLTID, onuID: row.onuID, serialNumber: row.serialNumber, macAddress: row.macAddress,
                    pppoeUser: row.pppoeUser, cto: row.cto, implanted: row.implanted, requireCTO: false))
                guard let box = resolved else { continue }
                if let earlier = serialRow[request.serialNumber] {
                    failed("serial_number \(request.serialNumber) is also in row \(earlier) of this batch: one ONU, one serial")
                    continue
                }
                let current = try store.onu(id: request.onuID)
                // A stale file must not bring back what ArchOLT removed.
                let lastKind = try store.latestOperation(onuID: request.onuID)?.kind
                if current?.state == .deprovisioned || lastKind == .deleteClient && current?.state != .synced {
                    failed("ozmapd holds ONU \(request.onuID) as deprovisioned (or being deprovisioned): remove the row, "
                           + "or ProvisionONU it if ArchOLT provisioned it again")
                    continue
                }
                let (live, onu) = try Self.provisioned(current, by: request, now: now)
                firstRow[request.onuID] = number
                serialRow[request.serialNumber] = number
                checked.append(Checked(row: number, request: request, box: box, live: live, onu: onu))
            } catch let error as IntegrationError {
                failed(error.message)
            }
        }

        let snapshot = try await OZmapClientSnapshot.read(
            codes: checked.map(\.request.onuID) + checked.compactMap { $0.live?.adopted == true ? $0.live?.ozmapClientCode : nil },
            serials: checked.map(\.request.serialNumber), propertyIDs: [], marked: false, from: ozmap)
        // Ports the batch's own rows take, so that rows beyond a CTO's free ports are refused in the plan.
        var taken: [String: Int] = [:]
        var queued = false
        // Even when a store failure ends the apply part-way, what was queued goes out now.
        defer { if queued { worker.wake() } }
        for item in checked {
            var outcome = Self.planned(item.onu, live: item.live, box: item.box, in: snapshot, portsTaken: taken[item.box.id] ?? 0)
            outcome.row = item.row
            if [.create, .attach, .move].contains(outcome.action) { taken[item.box.id, default: 0] += 1 }
            if !dryRun, outcome.action != .error {
                if let live = item.live, live.state == .pending, live.ctoBoxID == item.box.id, Self.payload(live) == Self.payload(item.onu),
                   let waiting = try store.latestOperation(onuID: live.onuID), !waiting.state.isFinished {
                    // An earlier run queued it (an interrupted import): that operation stands, with its due time.
                    outcome.operationID = waiting.id
                    outcome.detail += " (operation \(waiting.id) already queued)"
                } else {
                    do {
                        outcome.operationID = try record(item.request, at: item.box, force: outcome.action != .nothing).operation?.id
                        queued = queued || outcome.operationID != nil
                    } catch let error as IntegrationError where error.kind != .notReady {
                        outcome.action = .error
                        outcome.error = error.message
                    }
                }
            }
            outcomes.append(outcome)
        }
        return ImportReport(dryRun: dryRun, rows: outcomes.sorted { $0.row < $1.row }, ozmapRequests: requestCount() - requestsBefore)
    }

    /// What an apply does for the ONU at the box, given what OZmap holds.
    static func planned(_ onu: ONURecord, live: ONURecord?, box: CachedBox, in snapshot: OZmapClientSnapshot,
                        portsTaken: Int = 0) -> ImportRowOutcome {
        let linked = live?.linked
        let match = snapshot.match(onuID: onu.onuID, serialNumber: onu.serialNumber, box: box.id, linked: linked)
        var outcome = ImportRowOutcome(row: 0, onuID: onu.onuID, action: .create, detail: "", error: "", ctoBoxID: box.id,
                                       ctoBoxName: box.name, clientID: match.chosen?.id ?? "", operationID: nil)
        let full = "CTO \(box.name) (\(box.id)) has no free customer port (\(box.portsTotal) taken"
            + (portsTaken > 0 ? ", \(portsTaken) of them by earlier rows of this batch" : "") + "): choose another CTO"
        let portsFree = box.portsFree - portsTaken
        guard let client = match.chosen else {
            if portsFree <= 0 { return failed(outcome, full) }
            outcome.detail = "create client \(onu.onuID) at CTO \(box.name)"
            return outcome
        }
        let changes = OperationApplier.changes(from: client, to: payload(onu), own: ClientMatching.isOwn(client, onuID: onu.onuID, linked: linked))
        let writes = changes.isEmpty ? "" : "; write \(changes.fieldNames.joined(separator: ", "))"
        let found = "client \(client.id) (code \(client.code)\(client.code == onu.onuID ? "" : ", found by serial"))"
        guard let property = match.property else {
            if portsFree <= 0 { return failed(outcome, full) }
            outcome.action = .attach
            outcome.detail = "attach \(found) at CTO \(box.name)\(writes)"
            return outcome
        }
        guard property.boxID == box.id else {
            if portsFree <= 0 { return failed(outcome, full) }
            outcome.action = .move
            outcome.detail = "move \(found) from box \(property.boxID) to CTO \(box.name) (same ids)\(writes)"
            return outcome
        }
        let known = live.map { $0.state == .synced && $0.ctoBoxID == box.id && $0.ozmapClientID == client.id } ?? false
        if known {
            let recordChanges = live.map { payload($0) != payload(onu) } ?? false
            outcome.action = changes.isEmpty && !recordChanges ? .nothing : .update
            outcome.detail = !changes.isEmpty ? "write \(changes.fieldNames.joined(separator: ", ")) to \(found)"
                : recordChanges ? "OZmap matches the row; ozmapd's record takes the row's data" : "OZmap matches"
        } else {
            outcome.action = .adopt
            outcome.detail = "adopt \(found) at CTO \(box.name)\(changes.isEmpty ? "; nothing to write" : writes)"
        }
        return outcome
    }

    private static func failed(_ outcome: ImportRowOutcome, _ message: String) -> ImportRowOutcome {
        var outcome = outcome
        outcome.action = .error
        outcome.error = message
        return outcome
    }
}
