import GRPCCore
import OZmapRPC
import OZmapWire
import Testing

@Suite(.timeLimit(.minutes(3))) struct ProtoJSONTests {
    @Test func parseThenEncodeThenRender() throws {
        let codec = ProtobufCCodec.ozmap
        let parsed = try ProtoJSON.parse(#"{"onu_id": "42", "serialNumber": "zteg1", "implanted": true, "cto": null, "mac_address": "a\"b"}"#)
        let bytes = try codec.encode(parsed, as: "archolt.ozmap.v1.ProvisionONURequest")
        let text = ProtoJSON.render(try codec.decode(bytes, as: "archolt.ozmap.v1.ProvisionONURequest"), pretty: false)
        #expect(text == #"{"archolt_olt_id":"","onu_id":"42","serial_number":"zteg1","mac_address":"a\"b","pppoe_user":"","cto":"","implanted":true,"require_cto":false,"implantation":"IMPLANTATION_UNSPECIFIED"}"#)
    }

    @Test func numbersKeepTheirKind() throws {
        guard case .message(let message) = try ProtoJSON.parse(#"{"a": 1, "b": -2, "c": 2.5, "d": 18446744073709551615, "e": [1, "x"]}"#) else {
            Issue.record("not an object"); return
        }
        #expect(message["a"] == .int(1))
        #expect(message["b"] == .int(-2))
        #expect(message["c"] == .double(2.5))
        #expect(message["d"] == .uint(UInt64.max))
        #expect(message["e"] == .list([.int(1), .string("x")]))
    }

    @Test func invalidJSONIsInvalidArgument() {
        #expect {
            try ProtoJSON.parse("{")
        } throws: { error in
            (error as? RPCError)?.code == .invalidArgument
        }
    }

    @Test func rendersEnumsBytesAndControlCharacters() {
        let value: ProtoValue = .message(["state": .enumValue(name: "ONU_STATE_SYNCED", number: 3), "raw": .bytes([0, 255]), "note": .string("a\u{1}\n")])
        #expect(ProtoJSON.render(value, pretty: false) == #"{"state":"ONU_STATE_SYNCED","raw":"AP8=","note":"a\u0001\n"}"#)
    }
}
