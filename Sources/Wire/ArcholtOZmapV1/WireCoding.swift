public import GRPCCore

/// GRPCCore's serializer for a generated message: libprotobuf-c packs it.
public struct WireSerializer<Message: WireMessage>: GRPCCore.MessageSerializer {
    public init() {}

    public func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        Bytes(try message.serializedBytes())
    }
}

/// GRPCCore's deserializer for a generated message: libprotobuf-c unpacks it.
public struct WireDeserializer<Message: WireMessage>: GRPCCore.MessageDeserializer {
    public init() {}

    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        try serializedMessageBytes.withUnsafeBytes { buffer throws(WireMessageError) in
            try Message(serializedBytes: Array(buffer))
        }
    }
}

/// A message the wire cannot carry is the caller's to fix: INVALID_ARGUMENT, naming the field.
extension WireMessageError: RPCErrorConvertible {
    public var rpcErrorCode: RPCError.Code { .invalidArgument }
    public var rpcErrorMessage: String { description }
}
