import CProtobufC
import Foundation

/// What the generated code maps to and from its protoc-c struct: libprotobuf-c packs and
/// unpacks, the generated code moves the fields, `ProtobufCArena` holds the C memory.
///
/// Errors name the innermost field when thrown ("serial_number") and each enclosing
/// message adds its field on the way out ("rows[1].serial_number"): no path is built
/// unless something fails.
protocol ProtobufCMessageMapping: WireMessage {
    associatedtype CMessage
    /// protoc-c's `__init`: every field at its default.
    static func initialize(_ message: UnsafeMutablePointer<CMessage>)
    /// protoc-c's `__unpack`; nil when the bytes are not this message.
    static func unpack(_ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CMessage>?
    /// protoc-c's `__get_packed_size`.
    static func packedSize(_ message: UnsafePointer<CMessage>) -> Int
    /// protoc-c's `__pack`: writes `packedSize` bytes, returns how many.
    static func pack(_ message: UnsafePointer<CMessage>, into buffer: UnsafeMutablePointer<UInt8>?) -> Int
    init(unpacking message: UnsafePointer<CMessage>) throws(WireMessageError)
    func fill(_ message: inout CMessage, _ arena: inout ProtobufCArena) throws(WireMessageError)
}

extension ProtobufCMessageMapping {
    /// What `init(serializedBytes:)` does: unpack into an arena, refuse a NUL inside a
    /// string, read the fields; the arena's memory goes on return.
    static func unpacked(from bytes: [UInt8]) throws(WireMessageError) -> Self {
        var arena = ProtobufCArena()
        guard let message = arena.unpack(bytes, unpack) else {
            throw .notAMessage(protoName, byteCount: bytes.count)
        }
        // Every protoc-c struct begins with its ProtobufCMessage.
        let descriptor = UnsafeRawPointer(message).load(as: ProtobufCMessage.self).descriptor!
        try ProtobufCFields.rejectEmbeddedNUL(bytes, descriptor)
        // The unpacked struct is in the arena's memory: keep it alive while reading it.
        return try withExtendedLifetime(arena) { () throws(WireMessageError) -> Self in
            try Self(unpacking: message)
        }
    }

    /// What `serializedBytes()` does: fill the struct in an arena, pack it into an array
    /// of exactly its packed size.
    func packed() throws(WireMessageError) -> [UInt8] {
        var arena = ProtobufCArena()
        let message = try arena.filled(self)
        // The struct is in the arena's memory: keep it alive while packing.
        return withExtendedLifetime(arena) {
            [UInt8](unsafeUninitializedCapacity: Self.packedSize(message)) { buffer, count in
                count = Self.pack(message, into: buffer.baseAddress)
            }
        }
    }
}

extension WireMessageError {
    /// This error as the message holding `field` reports it: "serial_number" inside
    /// "rows[1]" is "rows[1].serial_number".
    func inside(_ field: String) -> WireMessageError {
        WireMessageError(field: ProtobufCFields.path(field, self.field), reason: reason)
    }
}

/// Reading the fields of an unpacked protoc-c struct.
public enum ProtobufCFields {
    static func path(_ parent: String, _ field: String) -> String {
        parent.isEmpty ? field : field.isEmpty ? parent : "\(parent).\(field)"
    }

    static func string(_ text: UnsafePointer<CChar>?, _ field: StaticString) throws(WireMessageError) -> String {
        guard let text else { return "" }
        guard let string = String(validatingCString: text) else {
            throw WireMessageError(field: "\(field)", reason: "not valid UTF-8")
        }
        return string
    }

    static func strings(_ count: Int, _ array: UnsafePointer<UnsafeMutablePointer<CChar>?>?, _ field: StaticString) throws(WireMessageError) -> [String] {
        guard count > 0, let array else { return [] }
        var strings: [String] = []
        strings.reserveCapacity(count)
        for index in 0..<count {
            do {
                strings.append(try string(array[index], field))
            } catch {
                throw WireMessageError(field: "\(field)[\(index)]", reason: error.reason)
            }
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

    static func message<M: ProtobufCMessageMapping>(_ pointer: UnsafePointer<M.CMessage>?, _ field: StaticString, as type: M.Type) throws(WireMessageError) -> M? {
        guard let pointer else { return nil }
        do {
            return try M(unpacking: pointer)
        } catch {
            throw error.inside("\(field)")
        }
    }

    static func messages<M: ProtobufCMessageMapping>(_ count: Int, _ array: UnsafePointer<UnsafeMutablePointer<M.CMessage>?>?, _ field: StaticString, as type: M.Type) throws(WireMessageError) -> [M] {
        guard count > 0, let array else { return [] }
        var messages: [M] = []
        messages.reserveCapacity(count)
        for index in 0..<count {
            guard let element = array[index] else { continue }
            do {
                messages.append(try M(unpacking: element))
            } catch {
                throw error.inside("\(field)[\(index)]")
            }
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
