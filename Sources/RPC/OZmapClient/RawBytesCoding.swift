public import GRPCCore

/// Protobuf bytes as they are: the serializer and deserializer for a caller whose
/// messages are already bytes (ozmapctl's descriptor-driven `call`, tests of the wire).
public struct RawBytesCoding: MessageSerializer, MessageDeserializer {
    public init() {}

    public func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }

    public func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] { bytes.withUnsafeBytes { Array($0) } }
}
