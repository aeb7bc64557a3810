import ArcholtOZmapV1
import CProtobufC
import Foundation
import OZmapRPC
import struct GRPCCore.RPCError // only it: GRPCCore's ServiceDescriptor and MethodDescriptor clash with OZmapRPC's

/// The protobuf-c implementation of `MessageCodec`: bytes are unpacked and
/// packed by libprotobuf-c, and the C structs are read and written through
/// the descriptors, so every message of the schema goes through one path.
public struct ProtobufCCodec: MessageCodec {
    private let schema: ProtobufCSchema

    /// The codec for the archolt.ozmap.v1 schema.
    public static let ozmap = ProtobufCCodec(schema: .shared)

    init(schema: ProtobufCSchema) {
        self.schema = schema
    }

    /// The OZmapIntegration service, as its protobuf-c descriptor declares it.
    public var service: ServiceDescriptor { schema.service }

    // MARK: decoding

    public func decode(_ bytes: [UInt8], as messageType: String) throws -> ProtoValue {
        let message = try schema.message(messageType)
        let unpacked = bytes.withUnsafeBufferPointer { buffer in
            protobuf_c_message_unpack(message.descriptor, nil, buffer.count, buffer.baseAddress)
        }
        guard let unpacked else {
            throw RPCError.invalidArgument(field: "payload", "not a valid \(messageType) message (\(bytes.count) bytes)")
        }
        defer { protobuf_c_message_free_unpacked(unpacked, nil) }
        do {
            try ProtobufCFields.rejectEmbeddedNUL(bytes, message.descriptor)
        } catch {
            throw RPCError.invalidArgument(field: error.field, error.reason)
        }
        return .message(try read(UnsafeRawPointer(unpacked), as: message, path: ""))
    }

    private func read(_ base: UnsafeRawPointer, as message: ProtobufCSchema.Message, path: String) throws -> ProtoMessage {
        var fields: [ProtoMessage.Field] = []
        fields.reserveCapacity(message.fields.count)
        for field in message.fields {
            let descriptor = field.descriptor.pointee
            let fieldPath = path.isEmpty ? field.name : "\(path).\(field.name)"
            let location = base + Int(descriptor.offset)
            if field.isRepeated {
                let count = base.load(fromByteOffset: Int(descriptor.quantifier_offset), as: Int.self)
                guard count > 0, let array = location.load(as: UnsafeRawPointer?.self) else {
                    fields.append(.init(name: field.name, value: .list([])))
                    continue
                }
                let stride = Self.elementSize(field.type)
                var items: [ProtoValue] = []
                items.reserveCapacity(count)
                for index in 0..<count {
                    if let item = try readScalar(array + index * stride, field, path: "\(fieldPath)[\(index)]") { items.append(item) }
                }
                fields.append(.init(name: field.name, value: .list(items)))
                continue
            }
            if descriptor.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0,
               base.load(fromByteOffset: Int(descriptor.quantifier_offset), as: UInt32.self) != descriptor.id {
                continue
            }
            if descriptor.label == PROTOBUF_C_LABEL_OPTIONAL, Self.hasPresenceFlag(field.type),
               base.load(fromByteOffset: Int(descriptor.quantifier_offset), as: Int32.self) == 0 {
                continue
            }
            // An unset sub-message reads as absent, so Swift optionals see nil.
            if let value = try readScalar(location, field, path: fieldPath) {
                fields.append(.init(name: field.name, value: value))
            }
        }
        return ProtoMessage(fields)
    }

    private func readScalar(_ location: UnsafeRawPointer, _ field: ProtobufCSchema.Field, path: String) throws -> ProtoValue? {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            return .int(Int64(location.load(as: Int32.self)))
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            return .int(location.load(as: Int64.self))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            return .uint(UInt64(location.load(as: UInt32.self)))
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            return .uint(location.load(as: UInt64.self))
        case PROTOBUF_C_TYPE_FLOAT:
            return .double(Double(location.load(as: Float.self)))
        case PROTOBUF_C_TYPE_DOUBLE:
            return .double(location.load(as: Double.self))
        case PROTOBUF_C_TYPE_BOOL:
            return .bool(location.load(as: Int32.self) != 0)
        case PROTOBUF_C_TYPE_ENUM:
            let number = location.load(as: Int32.self)
            let name = protobuf_c_enum_descriptor_get_value(field.enumDescriptor, number).map { String(cString: $0.pointee.name) }
            return .enumValue(name: name ?? "\(number)", number: number)
        case PROTOBUF_C_TYPE_STRING:
            guard let text = location.load(as: UnsafePointer<CChar>?.self) else { return .string("") }
            guard let string = String(validatingCString: text) else {
                throw RPCError.invalidArgument(field: path, "not valid UTF-8")
            }
            return .string(string)
        case PROTOBUF_C_TYPE_BYTES:
            let binary = location.load(as: ProtobufCBinaryData.self)
            guard binary.len > 0, let data = binary.data else { return .bytes([]) }
            return .bytes(Array(UnsafeBufferPointer(start: data, count: binary.len)))
        case PROTOBUF_C_TYPE_MESSAGE:
            guard let sub = location.load(as: UnsafeRawPointer?.self) else { return nil }
            return .message(try read(sub, as: schema.message(field.messageDescriptor), path: path))
        default:
            throw RPCError(code: .internalError, message: "\(path): unsupported protobuf-c field type \(field.type.rawValue)")
        }
    }

    private static func hasPresenceFlag(_ type: ProtobufCType) -> Bool {
        type != PROTOBUF_C_TYPE_MESSAGE && type != PROTOBUF_C_TYPE_STRING
    }

    private static func elementSize(_ type: ProtobufCType) -> Int {
        switch type {
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64,
             PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_DOUBLE:
            return 8
        case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_MESSAGE:
            return MemoryLayout<UnsafeRawPointer>.stride
        case PROTOBUF_C_TYPE_BYTES:
            return MemoryLayout<ProtobufCBinaryData>.stride
        default:
            return 4
        }
    }

    // MARK: encoding

    public func encode(_ value: ProtoValue, as messageType: String) throws -> [UInt8] {
        let message = try schema.message(messageType)
        guard case .message(let fields) = value else {
            throw RPCError.invalidArgument(field: "(message)", "expected a \(messageType) message, found \(value.kindName)")
        }
        let arena = Arena()
        defer { arena.freeAll() }
        let root = try build(fields, as: message, arena: arena, path: "")
        let size = protobuf_c_message_get_packed_size(root)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = protobuf_c_message_pack(root, buffer.baseAddress)
        }
    }

    /// Builds a protobuf-c message in memory the arena owns.
    private func build(_ value: ProtoMessage, as message: ProtobufCSchema.Message, arena: Arena, path: String) throws -> UnsafeMutablePointer<ProtobufCMessage> {
        let memory = arena.allocate(Int(message.descriptor.pointee.sizeof_message))
        let cMessage = memory.assumingMemoryBound(to: ProtobufCMessage.self)
        protobuf_c_message_init(message.descriptor, memory)
        for entry in value.fields {
            let fieldPath = path.isEmpty ? entry.name : "\(path).\(entry.name)"
            guard let field = message.field(named: entry.name) else {
                throw RPCError.invalidArgument(field: fieldPath, "\(message.name) has no field '\(entry.name)'")
            }
            let descriptor = field.descriptor.pointee
            let location = memory + Int(descriptor.offset)
            if field.isRepeated {
                guard case .list(let items) = entry.value else {
                    throw RPCError.invalidArgument(field: fieldPath, "expected a list, found \(entry.value.kindName)")
                }
                let stride = Self.elementSize(field.type)
                let array = arena.allocate(max(items.count, 1) * stride)
                for (index, item) in items.enumerated() {
                    try write(item, to: array + index * stride, field, arena: arena, path: "\(fieldPath)[\(index)]")
                }
                memory.storeBytes(of: items.count, toByteOffset: Int(descriptor.quantifier_offset), as: Int.self)
                location.storeBytes(of: items.isEmpty ? nil : UnsafeRawPointer(array), as: UnsafeRawPointer?.self)
                continue
            }
            try write(entry.value, to: location, field, arena: arena, path: fieldPath)
            if descriptor.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0 {
                memory.storeBytes(of: descriptor.id, toByteOffset: Int(descriptor.quantifier_offset), as: UInt32.self)
            } else if descriptor.label == PROTOBUF_C_LABEL_OPTIONAL, Self.hasPresenceFlag(field.type) {
                memory.storeBytes(of: Int32(1), toByteOffset: Int(descriptor.quantifier_offset), as: Int32.self)
            }
        }
        return cMessage
    }

    private func write(_ value: ProtoValue, to location: UnsafeMutableRawPointer, _ field: ProtobufCSchema.Field, arena: Arena, path: String) throws {
        func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
            let converted: T?
            switch value {
            case .int(let number): converted = T(exactly: number)
            case .uint(let number): converted = T(exactly: number)
            case .double(let number): converted = number.isFinite ? T(exactly: number) : nil
            case .string(let text): converted = T(text.trimmingCharacters(in: .whitespaces))
            case .enumValue(_, let number): converted = T(exactly: number)
            default: throw RPCError.invalidArgument(field: path, "expected an integer, found \(value.kindName)")
            }
            guard let converted else {
                throw RPCError.invalidArgument(field: path, "\(Self.describe(value)) is not a valid \(T.self)")
            }
            return converted
        }
        func number() throws -> Double {
            switch value {
            case .double(let number): return number
            case .int(let number): return Double(number)
            case .uint(let number): return Double(number)
            case .string(let text):
                if let number = Double(text) { return number }
                throw RPCError.invalidArgument(field: path, "\(Self.describe(value)) is not a number")
            default: throw RPCError.invalidArgument(field: path, "expected a number, found \(value.kindName)")
            }
        }

        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            location.storeBytes(of: try integer(Int32.self), as: Int32.self)
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            location.storeBytes(of: try integer(Int64.self), as: Int64.self)
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            location.storeBytes(of: try integer(UInt32.self), as: UInt32.self)
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            location.storeBytes(of: try integer(UInt64.self), as: UInt64.self)
        case PROTOBUF_C_TYPE_FLOAT:
            location.storeBytes(of: Float(try number()), as: Float.self)
        case PROTOBUF_C_TYPE_DOUBLE:
            location.storeBytes(of: try number(), as: Double.self)
        case PROTOBUF_C_TYPE_BOOL:
            let flag: Bool
            switch value {
            case .bool(let bool): flag = bool
            case .string("true"): flag = true
            case .string("false"): flag = false
            default: throw RPCError.invalidArgument(field: path, "expected true or false, found \(Self.describe(value))")
            }
            location.storeBytes(of: Int32(flag ? 1 : 0), as: Int32.self)
        case PROTOBUF_C_TYPE_ENUM:
            location.storeBytes(of: try enumNumber(value, field, path: path), as: Int32.self)
        case PROTOBUF_C_TYPE_STRING:
            guard case .string(let text) = value else {
                throw RPCError.invalidArgument(field: path, "expected a string, found \(value.kindName)")
            }
            if text.utf8.contains(0) {
                throw RPCError.invalidArgument(field: path, "contains a NUL character")
            }
            location.storeBytes(of: UnsafeRawPointer(arena.copy(Array(text.utf8) + [0])), as: UnsafeRawPointer?.self)
        case PROTOBUF_C_TYPE_BYTES:
            let bytes: [UInt8]
            switch value {
            case .bytes(let data): bytes = data
            case .string(let text):
                guard let data = Data(base64Encoded: text) else {
                    throw RPCError.invalidArgument(field: path, "expected base64-encoded bytes")
                }
                bytes = Array(data)
            default: throw RPCError.invalidArgument(field: path, "expected bytes, found \(value.kindName)")
            }
            let data = bytes.isEmpty ? nil : arena.copy(bytes).assumingMemoryBound(to: UInt8.self)
            location.storeBytes(of: ProtobufCBinaryData(len: bytes.count, data: data), as: ProtobufCBinaryData.self)
        case PROTOBUF_C_TYPE_MESSAGE:
            guard case .message(let fields) = value else {
                throw RPCError.invalidArgument(field: path, "expected a message, found \(value.kindName)")
            }
            let sub = try build(fields, as: schema.message(field.messageDescriptor), arena: arena, path: path)
            location.storeBytes(of: UnsafeRawPointer(sub), as: UnsafeRawPointer?.self)
        default:
            throw RPCError(code: .internalError, message: "\(path): unsupported protobuf-c field type \(field.type.rawValue)")
        }
    }

    /// An enum value given by name (`ONU_STATE_SYNCED`), by the part after the
    /// enum's prefix (`SYNCED`, any case), or by number.
    private func enumNumber(_ value: ProtoValue, _ field: ProtobufCSchema.Field, path: String) throws -> Int32 {
        let descriptor = field.enumDescriptor
        switch value {
        case .enumValue(_, let number): return number
        case .int, .uint, .double:
            if case .double(let number) = value, number.rounded() != number { break }
            let number: Int64? = switch value {
            case .int(let n): n
            case .uint(let n): Int64(exactly: n)
            case .double(let n): Int64(exactly: n)
            default: nil
            }
            if let number, let exact = Int32(exactly: number) { return exact }
        case .string(let name):
            if let found = protobuf_c_enum_descriptor_get_value_by_name(descriptor, name) { return found.pointee.value }
            let names = ProtobufCSchema.enumValueNames(descriptor)
            let matches = names.filter { $0.hasSuffix("_" + name.uppercased()) }
            if matches.count == 1, let found = protobuf_c_enum_descriptor_get_value_by_name(descriptor, matches[0]) {
                return found.pointee.value
            }
            throw RPCError.invalidArgument(field: path, "\(Self.describe(value)) is not one of \(names.joined(separator: ", "))")
        default: break
        }
        throw RPCError.invalidArgument(field: path, "\(Self.describe(value)) is not a valid \(String(cString: descriptor.pointee.name)) value")
    }

    private static func describe(_ value: ProtoValue) -> String {
        switch value {
        case .string(let text): "'\(text.prefix(64))'"
        case .int(let number): "\(number)"
        case .uint(let number): "\(number)"
        case .double(let number): "\(number)"
        case .bool(let flag): "\(flag)"
        case .enumValue(let name, _): name
        default: value.kindName
        }
    }
}

/// Memory for one message being packed, freed all at once afterwards.
private final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let block = calloc(1, max(size, 1))!
        blocks.append(block)
        return block
    }

    func copy(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
        let block = allocate(bytes.count)
        bytes.withUnsafeBytes { block.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return block
    }

    func freeAll() {
        blocks.forEach { free($0) }
        blocks.removeAll()
    }
}
