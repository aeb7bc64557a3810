import ArcholtOZmapV1
import GRPCCore
import OZmapRPC
import OZmapWire
import Testing

/// The protobuf-c codec: every field kind both ways, and bad input named by field.
@Suite(.timeLimit(.minutes(3))) struct CodecTests {
    let codec = ProtobufCCodec.ozmap

    @Test func everyFieldKindRoundTrips() throws {
        let box: ProtoValue = .message([
            "id": .string("5da62201493d9c00066655b8"),
            "name": .string("CTO-01 Ação"),
            "lat": .double(-27.5782),
            "lng": .double(-48.5274),
            "implanted": .bool(true),
            "ports_total": .uint(16),
            "splitters": .list([
                .message(["id": .string("a"), "is_drop": .bool(true), "ports_free": .uint(3)]),
                .message(["id": .string("b"), "ports_free": .uint(0)]),
            ]),
        ])
        let decoded = try codec.decode(try codec.encode(box, as: "archolt.ozmap.v1.Box"), as: "archolt.ozmap.v1.Box")
        guard case .message(let message) = decoded else { Issue.record("not a message"); return }
        #expect(message["name"] == .string("CTO-01 Ação"))
        #expect(message["lat"] == .double(-27.5782))
        #expect(message["implanted"] == .bool(true))
        #expect(message["ports_total"] == .uint(16))
        #expect(message["ports_free"] == .uint(0), "proto3 scalars read back as their default")
        guard case .list(let splitters)? = message["splitters"], case .message(let first) = splitters[0] else {
            Issue.record("splitters lost"); return
        }
        #expect(splitters.count == 2)
        #expect(first["is_drop"] == .bool(true))

        let report: ProtoValue = .message(["kind": .string("SYNC_KIND_FULL"), "duration_ms": .uint(UInt64.max), "boxes": .int(7)])
        let back = try codec.decode(try codec.encode(report, as: "archolt.ozmap.v1.SyncReport"), as: "archolt.ozmap.v1.SyncReport")
        guard case .message(let sync) = back else { Issue.record("not a message"); return }
        #expect(sync["kind"] == .enumValue(name: "SYNC_KIND_FULL", number: 1))
        #expect(sync["duration_ms"] == .uint(UInt64.max))
        #expect(sync["boxes"] == .uint(7))
    }

    @Test func generatedEnvelopesRoundTripThroughTheCodec() throws {
        let status = ArcholtOZmapV1.Status(code: 3, message: "onu_id: required",
                                           violations: [ArcholtOZmapV1.FieldViolation(field: "onu_id", description: "required")])
        let envelope = ArcholtOZmapV1.ResponseEnvelope(callId: 42, status: status, payload: [0, 1, 2, 255])
        let bytes = try envelope.serializedBytes()
        #expect(try codec.encode(codec.decode(bytes, as: ArcholtOZmapV1.ResponseEnvelope.protoName), as: ArcholtOZmapV1.ResponseEnvelope.protoName) == bytes)
        #expect(try ArcholtOZmapV1.ResponseEnvelope(serializedBytes: bytes) == envelope)

        let empty = ArcholtOZmapV1.ResponseEnvelope(callId: 1, status: ArcholtOZmapV1.Status.ok)
        let emptyBytes = try empty.serializedBytes()
        #expect(try codec.encode(codec.decode(emptyBytes, as: ArcholtOZmapV1.ResponseEnvelope.protoName), as: ArcholtOZmapV1.ResponseEnvelope.protoName) == emptyBytes)
        #expect(try ArcholtOZmapV1.ResponseEnvelope(serializedBytes: emptyBytes) == empty)
    }

    @Test func swiftAndProtoSpellingsOfAFieldAreOne() throws {
        let request: ProtoValue = .message(["archoltOltId": .string("olt-1"), "onuID": .string("77"), "require_cto": .bool(true)])
        let bytes = try codec.encode(request, as: "archolt.ozmap.v1.ProvisionONURequest")
        guard case .message(let message) = try codec.decode(bytes, as: "archolt.ozmap.v1.ProvisionONURequest") else {
            Issue.record("not a message"); return
        }
        #expect(message["archolt_olt_id"] == .string("olt-1"))
        #expect(message["onu_id"] == .string("77"))
        #expect(message["require_cto"] == .bool(true))
    }

    @Test func enumsByNameShortNameOrNumber() throws {
        for given in [ProtoValue.string("ONU_STATE_SYNCED"), .string("synced"), .int(3)] {
            let bytes = try codec.encode(.message(["state": given]), as: "archolt.ozmap.v1.ONU")
            guard case .message(let onu) = try codec.decode(bytes, as: "archolt.ozmap.v1.ONU") else { continue }
            #expect(onu["state"] == .enumValue(name: "ONU_STATE_SYNCED", number: 3))
        }
        #expect(throws: RPCError.self) { try codec.encode(.message(["state": .string("SHINY")]), as: "archolt.ozmap.v1.ONU") }
    }

    @Test func badValuesAreInvalidArgumentNamingTheField() throws {
        func violation(_ value: ProtoValue, _ type: String) -> FieldViolation? {
            do {
                _ = try codec.encode(value, as: type)
                return nil
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                return error.violations.first
            } catch {
                return nil
            }
        }
        #expect(violation(.message(["onu": .string("1")]), "archolt.ozmap.v1.ProvisionONURequest")?.field == "onu")
        #expect(violation(.message(["implanted": .string("yes")]), "archolt.ozmap.v1.ProvisionONURequest")?.field == "implanted")
        #expect(violation(.message(["page_size": .int(-1)]), "archolt.ozmap.v1.ListBoxesRequest")?.field == "page_size")
        #expect(violation(.message(["page_size": .uint(1 << 40)]), "archolt.ozmap.v1.ListBoxesRequest")?.field == "page_size")
        #expect(violation(.message(["onu_id": .string("a\u{0}b")]), "archolt.ozmap.v1.GetONURequest")?.field == "onu_id")
        #expect(violation(.message(["boxes": .list([.message(["name": .int(5)])])]), "archolt.ozmap.v1.ListBoxesResponse")?.field == "boxes[0].name")
    }

    @Test func invalidBytesAndInvalidUTF8AreRefused() throws {
        #expect {
            try codec.decode([0xff, 0xff, 0x07], as: ArcholtOZmapV1.RequestEnvelope.protoName)
        } throws: { error in
            (error as? RPCError)?.violations.first?.field == "payload"
        }
        // RequestEnvelope.method (field 2, length-delimited) holding 0xff 0xfe: not UTF-8.
        #expect {
            try codec.decode([0x12, 0x02, 0xff, 0xfe], as: ArcholtOZmapV1.RequestEnvelope.protoName)
        } throws: { error in
            (error as? RPCError)?.violations.first?.field == "method"
        }
    }

    /// protobuf-c would hand "1001\0x" over as "1001": the NUL is refused instead, naming the field (found by ozmap-fuzz).
    @Test func aNULInsideAStringIsRefusedNotTruncated() throws {
        #expect {
            try codec.decode([0x0a, 0x06] + Array("1001\0x".utf8), as: "archolt.ozmap.v1.GetONURequest")
        } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.violations.first?.field == "onu_id"
        }
        let boxes = try codec.encode(.message(["boxes": .list([.message(["name": .string("a")]), .message(["name": .string("bXc")])])]),
                                     as: "archolt.ozmap.v1.ListBoxesResponse")
        let nul = boxes.lastIndex(of: UInt8(ascii: "X"))!
        #expect {
            try codec.decode(boxes[..<nul] + [0] + boxes[(nul + 1)...], as: "archolt.ozmap.v1.ListBoxesResponse")
        } throws: { error in
            (error as? RPCError)?.violations.first?.field == "boxes[1].name"
        }
        // A NUL in bytes is data, and a string without one is untouched.
        let envelope = try codec.decode([0x12, 0x01, 0x61, 0x22, 0x02, 0x00, 0x00], as: ArcholtOZmapV1.RequestEnvelope.protoName)
        #expect(envelope == .message(["call_id": .uint(0), "method": .string("a"), "timeout_ms": .uint(0), "payload": .bytes([0, 0])]))
    }

    @Test func serviceComesFromTheProtobufCDescriptor() {
        let names = codec.service.methods.map(\.name)
        #expect(codec.service.name == "archolt.ozmap.v1.OZmapIntegration")
        #expect(names == ["GetStatus", "ListMethods", "SetCredentials", "GetCredentials", "ListOZmapOLTs", "LinkOLT", "UnlinkOLT",
                          "ListOLTLinks", "SyncBoxes", "ListBoxes", "GetBox", "ProvisionONU", "AssignCTO", "DeprovisionONU",
                          "GetONU", "ListONUs", "ListOperations", "RetryOperation", "ListAuditLog", "Reconcile", "ImportONUs", "GetMetrics", "RunDoctor"])
        let provision = codec.service.methods.first { $0.name == "ProvisionONU" }
        #expect(provision?.path == "/archolt.ozmap.v1.OZmapIntegration/ProvisionONU")
        #expect(provision?.requestType == "archolt.ozmap.v1.ProvisionONURequest")
    }
}
