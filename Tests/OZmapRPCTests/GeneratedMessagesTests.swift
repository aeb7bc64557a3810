import ArcholtOZmapV1
import CProtobufC
import OZmapProtoC
import OZmapRPC
import OZmapWire
import Testing

/// The Swift messages generated from proto/ (tools/codegen): every field of every
/// message reaches its own wire field, both ways, and agrees with the descriptor-driven
/// codec; bad bytes and values the wire cannot carry are refused naming the field.
@Suite(.timeLimit(.minutes(3))) struct GeneratedMessagesTests {
    static let samples: [any WireMessage] = serviceSamples + wireSamples

    @Test func everyMessageOfTheProtoHasASample() {
        let generated = Set(Self.samples.map { type(of: $0).protoName })
        #expect(generated.count == Self.samples.count)
        for name in Descriptors.all.keys {
            #expect(generated.contains(name), "\(name) has no generated Swift type")
        }
    }

    @Test(arguments: samples.map(Sample.init))
    func roundTripsThroughItsOwnBytes(_ sample: Sample) throws {
        #expect(try sample.roundTrip())
    }

    /// The samples set each field to a value that names it ("serial_number:3·é", the
    /// field number for numbers, the last enum value): read by the descriptor-driven
    /// codec, every field must be present with its own value — a field mapped to
    /// another's C member, or dropped, fails here.
    @Test(arguments: samples.map(Sample.init))
    func everyFieldReachesItsOwnWireField(_ sample: Sample) throws {
        let name = sample.protoName
        let bytes = try sample.bytes()
        let decoded = try ProtobufCCodec.ozmap.decode(bytes, as: name)
        let descriptor = try #require(Descriptors.all[name])
        Self.check(decoded, against: descriptor, path: name)
        // And the other way: what that codec writes, the generated type reads back whole.
        let rewritten = try ProtobufCCodec.ozmap.encode(decoded, as: name)
        #expect(try sample.decodes(rewritten))
        // Both fill libprotobuf-c's structs their own way: the bytes must still be the same.
        #expect(rewritten == bytes)
    }

    /// Every bool sample is true and enum fields share values, so a swap of two such
    /// fields would pass the test above: with only one field set, it alone is on the wire.
    @Test func eachBoolAndEnumFieldIsItsOwn() throws {
        let samples = serviceOneFieldSamples + wireOneFieldSamples
        let boolAndEnumFields = Descriptors.all.values.map { descriptor in
            (0..<Int(descriptor.pointee.n_fields)).filter {
                [PROTOBUF_C_TYPE_BOOL, PROTOBUF_C_TYPE_ENUM].contains(descriptor.pointee.fields[$0].type)
                    && descriptor.pointee.fields[$0].label != PROTOBUF_C_LABEL_REPEATED
            }.count
        }.reduce(0, +)
        #expect(samples.count == boolAndEnumFields)
        for (field, message) in samples {
            let sample = Sample(message)
            guard case .message(let decoded) = try ProtobufCCodec.ozmap.decode(sample.bytes(), as: sample.protoName) else {
                Issue.record("\(sample.protoName): not a message"); continue
            }
            for entry in decoded.fields {
                let isSet: Bool? = switch entry.value {
                case .bool(let flag): flag
                case .enumValue(_, let number): number != 0
                default: nil
                }
                guard let isSet else { continue }
                #expect(isSet == (entry.name == field), "\(sample.protoName) with only \(field) set: \(entry.name) is \(entry.value)")
            }
            #expect(decoded.fields.contains { $0.name == field }, "\(sample.protoName).\(field) missing")
            #expect(try sample.roundTrip())
        }
    }

    @Test func anUnsetOptionalIsNotFalse() throws {
        let unset = try ReconcileRequest(serializedBytes: ReconcileRequest().serializedBytes())
        let off = try ReconcileRequest(serializedBytes: ReconcileRequest(dryRun: false).serializedBytes())
        #expect(unset.dryRun == nil)
        #expect(off.dryRun == false)
    }

    @Test func anEnumNumberThisBuildDoesNotKnowIsKept() throws {
        var onu = ONU(onuId: "1001")
        onu.state = .init(rawValue: 42)
        #expect(onu.state == .unrecognized(42))
        let decoded = try ONU(serializedBytes: onu.serializedBytes())
        #expect(decoded.state == .unrecognized(42))
        #expect(decoded.state.protoName == "42")
        #expect(ONUState(rawValue: 3) == .synced && ONUState.synced.protoName == "ONU_STATE_SYNCED")
    }

    @Test func bytesThatAreNoMessageAreRefused() {
        #expect(throws: WireMessageError.notAMessage("archolt.ozmap.v1.ProvisionONURequest", byteCount: 2)) {
            try ProvisionONURequest(serializedBytes: [0x0a, 0x05])
        }
    }

    @Test func aNULInsideAStringIsRefusedBothWaysNamingTheField() throws {
        let request = ImportONUsRequest(rows: [ImportRow(onuId: "1"), ImportRow(onuId: "2", serialNumber: "ZTEG\u{0}0001")])
        #expect(throws: WireMessageError(field: "rows[1].serial_number", reason: "contains a NUL character")) {
            try request.serializedBytes()
        }
        // On the wire (written by hand): rows[1] { serial_number = "A\0B" }.
        let row: [UInt8] = [0x1a, 0x03, 0x41, 0x00, 0x42]   // field 3 (serial_number), 3 bytes
        let bytes: [UInt8] = [0x12, 0x00] + [0x12, UInt8(row.count)] + row
        #expect(throws: WireMessageError(field: "rows[1].serial_number", reason: "contains a NUL character")) {
            try ImportONUsRequest(serializedBytes: bytes)
        }
    }

    /// Errors name their field through nested and repeated messages and repeated strings,
    /// both ways (the generated code builds the path only on the way out of a failure).
    @Test func errorsNameNestedAndRepeatedFields() throws {
        let response = ReconcileResponse(rows: [DriftRow(onuId: "1"), DriftRow(onuId: "2", fields: ["a", "b", "c\u{0}d"])])
        #expect(throws: WireMessageError(field: "rows[1].fields[2]", reason: "contains a NUL character")) {
            try response.serializedBytes()
        }
        let page = ListBoxesResponse(boxes: [Box(id: "1"), Box(id: "2", splitters: [Splitter(id: "s"), Splitter(name: "a\u{0}")])])
        #expect(throws: WireMessageError(field: "boxes[1].splitters[1].name", reason: "contains a NUL character")) {
            try page.serializedBytes()
        }
        var status = GetStatusResponse(version: "1")
        status.lastSync = SyncReport(startedAt: "\u{0}")
        #expect(throws: WireMessageError(field: "last_sync.started_at", reason: "contains a NUL character")) {
            try status.serializedBytes()
        }

        // On the wire: a valid message with one byte of one string (X) replaced.
        func replacingX<M: WireMessage>(_ message: M, with byte: UInt8) throws -> [UInt8] {
            var bytes = try message.serializedBytes()
            let index = try #require(bytes.firstIndex(of: UInt8(ascii: "X")))
            #expect(bytes.lastIndex(of: UInt8(ascii: "X")) == index)
            bytes[index] = byte
            return bytes
        }
        let reconcile = ReconcileResponse(rows: [DriftRow(onuId: "1"), DriftRow(onuId: "2", fields: ["a", "b", "cXd"])])
        #expect(throws: WireMessageError(field: "rows[1].fields[2]", reason: "contains a NUL character")) {
            try ReconcileResponse(serializedBytes: replacingX(reconcile, with: 0))
        }
        #expect(throws: WireMessageError(field: "rows[1].fields[2]", reason: "not valid UTF-8")) {
            try ReconcileResponse(serializedBytes: replacingX(reconcile, with: 0xff))
        }
        let boxes = ListBoxesResponse(boxes: [Box(id: "1", lat: 1), Box(id: "2", splitters: [Splitter(id: "s"), Splitter(name: "aX")])])
        #expect(throws: WireMessageError(field: "boxes[1].splitters[1].name", reason: "contains a NUL character")) {
            try ListBoxesResponse(serializedBytes: replacingX(boxes, with: 0))
        }
        #expect(throws: WireMessageError(field: "boxes[1].splitters[1].name", reason: "not valid UTF-8")) {
            try ListBoxesResponse(serializedBytes: replacingX(boxes, with: 0xff))
        }
        status.lastSync = SyncReport(startedAt: "X")
        #expect(throws: WireMessageError(field: "last_sync.started_at", reason: "not valid UTF-8")) {
            try GetStatusResponse(serializedBytes: replacingX(status, with: 0xff))
        }
    }

    /// A message whose C memory spans many of the coding arena's chunks, with strings
    /// larger than a chunk: read back whole, and the same bytes as the descriptor-driven
    /// codec writes.
    @Test func aLargeMessageCodesWhole() throws {
        let page = ListBoxesResponse(boxes: (0..<2_000).map { index in
            Box(id: "box-\(index)", name: String(repeating: "n", count: index % 50), lat: Double(index),
                splitters: (0..<index % 4).map { Splitter(id: "s\($0)", name: String(repeating: "é", count: index % 7)) })
        } + [Box(id: String(repeating: "i", count: 70_000))], nextPageToken: String(repeating: "t", count: 100_000), total: 2_001)
        let bytes = try page.serializedBytes()
        #expect(try ListBoxesResponse(serializedBytes: bytes) == page)
        let tree = try ProtobufCCodec.ozmap.decode(bytes, as: ListBoxesResponse.protoName)
        #expect(try ProtobufCCodec.ozmap.encode(tree, as: ListBoxesResponse.protoName) == bytes)
        #expect(try ListMethodsRequest().serializedBytes() == [])
        #expect(try ListMethodsRequest(serializedBytes: []) == ListMethodsRequest())
    }

    @Test func invalidUTF8IsRefusedNamingTheField() {
        let bytes: [UInt8] = [0x12, 0x02, 0xc3, 0x28]   // onu_id (field 2) = C3 28
        #expect(throws: WireMessageError(field: "onu_id", reason: "not valid UTF-8")) {
            try ProvisionONURequest(serializedBytes: bytes)
        }
    }

    /// The generated method table and the protoc-c service descriptor name the same
    /// methods with the same messages, in the same order.
    @Test func theMethodTableIsTheServiceDescriptors() {
        let service = ozmap_service_descriptor()!.pointee
        let described = (0..<Int(service.n_methods)).map { index in
            let method = service.methods[index]
            return "/\(String(cString: service.name))/\(String(cString: method.name)) \(String(cString: method.input.pointee.name)) \(String(cString: method.output.pointee.name))"
        }
        let generated = OZmapIntegration.Method.all.map { method in
            "\(method.path) \(method.inputName) \(method.outputName)"
        }
        #expect(generated == described)
    }

    // MARK: checking a decoded tree against the samples' rule

    static func check(_ value: ProtoValue, against descriptor: UnsafePointer<ProtobufCMessageDescriptor>, path: String) {
        guard case .message(let message) = value else {
            Issue.record("\(path): not a message"); return
        }
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields[index]
            let name = String(cString: field.name)
            let fieldPath = "\(path).\(name)"
            guard let found = message.fields.first(where: { $0.name == name })?.value else {
                Issue.record("\(fieldPath): missing on the wire"); continue
            }
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                guard case .list(let items) = found, items.count == 2 else {
                    Issue.record("\(fieldPath): expected two elements, found \(found)"); continue
                }
                items.forEach { checkOne($0, field, path: fieldPath) }
            } else {
                checkOne(found, field, path: fieldPath)
            }
        }
    }

    static func checkOne(_ value: ProtoValue, _ field: ProtobufCFieldDescriptor, path: String) {
        let id = field.id
        let expected: ProtoValue
        switch field.type {
        case PROTOBUF_C_TYPE_STRING: expected = .string("\(String(cString: field.name)):\(id)·é")
        case PROTOBUF_C_TYPE_BYTES: expected = .bytes([UInt8(id), 0, 255])
        case PROTOBUF_C_TYPE_BOOL: expected = .bool(true)
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32,
             PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64: expected = .int(Int64(id))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64: expected = .uint(UInt64(id))
        case PROTOBUF_C_TYPE_FLOAT, PROTOBUF_C_TYPE_DOUBLE: expected = .double(Double(id))
        case PROTOBUF_C_TYPE_ENUM:
            let values = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self).pointee
            let last = values.values[Int(values.n_values) - 1]
            expected = .enumValue(name: String(cString: last.name), number: last.value)
        case PROTOBUF_C_TYPE_MESSAGE:
            check(value, against: field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), path: path)
            return
        default:
            Issue.record("\(path): a field type the samples do not cover"); return
        }
        #expect(value == expected, "\(path)")
    }
}

/// A generated message type opened from its existential, for the parameterised tests.
struct Sample: Sendable, CustomStringConvertible {
    let message: any WireMessage
    init(_ message: any WireMessage) { self.message = message }

    var protoName: String { type(of: message).protoName }
    var description: String { protoName }

    func bytes() throws -> [UInt8] { try message.serializedBytes() }

    func roundTrip() throws -> Bool {
        func open<M: WireMessage>(_ value: M) throws -> Bool {
            try M(serializedBytes: value.serializedBytes()) == value
        }
        return try open(message)
    }

    func decodes(_ bytes: [UInt8]) throws -> Bool {
        func open<M: WireMessage>(_ value: M) throws -> Bool { try M(serializedBytes: bytes) == value }
        return try open(message)
    }
}

extension WireMethod {
    static var inputName: String { Input.protoName }
    static var outputName: String { Output.protoName }
}

/// Every message descriptor protoc-c generated, by full name: the service's inputs
/// and outputs, the envelopes, and every message they reach.
enum Descriptors {
    // Static C data, immutable for the life of the process.
    nonisolated(unsafe) static let all: [String: UnsafePointer<ProtobufCMessageDescriptor>] = {
        let service = ozmap_service_descriptor()!.pointee
        var queue = [ozmap_request_envelope_descriptor()!, ozmap_response_envelope_descriptor()!]
        for index in 0..<Int(service.n_methods) {
            queue += [service.methods[index].input, service.methods[index].output]
        }
        var found: [String: UnsafePointer<ProtobufCMessageDescriptor>] = [:]
        while let descriptor = queue.popLast() {
            let name = String(cString: descriptor.pointee.name)
            guard found[name] == nil else { continue }
            found[name] = descriptor
            for index in 0..<Int(descriptor.pointee.n_fields) where descriptor.pointee.fields[index].type == PROTOBUF_C_TYPE_MESSAGE {
                queue.append(descriptor.pointee.fields[index].descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
            }
        }
        return found
    }()
}
