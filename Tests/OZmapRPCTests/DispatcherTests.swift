import Synchronization
import OZmapRPC
import OZmapWire
import Testing

/// The transport-independent dispatcher, called directly.
@Suite(.timeLimit(.minutes(3))) struct DispatcherTests {
    struct ONUQuery: Codable, Sendable, Equatable {
        var onuId: String
    }

    struct Echo: Codable, Sendable, Equatable {
        var onuId: String
        var serialNumber: String
    }

    let service = ProtobufCCodec.ozmap.service
    let codec = ProtobufCCodec.ozmap

    private func path(_ name: String) -> String { "/\(service.name)/\(name)" }

    private func dispatcher(_ register: (inout RPCRouter) -> Void) -> RPCDispatcher {
        var router = RPCRouter()
        register(&router)
        return RPCDispatcher(service: service, router: router, codec: codec)
    }

    @Test func typedHandlerSeesTheRequestAndItsAnswerIsEncoded() async throws {
        let getONU = RPCMethod<ONUQuery, Echo>(service: service.name, name: "GetONU")
        let dispatcher = dispatcher { router in
            router.register(getONU) { request, context in
                #expect(context.callID == 11)
                if request.onuId.isEmpty { throw RPCError.invalidArgument(field: "onu_id", "required") }
                return Echo(onuId: request.onuId, serialNumber: "ZTEG00000001")
            }
        }
        #expect(dispatcher.isImplemented(service.methods.first { $0.name == "GetONU" }!))
        let payload = try codec.encode(ONUQuery(onuId: "77"), as: "archolt.ozmap.v1.GetONURequest")
        let response = await dispatcher.dispatch(RequestEnvelope(callID: 11, method: path("GetONU"), payload: payload))
        #expect(response.callID == 11 && response.status.isOK)
        #expect(try codec.decode(Echo.self, from: response.payload, as: "archolt.ozmap.v1.ONU") == Echo(onuId: "77", serialNumber: "ZTEG00000001"))

        let refused = await dispatcher.dispatch(RequestEnvelope(callID: 11, method: path("GetONU")))
        #expect(refused.status.statusCode == .invalidArgument)
        #expect(refused.status.violations == [FieldViolation(field: "onu_id", description: "required")])
        #expect(refused.payload.isEmpty)
    }

    @Test func unknownAndUnimplementedMethods() async {
        let dispatcher = dispatcher { _ in }
        let unknown = await dispatcher.dispatch(RequestEnvelope(callID: 1, method: "GetStatus"))
        #expect(unknown.status.statusCode == .unimplemented)
        #expect(unknown.status.message.contains("unknown method 'GetStatus'"))
        let unimplemented = await dispatcher.dispatch(RequestEnvelope(callID: 2, method: path("GetStatus")))
        #expect(unimplemented.status.statusCode == .unimplemented)
        #expect(unimplemented.status.message.contains("not implemented"))
    }

    @Test func deadlineIsAnsweredEvenWhenTheHandlerIgnoresCancellation() async {
        let release = Release()
        let getONU = RPCMethod<ONUQuery, Echo>(service: service.name, name: "GetONU")
        let dispatcher = dispatcher { router in
            router.register(getONU) { request, _ in
                await release.wait() // cannot be cancelled
                return Echo(onuId: request.onuId, serialNumber: "")
            }
        }
        let response = await dispatcher.dispatch(RequestEnvelope(callID: 3, method: path("GetONU"), timeoutMs: 50))
        #expect(response.status.statusCode == .deadlineExceeded)
        #expect(response.status.message.contains("50 ms"))
        // Reaching this line is the proof: the handler cannot return before open().
        release.open()
    }

    @Test func aHandlerErrorThatIsNotAnRPCErrorIsInternal() async {
        struct Broken: Error {}
        let getONU = RPCMethod<ONUQuery, Echo>(service: service.name, name: "GetONU")
        let dispatcher = dispatcher { router in router.register(getONU) { _, _ in throw Broken() } }
        let response = await dispatcher.dispatch(RequestEnvelope(callID: 4, method: path("GetONU")))
        #expect(response.status.statusCode == .internal)
    }
}

/// Holds a handler until the test lets it go; ignores cancellation on purpose.
final class Release: Sendable {
    private let state = Mutex<(waiter: CheckedContinuation<Void, Never>?, open: Bool)>((nil, false))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state -> Bool in
                if !state.open { state.waiter = continuation }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        state.withLock { state in
            state.open = true
            defer { state.waiter = nil }
            return state.waiter
        }?.resume()
    }
}
