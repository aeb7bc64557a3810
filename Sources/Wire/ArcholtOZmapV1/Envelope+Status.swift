public import GRPCCore

// The framed transport's envelopes (wire.proto) beside GRPCCore's status and error: the same
// code numbers, and field violations as `field-violation` metadata. The one place they meet.

extension Status {
    /// OK: what a ResponseEnvelope without a status means (proto3's default).
    public static var ok: Status { Status() }

    /// A status with GRPCCore's code.
    public init(_ code: GRPCCore.Status.Code, _ message: String, violations: [FieldViolation] = []) {
        self.init(code: Int32(code.rawValue), message: message, violations: violations)
    }

    /// A handler's outcome: GRPCCore's status, with the violations its metadata carries.
    public init(_ status: GRPCCore.Status, _ metadata: Metadata) {
        self.init(status.code, status.message, violations: FieldViolation.all(in: metadata))
    }

    /// An error's status, with the violations its metadata carries.
    public init(_ error: RPCError) {
        self.init(GRPCCore.Status.Code(error.code), error.message, violations: error.violations)
    }

    /// The code as GRPCCore's; values gRPC does not define read as UNKNOWN.
    public var grpcCode: GRPCCore.Status.Code { GRPCCore.Status.Code(rawValue: Int(code)) ?? .unknown }

    public var grpcStatus: GRPCCore.Status { GRPCCore.Status(code: grpcCode, message: message) }

    /// The error a status other than OK stands for (nil for OK), violations as metadata.
    public var rpcError: RPCError? {
        guard let code = RPCError.Code(grpcCode) else { return nil }
        return RPCError(code: code, message: message, metadata: FieldViolation.metadata(violations))
    }
}

extension GRPCCore.Status.Code {
    /// The canonical upper-case name on the wire and in metric labels, e.g. `INVALID_ARGUMENT`.
    public var wireName: String {
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
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        default: "UNKNOWN"
        }
    }

    /// The code `wireName` names, e.g. the prefix of a sync report's error (ozmapctl sync
    /// --wait exits with it); nil for a name that is not one. Read through `wireName`, so
    /// there is one table.
    public init?(wireName: String) {
        // gRPC defines the codes 0 (OK) to 16 (UNAUTHENTICATED).
        guard let code = (0...16).lazy.compactMap(Self.init(rawValue:)).first(where: { $0.wireName == wireName }) else { return nil }
        self = code
    }
}

extension ResponseEnvelope {
    /// The status; OK when the envelope carries none.
    public var outcome: Status { status ?? .ok }

    /// A connection-level error, answered with call_id 0 before the connection closes.
    public static func connectionError(_ error: RPCError) -> ResponseEnvelope {
        ResponseEnvelope(callId: 0, status: Status(error))
    }
}
