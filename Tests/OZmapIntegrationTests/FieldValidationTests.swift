import Foundation
import OZmapClient
import OZmapRPC
import OZmapWire
import Testing

/// Every text field of every request, given hostile text: INVALID_ARGUMENT naming the field,
/// and nothing stored, sent to OZmap or echoed back in full.
@Suite(.timeLimit(.minutes(5))) struct FieldValidationTests {
    static let hostileValues: [(String, [UInt8])] = [
        ("1 MiB", Array(repeating: UInt8(ascii: "a"), count: 1 << 20)),
        ("non-UTF-8", [0x41, 0xC3, 0x28, 0xFF]),
        ("an escape sequence", Array("ok\u{1B}[31mred".utf8)),
        ("a newline", Array("line\nforged log line".utf8)),
        ("an embedded NUL", [0x61, 0x00, 0x62]),
        ("a bidi override", Array("abc\u{202E}fed".utf8)),
    ]

    @Test func hostileTextInAnyFieldIsRefusedByName() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, _) = try await rig.provisioningReady()
        rig.simulator.clearRequestLog()
        let codec = ProtobufCCodec.ozmap
        var checked = 0
        for method in codec.service.methods {
            for field in try codec.stringFields(of: method.requestType) {
                for (what, value) in Self.hostileValues {
                    let response = try await client.connection.call(path: method.path, payload: Self.stringField(field.number, value))
                    checked += 1
                    #expect(response.outcome.grpcCode == .invalidArgument, "\(method.name).\(field.name) with \(what): \(response.outcome.code)")
                    #expect(response.outcome.message.hasPrefix(field.name + ":"), "\(method.name).\(field.name) with \(what): \(response.outcome.message)")
                    #expect(response.outcome.message.utf8.count < 300, "the error does not echo the value back")
                }
            }
        }
        print("[figures] field validation: \(checked) hostile requests over \(codec.service.methods.count) methods, all INVALID_ARGUMENT")
        #expect(checked > 100)
        #expect(rig.simulator.requestLog().isEmpty, "nothing reached OZmap")
        let status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.operationsPending == 0 && status.operationsFailed == 0)
        #expect(try await client.rpc.listONUs(ListONUsRequest()).onus.isEmpty, "nothing was stored")
        await client.close()
        try await rig.tearDown()
    }

    @Test func requiredFieldsLeftEmptyAreNamed() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, _) = try await rig.provisioningReady()
        rig.simulator.clearRequestLog()
        let cases = invalidFieldCases
        let codec = ProtobufCCodec.ozmap
        for (name, json, field) in cases {
            let method = try #require(codec.service.methods.first { $0.name == name })
            let payload = try codec.encode(try ProtoJSON.parse(json), as: method.requestType)
            let response = try await client.connection.call(path: method.path, payload: payload)
            #expect(response.outcome.grpcCode == .invalidArgument && response.outcome.message.hasPrefix(field + ":"),
                    "\(name) \(json): \(response.outcome.code) \(response.outcome.message)")
        }
        #expect(rig.simulator.requestLog().isEmpty, "nothing reached OZmap")
        await client.close()
        try await rig.tearDown()
    }

    /// A message with one length-delimited field holding exactly these bytes.
    static func stringField(_ number: UInt32, _ value: [UInt8]) -> [UInt8] {
        varint(UInt64(number) << 3 | 2) + varint(UInt64(value.count)) + value
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        repeat {
            bytes.append(UInt8(value & 0x7F) | (value > 0x7F ? 0x80 : 0))
            value >>= 7
        } while value > 0
        return bytes
    }
}

/// Required fields left empty, and malformed ones, with the field each must be refused
/// naming: one table for the socket test above and the in-process one (InProcessHandlerTests).
let invalidFieldCases: [(method: String, json: String, field: String)] = [
    ("SetCredentials", #"{"api_url": "", "api_key": "k"}"#, "api_url"),
    ("SetCredentials", #"{"api_url": "http://127.0.0.1:1/api/v2", "api_key": ""}"#, "api_key"),
    ("LinkOLT", #"{"archolt_olt_id": "", "ozmap_olt_id": "x"}"#, "archolt_olt_id"),
    ("LinkOLT", #"{"archolt_olt_id": "olt-b", "ozmap_olt_id": ""}"#, "ozmap_olt_id"),
    ("UnlinkOLT", #"{"archolt_olt_id": ""}"#, "archolt_olt_id"),
    ("ProvisionONU", #"{"archolt_olt_id": "olt-a", "onu_id": "", "serial_number": "ZTEG00000001"}"#, "onu_id"),
    ("ProvisionONU", #"{"archolt_olt_id": "", "onu_id": "1", "serial_number": "ZTEG00000001"}"#, "archolt_olt_id"),
    ("AssignCTO", #"{"onu_id": "", "cto": "x"}"#, "onu_id"),
    ("AssignCTO", #"{"onu_id": "1", "cto": ""}"#, "cto"),
    ("DeprovisionONU", #"{"onu_id": ""}"#, "onu_id"),
    ("GetONU", #"{"onu_id": ""}"#, "onu_id"),
    ("GetBox", #"{}"#, "id"),
    ("RetryOperation", #"{"operation_id": ""}"#, "operation_id"),
    ("RetryOperation", #"{"operation_id": "-3"}"#, "operation_id"),
    ("ListONUs", #"{"page_token": "forged"}"#, "page_token"),
    ("ListONUs", #"{"page_size": 100000}"#, "page_size"),
]
