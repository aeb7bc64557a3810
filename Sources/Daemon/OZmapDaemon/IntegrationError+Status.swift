import GRPCCore
import OZmapDomain
import ArcholtOZmapV1

/// The edge: what the integration says went wrong, as the status a caller reads.
/// A wrong input also names its field in `field-violation` metadata.
extension IntegrationError: RPCErrorConvertible {
    public var rpcErrorCode: GRPCCore.RPCError.Code {
        switch kind {
        case .invalidInput: .invalidArgument
        case .notFound, .ozmapNotFound: .notFound
        case .ctoRequired, .ctoFull, .conflict, .credentialsMissing, .ozmapRefused: .failedPrecondition
        case .notReady, .ozmapUnreachable: .unavailable
        case .ozmapRejectedKey: .unauthenticated
        case .ozmapForbidden: .permissionDenied
        case .internalFailure: .internalError
        }
    }

    public var rpcErrorMessage: String { message }

    public var rpcErrorMetadata: Metadata {
        guard case .invalidInput(let field, let problem) = kind else { return [:] }
        return FieldViolation.metadata([FieldViolation(field: field, description: problem)])
    }
}
