/// Turns a message's bytes into a `ProtoValue` and back, by message type name: the
/// descriptor-driven path (`ozmapctl call` and `--json`, ListMethods' schema, the fuzzer).
/// The protobuf-c implementation lives at the edge, in OZmapWire. Typed messages use the
/// generated code (ArcholtOZmapV1) instead.
public protocol MessageCodec: Sendable {
    /// Throws GRPCCore's `RPCError` (INVALID_ARGUMENT, naming the field) when the bytes are not a valid message.
    func decode(_ bytes: [UInt8], as messageType: String) throws -> ProtoValue
    /// Throws GRPCCore's `RPCError` (INVALID_ARGUMENT, naming the field) when the value does not fit the message.
    func encode(_ value: ProtoValue, as messageType: String) throws -> [UInt8]
}
