import CProtobufC
import OZmapProtoC
import OZmapRPC
import struct GRPCCore.RPCError // only it: GRPCCore's ServiceDescriptor and MethodDescriptor clash with OZmapRPC's

/// What protobuf-c's descriptors say about every message reachable from the
/// OZmapIntegration service and the envelopes, indexed for the codec.
/// The descriptors are static C data: immutable for the life of the process.
final class ProtobufCSchema: @unchecked Sendable {
    typealias MessageDescriptor = UnsafePointer<ProtobufCMessageDescriptor>
    typealias FieldDescriptor = UnsafePointer<ProtobufCFieldDescriptor>

    struct Message {
        let descriptor: MessageDescriptor
        let name: String
        let fields: [Field]
        /// Field positions by normalised name (`onu_id`, `onuID` and `onuId` share one).
        let fieldIndexByKey: [String: Int]

        func field(named name: String) -> Field? {
            fieldIndexByKey[ProtoMessage.normalizedName(name)].map { fields[$0] }
        }
    }

    struct Field {
        let descriptor: FieldDescriptor
        let name: String
        var type: ProtobufCType { descriptor.pointee.type }
        var isRepeated: Bool { descriptor.pointee.label == PROTOBUF_C_LABEL_REPEATED }
        var messageDescriptor: MessageDescriptor {
            descriptor.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
        }
        var enumDescriptor: UnsafePointer<ProtobufCEnumDescriptor> {
            descriptor.pointee.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
        }
    }

    let service: ServiceDescriptor
    private let messagesByName: [String: Message]

    static let shared = ProtobufCSchema(
        service: ozmap_service_descriptor(),
        extraRoots: [ozmap_request_envelope_descriptor(), ozmap_response_envelope_descriptor()]
    )

    init(service serviceDescriptor: UnsafePointer<ProtobufCServiceDescriptor>, extraRoots: [MessageDescriptor]) {
        let serviceName = String(cString: serviceDescriptor.pointee.name)
        var roots = extraRoots
        var methods: [MethodDescriptor] = []
        for index in 0..<Int(serviceDescriptor.pointee.n_methods) {
            let method = serviceDescriptor.pointee.methods[index]
            roots.append(method.input)
            roots.append(method.output)
            methods.append(MethodDescriptor(
                service: serviceName,
                name: String(cString: method.name),
                requestType: String(cString: method.input.pointee.name),
                responseType: String(cString: method.output.pointee.name)
            ))
        }
        service = ServiceDescriptor(name: serviceName, methods: methods)

        var messages: [String: Message] = [:]
        var queue = roots
        while let descriptor = queue.popLast() {
            let name = String(cString: descriptor.pointee.name)
            if messages[name] != nil { continue }
            var fields: [Field] = []
            var indexByKey: [String: Int] = [:]
            for index in 0..<Int(descriptor.pointee.n_fields) {
                let field = Field(descriptor: descriptor.pointee.fields + index,
                                  name: String(cString: descriptor.pointee.fields[index].name))
                indexByKey[ProtoMessage.normalizedName(field.name)] = fields.count
                fields.append(field)
                if field.type == PROTOBUF_C_TYPE_MESSAGE { queue.append(field.messageDescriptor) }
            }
            messages[name] = Message(descriptor: descriptor, name: name, fields: fields, fieldIndexByKey: indexByKey)
        }
        messagesByName = messages
    }

    func message(_ name: String) throws -> Message {
        guard let message = messagesByName[name] else {
            throw RPCError(code: .internalError, message: "no message type \(name) in the ozmapd schema")
        }
        return message
    }

    func message(_ descriptor: MessageDescriptor) -> Message {
        messagesByName[String(cString: descriptor.pointee.name)]!
    }

    /// The names of an enum's values, in declaration order.
    static func enumValueNames(_ descriptor: UnsafePointer<ProtobufCEnumDescriptor>) -> [String] {
        (0..<Int(descriptor.pointee.n_values)).map { String(cString: descriptor.pointee.values[$0].name) }
    }
}
