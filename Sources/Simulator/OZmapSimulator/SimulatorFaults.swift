/// Faults injected into API requests (never into the control API).
///
/// Per matching request: wait `latencyMilliseconds`; then, when `down`, answer 503; else,
/// with probability `errorRate`, answer `status` without applying the request; else apply
/// it and, with probability `dropReplyRate`, close the connection without replying.
/// The dice are a generator seeded with `seed`, reset every time faults are set, so a run
/// is reproducible for a given order of requests.
public struct SimulatorFaults: Sendable, Equatable {
    /// Delay before a matching request is handled (the request is applied after it).
    public var latencyMilliseconds: Int
    /// Share of matching requests answered with `status` and not applied.
    public var errorRate: Double
    /// The status of `errorRate` faults (e.g. 429, 500, 503).
    public var status: Int
    /// When set, faulted answers (errorRate, down) carry `Retry-After: <seconds>`.
    public var retryAfterSeconds: Int?
    /// Every matching request is answered 503 (with `Retry-After` when set) and not applied.
    public var down: Bool
    /// Share of matching requests that are applied but never answered: the connection is closed.
    public var dropReplyRate: Double
    /// Requests the faults apply to; empty means every API route.
    public var routes: [FaultRoute]
    /// Seed of the fault dice.
    public var seed: UInt64

    public init(
        latencyMilliseconds: Int = 0, errorRate: Double = 0, status: Int = 503, retryAfterSeconds: Int? = nil,
        down: Bool = false, dropReplyRate: Double = 0, routes: [FaultRoute] = [], seed: UInt64 = 1
    ) {
        self.latencyMilliseconds = latencyMilliseconds
        self.errorRate = errorRate
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.down = down
        self.dropReplyRate = dropReplyRate
        self.routes = routes
        self.seed = seed
    }

    /// No fault at all.
    public static let none = SimulatorFaults()

    /// Every matching request answered with `status` (e.g. 429) and optionally `Retry-After`.
    public static func forcedStatus(
        _ status: Int, retryAfterSeconds: Int? = nil, routes: [FaultRoute] = []
    ) -> SimulatorFaults {
        SimulatorFaults(errorRate: 1, status: status, retryAfterSeconds: retryAfterSeconds, routes: routes)
    }

    public var isActive: Bool {
        latencyMilliseconds > 0 || errorRate > 0 || down || dropReplyRate > 0
    }

    func applies(method: String, relativePath: String) -> Bool {
        routes.isEmpty || routes.contains { $0.matches(method: method, relativePath: relativePath) }
    }
}

/// Which requests faults target: an optional method and a route prefix relative to
/// `/api/v2/`. `"POST properties"` targets creates only; `"ftth-clients"` any method on
/// FTTH clients; `"PATCH"` every PATCH.
public struct FaultRoute: Sendable, Equatable, CustomStringConvertible {
    public var method: String?
    public var pathPrefix: String

    public init(method: String? = nil, pathPrefix: String) {
        self.method = method?.uppercased()
        self.pathPrefix = Self.normalized(pathPrefix)
    }

    /// Parses `"METHOD prefix"`, `"prefix"` or `"METHOD"`.
    public init(_ spec: String) {
        let words = spec.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let methods: Set<String> = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"]
        if let first = words.first, methods.contains(first.uppercased()) {
            self.init(method: first, pathPrefix: words.dropFirst().joined(separator: " "))
        } else {
            self.init(method: nil, pathPrefix: words.joined(separator: " "))
        }
    }

    public var description: String {
        [method, pathPrefix.isEmpty ? nil : pathPrefix].compactMap { $0 }.joined(separator: " ")
    }

    func matches(method requestMethod: String, relativePath: String) -> Bool {
        if let method, method != requestMethod { return false }
        guard !pathPrefix.isEmpty else { return true }
        return relativePath == pathPrefix || relativePath.hasPrefix(pathPrefix + "/")
    }

    /// Accepts `properties`, `/properties`, `/api/v2/properties` and trailing slashes alike.
    private static func normalized(_ prefix: String) -> String {
        var text = Substring(prefix)
        while text.hasPrefix("/") { text = text.dropFirst() }
        if text.hasPrefix("api/v2") { text = text.dropFirst("api/v2".count) }
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}
