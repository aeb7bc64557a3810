import CProtobufC

extension ProtobufCCodec {
    /// A message's own (not nested, not repeated) string fields, in declaration
    /// order: lets a test reach every text field of every request.
    public func stringFields(of messageType: String) throws -> [(name: String, number: UInt32)] {
        try ProtobufCSchema.shared.message(messageType).fields
            .filter { $0.type == PROTOBUF_C_TYPE_STRING && !$0.isRepeated }
            .map { ($0.name, $0.descriptor.pointee.id) }
    }
}
