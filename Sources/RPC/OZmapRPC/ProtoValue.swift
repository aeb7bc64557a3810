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
        public var name: String
        public var value: ProtoValue

        public init(name: String, value: ProtoValue) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// The key both spellings of a field name share: lower case, no underscores.
    public static func normalizedName(_ name: String) -> String {
        var key = ""
        key.reserveCapacity(name.utf8.count)
        for character in name.unicodeScalars where character != "_" {
            key.unicodeScalars.append(contentsOf: character.properties.lowercaseMapping.unicodeScalars)
        }
        return key
    }

    public subscript(name: String) -> ProtoValue? {
        get {
            if let exact = fields.first(where: { $0.name == name }) { return exact.value }
            let key = Self.normalizedName(name)
            return fields.first(where: { Self.normalizedName($0.name) == key })?.value
        }
        set {
            let key = Self.normalizedName(name)
            let index = fields.firstIndex(where: { $0.name == name || Self.normalizedName($0.name) == key })
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
