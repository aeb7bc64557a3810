/// Where an ONU stands with OZmap.
public enum ONUSyncState: String, Sendable, Codable, CaseIterable {
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
    /// The client's code in OZmap: the ONU id, or another system's code for a client ozmapd adopted.
    public var ozmapClientCode: String
    /// The client was found in OZmap (filed by the ERP or a person), not created by ozmapd.
    public var adopted: Bool
    /// The customer splitter port the property is connected to, as OZmap last said.
    public var connection: PortConnection?
    /// ArchOLT said whether the client is implanted; until it does, OZmap's value stands.
    public var implantedStated: Bool
    public var state: ONUSyncState
    public var lastError: String
    public var createdAt: String
    public var updatedAt: String

    public init(onuID: String, archoltOLTID: String, serialNumber: String, macAddress: String, pppoeUser: String,
                implanted: Bool, ctoBoxID: String = "", ctoBoxName: String = "", ozmapClientID: String = "",
                ozmapPropertyID: String = "", ozmapClientCode: String = "", adopted: Bool = false, connection: PortConnection? = nil,
                implantedStated: Bool = true, state: ONUSyncState, lastError: String = "", createdAt: String, updatedAt: String) {
        self.implantedStated = implantedStated
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
        self.ozmapClientCode = ozmapClientCode
        self.adopted = adopted
        self.connection = connection
        self.state = state
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    private enum CodingKeys: String, CodingKey {
        case onuID, archoltOLTID, serialNumber, macAddress, pppoeUser, implanted, ctoBoxID, ctoBoxName, ozmapClientID,
             ozmapPropertyID, ozmapClientCode, adopted, connection, implantedStated, state, lastError, createdAt, updatedAt
    }

    /// Records written before a field existed decode it as its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(onuID: try c.decode(String.self, forKey: .onuID), archoltOLTID: try c.decode(String.self, forKey: .archoltOLTID),
                  serialNumber: try c.decode(String.self, forKey: .serialNumber), macAddress: try c.decode(String.self, forKey: .macAddress),
                  pppoeUser: try c.decode(String.self, forKey: .pppoeUser), implanted: try c.decode(Bool.self, forKey: .implanted),
                  ctoBoxID: try c.decode(String.self, forKey: .ctoBoxID), ctoBoxName: try c.decode(String.self, forKey: .ctoBoxName),
                  ozmapClientID: try c.decode(String.self, forKey: .ozmapClientID),
                  ozmapPropertyID: try c.decode(String.self, forKey: .ozmapPropertyID),
                  ozmapClientCode: try c.decodeIfPresent(String.self, forKey: .ozmapClientCode) ?? "",
                  adopted: try c.decodeIfPresent(Bool.self, forKey: .adopted) ?? false,
                  connection: try c.decodeIfPresent(PortConnection.self, forKey: .connection),
                  implantedStated: try c.decodeIfPresent(Bool.self, forKey: .implantedStated) ?? true,
                  state: try c.decode(ONUSyncState.self, forKey: .state), lastError: try c.decode(String.self, forKey: .lastError),
                  createdAt: try c.decode(String.self, forKey: .createdAt), updatedAt: try c.decode(String.self, forKey: .updatedAt))
    }

    /// Takes what an applied operation left in OZmap.
    mutating func place(_ placement: ClientPlacement) {
        ozmapClientID = placement.clientID
        ozmapPropertyID = placement.propertyID
        ozmapClientCode = placement.clientCode
        adopted = placement.adopted
        connection = placement.connection
        if let implanted = placement.implanted { self.implanted = implanted }
    }

    /// What ozmapd knows of the ONU's OZmap records, for an operation to start from.
    var linked: LinkedClient {
        LinkedClient(clientID: ozmapClientID, propertyID: ozmapPropertyID, clientCode: ozmapClientCode, adopted: adopted,
                     boxID: ctoBoxID, boxName: ctoBoxName, connection: connection)
    }
}

/// Where an applied operation left the ONU's client in OZmap.
public struct ClientPlacement: Sendable, Hashable {
    public var clientID: String
    public var propertyID: String
    public var clientCode: String
    public var adopted: Bool
    public var connection: PortConnection?
    /// The client's implantation as OZmap holds it, where ozmapd left it alone (ArchOLT never said).
    public var implanted: Bool?

    public init(clientID: String, propertyID: String, clientCode: String, adopted: Bool, connection: PortConnection?,
                implanted: Bool? = nil) {
        self.implanted = implanted
        self.clientID = clientID
        self.propertyID = propertyID
        self.clientCode = clientCode
        self.adopted = adopted
        self.connection = connection
    }

    /// Nothing left in OZmap (after a removal).
    public static let none = ClientPlacement(clientID: "", propertyID: "", clientCode: "", adopted: false, connection: nil)
}

/// What ozmapd knew of the ONU's OZmap records when an operation was queued: the ids a
/// removal falls back on, and the box a refused move leaves the ONU at.
public struct LinkedClient: Sendable, Hashable, Codable {
    public var clientID: String
    public var propertyID: String
    public var clientCode: String
    public var adopted: Bool
    public var boxID: String
    public var boxName: String
    public var connection: PortConnection?

    public init(clientID: String, propertyID: String, clientCode: String, adopted: Bool, boxID: String, boxName: String,
                connection: PortConnection?) {
        self.clientID = clientID
        self.propertyID = propertyID
        self.clientCode = clientCode
        self.adopted = adopted
        self.boxID = boxID
        self.boxName = boxName
        self.connection = connection
    }
}

/// What Deprovision does with a client ozmapd adopted (one the ERP or a person filed):
/// setting `adopted_on_deprovision`.
public enum AdoptedClientPolicy: String, Sendable, CaseIterable {
    /// Remove the client and its property, as for ozmapd's own (the seed's rule).
    case delete
    /// Free the port (the property goes) and keep the client, without a property.
    case detach
    /// Leave both in OZmap; ozmapd forgets them.
    case keep
}

public enum OutboxOperationKind: String, Sendable, Codable {
    /// Make OZmap hold the client, with its property at the operation's box.
    case createClient = "create-client"
    /// Make OZmap hold no client with the ONU's code.
    case deleteClient = "delete-client"
}

public enum OutboxOperationState: String, Sendable, Codable, CaseIterable {
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
    /// ArchOLT never said: an existing client keeps its implantation (nil on rows from before it existed).
    public var keepImplanted: Bool?

    public init(code: String, name: String, serialNumber: String, macAddress: String, pppoeUser: String, implanted: Bool,
                keepImplanted: Bool? = nil) {
        self.keepImplanted = keepImplanted
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
    public var kind: OutboxOperationKind
    public var state: OutboxOperationState
    public var client: ClientPayload
    /// The target box of a create; nil for a delete.
    public var box: TargetBox?
    /// What ozmapd knew of the ONU's OZmap records when this was queued (nil on rows from before it existed).
    public var linked: LinkedClient?
    /// The box of a create or move had no free customer port when OZmap refused it.
    public var ctoFull: Bool?
    /// It failed having changed nothing: the client is still at the box it was at (`linked`).
    public var keptInPlace: Bool?
    /// A removal of exactly `linked`'s client (reconcile, a client ozmapd marked for an ONU it
    /// deprovisioned): nothing else under the code is touched, whatever `adopted_on_deprovision` says.
    public var onlyLinkedClient: Bool?
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

    public init(id: Int64 = 0, onuID: String, kind: OutboxOperationKind, state: OutboxOperationState = .pending, client: ClientPayload,
                box: TargetBox?, linked: LinkedClient? = nil, attempts: Int = 0, mutationsSent: Int = 0, lastError: String = "", lastHTTPStatus: Int = 0, nextAttemptAt: String = "",
                ozmapClientID: String = "", ozmapPropertyID: String = "", createdAt: String, updatedAt: String) {
        self.id = id
        self.onuID = onuID
        self.kind = kind
        self.state = state
        self.client = client
        self.box = box
        self.linked = linked
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
public struct AuditRecord: Sendable, Hashable, Codable {
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
    /// What the write was for, when the route does not say: the fields a PATCH changed, "move fallback".
    public var detail: String

    public init(seq: Int64 = 0, at: String, onuID: String, operationID: Int64, httpMethod: String, route: String,
                httpStatus: Int, durationMs: Int, result: String, error: String, detail: String = "") {
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
        self.detail = detail
    }

    private enum CodingKeys: String, CodingKey {
        case seq, at, onuID, operationID, httpMethod, route, httpStatus, durationMs, result, error, detail
    }

    /// Entries written before `detail` existed decode it as empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(seq: try c.decode(Int64.self, forKey: .seq), at: try c.decode(String.self, forKey: .at),
                  onuID: try c.decode(String.self, forKey: .onuID), operationID: try c.decode(Int64.self, forKey: .operationID),
                  httpMethod: try c.decode(String.self, forKey: .httpMethod), route: try c.decode(String.self, forKey: .route),
                  httpStatus: try c.decode(Int.self, forKey: .httpStatus), durationMs: try c.decode(Int.self, forKey: .durationMs),
                  result: try c.decode(String.self, forKey: .result), error: try c.decode(String.self, forKey: .error),
                  detail: try c.decodeIfPresent(String.self, forKey: .detail) ?? "")
    }
}
