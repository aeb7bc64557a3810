/// `archolt.ozmap.v1.ProvisionONURequest`
public struct ProvisionONURequest: Codable, Sendable, Hashable {
    public var archoltOltId: String
    public var onuId: String
    public var serialNumber: String
    public var macAddress: String
    public var pppoeUser: String
    public var cto: String
    /// Read only when `implantation` is `.unspecified`.
    public var implanted: Bool
    public var requireCto: Bool
    public var implantation: Implantation

    /// The defaults are the wire's: `implanted` false, `implantation` unspecified.
    public init(archoltOltId: String, onuId: String, serialNumber: String, macAddress: String = "", pppoeUser: String = "",
                cto: String = "", implanted: Bool = false, requireCto: Bool = false, implantation: Implantation = .unspecified) {
        self.archoltOltId = archoltOltId
        self.onuId = onuId
        self.serialNumber = serialNumber
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.cto = cto
        self.implanted = implanted
        self.requireCto = requireCto
        self.implantation = implantation
    }

    /// The implantation state asked for; nil leaves it unchanged.
    public var wantedImplanted: Bool? {
        switch implantation {
        case .unspecified: implanted
        case .implanted: true
        case .notImplanted: false
        case .unchanged: nil
        }
    }
}

/// `archolt.ozmap.v1.Implantation`
public enum Implantation: String, Codable, Sendable, Hashable, CaseIterable {
    case unspecified = "IMPLANTATION_UNSPECIFIED"
    case implanted = "IMPLANTATION_IMPLANTED"
    case notImplanted = "IMPLANTATION_NOT_IMPLANTED"
    case unchanged = "IMPLANTATION_UNCHANGED"
}

/// The answer of ProvisionONU, AssignCTO and DeprovisionONU: the ONU, and the
/// OZmap change made or queued (absent when none was needed).
public struct ONUChangeResponse: Codable, Sendable, Hashable {
    public var onu: ONU
    public var operation: Operation?

    public init(onu: ONU, operation: Operation?) {
        self.onu = onu
        self.operation = operation
    }
}

/// `archolt.ozmap.v1.AssignCTORequest`
public struct AssignCTORequest: Codable, Sendable, Hashable {
    public var onuId: String
    public var cto: String
    /// With `serialNumber`: take over an ONU ozmapd never saw.
    public var archoltOltId: String
    public var serialNumber: String

    public init(onuId: String, cto: String, archoltOltId: String = "", serialNumber: String = "") {
        self.onuId = onuId
        self.cto = cto
        self.archoltOltId = archoltOltId
        self.serialNumber = serialNumber
    }
}

/// `archolt.ozmap.v1.DeprovisionONURequest`
public struct DeprovisionONURequest: Codable, Sendable, Hashable {
    public var onuId: String

    public init(onuId: String) {
        self.onuId = onuId
    }
}

/// `archolt.ozmap.v1.ONUState`
public enum ONUState: String, Codable, Sendable, Hashable, CaseIterable {
    case unspecified = "ONU_STATE_UNSPECIFIED"
    case waitingForCto = "ONU_STATE_WAITING_FOR_CTO"
    case pending = "ONU_STATE_PENDING"
    case synced = "ONU_STATE_SYNCED"
    case failed = "ONU_STATE_FAILED"
    case deprovisioned = "ONU_STATE_DEPROVISIONED"
}

/// `archolt.ozmap.v1.ONU`
public struct ONU: Codable, Sendable, Hashable {
    public var onuId: String
    public var archoltOltId: String
    public var serialNumber: String
    public var macAddress: String
    public var pppoeUser: String
    public var implanted: Bool
    public var ctoBoxId: String
    public var ctoBoxName: String
    public var ozmapClientId: String
    public var ozmapPropertyId: String
    public var state: ONUState
    public var lastError: String
    public var createdAt: String
    public var updatedAt: String
    public var ozmapClientCode: String
    public var adopted: Bool
    public var splitterId: String
    public var splitterName: String
    public var port: UInt32

    public init(onuId: String, archoltOltId: String, serialNumber: String, macAddress: String, pppoeUser: String,
                implanted: Bool, ctoBoxId: String, ctoBoxName: String, ozmapClientId: String, ozmapPropertyId: String,
                state: ONUState, lastError: String, createdAt: String, updatedAt: String, ozmapClientCode: String = "",
                adopted: Bool = false, splitterId: String = "", splitterName: String = "", port: UInt32 = 0) {
        self.ozmapClientCode = ozmapClientCode
        self.adopted = adopted
        self.splitterId = splitterId
        self.splitterName = splitterName
        self.port = port
        self.onuId = onuId
        self.archoltOltId = archoltOltId
        self.serialNumber = serialNumber
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.implanted = implanted
        self.ctoBoxId = ctoBoxId
        self.ctoBoxName = ctoBoxName
        self.ozmapClientId = ozmapClientId
        self.ozmapPropertyId = ozmapPropertyId
        self.state = state
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `archolt.ozmap.v1.OperationKind`
public enum OperationKind: String, Codable, Sendable, Hashable {
    case unspecified = "OPERATION_KIND_UNSPECIFIED"
    case createClient = "OPERATION_KIND_CREATE_CLIENT"
    case deleteClient = "OPERATION_KIND_DELETE_CLIENT"
}

/// `archolt.ozmap.v1.OperationState`
public enum OperationState: String, Codable, Sendable, Hashable, CaseIterable {
    case unspecified = "OPERATION_STATE_UNSPECIFIED"
    case pending = "OPERATION_STATE_PENDING"
    case inFlight = "OPERATION_STATE_IN_FLIGHT"
    case done = "OPERATION_STATE_DONE"
    case failed = "OPERATION_STATE_FAILED"
    case collapsed = "OPERATION_STATE_COLLAPSED"
}

/// `archolt.ozmap.v1.Operation`
public struct Operation: Codable, Sendable, Hashable {
    public var id: String
    public var onuId: String
    public var kind: OperationKind
    public var state: OperationState
    public var ctoBoxId: String
    public var attempts: UInt32
    public var lastError: String
    public var lastHttpStatus: Int32
    public var nextAttemptAt: String
    public var ozmapClientId: String
    public var ozmapPropertyId: String
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, onuId: String, kind: OperationKind, state: OperationState, ctoBoxId: String, attempts: UInt32,
                lastError: String, lastHttpStatus: Int32, nextAttemptAt: String, ozmapClientId: String, ozmapPropertyId: String,
                createdAt: String, updatedAt: String) {
        self.id = id
        self.onuId = onuId
        self.kind = kind
        self.state = state
        self.ctoBoxId = ctoBoxId
        self.attempts = attempts
        self.lastError = lastError
        self.lastHttpStatus = lastHttpStatus
        self.nextAttemptAt = nextAttemptAt
        self.ozmapClientId = ozmapClientId
        self.ozmapPropertyId = ozmapPropertyId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `archolt.ozmap.v1.GetONURequest`
public struct GetONURequest: Codable, Sendable, Hashable {
    public var onuId: String

    public init(onuId: String) {
        self.onuId = onuId
    }
}

/// `archolt.ozmap.v1.ListONUsRequest`
public struct ListONUsRequest: Codable, Sendable, Hashable {
    public var archoltOltId: String
    public var state: ONUState
    public var ctoBoxId: String
    public var pageSize: UInt32
    public var pageToken: String

    public init(archoltOltId: String = "", state: ONUState = .unspecified, ctoBoxId: String = "", pageSize: UInt32 = 0, pageToken: String = "") {
        self.archoltOltId = archoltOltId
        self.state = state
        self.ctoBoxId = ctoBoxId
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

/// `archolt.ozmap.v1.ListONUsResponse`
public struct ListONUsResponse: Codable, Sendable, Hashable {
    public var onus: [ONU]
    public var nextPageToken: String

    public init(onus: [ONU], nextPageToken: String) {
        self.onus = onus
        self.nextPageToken = nextPageToken
    }
}

/// `archolt.ozmap.v1.ListOperationsRequest`
public struct ListOperationsRequest: Codable, Sendable, Hashable {
    public var onuId: String
    public var state: OperationState
    public var pageSize: UInt32
    public var pageToken: String

    public init(onuId: String = "", state: OperationState = .unspecified, pageSize: UInt32 = 0, pageToken: String = "") {
        self.onuId = onuId
        self.state = state
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

/// `archolt.ozmap.v1.ListOperationsResponse`
public struct ListOperationsResponse: Codable, Sendable, Hashable {
    public var operations: [Operation]
    public var nextPageToken: String

    public init(operations: [Operation], nextPageToken: String) {
        self.operations = operations
        self.nextPageToken = nextPageToken
    }
}

/// `archolt.ozmap.v1.RetryOperationRequest`
public struct RetryOperationRequest: Codable, Sendable, Hashable {
    public var operationId: String

    public init(operationId: String) {
        self.operationId = operationId
    }
}

/// `archolt.ozmap.v1.ListAuditLogRequest`
public struct ListAuditLogRequest: Codable, Sendable, Hashable {
    public var onuId: String
    public var afterSeq: UInt64
    public var pageSize: UInt32
    public var pageToken: String

    public init(onuId: String = "", afterSeq: UInt64 = 0, pageSize: UInt32 = 0, pageToken: String = "") {
        self.onuId = onuId
        self.afterSeq = afterSeq
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

/// `archolt.ozmap.v1.ListAuditLogResponse`
public struct ListAuditLogResponse: Codable, Sendable, Hashable {
    public var entries: [AuditEntry]
    public var nextPageToken: String

    public init(entries: [AuditEntry], nextPageToken: String) {
        self.entries = entries
        self.nextPageToken = nextPageToken
    }
}

/// `archolt.ozmap.v1.AuditEntry`
public struct AuditEntry: Codable, Sendable, Hashable {
    public var seq: UInt64
    public var at: String
    public var onuId: String
    public var operationId: String
    public var httpMethod: String
    public var route: String
    public var httpStatus: Int32
    public var durationMs: UInt64
    public var result: String
    public var error: String
    public var detail: String

    public init(seq: UInt64, at: String, onuId: String, operationId: String, httpMethod: String, route: String,
                httpStatus: Int32, durationMs: UInt64, result: String, error: String, detail: String = "") {
        self.detail = detail
        self.seq = seq
        self.at = at
        self.onuId = onuId
        self.operationId = operationId
        self.httpMethod = httpMethod
        self.route = route
        self.httpStatus = httpStatus
        self.durationMs = durationMs
        self.result = result
        self.error = error
    }
}
