import Foundation
import Logging
import Synchronization

/// How OZmap differs from what ozmapd holds (docs/INTEGRATION.md, "Drift").
public enum DriftCategory: String, Sendable, Hashable, CaseIterable, Codable {
    /// No client with the ONU's code or serial.
    case missingInOZmap = "missing-in-ozmap"
    /// The client is at another box than the ONU's CTO, or has no property.
    case atOtherBox = "at-other-box"
    /// Serial, MAC, PPPoE user, implanted or name differ.
    case dataDiffers = "data-differs"
    /// ozmapd's property is there without its client.
    case propertyWithoutClient = "property-without-client"
    /// A client marked as ozmapd's whose ONU ozmapd does not hold.
    case unknownToOzmapd = "unknown-to-ozmapd"
    /// More than one client for one ONU.
    case duplicate
}

/// One difference between ozmapd and OZmap.
public struct Drift: Sendable, Hashable {
    public var kind: DriftCategory
    public var onuID: String
    public var clientID: String
    public var propertyID: String
    /// `dataDiffers`: the fields, as OZmap names them.
    public var fields: [String]
    public var ozmapdHolds: String
    public var ozmapHolds: String
    /// What an apply does; "none: …" when it is a person's to resolve.
    public var action: String
    /// After an apply: the operation queued for the row.
    public var operationID: Int64?
}

/// Which ONUs a reconcile compares.
public enum ReconcileScope: Sendable, Hashable {
    case all
    case olt(String)
    case onu(String)
}

public struct ReconcileReport: Sendable {
    public var dryRun: Bool
    public var drifts: [Drift]
    public var onusChecked: Int
    public var ozmapRequests: Int
    public var operationIDs: [Int64]
    public var checkedAt: String

    /// Every kind with its count, 0 included.
    public var counts: [(kind: DriftCategory, count: Int)] {
        DriftCategory.allCases.map { kind in (kind, drifts.filter { $0.kind == kind }.count) }
    }
}

/// The counts of the last reconcile dry-run over every ONU, for GetStatus and the logs.
public final class DriftMonitor: Sendable {
    private let last = Mutex<(counts: [DriftCategory: Int], at: String)?>(nil)
    private let running = Atomic<Bool>(false)

    public init() {}

    func begin() -> Bool { running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged }
    func end() { running.store(false, ordering: .releasing) }

    public var latest: (counts: [DriftCategory: Int], at: String)? { last.withLock { $0 } }

    /// Records a report's counts; true when they differ from the previous ones.
    func record(_ report: ReconcileReport) -> Bool {
        let counts = Dictionary(uniqueKeysWithValues: report.counts.map { ($0.kind, $0.count) })
        return last.withLock { last in
            defer { last = (counts, report.checkedAt) }
            return last?.counts != counts
        }
    }
}

extension Provisioning {
    /// Compares the ONUs in scope with OZmap (bulk reads) and answers one row per difference; an
    /// apply queues the outbox operations that make OZmap hold what ozmapd holds. ArchOLT is the
    /// source of truth for ONUs, OZmap for boxes; no client is deleted that ozmapd did not create.
    /// ONUs with an operation still queued are not compared: that operation looks them up anyway.
    public func reconcile(_ scope: ReconcileScope, dryRun: Bool) async throws -> ReconcileReport {
        let ozmap = try requireOZmap()
        let requestsBefore = requestCount()
        var records: [ONURecord] = []
        switch scope {
        case .onu(let id):
            try ONUValidation.onuID(id)
            if let record = try store.onu(id: id) { records = [record] }
        case .olt(let id):
            try ONUValidation.identifier(id, field: "archolt_olt_id")
            records = try allONUs(ONUFilter(archoltOLTID: id))
        case .all:
            records = try allONUs(ONUFilter())
        }
        let live = records.filter { $0.state != .deprovisioned }
        // Not compared: ONUs with an operation queued (it looks them up anyway), and ONUs whose
        // deprovision failed (their client is on its way out, RetryOperation finishes it).
        let compared = try live.filter { onu in
            guard onu.state != .pending, !onu.ctoBoxID.isEmpty else { return false }
            guard onu.state == .failed else { return true }
            return try store.latestOperation(onuID: onu.onuID)?.kind != .deleteClient
        }
        var codes = compared.map(\.onuID) + compared.filter(\.adopted).map(\.ozmapClientCode)
        if case .onu(let id) = scope, live.isEmpty { codes.append(id) }
        let snapshot = try await OZmapClientSnapshot.read(
            codes: codes, serials: compared.map(\.serialNumber), propertyIDs: compared.map(\.ozmapPropertyID),
            marked: scope == .all, from: ozmap)

        var drifts: [Drift] = []
        let boxes = cache.snapshot
        func boxName(_ id: String) -> String { boxes.boxesByID[id].map { "\($0.name) (\(id))" } ?? id }
        let cacheLoaded = cache.loaded
        for onu in compared {
            var rows = Self.differences(of: onu, in: snapshot, boxName: boxName(onu.ctoBoxID))
            // OZmap is the source of truth for boxes: a CTO it no longer has is not re-created by an apply.
            if boxes.boxesByID[onu.ctoBoxID] == nil, cacheLoaded {
                for index in rows.indices where rows[index].kind != .dataDiffers && rows[index].kind != .duplicate {
                    rows[index].action = "none: CTO \(onu.ctoBoxName.isEmpty ? onu.ctoBoxID : onu.ctoBoxName) is no longer among "
                        + "the boxes of the linked OLT in OZmap: AssignCTO the ONU to its CTO now"
                }
            }
            drifts += rows
        }
        // Clients ozmapd marked for ONUs it does not hold (every ONU, or the one asked for).
        let held = Set(live.map(\.onuID))
        var unknown: [FTTHClientRecord] = []
        switch scope {
        case .all: unknown = snapshot.marked.filter { !held.contains($0.markedONU ?? "") }
        case .onu(let id) where live.isEmpty: unknown = snapshot.clientsByID.values.filter { $0.markedONU == id }.sorted { $0.id < $1.id }
        default: break
        }
        for client in unknown {
            let property = snapshot.properties(of: client.id).first
            let onuID = client.markedONU ?? client.code
            // Removed only for an ONU ozmapd knew and ArchOLT deprovisioned. Without any record the
            // state directory may have been lost or restored from a backup: the ONU may be live.
            let deprovisioned = try store.onu(id: onuID)?.state == .deprovisioned
            let removal = "remove client \(client.id)\(property.map { " and its property \($0.id)" } ?? ""): ozmapd created it"
                + " and ONU \(onuID) is deprovisioned"
            let orphan = "none: ozmapd has no record of ONU \(onuID) (state directory lost or restored?): import it "
                + "(ozmapctl onu import) if it is live, or DeprovisionONU \(onuID) to remove its client"
            drifts.append(Drift(kind: .unknownToOzmapd, onuID: onuID, clientID: client.id,
                                propertyID: property?.id ?? "", fields: [],
                                ozmapdHolds: deprovisioned ? "ONU \(onuID) deprovisioned" : "no record of ONU \(onuID)",
                                ozmapHolds: "client \(client.id) (code \(client.code)) marked \(client.externalID.isEmpty ? client.observation : client.externalID)"
                                    + (property.map { " at box \(boxName($0.boxID))" } ?? ", no property"),
                                action: deprovisioned ? removal : orphan))
        }
        var report = ReconcileReport(dryRun: dryRun, drifts: drifts, onusChecked: compared.count + unknown.count,
                                     ozmapRequests: requestCount() - requestsBefore, operationIDs: [], checkedAt: Timestamp.now())
        if !dryRun { try applyDrift(&report, unknown: unknown, snapshot: snapshot) }
        return report
    }

    /// Reconcile dry-run over every ONU, as after a full box pass: its counts go to GetStatus
    /// (`drift`) and, when they change, to the log.
    public func checkDrift(logger: Logger) async {
        // One at a time: a pass finishing while the last check still runs adds nothing.
        guard drift.begin() else { return }
        defer { drift.end() }
        do {
            let report = try await reconcile(.all, dryRun: true)
            if drift.record(report) {
                var metadata: Logger.Metadata = ["onus_checked": "\(report.onusChecked)", "ozmap_requests": "\(report.ozmapRequests)"]
                for (kind, count) in report.counts { metadata[kind.rawValue] = "\(count)" }
                let total = report.drifts.count
                if total == 0 {
                    logger.info("reconcile: OZmap matches ozmapd", metadata: metadata)
                } else {
                    logger.warning("reconcile: OZmap differs from ozmapd (ozmapctl reconcile lists it, --apply fixes it)", metadata: metadata)
                }
            }
        } catch is CancellationError {
            logger.info("reconcile dry-run stopped: ozmapd is stopping")
        } catch {
            logger.notice("reconcile dry-run after the box pass failed", metadata: ["error": "\(error)"])
        }
    }

    /// The differences of one ONU ozmapd holds, placed at a CTO, with what OZmap holds.
    static func differences(of onu: ONURecord, in snapshot: OZmapClientSnapshot, boxName: String) -> [Drift] {
        let match = snapshot.match(onuID: onu.onuID, serialNumber: onu.serialNumber, box: onu.ctoBoxID, linked: onu.linked)
        let cto = "CTO \(boxName)"
        func row(_ kind: DriftCategory, client: String = "", property: String = "", fields: [String] = [], holds: String, ozmap: String,
                 action: String) -> Drift {
            Drift(kind: kind, onuID: onu.onuID, clientID: client, propertyID: property, fields: fields, ozmapdHolds: holds,
                  ozmapHolds: ozmap, action: action)
        }
        guard let client = match.chosen else {
            if !onu.ozmapPropertyID.isEmpty, let property = snapshot.propertiesByID[onu.ozmapPropertyID], property.clientID.isEmpty {
                // Only a property ozmapd made is removed; an adopted one is the ERP's record.
                let action = onu.adopted
                    ? "create the client at \(cto); property \(property.id) is the ERP's: remove it in OZmap to free its port"
                    : "remove the empty property \(property.id), create the client at \(cto)"
                return [row(.propertyWithoutClient, property: property.id, holds: "client \(onu.ozmapClientID) at \(cto)",
                            ozmap: "property \(property.id) at box \(property.boxID) without a client", action: action)]
            }
            return [row(.missingInOZmap, holds: "ONU \(onu.onuID) (\(onu.serialNumber)) at \(cto)",
                        ozmap: "no client with code \(onu.onuID) or serial \(onu.serialNumber)", action: "create the client at \(cto)")]
        }
        var rows: [Drift] = []
        let own = ClientMatching.isOwn(client, onuID: onu.onuID, linked: onu.linked)
        if match.clients.count > 1 {
            let extras = match.clients.dropFirst()
            let removable = extras.filter { $0.markedONU == onu.onuID }.map(\.id)
            let others = extras.filter { $0.markedONU != onu.onuID }.map(\.id)
            var action = removable.isEmpty ? "" : "remove \(removable.joined(separator: ", ")) (ozmapd's own extra)"
            if !others.isEmpty {
                action += (action.isEmpty ? "none: " : "; ") + "\(others.joined(separator: ", ")) not ozmapd's: remove in OZmap"
            }
            rows.append(row(.duplicate, client: client.id, property: match.property?.id ?? "", holds: "one client, \(client.id)",
                            ozmap: match.clients.map { "\($0.id) (code \($0.code))" }.joined(separator: ", "), action: action))
        }
        if let property = match.property {
            if property.boxID != onu.ctoBoxID {
                rows.append(row(.atOtherBox, client: client.id, property: property.id, holds: cto, ozmap: "box \(property.boxID)",
                                action: "move property \(property.id) to \(cto) (same ids)"))
            }
        } else {
            rows.append(row(.atOtherBox, client: client.id, holds: cto, ozmap: "client \(client.id) without a property",
                            action: "attach client \(client.id) at \(cto)"))
        }
        let changes = OperationApplier.changes(from: client, to: payload(onu), own: own)
        if !changes.isEmpty {
            let wanted = payload(onu)
            func pair(_ field: String) -> (String, String) {
                switch field {
                case "name": (wanted.name, client.name)
                case "onu.serial_number": (wanted.serialNumber, client.serialNumber)
                case "onu.mac_address": (wanted.macAddress, client.macAddress)
                case "onu.user_PPPoE": (wanted.pppoeUser, client.pppoeUser)
                default: ("\(wanted.implanted)", "\(client.implanted)")
                }
            }
            let fields = changes.fieldNames
            rows.append(row(.dataDiffers, client: client.id, property: match.property?.id ?? "", fields: fields,
                            holds: fields.map { "\($0)=\(pair($0).0)" }.joined(separator: " "),
                            ozmap: fields.map { "\($0)=\(pair($0).1)" }.joined(separator: " "),
                            action: "write \(fields.joined(separator: ", ")) to client \(client.id)"))
        }
        return rows
    }

    /// Queues one operation per ONU with a difference an apply can fix, and a removal per
    /// client ozmapd marked for an ONU it does not hold.
    private func applyDrift(_ report: inout ReconcileReport, unknown: [FTTHClientRecord], snapshot: OZmapClientSnapshot) throws {
        let now = Timestamp.now()
        var queued: [String: Int64] = [:]
        // Even when a store failure ends the apply part-way, what was queued goes out now.
        defer { if !queued.isEmpty { worker.wake() } }
        for onuID in Set(report.drifts.map(\.onuID)).sorted() {
            let fixable = report.drifts.contains { $0.onuID == onuID && !$0.action.hasPrefix("none:") }
            guard fixable else { continue }
            let isUnknown = report.drifts.contains { $0.onuID == onuID && $0.kind == .unknownToOzmapd }
            let outcome = try durably { try store.changeONU(id: onuID) { current in
                if isUnknown {
                    if let current, current.state != .deprovisioned { return (current, nil) } // provisioned meanwhile
                    let client = unknown.first { $0.markedONU == onuID }
                    var onu = current ?? ONURecord(onuID: onuID, archoltOLTID: "", serialNumber: "", macAddress: "", pppoeUser: "",
                                                   implanted: false, state: .pending, createdAt: now, updatedAt: now)
                    onu.state = .pending
                    onu.updatedAt = now
                    let linked = LinkedClient(clientID: client?.id ?? "", propertyID: client.flatMap { snapshot.properties(of: $0.id).first?.id } ?? "",
                                              clientCode: client?.code ?? onuID, adopted: false, boxID: "", boxName: "", connection: nil)
                    var removal = OutboxOperation(onuID: onuID, kind: .deleteClient, client: Self.payload(onu), box: nil, linked: linked,
                                                  nextAttemptAt: now, createdAt: now, updatedAt: now)
                    removal.onlyLinkedClient = true
                    return (onu, removal)
                }
                guard let current else { throw IntegrationError(.internalFailure, "ONU \(onuID) left the store during the reconcile") }
                // Changed meanwhile (deprovisioned, queued): that change wins.
                guard current.state != .deprovisioned, current.state != .pending, cache.snapshot.boxesByID[current.ctoBoxID] != nil,
                      let box = placedBox(current) else { return (current, nil) }
                var onu = current
                let before = onu
                onu.updatedAt = now
                return (onu, Self.queueEnsure(&onu, from: before, at: box, now: now, force: true))
            } }
            if let operation = outcome.operation { queued[onuID] = operation.id }
        }
        for index in report.drifts.indices { report.drifts[index].operationID = queued[report.drifts[index].onuID] }
        report.operationIDs = queued.values.sorted()
    }

    /// Every ONU matching the filter, page by page.
    func allONUs(_ filter: ONUFilter) throws -> [ONURecord] {
        var all: [ONURecord] = []
        var after: String?
        while true {
            let page = try store.listONUs(filter, afterID: after, limit: 1_000)
            all += page
            guard page.count == 1_000, let last = page.last else { return all }
            after = last.onuID
        }
    }

    /// The OZmap reads of reconcile and import need credentials OZmap accepts.
    func requireOZmap() throws -> any OZmapProvisioner {
        guard let ozmap = ozmap() else {
            throw IntegrationError(.credentialsMissing, worker.pausedReason ?? "no OZmap credentials: set them with SetCredentials (ozmapctl credentials set)")
        }
        return ozmap
    }
}
