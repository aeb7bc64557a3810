import Foundation
import GRPCCore

/// JSON for `ProtoValue`s, for people and scripts (ozmapctl): field names as
/// in the .proto, enums by name, bytes in base64, 64-bit integers as numbers.
public enum ProtoJSON {
    /// Renders a value; messages keep their declaration order.
    public static func render(_ value: ProtoValue, pretty: Bool = true) -> String {
        var output = ""
        write(value, into: &output, indent: pretty ? "" : nil)
        return output
    }

    /// Parses JSON into an untyped value: the wire codec fits it to the message
    /// type (numbers to integer fields, names to enums). `null` fields are dropped.
    public static func parse(_ text: String) throws -> ProtoValue {
        do {
            return try JSONDecoder().decode(Input.self, from: Data(text.utf8)).value ?? .message(ProtoMessage())
        } catch let error as DecodingError {
            let detail: String = switch error {
            case .dataCorrupted(let context): (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
            default: "\(error)"
            }
            throw RPCError(code: .invalidArgument, message: "not valid JSON: \(detail)")
        }
    }

    private struct Input: Decodable {
        let value: ProtoValue?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = nil
            } else if let flag = try? container.decode(Bool.self) {
                value = .bool(flag)
            } else if let number = try? container.decode(Int64.self) {
                value = .int(number)
            } else if let number = try? container.decode(UInt64.self) {
                value = .uint(number)
            } else if let number = try? container.decode(Double.self) {
                value = .double(number)
            } else if let text = try? container.decode(String.self) {
                value = .string(text)
            } else if let items = try? container.decode([Input].self) {
                value = .list(items.compactMap(\.value))
            } else {
                let object = try container.decode([String: Input].self)
                value = .message(ProtoMessage(object.keys.sorted().compactMap { key in
                    object[key]!.value.map { ProtoMessage.Field(name: key, value: $0) }
                }))
            }
        }
    }

    private static func write(_ value: ProtoValue, into output: inout String, indent: String?) {
        switch value {
        case .message(let message):
            writeContainer("{", "}", message.fields, into: &output, indent: indent) { field, output, inner in
                writeString(field.name, into: &output)
                output += indent == nil ? ":" : ": "
                write(field.value, into: &output, indent: inner)
            }
        case .list(let items):
            writeContainer("[", "]", items, into: &output, indent: indent) { item, output, inner in
                write(item, into: &output, indent: inner)
            }
        case .string(let text): writeString(text, into: &output)
        case .bytes(let bytes): writeString(Data(bytes).base64EncodedString(), into: &output)
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += "\(number)"
        case .uint(let number): output += "\(number)"
        case .double(let number):
            if number.isNaN { output += "\"NaN\"" }
            else if number.isInfinite { output += number > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
            else if number == number.rounded(), abs(number) < 1e15 { output += "\(Int64(number))" }
            else { output += "\(number)" }
        case .enumValue(let name, _): writeString(name, into: &output)
        }
    }

    private static func writeContainer<Element>(
        _ open: String, _ close: String, _ elements: [Element], into output: inout String, indent: String?,
        _ body: (Element, inout String, String?) -> Void
    ) {
        guard !elements.isEmpty else { output += open + close; return }
        let inner = indent.map { $0 + "  " }
        output += open
        for (index, element) in elements.enumerated() {
            if index > 0 { output += "," }
            if let inner { output += "\n" + inner }
            body(element, &output, inner)
        }
        if let indent { output += "\n" + indent }
        output += close
    }

    private static func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            // Every control character, and the two line separators JavaScript reads as newlines:
            // a log line (JSONLogHandler) stays one line whatever a message holds.
            case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                output += String(format: "\\u%04x", scalar.value)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
