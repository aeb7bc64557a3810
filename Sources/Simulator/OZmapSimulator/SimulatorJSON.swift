import Foundation

/// A JSON value. The simulator stores every OZmap object as a JSON object so that the
/// filter engine can reach any field by a dot path, exactly as the real API does.
public enum SimulatorJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([SimulatorJSON])
    case object([String: SimulatorJSON])
}

/// The field map of one stored object.
public typealias JSONObject = [String: SimulatorJSON]

extension SimulatorJSON {
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an Int when it is integral.
    public var int: Int? {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 9e15 else { return nil }
        return Int(value)
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [SimulatorJSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Object member access; nil when this is not an object or the key is absent.
    public subscript(key: String) -> SimulatorJSON? {
        object?[key]
    }

    /// Array element access; nil when this is not an array or the index is out of range.
    public subscript(index: Int) -> SimulatorJSON? {
        guard let elements = array, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// `nil` becomes JSON `null`.
    static func optionalString(_ value: String?) -> SimulatorJSON {
        value.map { .string($0) } ?? .null
    }

    public static func int(_ value: Int) -> SimulatorJSON {
        .number(Double(value))
    }
}

// MARK: - Parsing

extension SimulatorJSON {
    /// Parses JSON text; throws on malformed input.
    public static func parse(_ data: Data) throws -> SimulatorJSON {
        try JSONParser.parse(Array(data))
    }

    public static func parse(_ text: String) throws -> SimulatorJSON {
        try JSONParser.parse(Array(text.utf8))
    }

    public static func parse(bytes: [UInt8]) throws -> SimulatorJSON {
        try JSONParser.parse(bytes)
    }
}

// MARK: - Serialization

extension SimulatorJSON {
    /// Compact JSON with object keys sorted, so that output is deterministic.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    public var jsonText: String {
        String(decoding: serialized(), as: UTF8.self)
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            Self.writeNumber(value, into: &out)
        case .string(let value):
            Self.writeString(value, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                members[key, default: .null].write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeNumber(_ value: Double, into out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        // Integral values print without a fraction, as JavaScript does.
        if value.rounded() == value, abs(value) < 9e15 {
            out.append(contentsOf: String(Int64(value)).utf8)
        } else {
            out.append(contentsOf: "\(value)".utf8)
        }
    }

    private static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Literals

extension SimulatorJSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: SimulatorJSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, SimulatorJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
