import CProtobufC
import Foundation
public import GRPCCore

/// A message of the ozmapd wire contract, generated from proto/ (`make proto`):
/// a Swift value with every field of its proto message, and its protobuf bytes.
public protocol WireMessage: Sendable, Hashable {
    /// The proto message's full name, e.g. `archolt.ozmap.v1.GetStatusRequest`.
    static var protoName: String { get }
    /// Every field at its proto3 default.
    init()
    /// Decodes protobuf bytes (libprotobuf-c unpacks them).
    init(serializedBytes: [UInt8]) throws(WireMessageError)
    /// Encodes to protobuf bytes (libprotobuf-c packs them).
    func serializedBytes() throws(WireMessageError) -> [UInt8]
    /// Calls `body` with every text field, nested messages' included, and its proto path
    /// ("rows[2].serial_number", built only when asked for): for rules on all text alike.
    func forEachString(at path: String, _ body: (_ text: String, _ field: () -> String) throws -> Void) rethrows
}

/// One method of a generated service: its name and its message types.
public protocol WireMethod: Sendable {
    associatedtype Input: WireMessage
    associatedtype Output: WireMessage
    static var serviceName: String { get }
    static var name: String { get }
    static var descriptor: GRPCCore.MethodDescriptor { get }
}

extension WireMethod {
    /// The path a RequestEnvelope names: `/archolt.ozmap.v1.OZmapIntegration/GetStatus`.
    public static var path: String { "/\(serviceName)/\(name)" }
}

/// Bytes that are not the message they should be, or a value the wire cannot carry.
/// `field` is the proto path of the culprit ("rows[2].serial_number"); "payload" when
/// the bytes are no message at all.
public struct WireMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// Bytes that do not unpack at all: the envelope's `payload` is at fault, as the
    /// descriptor-driven codec has always said (docs/PROTOCOL.md's field violations).
    public static func notAMessage(_ type: String, byteCount: Int) -> Self {
        .init(field: "payload", reason: "not a valid \(type) message (\(byteCount) bytes)")
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

/// What the generated code maps to and from its protoc-c struct.
protocol ProtobufCMessageMapping: WireMessage {
    associatedtype CMessage
    static func initialize(_ message: UnsafeMutablePointer<CMessage>)
    init(unpacking message: UnsafePointer<CMessage>, path: String) throws(WireMessageError)
    func fill(_ message: inout CMessage, _ arena: ProtobufCArena, path: String) throws(WireMessageError)
}

/// Reading the fields of an unpacked protoc-c struct.
public enum ProtobufCFields {
    static func path(_ parent: String, _ field: String) -> String {
        parent.isEmpty ? field : "\(parent).\(field)"
    }

    static func string(_ text: UnsafePointer<CChar>?, at parent: String, _ field: String) throws(WireMessageError) -> String {
        guard let text else { return "" }
        guard let string = String(validatingCString: text) else {
            throw WireMessageError(field: path(parent, field), reason: "not valid UTF-8")
        }
        return string
    }

    static func strings(_ count: Int, _ array: UnsafePointer<UnsafeMutablePointer<CChar>?>?, at parent: String, _ field: String) throws(WireMessageError) -> [String] {
        guard count > 0, let array else { return [] }
        var strings: [String] = []
        strings.reserveCapacity(count)
        for index in 0..<count {
            strings.append(try string(array[index], at: parent, "\(field)[\(index)]"))
        }
        return strings
    }

    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let bytes = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: bytes, count: data.len))
    }

    static func bytesList(_ count: Int, _ array: UnsafePointer<ProtobufCBinaryData>?) -> [[UInt8]] {
        guard count > 0, let array else { return [] }
        return (0..<count).map { bytes(array[$0]) }
    }

    static func scalars<C, Value>(_ count: Int, _ array: UnsafePointer<C>?, _ convert: (C) -> Value) -> [Value] {
        guard count > 0, let array else { return [] }
        return (0..<count).map { convert(array[$0]) }
    }

    static func message<M: ProtobufCMessageMapping>(_ pointer: UnsafePointer<M.CMessage>?, at parent: String, _ field: String, as type: M.Type) throws(WireMessageError) -> M? {
        guard let pointer else { return nil }
        return try M(unpacking: pointer, path: path(parent, field))
    }

    static func messages<M: ProtobufCMessageMapping>(_ count: Int, _ array: UnsafePointer<UnsafeMutablePointer<M.CMessage>?>?, at parent: String, _ field: String, as type: M.Type) throws(WireMessageError) -> [M] {
        guard count > 0, let array else { return [] }
        var messages: [M] = []
        messages.reserveCapacity(count)
        for index in 0..<count {
            guard let element = array[index] else { continue }
            messages.append(try M(unpacking: element, path: path(parent, "\(field)[\(index)]")))
        }
        return messages
    }

    /// protobuf-c hands strings over NUL-terminated, so a string with a NUL inside
    /// would arrive silently cut short ("1001\0x" read as "1001"). The wire still
    /// has the whole string: refuse it there, naming the field. Runs only on bytes
    /// protobuf-c has accepted (so the structure is sound), and only when a 0 byte
    /// is in them at all (a double often has one).
    public static func rejectEmbeddedNUL(_ bytes: [UInt8], _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws(WireMessageError) {
        let field: String? = bytes.withUnsafeBufferPointer { wire in
            guard let base = wire.baseAddress, memchr(base, 0, wire.count) != nil else { return nil }
            return firstStringWithNUL(in: wire, wire.indices, descriptor)
        }
        if let field {
            throw WireMessageError(field: field, reason: "contains a NUL character")
        }
    }

    /// The path of the first string in `range` (nested messages' included) holding a 0
    /// byte, or nil. The path is built for that string alone, on the way out.
    private static func firstStringWithNUL(in wire: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> String? {
        var scanner = WireScanner(wire, range)
        while let (number, value) = scanner.nextLengthDelimited() {
            guard let field = protobuf_c_message_descriptor_get_field(descriptor, number) else { continue }
            let inner: String?
            switch field.pointee.type {
            case PROTOBUF_C_TYPE_STRING:
                guard !value.isEmpty, memchr(wire.baseAddress! + value.lowerBound, 0, value.count) != nil else { continue }
                inner = nil
            case PROTOBUF_C_TYPE_MESSAGE:
                let sub = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                guard let found = firstStringWithNUL(in: wire, value, sub) else { continue }
                inner = found
            default:
                continue
            }
            var name = String(cString: field.pointee.name)
            if field.pointee.label == PROTOBUF_C_LABEL_REPEATED {
                // Its index: the same field's occurrences before it.
                var earlier = WireScanner(wire, range.lowerBound..<value.lowerBound)
                var index = 0
                while let (other, _) = earlier.nextLengthDelimited() {
                    if other == number { index += 1 }
                }
                name += "[\(index)]"
            }
            return inner.map { path(name, $0) } ?? name
        }
        return nil
    }
}

/// Just enough of the wire format to find the length-delimited fields of bytes
/// protobuf-c has accepted.
private struct WireScanner {
    let wire: UnsafeBufferPointer<UInt8>
    var offset: Int
    let end: Int

    init(_ wire: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        self.wire = wire
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end, shift < 64 {
            let byte = wire[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    /// The next length-delimited field's number and bytes, past any other field; nil at
    /// the end, or at what proto3 does not have (groups).
    mutating func nextLengthDelimited() -> (number: UInt32, value: Range<Int>)? {
        while offset < end, let tag = varint() {
            switch tag & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: offset += 8
            case 5: offset += 4
            case 2:
                guard let length = varint(), length <= UInt64(end - offset) else { return nil }
                let value = offset..<offset + Int(length)
                offset = value.upperBound
                guard tag >> 3 <= UInt64(UInt32.max) else { continue }
                return (UInt32(tag >> 3), value)
            default: return nil
            }
        }
        return nil
    }
}

/// C memory for one message being packed; freed when the arena goes.
final class ProtobufCArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { blocks.forEach { free($0) } }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let block = calloc(max(count, 1), MemoryLayout<T>.stride)!
        blocks.append(block)
        return block.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// nil for "": protobuf-c skips a proto3 string that is NULL or empty.
    func string(_ text: String, at parent: String, _ field: String) throws(WireMessageError) -> UnsafeMutablePointer<CChar>? {
        if text.isEmpty { return nil }
        let utf8 = text.utf8
        if utf8.contains(0) {
            throw WireMessageError(field: ProtobufCFields.path(parent, field), reason: "contains a NUL character")
        }
        let copy = allocate(CChar.self, count: utf8.count + 1)
        _ = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(copy).assumingMemoryBound(to: UInt8.self), count: utf8.count).initialize(from: utf8)
        return copy
    }

    /// Never nil: a oneof member is packed only when its pointer is set, "" included.
    func presentString(_ text: String, at parent: String, _ field: String) throws(WireMessageError) -> UnsafeMutablePointer<CChar> {
        try string(text, at: parent, field) ?? allocate(CChar.self, count: 1)
    }

    func strings(_ texts: [String], at parent: String, _ field: String) throws(WireMessageError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !texts.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: texts.count)
        for (index, text) in texts.enumerated() {
            // A repeated string's elements are never NULL to protobuf-c.
            array[index] = try string(text, at: parent, "\(field)[\(index)]") ?? allocate(CChar.self, count: 1)
        }
        return (texts.count, array)
    }

    func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let copy = allocate(UInt8.self, count: bytes.count)
        copy.update(from: bytes, count: bytes.count)
        return ProtobufCBinaryData(len: bytes.count, data: copy)
    }

    /// Never a NULL `data`: a oneof member is packed only when it points somewhere, empty included.
    func presentBytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        bytes.isEmpty ? ProtobufCBinaryData(len: 0, data: allocate(UInt8.self, count: 1)) : self.bytes(bytes)
    }

    func bytesList(_ list: [[UInt8]]) -> (Int, UnsafeMutablePointer<ProtobufCBinaryData>?) {
        guard !list.isEmpty else { return (0, nil) }
        let array = allocate(ProtobufCBinaryData.self, count: list.count)
        for (index, element) in list.enumerated() { array[index] = bytes(element) }
        return (list.count, array)
    }

    func scalars<Value, C>(_ values: [Value], _ convert: (Value) -> C) -> (Int, UnsafeMutablePointer<C>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(C.self, count: values.count)
        for (index, value) in values.enumerated() { array[index] = convert(value) }
        return (values.count, array)
    }

    func message<M: ProtobufCMessageMapping>(_ value: M, at parent: String, _ field: String) throws(WireMessageError) -> UnsafeMutablePointer<M.CMessage> {
        let message = allocate(M.CMessage.self, count: 1)
        M.initialize(message)
        try value.fill(&message.pointee, self, path: ProtobufCFields.path(parent, field))
        return message
    }

    func messages<M: ProtobufCMessageMapping>(_ values: [M], at parent: String, _ field: String) throws(WireMessageError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            array[index] = try message(value, at: parent, "\(field)[\(index)]")
        }
        return (values.count, array)
    }
}
