import GRPCCore
import OZmapClient

/// The tests' own handlers, each on a generated method and its generated messages, served by
/// GRPCCore over the socket transport as ozmapd's service is (the same coding and interceptors).
struct TestService: RegistrableRPCService {
    private var handlers: [GRPCCore.MethodDescriptor: any TestHandler] = [:]

    /// Serves `method` with `body`; a later registration replaces an earlier one.
    mutating func register<Method: WireMethod>(
        _ method: Method.Type, _ body: @escaping @Sendable (Method.Input, ServerContext) async throws -> Method.Output
    ) {
        handlers[Method.descriptor] = Handler<Method>(body: body)
    }

    func registerMethods<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
        for handler in handlers.values { handler.register(with: &router) }
    }
}

private protocol TestHandler: Sendable {
    func register<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>)
}

private struct Handler<Method: WireMethod>: TestHandler {
    let body: @Sendable (Method.Input, ServerContext) async throws -> Method.Output

    func register<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
        let body = self.body
        router.registerHandler(forMethod: Method.descriptor, deserializer: WireDeserializer<Method.Input>(.request),
                               serializer: WireSerializer<Method.Output>(.response)) { request, context in
            let message = try await ServerRequest(stream: request).message
            return StreamingServerResponse(single: ServerResponse(message: try await body(message, context)))
        }
    }
}
