public import GRPCCore
public import OZmapRPC
import ArcholtOZmapV1

// The descriptor-driven path's status and error beside GRPCCore's, until issue 12's last
// step removes the former: the same code numbers, and field violations as `field-violation`
// metadata ("field: description"). The one place they are converted, both ways.

extension OZmapRPC.FieldViolation {
    /// Every violation `metadata` carries.
    public static func all(in metadata: Metadata) -> [OZmapRPC.FieldViolation] {
        ArcholtOZmapV1.FieldViolation.all(in: metadata).map { OZmapRPC.FieldViolation(field: $0.field, description: $0.description) }
    }

    /// `violations` as metadata.
    public static func metadata(_ violations: [OZmapRPC.FieldViolation]) -> Metadata {
        ArcholtOZmapV1.FieldViolation.metadata(violations.map { ArcholtOZmapV1.FieldViolation(field: $0.field, description: $0.description) })
    }
}

extension OZmapRPC.Status {
    public init(_ status: GRPCCore.Status, _ metadata: Metadata) {
        self.init(code: StatusCode(wireValue: Int32(status.code.rawValue)), message: status.message,
                  violations: OZmapRPC.FieldViolation.all(in: metadata))
    }

    public var grpcStatus: GRPCCore.Status {
        GRPCCore.Status(code: GRPCCore.Status.Code(rawValue: Int(code)) ?? .unknown, message: message)
    }
}

extension OZmapRPC.RPCError {
    public init(_ error: GRPCCore.RPCError) {
        self.init(StatusCode(wireValue: Int32(error.code.rawValue)), error.message, violations: OZmapRPC.FieldViolation.all(in: error.metadata))
    }
}

extension GRPCCore.RPCError {
    public init(_ error: OZmapRPC.RPCError) {
        self.init(code: GRPCCore.Status.Code(rawValue: Int(error.code.rawValue)).flatMap(Code.init) ?? .unknown,
                  message: error.message, metadata: OZmapRPC.FieldViolation.metadata(error.violations))
    }
}
