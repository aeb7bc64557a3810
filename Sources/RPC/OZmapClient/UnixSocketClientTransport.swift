public import GRPCCore
import ArcholtOZmapV1
import Synchronization

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
    private let streams = OpenStreams()

    public init(_ client: OZmapClient) {
        self.client = client
    }

    public static func connect(socketPath: String) async throws -> UnixSocketClientTransport {
        UnixSocketClientTransport(try await OZmapClient.connect(socketPath: socketPath))
    }

    public var retryThrottle: RetryThrottle? { nil }

    public func config(forMethod descriptor: GRPCCore.MethodDescriptor) -> MethodConfig? { nil }

    /// GRPCCore runs this for the client's life. `OZmapClient` connects again by itself
    /// when ozmapd closes the connection, so this only waits: for shutdown and the
    /// streams still open to end (or for its task to be cancelled), then closes.
    public func connect() async throws {
        await streams.waitUntilShutDownAndIdle()
        await client.close()
    }

    /// New calls are refused from now on; those open finish first.
    public func beginGracefulShutdown() {
        streams.shutDown()
    }

    public func withStream<T: Sendable>(
        descriptor: GRPCCore.MethodDescriptor,
        options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        guard descriptor.type == .unary else {
            throw GRPCCore.RPCError(code: .unimplemented, message: "\(descriptor): ozmapd's socket carries unary calls only")
        }
        guard streams.open() else {
            throw GRPCCore.RPCError(code: .failedPrecondition, message: "the client transport to \(client.socketPath) is shutting down")
        }
        defer { streams.close() }
        let (requests, requestParts) = AsyncThrowingStream.makeStream(of: RPCRequestPart<[UInt8]>.self)
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
                // Request metadata is not carried: the framed protocol has no headers.
                var payload: [UInt8]?
                do {
                    for try await part in requests {
                        guard case .message(let bytes) = part else { continue }
                        guard payload == nil else {
                            throw GRPCCore.RPCError(code: .internalError, message: "\(path): a unary call wrote a second request message")
                        }
                        payload = bytes
                    }
                } catch {
                    // The request could not be written (a value the wire cannot carry, say): say why.
                    responseParts.finish(throwing: (error as? GRPCCore.RPCError)
                        ?? GRPCCore.RPCError(code: .internalError, message: "\(path): \(error)", cause: error))
                    return
                }
                guard let payload else {
                    responseParts.finish(throwing: Task.isCancelled
                        ? GRPCCore.RPCError(code: .cancelled, message: "\(path): cancelled before the request was sent")
                        : GRPCCore.RPCError(code: .internalError, message: "\(path): the call sent no request message"))
                    return
                }
                do {
                    let reply = try await client.call(path: path, payload: payload, timeout: timeout)
                    for part in Self.responseParts(reply) { responseParts.yield(part) }
                    responseParts.finish()
                } catch let error as GRPCCore.RPCError {
                    responseParts.yield(.status(GRPCCore.Status(code: GRPCCore.Status.Code(error.code), message: error.message), error.metadata))
                    responseParts.finish()
                } catch {
                    responseParts.finish(throwing: GRPCCore.RPCError(code: .unavailable, message: "\(path): \(error)"))
                }
            }
            defer { group.cancelAll() }
            return try await closure(stream, context)
        }
    }

    static func responseParts(_ reply: ResponseEnvelope) -> [RPCResponsePart<[UInt8]>] {
        guard reply.outcome.grpcCode == .ok else {
            return [.status(reply.outcome.grpcStatus, FieldViolation.metadata(reply.outcome.violations))]
        }
        return [.metadata([:]), .message(reply.payload), .status(GRPCCore.Status(code: .ok, message: ""), [:])]
    }
}

/// The request side of one call: what GRPCCore writes, handed to the exchange.
private struct RequestPartWriter: ClosableRPCWriterProtocol {
    let parts: AsyncThrowingStream<RPCRequestPart<[UInt8]>, any Error>.Continuation

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
        parts.finish(throwing: error)
    }
}

/// The streams open on the transport, and its shutdown: `connect()` returns once
/// shutdown has begun and the last open stream has ended.
private final class OpenStreams: Sendable {
    private struct State {
        var open = 0
        var shuttingDown = false
        var waiter: CheckedContinuation<Void, Never>?

        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            defer { waiter = nil }
            return waiter
        }
    }

    private let state = Mutex(State())

    /// False once shutting down: the call must be refused.
    func open() -> Bool {
        state.withLock { state in
            guard !state.shuttingDown else { return false }
            state.open += 1
            return true
        }
    }

    func close() {
        state.withLock { state in
            state.open -= 1
            return state.shuttingDown && state.open == 0 ? state.takeWaiter() : nil
        }?.resume()
    }

    func shutDown() {
        state.withLock { state in
            state.shuttingDown = true
            return state.open == 0 ? state.takeWaiter() : nil
        }?.resume()
    }

    /// Returns once shut down with no stream open, or when the waiting task is cancelled.
    func waitUntilShutDownAndIdle() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state -> Bool in
                    if state.shuttingDown && state.open == 0 { return true }
                    state.waiter = continuation
                    return false
                }
                if done { continuation.resume() }
                // Cancelled before the continuation was stored: the handler found nothing to resume.
                else if Task.isCancelled { state.withLock { $0.takeWaiter() }?.resume() }
            }
        } onCancel: {
            state.withLock { $0.takeWaiter() }?.resume()
        }
    }
}
