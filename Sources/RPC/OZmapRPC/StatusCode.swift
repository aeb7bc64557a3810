/// gRPC status codes, with gRPC's numbering: the `code` of every `Status` on the wire.
public enum StatusCode: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    /// The canonical upper-case name, e.g. `INVALID_ARGUMENT`.
    public var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }

    public var description: String { name }

    /// Maps a wire value to a code; values gRPC does not define read as UNKNOWN.
    public init(wireValue: Int32) {
        self = StatusCode(rawValue: wireValue) ?? .unknown
    }
}

/// One invalid request field, named by its proto path.
public struct FieldViolation: Sendable, Hashable {
    public var field: String
    public var description: String

    public init(field: String, description: String) {
        self.field = field
        self.description = description
    }
}

/// The outcome of a call, as carried in `ResponseEnvelope.status`.
public struct Status: Sendable, Hashable {
    public var code: Int32
    public var message: String
    public var violations: [FieldViolation]

    public init(code: StatusCode, message: String = "", violations: [FieldViolation] = []) {
        self.code = code.rawValue
        self.message = message
        self.violations = violations
    }

    public static let ok = Status(code: .ok)

    public var statusCode: StatusCode { StatusCode(wireValue: code) }
    public var isOK: Bool { code == StatusCode.ok.rawValue }
}

/// The error a handler throws to answer with a status other than OK.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public var violations: [FieldViolation]

    public init(_ code: StatusCode, _ message: String, violations: [FieldViolation] = []) {
        self.code = code
        self.message = message
        self.violations = violations
    }

    /// INVALID_ARGUMENT naming the offending field.
    public static func invalidArgument(field: String, _ description: String) -> RPCError {
        RPCError(.invalidArgument, "\(field): \(description)",
                 violations: [FieldViolation(field: field, description: description)])
    }

    public init(status: Status) {
        self.init(status.statusCode, status.message, violations: status.violations)
    }

    public var status: Status { Status(code: code, message: message, violations: violations) }

    public var description: String { "\(code.name): \(message)" }
}
