/// Turns a message's bytes into a `ProtoValue` and back, by message type name.
/// The dispatcher uses it without knowing how messages are encoded; the
/// protobuf-c implementation lives at the edge, in OZmapWire.
public protocol MessageCodec: Sendable {
    /// Throws an `RPCError` (INVALID_ARGUMENT, naming the field) when the bytes are not a valid message.
    func decode(_ bytes: [UInt8], as messageType: String) throws -> ProtoValue
    /// Throws an `RPCError` (INVALID_ARGUMENT, naming the field) when the value does not fit the message.
    func encode(_ value: ProtoValue, as messageType: String) throws -> [UInt8]
}

extension MessageCodec {
    /// Decodes bytes straight into a Swift type.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], as messageType: String) throws -> T {
        let value = try decode(bytes, as: messageType)
        do {
            return try ProtoValueDecoder().decode(type, from: value)
        } catch let error as DecodingError {
            throw RPCError(decodingError: error)
        }
    }

    /// Encodes a Swift value as the bytes of a message.
    public func encode<T: Encodable>(_ value: T, as messageType: String) throws -> [UInt8] {
        try encode(try ProtoValueEncoder().encode(value), as: messageType)
    }
}

extension RPCError {
    /// INVALID_ARGUMENT naming the field a Swift type could not decode.
    public init(decodingError: DecodingError) {
        let (path, detail): ([any CodingKey], String) = switch decodingError {
        case .typeMismatch(_, let context), .valueNotFound(_, let context),
             .keyNotFound(_, let context), .dataCorrupted(let context):
            (context.codingPath, context.debugDescription)
        @unknown default:
            ([], "\(decodingError)")
        }
        self = .invalidArgument(field: fieldPath(path), detail)
    }
}

/// `boxes[2].name` from a coding path.
func fieldPath(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue, key is IndexKey {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text.isEmpty ? "(message)" : text
}
