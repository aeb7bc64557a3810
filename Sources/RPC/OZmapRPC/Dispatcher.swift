import Dispatch
import Synchronization

/// Handlers by method name. Handlers take and return Swift values; they know
/// nothing of sockets, frames or protobuf-c.
public struct RPCRouter: Sendable {
    public typealias Handler = @Sendable (ProtoValue, CallContext) async throws -> ProtoValue

    public private(set) var handlers: [String: Handler] = [:]

    public init() {}

    /// Registers the handler of a typed method; a later registration replaces an earlier one.
    public mutating func register<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ body: @escaping @Sendable (Request, CallContext) async throws -> Response
    ) {
        handlers[method.name] = { value, context in
            try RequestText.check(value)
            let request: Request
            do {
                request = try ProtoValueDecoder().decode(Request.self, from: value)
            } catch let error as DecodingError {
                throw RPCError(decodingError: error)
            }
            return try ProtoValueEncoder().encode(try await body(request, context))
        }
    }
}

/// Routes a request envelope to its handler and turns the outcome into a
/// response envelope. Transport-independent: the socket server, a test or a
/// benchmark call `dispatch` the same way.
public struct RPCDispatcher: Sendable {
    public let service: ServiceDescriptor
    public let defaultTimeout: Duration
    private let router: RPCRouter
    private let codec: any MessageCodec
    private let methodsByPath: [String: MethodDescriptor]
    private let observer: CallObserver?

    /// Told of every call as it is answered: the method's name ("unknown" for a path the service
    /// does not declare, so callers cannot grow the label set), its status code and how long it took.
    public typealias CallObserver = @Sendable (_ method: String, _ code: StatusCode, _ duration: Duration) -> Void

    public init(service: ServiceDescriptor, router: RPCRouter, codec: any MessageCodec, defaultTimeout: Duration = .seconds(30),
                observer: CallObserver? = nil) {
        for name in router.handlers.keys {
            precondition(service.methods.contains { $0.name == name }, "handler for \(name), which \(service.name) does not declare")
        }
        self.service = service
        self.router = router
        self.codec = codec
        self.defaultTimeout = defaultTimeout
        self.methodsByPath = Dictionary(uniqueKeysWithValues: service.methods.map { ($0.path, $0) })
        self.observer = observer
    }

    /// Whether this server has a handler for the method.
    public func isImplemented(_ method: MethodDescriptor) -> Bool {
        router.handlers[method.name] != nil
    }

    public func dispatch(_ request: RequestEnvelope, peer: PeerIdentity? = nil) async -> ResponseEnvelope {
        guard let observer else { return await answer(request, peer: peer) }
        let started = ContinuousClock.now
        let response = await answer(request, peer: peer)
        observer(methodsByPath[request.method]?.name ?? "unknown", StatusCode(wireValue: response.status.code), ContinuousClock.now - started)
        return response
    }

    private func answer(_ request: RequestEnvelope, peer: PeerIdentity?) async -> ResponseEnvelope {
        do {
            let payload = try await call(request, peer: peer)
            return ResponseEnvelope(callID: request.callID, status: .ok, payload: payload)
        } catch let error as RPCError {
            return ResponseEnvelope(callID: request.callID, status: error.status)
        } catch is CancellationError {
            return ResponseEnvelope(callID: request.callID, status: Status(code: .cancelled, message: "the call was cancelled (server shutting down)"))
        } catch {
            return ResponseEnvelope(callID: request.callID, status: Status(code: .internal, message: "internal error in \(request.method): \(error)"))
        }
    }

    private func call(_ request: RequestEnvelope, peer: PeerIdentity?) async throws -> [UInt8] {
        guard let method = methodsByPath[request.method] else {
            throw RPCError(.unimplemented, "unknown method '\(request.method)'; ListMethods lists the methods this server knows (paths look like /\(service.name)/GetStatus)")
        }
        guard let handler = router.handlers[method.name] else {
            throw RPCError(.unimplemented, "\(method.name) is not implemented by this version of ozmapd")
        }
        let input = try codec.decode(request.payload, as: method.requestType)
        let timeout = request.timeoutMs == 0 ? defaultTimeout : .milliseconds(Int64(request.timeoutMs))
        let context = CallContext(callID: request.callID, method: method, deadline: .now + timeout, peer: peer)
        let output = try await withDeadline(timeout, method: method.name) {
            try await handler(input, context)
        }
        do {
            return try codec.encode(output, as: method.responseType)
        } catch let error as RPCError {
            throw RPCError(.internal, "\(method.name) produced a response that does not fit \(method.responseType): \(error.message)")
        }
    }
}

/// Runs `body`, or throws DEADLINE_EXCEEDED once `timeout` passes. The answer
/// goes out at the deadline even if the handler does not heed cancellation.
func withDeadline<T: Sendable>(_ timeout: Duration, method: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            // A Dispatch timer, not a sleeping Task: it is on every call, and far cheaper.
            // A timer source, not asyncAfter: cancelling a source frees its handler (the race,
            // the handler's result) at once, while a cancelled asyncAfter item stays queued
            // until its deadline, holding ~1.6 KB a call for the whole timeout (MemoryTests).
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + .nanoseconds(Int(timeout.nanoseconds)))
            timer.setEventHandler {
                race.finish(.failure(RPCError(.deadlineExceeded, "\(method) did not finish within its \(timeout.readable) timeout")))
            }
            timer.resume()
            race.run(Task {
                let result = await Result(catching: body)
                timer.cancel()
                race.finish(result)
            })
        }
    } onCancel: {
        race.cancel()
    }
}

/// The first of the handler and the timer to finish answers; the other is ignored.
private final class DeadlineRace<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, work: Task<Void, Never>?)>((nil, nil))

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func run(_ work: Task<Void, Never>) {
        state.withLock { $0.work = work }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, work) = state.withLock { state in
            defer { state.continuation = nil }
            return (state.continuation, state.work)
        }
        guard let continuation else { return }
        if case .failure = result { work?.cancel() }
        continuation.resume(with: result)
    }

    func cancel() {
        state.withLock { $0.work }?.cancel()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// "250 ms", "30 s", for messages people read.
    public var readable: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
