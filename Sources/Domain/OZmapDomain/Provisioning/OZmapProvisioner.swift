import OZmapRPC

/// A property (imóvel) of OZmap, as far as provisioning cares.
public struct OZmapProperty: Sendable, Hashable {
    public var id: String
    public var boxID: String
    public var clientID: String
    public var clientCode: String

    public init(id: String, boxID: String, clientID: String, clientCode: String) {
        self.id = id
        self.boxID = boxID
        self.clientID = clientID
        self.clientCode = clientCode
    }
}

/// An FTTH client of OZmap.
public struct OZmapClient: Sendable, Hashable {
    public var id: String
    public var code: String

    public init(id: String, code: String) {
        self.id = id
        self.code = code
    }
}

/// A failed OZmap call: its status, the HTTP status (0 when none came back),
/// and how long OZmap asked us to wait.
public struct OZmapCallError: Error, Sendable, CustomStringConvertible {
    public var error: RPCError
    public var httpStatus: Int
    public var retryAfter: Duration?
    /// A write whose answer never came (timeout, connection reset): OZmap may
    /// still apply it, so the next look at the client must wait a while.
    public var outcomeUnknown: Bool

    public init(error: RPCError, httpStatus: Int, retryAfter: Duration? = nil, outcomeUnknown: Bool = false) {
        self.error = error
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
        self.outcomeUnknown = outcomeUnknown
    }

    /// Worth trying again later: OZmap away, slow, throttling, or rejecting the key
    /// (fixable by new credentials), as opposed to refusing this request for good.
    public var isRetryable: Bool {
        switch error.code {
        case .unavailable, .deadlineExceeded, .unauthenticated, .permissionDenied, .resourceExhausted: true
        default: httpStatus == 429 || httpStatus == 0 || httpStatus >= 500
        }
    }

    public var description: String { error.description }
}

/// What provisioning needs from OZmap; the libcurl adapter implements it.
/// Writes are made once per call: the caller decides about retries, after
/// looking the client up again. Every method throws `OZmapCallError`.
public protocol OZmapProvisioner: Sendable {
    /// `GET properties/client/{code}`: the properties of the client with that code.
    func properties(clientCode: String) async throws -> [OZmapProperty]
    /// `GET ftth-clients` filtered by code: also finds clients without a property.
    func clients(code: String) async throws -> [OZmapClient]
    /// One `POST properties` creating the client and its property at the box, port chosen by OZmap.
    func createProperty(client: ClientPayload, at box: TargetBox) async throws -> OZmapProperty
    /// `DELETE properties/{id}`: the client goes with it. Already gone counts as done.
    func deleteProperty(id: String) async throws
    /// `DELETE ftth-clients/{id}`. Already gone counts as done.
    func deleteClient(id: String) async throws
}
