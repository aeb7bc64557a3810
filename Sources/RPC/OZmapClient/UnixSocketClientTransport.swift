public import GRPCCore
import OZmapRPC

/// GRPCCore's client transport over ozmapd's framed Unix-socket protocol
/// (docs/PROTOCOL.md): each unary call is one RequestEnvelope / ResponseEnvelope
/// exchange on an `OZmapClient` connection, pipelined beside the others.
///
/// ```swift
/// let transport = try await UnixSocketClientTransport.connect(socketPath: "/run/ozmapd/ozmapd.sock")
/// try await withGRPCClient(transport: transport) { client in
///     let ozmapd = OZmapIntegration.Client(wrapping: client)
///     let status = try await ozmapd.getStatus(GetStatusRequest())
/// }
/// ```
/// The call's `CallOptions.timeout` becomes the envelope's `timeout_ms` (the server's
/// deadline) and the client's own wait; ozmapd's status codes arrive as GRPCCore's
/// `RPCError`, field violations as `field-violation` metadata ("field: description").
public struct UnixSocketClientTransport: ClientTransport {
    public typealias Bytes = [UInt8]

    public let client: OZmapClient
    private let shutdown = ShutdownSignal()

    public init(_ client: OZmapClient) {
        self.client = client
    }

    public static func connect(socketPath: String) async throws -> UnixSocketClientTransport {
        UnixSocketClientTransport(try await OZmapClient.connect(socketPath: socketPath))
    }

    public var retryThrottle: RetryThrottle? { nil }

    public func config(forMethod descriptor: GRPCCore.MethodDescriptor) -> MethodConfig? { nil }

    /// GRPCCore runs this for the client's life: `OZmapClient` connects again by itself
    /// when ozmapd closes the connection, so there is nothing to do until shutdown.
    public func connect() async throws {
        await shutdown.wait()
        await client.close()
    }

    public func beginGracefulShutdown() {
        shutdown.signal()
    }

    public func withStream<T: Sendable>(
        descriptor: GRPCCore.MethodDescriptor,
        options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        let (requests, requestParts) = AsyncStream.makeStream(of: RPCRequestPart<[UInt8]>.self)
        let (responses, responseParts) = AsyncThrowingStream.makeStream(of: RPCResponsePart<[UInt8]>.self)
        let stream = RPCStream(
            descriptor: descriptor,
            inbound: RPCAsyncSequence(wrapping: responses),
            outbound: RPCWriter.Closable(wrapping: RequestPartWriter(parts: requestParts))
        )
        let context = ClientContext(descriptor: descriptor, remotePeer: "unix:\(client.socketPath)", localPeer: "unix:")
        let path = "/\(descriptor.service.fullyQualifiedService)/\(descriptor.method)"
        let timeout = options.timeout ?? OZmapClient.defaultTimeout
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            // The exchange runs beside the caller's closure, which writes the request
            // and reads the response parts; it ends with the closure.
            group.addTask { [client] in
                var payload: [UInt8]?
                for await part in requests {
                    if case .message(let bytes) = part { payload = bytes }
                }
                guard let payload else {
                    responseParts.finish(throwing: GRPCCore.RPCError(code: .internalError, message: "\(path): the call sent no request message"))
                    return
                }
                do {
                    let reply = try await client.call(path: path, payload: payload, timeout: timeout)
                    for part in Self.responseParts(reply) { responseParts.yield(part) }
                    responseParts.finish()
                } catch let error as OZmapRPC.RPCError {
                    responseParts.yield(.status(Self.status(error.status), Self.metadata(error.status)))
                    responseParts.finish()
                } catch {
                    responseParts.finish(throwing: GRPCCore.RPCError(code: .unavailable, message: "\(path): \(error)"))
                }
            }
            defer { group.cancelAll() }
            return try await closure(stream, context)
        }
    }

    static func responseParts(_ reply: OZmapRPC.ResponseEnvelope) -> [RPCResponsePart<[UInt8]>] {
        guard reply.status.isOK else {
            return [.status(status(reply.status), metadata(reply.status))]
        }
        return [.metadata([:]), .message(reply.payload), .status(GRPCCore.Status(code: .ok, message: ""), [:])]
    }

    static func status(_ status: OZmapRPC.Status) -> GRPCCore.Status {
        GRPCCore.Status(code: GRPCCore.Status.Code(rawValue: Int(status.code)) ?? .unknown, message: status.message)
    }

    static func metadata(_ status: OZmapRPC.Status) -> Metadata {
        var metadata: Metadata = [:]
        for violation in status.violations {
            metadata.addString("\(violation.field): \(violation.description)", forKey: "field-violation")
        }
        return metadata
    }
}

/// The request side of one call: what GRPCCore writes, handed to the exchange.
private struct RequestPartWriter: ClosableRPCWriterProtocol {
    let parts: AsyncStream<RPCRequestPart<[UInt8]>>.Continuation

    func write(_ element: RPCRequestPart<[UInt8]>) async throws {
        parts.yield(element)
    }

    func write(contentsOf elements: some Sequence<RPCRequestPart<[UInt8]>>) async throws {
        for element in elements { parts.yield(element) }
    }

    func finish() async {
        parts.finish()
    }

    func finish(throwing error: any Error) async {
        parts.finish()
    }
}

/// Wakes `connect()` when the transport shuts down.
private final class ShutdownSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self)
    }

    func wait() async {
        for await _ in stream {}
    }

    func signal() {
        continuation.finish()
    }
}
