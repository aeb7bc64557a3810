/// The JSON form of faults used by `POST /__sim/faults`:
/// `{"latency_ms", "error_rate", "status", "retry_after_s", "down", "drop_reply_rate", "routes", "seed"}`.
extension SimulatorFaults {
    static let jsonKeys: Set<String> = [
        "latency_ms", "error_rate", "status", "retry_after_s", "down", "drop_reply_rate", "routes", "seed",
    ]

    /// Unknown keys are refused, so that a typo in a test does not silently inject nothing.
    /// `status` without `error_rate` forces that status on every matching request.
    init(json body: RequestBody) throws(SimulatorError) {
        for key in body.fields.keys where !Self.jsonKeys.contains(key) {
            if SimulatorEngine.settingsKeys.contains(key) {
                throw .badRequest("\(key) is a setting, not a fault: POST /__sim/settings {\"\(key)\": ...}")
            }
            throw .badRequest("unknown fault '\(key)' (known: \(Self.jsonKeys.sorted().joined(separator: ", ")))")
        }
        self.init()
        latencyMilliseconds = try body.optionalInt("latency_ms") ?? 0
        guard (0...600_000).contains(latencyMilliseconds) else { throw .badRequest("latency_ms must be within 0...600000") }
        let status = try body.optionalInt("status")
        self.status = status ?? 503
        guard (100...599).contains(self.status) else { throw .badRequest("status must be an HTTP status (100...599)") }
        errorRate = try body.optionalNumber("error_rate") ?? (status == nil ? 0 : 1)
        guard (0...1).contains(errorRate) else { throw .badRequest("error_rate must be within 0...1") }
        retryAfterSeconds = try body.optionalInt("retry_after_s")
        if let seconds = retryAfterSeconds, seconds < 0 { throw .badRequest("retry_after_s must not be negative") }
        down = try body.optionalBool("down") ?? false
        dropReplyRate = try body.optionalNumber("drop_reply_rate") ?? 0
        guard (0...1).contains(dropReplyRate) else { throw .badRequest("drop_reply_rate must be within 0...1") }
        if let seed = try body.optionalInt("seed") {
            guard seed >= 0 else { throw .badRequest("seed must not be negative") }
            self.seed = UInt64(seed)
        }
        switch body["routes"] {
        case nil, .null?:
            routes = []
        case .string(let text)?:
            routes = text.split(separator: ",").map { FaultRoute(String($0)) }
        case .array(let elements)?:
            routes = []
            for element in elements {
                guard let text = element.string else { throw .badRequest("routes must be strings like \"POST properties\"") }
                routes.append(FaultRoute(text))
            }
        default:
            throw .badRequest("routes must be a string like \"POST properties, PATCH ftth-clients\" or an array of them")
        }
    }

    var json: SimulatorJSON {
        [
            "latency_ms": .int(latencyMilliseconds),
            "error_rate": .number(errorRate),
            "status": .int(status),
            "retry_after_s": retryAfterSeconds.map { .int($0) } ?? .null,
            "down": .bool(down),
            "drop_reply_rate": .number(dropReplyRate),
            "routes": .array(routes.map { .string($0.description) }),
            "seed": .number(Double(seed)),
        ]
    }
}
