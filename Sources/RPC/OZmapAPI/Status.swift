/// `archolt.ozmap.v1.GetStatusRequest`
public struct GetStatusRequest: Codable, Sendable, Hashable {
    public init() {}
}

/// `archolt.ozmap.v1.GetStatusResponse`
public struct GetStatusResponse: Codable, Sendable, Hashable {
    public var version: String
    public var startedAt: String
    public var uptimeMs: UInt64
    public var socketPath: String
    public var connectionsOpen: UInt32
    public var connectionsAccepted: UInt64
    public var callsServed: UInt64
    public var callsInFlight: UInt32
    public var credentialsSet = false
    public var ozmapReachable = false
    public var lastSync: SyncReport?
    public var nextSyncAt = ""
    public var boxCount: UInt32 = 0
    public var ozmapRequests: [OZmapRequestCount] = []
    /// "unset", "ok" or "rejected".
    public var credentialsState = ""
    public var credentialsError = ""
    public var operationsPending: UInt32 = 0
    public var operationsFailed: UInt32 = 0
    /// The last reconcile dry-run's counts per kind; empty until one has run.
    public var drift: [DriftCount] = []
    public var driftCheckedAt = ""

    public init(version: String, startedAt: String, uptimeMs: UInt64, socketPath: String,
                connectionsOpen: UInt32, connectionsAccepted: UInt64, callsServed: UInt64, callsInFlight: UInt32) {
        self.version = version
        self.startedAt = startedAt
        self.uptimeMs = uptimeMs
        self.socketPath = socketPath
        self.connectionsOpen = connectionsOpen
        self.connectionsAccepted = connectionsAccepted
        self.callsServed = callsServed
        self.callsInFlight = callsInFlight
    }
}

/// `archolt.ozmap.v1.ListMethodsRequest`
public struct ListMethodsRequest: Codable, Sendable, Hashable {
    public init() {}
}

/// `archolt.ozmap.v1.ListMethodsResponse`
public struct ListMethodsResponse: Codable, Sendable, Hashable {
    public var methods: [MethodInfo]

    public init(methods: [MethodInfo]) {
        self.methods = methods
    }
}

/// `archolt.ozmap.v1.MethodInfo`
public struct MethodInfo: Codable, Sendable, Hashable {
    public var name: String
    public var path: String
    public var requestType: String
    public var responseType: String
    public var implemented: Bool

    public init(name: String, path: String, requestType: String, responseType: String, implemented: Bool) {
        self.name = name
        self.path = path
        self.requestType = requestType
        self.responseType = responseType
        self.implemented = implemented
    }
}

/// `archolt.ozmap.v1.OZmapRequestCount`
public struct OZmapRequestCount: Codable, Sendable, Hashable {
    public var httpMethod: String
    public var route: String
    public var httpStatus: Int32
    public var count: UInt64

    public init(httpMethod: String, route: String, httpStatus: Int32, count: UInt64) {
        self.httpMethod = httpMethod
        self.route = route
        self.httpStatus = httpStatus
        self.count = count
    }
}
