/// `archolt.ozmap.v1.GetMetricsRequest`
public struct GetMetricsRequest: Codable, Sendable, Hashable {
    public init() {}
}

/// `archolt.ozmap.v1.GetMetricsResponse`
public struct GetMetricsResponse: Codable, Sendable, Hashable {
    /// Prometheus text exposition format 0.0.4.
    public var prometheusText: String

    public init(prometheusText: String) {
        self.prometheusText = prometheusText
    }
}

/// `archolt.ozmap.v1.RunDoctorRequest`
public struct RunDoctorRequest: Codable, Sendable, Hashable {
    public init() {}
}

/// `archolt.ozmap.v1.DoctorCheck`
public struct DoctorCheck: Codable, Sendable, Hashable {
    public var name: String
    public var ok: Bool
    public var detail: String
    public var fix: String

    public init(name: String, ok: Bool, detail: String, fix: String = "") {
        self.name = name
        self.ok = ok
        self.detail = detail
        self.fix = fix
    }
}

/// `archolt.ozmap.v1.RunDoctorResponse`
public struct RunDoctorResponse: Codable, Sendable, Hashable {
    public var checks: [DoctorCheck]

    public init(checks: [DoctorCheck]) {
        self.checks = checks
    }
}
