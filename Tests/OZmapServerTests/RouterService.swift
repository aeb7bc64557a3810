import GRPCCore
import OZmapClient
import OZmapRPC
import OZmapServer
import OZmapWire

/// The tests' handlers, written against the descriptor-driven router, served by GRPCCore over
/// the socket transport: each takes and returns protobuf bytes the old codec reads and writes.
struct RouterService: RegistrableRPCService {
    let router: OZmapRPC.RPCRouter
    private let codec = ProtobufCCodec.ozmap

    init(router: OZmapRPC.RPCRouter) {
        self.router = router
    }

    func registerMethods<Transport: ServerTransport>(with grpcRouter: inout GRPCCore.RPCRouter<Transport>) {
        let codec = self.codec
        for method in codec.service.methods {
            guard let handler = router.handlers[method.name] else { continue }
            grpcRouter.registerHandler(forMethod: GRPCCore.MethodDescriptor(fullyQualifiedService: method.service, method: method.name),
                                       deserializer: RawBytesCoding(), serializer: RawBytesCoding()) { request, context in
                let bytes = try await ServerRequest(stream: request).message
                let call = CallContext(callID: context.socketCall?.callID ?? 0, method: method,
                                       deadline: context.socketCall?.deadline ?? .now + .seconds(30), peer: context.socketCall?.peer)
                let output = try await handler(try codec.decode(bytes, as: method.requestType), call)
                return StreamingServerResponse(single: ServerResponse(message: try codec.encode(output, as: method.responseType)))
            }
        }
    }
}
