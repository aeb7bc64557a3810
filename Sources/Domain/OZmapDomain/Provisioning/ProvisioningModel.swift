/// Where an ONU stands with OZmap.
public enum ONUState: String, Sendable, Codable, CaseIterable {
    /// Provisioned without a CTO: nothing to create in OZmap until AssignCTO.
    case waitingForCTO = "waiting-for-cto"
    /// An OZmap change is queued or being applied.
    case pending
    /// OZmap matches: the client and its property exist at the CTO (or are gone, once deprovisioned).
    case synced
    /// OZmap refused the last change; RetryOperation tries it again.
    case failed
    /// Removed from OZmap.
    case deprovisioned
}

/// An ONU as ArchOLT provisioned it, and what ozmapd knows of its OZmap client.
public struct ONURecord: Sendable, Hashable, Codable {
    public var onuID: String
    public var archoltOLTID: String
    public var serialNumber: String
    public var macAddress: String
    public var pppoeUser: String
    public var implanted: Bool
    public var ctoBoxID: String
    public var ctoBoxName: String
    public var ozmapClientID: String
    public var ozmapPropertyID: String
    public var state: ONUState
    public var lastError: String
    public var createdAt: String
    public var updatedAt: String

    public init(onuID: String, archoltOLTID: String, serialNumber: String, macAddress: String, pppoeUser: String,
                implanted: Bool, ctoBoxID: String = "", ctoBoxName: String = "", ozmapClientID: String = "",
                ozmapPropertyID: String = "", state: ONUState, lastError: String = "", createdAt: String, updatedAt: String) {
        self.onuID = onuID
        self.archoltOLTID = archoltOLTID
        self.serialNumber = serialNumber
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.implanted = implanted
        self.ctoBoxID = ctoBoxID
        self.ctoBoxName = ctoBoxName
        self.ozmapClientID = ozmapClientID
        self.ozmapPropertyID = ozmapPropertyID
        self.state = state
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public enum OperationKind: String, Sendable, Codable {
    /// Make OZmap hold the client, with its property at the operation's box.
    case createClient = "create-client"
    /// Make OZmap hold no client with the ONU's code.
    case deleteClient = "delete-client"
}

public enum OperationState: String, Sendable, Codable, CaseIterable {
    case pending
    /// Being applied now; after a crash, re-checked against OZmap before it is redone.
    case inFlight = "in-flight"
    case done
    /// OZmap refused it (a 4xx other than 401/403/429); RetryOperation puts it back.
    case failed
    /// Superseded by a later operation on the same ONU before it sent OZmap any write.
    case collapsed

    public var isFinished: Bool { self == .done || self == .failed || self == .collapsed }
}

/// What the client looks like in OZmap: fixed when the operation is queued.
public struct ClientPayload: Sendable, Hashable, Codable {
    public var code: String
    public var name: String
    public var serialNumber: String
    public var macAddress: String
    public var pppoeUser: String
    public var implanted: Bool

    public init(code: String, name: String, serialNumber: String, macAddress: String, pppoeUser: String, implanted: Bool) {
        self.code = code
        self.name = name
        self.serialNumber = serialNumber
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.implanted = implanted
    }
}

/// The box a client goes to, as the cache knew it when the operation was queued.
public struct TargetBox: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var project: String
    public var lat: Double
    public var lng: Double

    public init(id: String, name: String, project: String, lat: Double, lng: Double) {
        self.id = id
        self.name = name
        self.project = project
        self.lat = lat
        self.lng = lng
    }
}

/// One row of the outbox: a change to make in OZmap, durable before the RPC answers.
public struct OutboxOperation: Sendable, Hashable, Codable {
    /// Increasing: operations of one ONU are applied in id order.
    public var id: Int64
    public var onuID: String
    public var kind: OperationKind
    public var state: OperationState
    public var client: ClientPayload
    /// The target box of a create; nil for a delete.
    public var box: TargetBox?
    public var attempts: Int
    /// Writes sent to OZmap by all attempts: an operation that never sent one has not
    /// touched OZmap, and a newer operation of the ONU may supersede it.
    public var mutationsSent: Int
    public var lastError: String
    public var lastHTTPStatus: Int
    public var nextAttemptAt: String
    public var ozmapClientID: String
    public var ozmapPropertyID: String
    public var createdAt: String
    public var updatedAt: String

    public init(id: Int64 = 0, onuID: String, kind: OperationKind, state: OperationState = .pending, client: ClientPayload,
                box: TargetBox?, attempts: Int = 0, mutationsSent: Int = 0, lastError: String = "", lastHTTPStatus: Int = 0, nextAttemptAt: String = "",
                ozmapClientID: String = "", ozmapPropertyID: String = "", createdAt: String, updatedAt: String) {
        self.id = id
        self.onuID = onuID
        self.kind = kind
        self.state = state
        self.client = client
        self.box = box
        self.attempts = attempts
        self.mutationsSent = mutationsSent
        self.lastError = lastError
        self.lastHTTPStatus = lastHTTPStatus
        self.nextAttemptAt = nextAttemptAt
        self.ozmapClientID = ozmapClientID
        self.ozmapPropertyID = ozmapPropertyID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One OZmap mutation made by ozmapd, for the audit log. Never holds the key.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var seq: Int64
    public var at: String
    public var onuID: String
    public var operationID: Int64
    public var httpMethod: String
    public var route: String
    /// 0 when no HTTP status came back.
    public var httpStatus: Int
    public var durationMs: Int
    /// "ok", "retry" or "failed".
    public var result: String
    public var error: String

    public init(seq: Int64 = 0, at: String, onuID: String, operationID: Int64, httpMethod: String, route: String,
                httpStatus: Int, durationMs: Int, result: String, error: String) {
        self.seq = seq
        self.at = at
        self.onuID = onuID
        self.operationID = operationID
        self.httpMethod = httpMethod
        self.route = route
        self.httpStatus = httpStatus
        self.durationMs = durationMs
        self.result = result
        self.error = error
    }
}
