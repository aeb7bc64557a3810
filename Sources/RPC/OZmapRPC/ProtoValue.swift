/// A protobuf message as plain Swift values: the form in which payloads cross
/// from the wire codec (protobuf-c, at the edge) to the typed handlers.
///
/// Field names are the proto names (`onu_id`); lookups also accept the Swift
/// spelling (`onuID`, `onuId`), since both normalise to the same key.
public indirect enum ProtoValue: Sendable, Hashable {
    case message(ProtoMessage)
    case list([ProtoValue])
    case string(String)
    case bytes([UInt8])
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    /// An enum value: its name in the .proto and its number.
    case enumValue(name: String, number: Int32)

    /// The kind of value, for error messages.
    public var kindName: String {
        switch self {
        case .message: "message"
        case .list: "list"
        case .string: "string"
        case .bytes: "bytes"
        case .bool: "bool"
        case .int, .uint: "integer"
        case .double: "number"
        case .enumValue: "enum"
        }
    }
}

/// A message's fields in declaration order.
public struct ProtoMessage: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        public let name: String
        public var value: ProtoValue
        /// `normalizedName(name)`, computed once: lookups compare it on every access.
        let key: String

        public init(name: String, value: ProtoValue) {
            self.name = name
            self.value = value
            self.key = ProtoMessage.normalizedName(name)
        }
    }

    public private(set) var fields: [Field]

    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// The key both spellings of a field name share: lower case, no underscores.
    public static func normalizedName(_ name: String) -> String {
        // Field names are ASCII: fold bytes rather than Unicode scalars (this is on every lookup).
        let bytes = name.utf8.compactMap { byte -> UInt8? in
            switch byte {
            case UInt8(ascii: "_"): nil
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
            default: byte
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public subscript(name: String) -> ProtoValue? {
        get {
            if let exact = fields.first(where: { $0.name == name }) { return exact.value }
            let key = Self.normalizedName(name)
            return fields.first(where: { $0.key == key })?.value
        }
        set {
            let key = Self.normalizedName(name)
            let index = fields.firstIndex(where: { $0.name == name || $0.key == key })
            switch (index, newValue) {
            case let (index?, value?): fields[index].value = value
            case let (index?, nil): fields.remove(at: index)
            case let (nil, value?): fields.append(Field(name: name, value: value))
            case (nil, nil): break
            }
        }
    }
}

extension ProtoMessage: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, ProtoValue)...) {
        self.init(elements.map { Field(name: $0.0, value: $0.1) })
    }
}
