
/// A splitter port a property is connected to (from the property's `connections`).
public struct PortConnection: Sendable, Hashable, Codable {
    public var splitterID: String
    public var splitterName: String
    /// 1-based.
    public var port: Int

    public init(splitterID: String, splitterName: String, port: Int) {
        self.splitterID = splitterID
        self.splitterName = splitterName
        self.port = port
    }
}

/// A property (imóvel) of OZmap, as far as provisioning cares.
public struct OZmapProperty: Sendable, Hashable {
    public var id: String
    public var boxID: String
    /// Empty when the property has no client.
    public var clientID: String
    public var clientCode: String
    public var connections: [PortConnection]
    /// The client, when OZmap answered with it populated (`properties/client/{code}` does).
    public var client: FTTHClientRecord?

    public init(id: String, boxID: String, clientID: String, clientCode: String, connections: [PortConnection] = [],
                client: FTTHClientRecord? = nil) {
        self.id = id
        self.boxID = boxID
        self.clientID = clientID
        self.clientCode = clientCode
        self.connections = connections
        self.client = client
    }
}

/// An FTTH client as OZmap holds it: what ozmapd compares with the ONU.
public struct FTTHClientRecord: Sendable, Hashable {
    public var id: String
    public var code: String
    public var name: String
    public var serialNumber: String
    public var macAddress: String
    public var pppoeUser: String
    public var implanted: Bool
    /// Who owns the record; ozmapd's own carry `ClientOwnership.marker(onuID:)`.
    public var externalID: String
    /// Where a server that refuses `external_id` keeps ozmapd's mark.
    public var observation: String

    public init(id: String, code: String, name: String = "", serialNumber: String = "", macAddress: String = "",
                pppoeUser: String = "", implanted: Bool = false, externalID: String = "", observation: String = "") {
        self.observation = observation
        self.id = id
        self.code = code
        self.name = name
        self.serialNumber = serialNumber
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.implanted = implanted
        self.externalID = externalID
    }

    /// The ONU whose client ozmapd created this as (its mark in `external_id` or `observation`);
    /// nil for the ERP's, a person's, or one an older ozmapd made without a mark.
    public var markedONU: String? { ClientOwnership.onu(markedIn: externalID) ?? ClientOwnership.onu(markedIn: observation) }
}

/// How ozmapd marks the clients and properties it creates, so anyone can tell them from others'.
public enum ClientOwnership {
    static let prefix = "ozmapd:"

    /// What every `external_id` ozmapd writes starts with.
    public static let markerPrefix = "\(prefix)onu:"

    /// `ozmapd:onu:<ONU id>`: the `external_id` of what ozmapd creates.
    public static func marker(onuID: String) -> String { "\(prefix)onu:\(onuID)" }

    public static let observationPrefix = "Created by ozmapd for ArchOLT ONU "

    /// The `observation` written instead, on a server that refuses `external_id`.
    public static func observation(onuID: String) -> String { observationPrefix + onuID }

    /// The ONU a mark names, from either form; nil when the text is not ozmapd's mark.
    static func onu(markedIn text: String) -> String? {
        for prefix in ["\(prefix)onu:", observationPrefix] where text.hasPrefix(prefix) && text.count > prefix.count {
            return String(text.dropFirst(prefix.count))
        }
        return nil
    }
}

/// The FTTH client fields a `PATCH ftth-clients/{id}` changes: nil leaves a field as it is.
public struct ClientChanges: Sendable, Hashable {
    public var name: String?
    public var serialNumber: String?
    public var macAddress: String?
    public var pppoeUser: String?
    public var implanted: Bool?

    public init(name: String? = nil, serialNumber: String? = nil, macAddress: String? = nil, pppoeUser: String? = nil,
                implanted: Bool? = nil) {
        self.name = name
        self.serialNumber = serialNumber
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.implanted = implanted
    }

    public var isEmpty: Bool { self == ClientChanges() }

    /// The names of the changed fields, as OZmap spells them (for logs and the audit).
    public var fieldNames: [String] {
        [(name, "name"), (serialNumber, "onu.serial_number"), (macAddress, "onu.mac_address"), (pppoeUser, "onu.user_PPPoE")]
            .compactMap { $0.0 == nil ? nil : $0.1 } + (implanted == nil ? [] : ["implanted"])
    }
}

/// A failed OZmap call: its status, the HTTP status (0 when none came back),
/// and how long OZmap asked us to wait.
public struct OZmapCallError: Error, Sendable, CustomStringConvertible {
    public var error: IntegrationError
    public var httpStatus: Int
    public var retryAfter: Duration?
    /// A write whose answer never came (timeout, connection reset): OZmap may
    /// still apply it, so the next look at the client must wait a while.
    public var outcomeUnknown: Bool
    /// Set when the box of a create or move turned out to have no free customer port.
    public var ctoFull: Bool
    /// The server does not take a form tagged [S] in the reference (it named the field in its
    /// refusal, or ignored it): a fallback applies, where there is a safe one.
    public var unsupportedForm: Bool
    /// A move that changed nothing in OZmap: the client is still at its old box.
    public var keptInPlace = false

    public init(error: IntegrationError, httpStatus: Int, retryAfter: Duration? = nil, outcomeUnknown: Bool = false, ctoFull: Bool = false,
                unsupportedForm: Bool = false) {
        self.error = error
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
        self.outcomeUnknown = outcomeUnknown
        self.ctoFull = ctoFull
        self.unsupportedForm = unsupportedForm
    }

    /// Worth trying again later: OZmap away, slow, throttling, or rejecting the key
    /// (fixable by new credentials), as opposed to refusing this request for good.
    public var isRetryable: Bool {
        error.isOZmapTransient || httpStatus == 429 || httpStatus == 0 || httpStatus >= 500
    }

    /// OZmap refused the request itself (a 4xx other than 401/403/404/429).
    public var isRefusal: Bool { !isRetryable && (400..<500).contains(httpStatus) && httpStatus != 404 }

    public var description: String { error.description }
}

/// What provisioning needs from OZmap; the libcurl adapter implements it.
/// Writes are made once per call: the caller decides about retries, after
/// looking the client up again. Every method throws `OZmapCallError`.
public protocol OZmapProvisioner: Sendable {
    /// `GET properties/client/{code}`: the properties of the client with that code.
    func properties(clientCode: String) async throws -> [OZmapProperty]
    /// `GET properties/{id}`; nil when it is gone.
    func property(id: String) async throws -> OZmapProperty?
    /// `GET ftth-clients` filtered by code: also finds clients without a property.
    func clients(code: String) async throws -> [FTTHClientRecord]
    /// `GET ftth-clients` filtered on `onu.serial_number`: a client the ERP filed under another code.
    func clients(serialNumber: String) async throws -> [FTTHClientRecord]
    /// One `POST properties` creating the client and its property at the box, port chosen by OZmap;
    /// both carry `external_id` (or, where the server refuses it, an `observation`).
    func createProperty(client: ClientPayload, at box: TargetBox) async throws -> OZmapProperty
    /// `POST properties` with `"client": "<id>"` [S]: a property at the box for an existing client.
    func attachProperty(clientID: String, at box: TargetBox) async throws -> OZmapProperty
    /// `PATCH properties/{id}` `{"box": …, "auto_connect": true}` [S]: the property (and its client,
    /// same ids) re-homed at the box. Returns the property as it is afterwards; `unsupportedForm`
    /// when the server refuses the field or answers 204 and leaves the property where it was.
    func moveProperty(id: String, to box: TargetBox) async throws -> OZmapProperty
    /// `PATCH properties/{id}` `{"client": null}` [S]: the client leaves the property and stays;
    /// `unsupportedForm` when the server refuses the field or answers 204 and keeps the client there.
    func detachClient(propertyID: String) async throws
    /// `PATCH ftth-clients/{id}` with only the changed fields.
    func updateClient(id: String, _ changes: ClientChanges) async throws
    /// `DELETE properties/{id}`: the client goes with it. Already gone counts as done.
    func deleteProperty(id: String) async throws
    /// `DELETE ftth-clients/{id}`. Already gone counts as done.
    func deleteClient(id: String) async throws

    // Bulk lookups for reconcile and import: `in` filters of up to 100 values a request, paged.
    // Reads, retried as the box sync's are; they throw `IntegrationError`.

    /// `GET ftth-clients` filtered `code in [...]`.
    func clients(codes: [String]) async throws -> [FTTHClientRecord]
    /// `GET ftth-clients` filtered `onu.serial_number in [...]`.
    func clients(serialNumbers: [String]) async throws -> [FTTHClientRecord]
    /// `GET ftth-clients` whose `external_id` carries ozmapd's mark (`like "ozmapd:onu:"`).
    func markedClients() async throws -> [FTTHClientRecord]
    /// `GET properties` filtered `client in [...]`.
    func properties(clientIDs: [String]) async throws -> [OZmapProperty]
    /// `GET properties` filtered `id in [...]`.
    func properties(ids: [String]) async throws -> [OZmapProperty]
}
