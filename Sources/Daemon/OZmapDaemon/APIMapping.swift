import ArcholtOZmapV1
import GRPCCore
import OZmapDomain

// Domain values as wire messages: the one place they are converted.

extension SyncReport {
    init(_ report: SyncPassReport) {
        self.init(kind: report.kind == .full ? .full : .incremental, running: report.running,
                  startedAt: report.startedAt, finishedAt: report.finishedAt, durationMs: UInt64(max(0, report.durationMs)),
                  boxes: UInt32(clamping: report.boxes), boxesAdded: UInt32(clamping: report.added),
                  boxesUpdated: UInt32(clamping: report.updated), boxesRemoved: UInt32(clamping: report.removed),
                  error: report.failure.map { "\(GRPCCore.Status.Code($0.rpcErrorCode).wireName): \(report.error)" } ?? report.error,
                  phase: report.phase,
                  progressDone: UInt32(clamping: report.progressDone), progressTotal: UInt32(clamping: report.progressTotal),
                  ozmapRequests: UInt32(clamping: report.ozmapRequests))
    }
}

extension OLTLink {
    init(_ link: LinkedOLT) {
        self.init(archoltOltId: link.archoltOLTID, ozmapOltId: link.ozmapOLTID, ozmapOltName: link.ozmapOLTName,
                  requireCtoOnActivation: link.requireCTOOnActivation, createdAt: link.createdAt, updatedAt: link.updatedAt,
                  problem: link.problem)
    }
}

extension ArcholtOZmapV1.Box {
    init(_ box: CachedBox) {
        self.init(id: box.id, name: box.name, project: box.project, ozmapOltId: box.oltID, slotId: box.slotID, ponId: box.ponID,
                  lat: box.lat, lng: box.lng, boxType: box.boxType, implanted: box.implanted,
                  portsTotal: UInt32(clamping: box.portsTotal), portsFree: UInt32(clamping: box.portsFree),
                  splitters: box.splitters.map {
                      Splitter(id: $0.id, name: $0.name, ozmapOltId: $0.oltID ?? "", slotId: $0.slotID ?? "", ponId: $0.ponID ?? "",
                               isDrop: $0.isDrop, portsTotal: UInt32(clamping: $0.outputs), portsFree: UInt32(clamping: $0.freeOutputs))
                  },
                  updatedAt: box.updatedAt)
    }
}

extension ONUChangeResponse {
    init(_ outcome: Provisioning.Outcome) {
        self.init()
        onu = ArcholtOZmapV1.ONU(outcome.onu)
        operation = outcome.operation.map(ArcholtOZmapV1.Operation.init)
    }
}

extension ProvisionONURequest {
    /// The implantation state asked for; nil keeps the ONU's (IMPLANTATION_UNCHANGED).
    func wantedImplanted() throws -> Bool? {
        switch implantation {
        case .implanted: true
        case .notImplanted: false
        case .unchanged: nil
        case .unspecified: implanted
        case .unrecognized(let number): throw IntegrationError.invalidInput(field: "implantation", "\(number) is no Implantation this ozmapd knows")
        }
    }
}

extension ArcholtOZmapV1.ONU {
    init(_ onu: ONURecord) {
        let state: ONUState = switch onu.state {
        case .waitingForCTO: .waitingForCto
        case .pending: .pending
        case .synced: .synced
        case .failed: .failed
        case .deprovisioned: .deprovisioned
        }
        self.init(onuId: onu.onuID, archoltOltId: onu.archoltOLTID, serialNumber: onu.serialNumber, macAddress: onu.macAddress,
                  pppoeUser: onu.pppoeUser, implanted: onu.implanted, ctoBoxId: onu.ctoBoxID, ctoBoxName: onu.ctoBoxName,
                  ozmapClientId: onu.ozmapClientID, ozmapPropertyId: onu.ozmapPropertyID, state: state,
                  lastError: onu.lastError, createdAt: onu.createdAt, updatedAt: onu.updatedAt,
                  ozmapClientCode: onu.ozmapClientCode, adopted: onu.adopted, splitterId: onu.connection?.splitterID ?? "",
                  splitterName: onu.connection?.splitterName ?? "", port: UInt32(clamping: onu.connection?.port ?? 0))
    }
}

extension ONUSyncState {
    /// Nil for UNSPECIFIED: no filter.
    init?(_ state: ONUState) throws {
        switch state {
        case .unspecified: return nil
        case .unrecognized(let number): throw IntegrationError.invalidInput(field: "state", "\(number) is no ONUState this ozmapd knows")
        case .waitingForCto: self = .waitingForCTO
        case .pending: self = .pending
        case .synced: self = .synced
        case .failed: self = .failed
        case .deprovisioned: self = .deprovisioned
        }
    }
}

extension ArcholtOZmapV1.Operation {
    init(_ operation: OutboxOperation) {
        let state: OperationState = switch operation.state {
        case .pending: .pending
        case .inFlight: .inFlight
        case .done: .done
        case .failed: .failed
        case .collapsed: .collapsed
        }
        self.init(id: "\(operation.id)", onuId: operation.onuID,
                  kind: operation.kind == .createClient ? .createClient : .deleteClient, state: state,
                  ctoBoxId: operation.box?.id ?? "", attempts: UInt32(clamping: operation.attempts), lastError: operation.lastError,
                  lastHttpStatus: Int32(clamping: operation.lastHTTPStatus), nextAttemptAt: operation.nextAttemptAt,
                  ozmapClientId: operation.ozmapClientID, ozmapPropertyId: operation.ozmapPropertyID,
                  createdAt: operation.createdAt, updatedAt: operation.updatedAt)
    }
}

extension OutboxOperationState {
    /// Nil for UNSPECIFIED: no filter.
    init?(_ state: OperationState) throws {
        switch state {
        case .unspecified: return nil
        case .unrecognized(let number): throw IntegrationError.invalidInput(field: "state", "\(number) is no OperationState this ozmapd knows")
        case .pending: self = .pending
        case .inFlight: self = .inFlight
        case .done: self = .done
        case .failed: self = .failed
        case .collapsed: self = .collapsed
        }
    }
}

extension AuditEntry {
    init(_ entry: AuditRecord) {
        self.init(seq: UInt64(max(0, entry.seq)), at: entry.at, onuId: entry.onuID, operationId: "\(entry.operationID)",
                  httpMethod: entry.httpMethod, route: entry.route, httpStatus: Int32(clamping: entry.httpStatus),
                  durationMs: UInt64(max(0, entry.durationMs)), result: entry.result, error: entry.error, detail: entry.detail)
    }
}

extension DriftKind {
    init(_ kind: DriftCategory) {
        switch kind {
        case .missingInOZmap: self = .missingInOzmap
        case .atOtherBox: self = .atOtherBox
        case .dataDiffers: self = .dataDiffers
        case .propertyWithoutClient: self = .propertyWithoutClient
        case .unknownToOzmapd: self = .unknownToOzmapd
        case .duplicate: self = .duplicate
        }
    }
}

extension ReconcileResponse {
    init(_ report: ReconcileReport) {
        self.init(dryRun: report.dryRun,
                  rows: report.drifts.map {
                      DriftRow(kind: .init($0.kind), onuId: $0.onuID, ozmapClientId: $0.clientID, ozmapPropertyId: $0.propertyID,
                               fields: $0.fields, ozmapdHolds: $0.ozmapdHolds, ozmapHolds: $0.ozmapHolds, action: $0.action,
                               operationId: $0.operationID.map { "\($0)" } ?? "")
                  },
                  counts: report.counts.map { DriftCount(kind: .init($0.kind), count: UInt32(clamping: $0.count)) },
                  onusChecked: UInt32(clamping: report.onusChecked), ozmapRequests: UInt32(clamping: report.ozmapRequests),
                  operationIds: report.operationIDs.map { "\($0)" }, checkedAt: report.checkedAt)
    }
}

extension ImportAction {
    init(_ action: ImportRowAction) {
        switch action {
        case .adopt: self = .adopt
        case .attach: self = .attach
        case .move: self = .move
        case .create: self = .create
        case .update: self = .update
        case .nothing: self = .nothing
        case .error: self = .error
        }
    }
}

extension ImportRowRequest {
    init(_ row: ImportRow, index: Int) throws {
        let implanted: Bool? = switch row.implanted {
        case .implanted: true
        case .notImplanted: false
        case .unspecified, .unchanged: nil
        case .unrecognized(let number):
            throw IntegrationError.invalidInput(field: "rows[\(index)].implanted", "\(number) is no Implantation this ozmapd knows")
        }
        self.init(archoltOLTID: row.archoltOltId, onuID: row.onuId, serialNumber: row.serialNumber, cto: row.cto,
                  macAddress: row.macAddress, pppoeUser: row.pppoeUser, implanted: implanted)
    }
}

extension ImportONUsResponse {
    init(_ report: ImportReport) {
        self.init(dryRun: report.dryRun,
                  results: report.rows.map {
                      ImportRowResult(row: UInt32(clamping: $0.row), onuId: $0.onuID, action: .init($0.action), detail: $0.detail,
                                      error: $0.error, ctoBoxId: $0.ctoBoxID, ctoBoxName: $0.ctoBoxName, ozmapClientId: $0.clientID,
                                      operationId: $0.operationID.map { "\($0)" } ?? "")
                  },
                  counts: report.counts.map { ImportActionCount(action: .init($0.action), count: UInt32(clamping: $0.count)) },
                  errors: UInt32(clamping: report.errors), ozmapRequests: UInt32(clamping: report.ozmapRequests))
    }
}
