import Foundation
import OZmapClient
import OZmapRPC
import OZmapWire
import OZmapTestSupport
import Testing

/// The wire protocol over a real socket: framing, bad input, and what a bad connection may not disturb.
@Suite(.timeLimit(.minutes(3))) struct ProtocolTests {
    @Test func typedCallRoundTrip() async throws {
        let server = try await TestServer()
        let client = try await server.connect()
        let status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.version == "test")
        #expect(status.connectionsOpen == 1)
        #expect(status.callsInFlight == 1) // this call
        await client.close()
        try await server.stop()
    }

    @Test func framesSplitByteByByteAreReassembled() async throws {
        // One write per byte can be slow on a loaded machine: the frame timeout is not under test here.
        let server = try await TestServer(configure: { $0.incompleteFrameTimeout = .seconds(600) })
        let connection = try await server.rawConnection()
        let bytes = frame(try encodeRequest(RequestEnvelope(callId: 7, method: getStatusPath)))
        for byte in bytes {
            try await connection.send([byte])
        }
        let response = try await connection.next()
        #expect(response.callId == 7)
        #expect(response.outcome.grpcCode == .ok)
        await connection.close()
        try await server.stop()
    }

    @Test func manyFramesInOneWriteAreEachAnswered() async throws {
        let server = try await TestServer()
        let connection = try await server.rawConnection()
        try await connection.send((1...50).map { RequestEnvelope(callId: UInt64($0), method: getStatusPath) })
        var seen: [UInt64] = []
        for _ in 1...50 { seen.append(try await connection.next().callId) }
        #expect(Set(seen) == Set(1...50))
        await connection.close()
        try await server.stop()
    }

    @Test func zeroLengthFrameIsAnEmptyEnvelopeAndTheConnectionLives() async throws {
        let server = try await TestServer()
        let connection = try await server.rawConnection()
        try await connection.send([0, 0, 0, 0])
        let response = try await connection.next()
        #expect(response.callId == 0)
        #expect(response.outcome.grpcCode == .unimplemented)
        // An empty payload is a valid (empty) GetStatusRequest.
        try await connection.send([RequestEnvelope(callId: 2, method: getStatusPath, payload: [])])
        let second = try await connection.next()
        #expect(second.callId == 2 && second.outcome.grpcCode == .ok)
        await connection.close()
        try await server.stop()
    }

    @Test func frameOfExactlyTheMaximumIsServed() async throws {
        let maximum = 1024
        let server = try await TestServer(configure: { $0.maximumFrameLength = maximum })
        let connection = try await server.rawConnection()
        // Pad the GetStatusRequest with an unknown field (number 15, length-delimited) until the envelope is exactly `maximum`.
        var padding = 900
        var envelope: [UInt8] = []
        while true {
            let payload: [UInt8] = [0x7a] + varint(padding) + [UInt8](repeating: 0x61, count: padding)
            envelope = try encodeRequest(RequestEnvelope(callId: 9, method: getStatusPath, payload: payload))
            if envelope.count == maximum { break }
            padding += maximum - envelope.count
        }
        try await connection.send(frame(envelope))
        let response = try await connection.next()
        #expect(response.callId == 9)
        #expect(response.outcome.grpcCode == .ok)
        await connection.close()
        try await server.stop()
    }

    @Test func frameOverTheMaximumIsRefusedBeforeItsBodyArrives() async throws {
        let maximum = 1024
        let server = try await TestServer(configure: { $0.maximumFrameLength = maximum })
        let connection = try await server.rawConnection()
        // Only the header: the server must answer without waiting for (or buffering) a body.
        let length = UInt32(maximum + 1)
        try await connection.send([UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)])
        let response = try await connection.next()
        #expect(response.callId == 0)
        #expect(response.outcome.grpcCode == .resourceExhausted)
        #expect(response.outcome.message.contains("1025"))
        #expect(try await connection.isClosedByServer(), "the connection is closed")
        try await server.stop()
    }

    @Test func aStalledFrameTimesOutAndIdleConnectionsStay() async throws {
        let server = try await TestServer(configure: { $0.incompleteFrameTimeout = .milliseconds(300) })
        let idle = try await server.rawConnection()
        let stalled = try await server.rawConnection()
        // A header announcing 50 bytes, one byte of body, then silence.
        try await stalled.send([0, 0, 0, 50, 0x08])
        let response = try await stalled.next()
        #expect(response.callId == 0)
        #expect(response.outcome.grpcCode == .deadlineExceeded)
        #expect(try await stalled.isClosedByServer(), "the connection is closed")
        // The idle connection (no frame begun) was left alone and still works.
        try await idle.send([RequestEnvelope(callId: 1, method: getStatusPath)])
        #expect(try await idle.next().outcome.grpcCode == .ok)
        await idle.close()
        try await server.stop()
    }

    @Test func garbageIsRefusedAndOtherConnectionsCarryOn() async throws {
        let server = try await TestServer()
        let bystander = try await server.connect()
        let connection = try await server.rawConnection()
        // Wire type 7 does not exist: no protobuf parser accepts this.
        try await connection.send(frame([0xff, 0xff, 0xff, 0xff, 0x0f, 0x07]))
        let response = try await connection.next()
        #expect(response.callId == 0)
        #expect(response.outcome.grpcCode == .invalidArgument)
        #expect(try await connection.isClosedByServer(), "the connection is closed")
        let status = try await bystander.rpc.getStatus(GetStatusRequest())
        #expect(status.version == "test")
        await bystander.close()
        try await server.stop()
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        let server = try await TestServer()
        let connection = try await server.rawConnection()
        try await connection.send([RequestEnvelope(callId: 3, method: "/archolt.ozmap.v1.OZmapIntegration/Teleport")])
        let response = try await connection.next()
        #expect(response.callId == 3)
        #expect(response.outcome.grpcCode == .unimplemented)
        #expect(response.outcome.message.contains("Teleport"))
        // A method this server registered no handler for is as unknown (ozmapd's generated
        // service has every method the proto declares: a missing one does not compile).
        try await connection.send([RequestEnvelope(callId: 4, method: "/archolt.ozmap.v1.OZmapIntegration/ProvisionONU")])
        let unregistered = try await connection.next()
        #expect(unregistered.callId == 4 && unregistered.outcome.grpcCode == .unimplemented)
        #expect(unregistered.outcome.message.contains("ListMethods"))
        await connection.close()
        try await server.stop()
    }

    @Test func undecodablePayloadIsInvalidArgumentAndTheConnectionLives() async throws {
        let server = try await TestServer()
        let connection = try await server.rawConnection()
        try await connection.send([RequestEnvelope(callId: 5, method: getStatusPath, payload: [0xff, 0xff, 0x07])])
        let response = try await connection.next()
        #expect(response.callId == 5)
        #expect(response.outcome.grpcCode == .invalidArgument)
        #expect(response.outcome.violations.first?.field == "payload")
        try await connection.send([RequestEnvelope(callId: 6, method: getStatusPath)])
        #expect(try await connection.next().outcome.grpcCode == .ok)
        await connection.close()
        try await server.stop()
    }
}

func varint(_ value: Int) -> [UInt8] {
    var value = UInt64(value)
    var bytes: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7f)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        bytes.append(byte)
    } while value != 0
    return bytes
}
