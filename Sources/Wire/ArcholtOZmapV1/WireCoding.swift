public import GRPCCore

/// Which way a message travels, for whose fault a coding error is: a request the
/// caller built or sent is INVALID_ARGUMENT; a response ozmapd built or sent is INTERNAL.
public enum WireSide: Sendable {
    case request
    case response

    func error(_ error: WireMessageError, _ type: String) -> RPCError {
        switch self {
        case .request: RPCError(error)
        case .response: RPCError(code: .internalError, message: "the \(type) response: \(error)")
        }
    }
}

/// GRPCCore's serializer for a generated message: libprotobuf-c packs it.
public struct WireSerializer<Message: WireMessage>: GRPCCore.MessageSerializer {
    public let side: WireSide

    public init(_ side: WireSide) {
        self.side = side
    }

    public func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        do {
            return Bytes(try message.serializedBytes())
        } catch {
            throw side.error(error, Message.protoName)
        }
    }
}

/// GRPCCore's deserializer for a generated message: libprotobuf-c unpacks it.
public struct WireDeserializer<Message: WireMessage>: GRPCCore.MessageDeserializer {
    public let side: WireSide

    public init(_ side: WireSide) {
        self.side = side
    }

    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        do {
            return try serializedMessageBytes.withUnsafeBytes { buffer throws(WireMessageError) in
                try Message(serializedBytes: Array(buffer))
            }
        } catch let error as WireMessageError {
            throw side.error(error, Message.protoName)
        }
    }
}

/// A message the wire cannot carry is the caller's to fix: INVALID_ARGUMENT naming the
/// field, in the message and as `field-violation` metadata ("field: reason").
extension WireMessageError: RPCErrorConvertible {
    public var rpcErrorCode: RPCError.Code { .invalidArgument }
    public var rpcErrorMessage: String { description }
    public var rpcErrorMetadata: Metadata {
        field.isEmpty ? [:] : FieldViolation.metadata([FieldViolation(field: field, description: reason)])
    }
}
