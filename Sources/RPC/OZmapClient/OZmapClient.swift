import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OZmapRPC
import OZmapWire

/// A connection to ozmapd: async/await calls, pipelined on one socket, each
/// with its own timeout. Every failure surfaces as an `RPCError`: the
/// server's status, or UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED decided here.
public final class OZmapClient: Sendable {
    public static let defaultTimeout: Duration = .seconds(30)

    public let socketPath: String
    private let channel: any Channel
    private let calls: PendingCalls

    private init(socketPath: String, channel: any Channel, calls: PendingCalls) {
        self.socketPath = socketPath
        self.channel = channel
        self.calls = calls
    }

    public static func connect(socketPath: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> OZmapClient {
        let calls = PendingCalls()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(LengthPrefixedFrameDecoder()),
                            MessageToByteHandler(LengthPrefixedFrameEncoder()),
                            EnvelopeCodecHandler(clientCodec: .ozmap),
                            ResponseRouter(calls: calls),
                        ])
                    }
                }
                .connect(unixDomainSocketPath: socketPath)
                .get()
        } catch {
            throw RPCError(.unavailable, "cannot connect to ozmapd at \(socketPath): \(describe(error)) (is ozmapd running? set --socket or OZMAPD_SOCKET)")
        }
        return OZmapClient(socketPath: socketPath, channel: channel, calls: calls)
    }

    /// Calls a method with raw payload bytes; the response envelope is returned whatever its status.
    public func call(path: String, payload: [UInt8], timeout: Duration = defaultTimeout) async throws -> ResponseEnvelope {
        let timeoutMs = UInt32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let callID = calls.nextCallID()
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if let closed = calls.register(callID, continuation) {
                    return continuation.resume(throwing: closed)
                }
                let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutMs))) {
                    self.calls.fail(callID, RPCError(.deadlineExceeded, "\(path) got no answer within \(timeoutMs) ms"))
                }
                calls.setTimer(callID, timer)
                let request = RequestEnvelope(callID: callID, method: path, timeoutMs: timeoutMs, payload: payload)
                channel.writeAndFlush(request).whenFailure { error in
                    self.calls.fail(callID, RPCError(.unavailable, "cannot send to ozmapd: \(describe(error))"))
                }
            }
        } onCancel: {
            calls.fail(callID, RPCError(.cancelled, "\(path) was cancelled by the caller"))
        }
    }

    /// Calls a typed method; a status other than OK is thrown as `RPCError`.
    public func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                        timeout: Duration = defaultTimeout) async throws -> Response {
        let service = ProtobufCCodec.ozmap.service
        guard let descriptor = service.methods.first(where: { $0.path == method.path }) else {
            throw RPCError(.unimplemented, "\(method.path) is not in the archolt.ozmap.v1 schema")
        }
        let payload = try ProtobufCCodec.ozmap.encode(request, as: descriptor.requestType)
        let response = try await call(path: method.path, payload: payload, timeout: timeout)
        guard response.status.isOK else { throw RPCError(status: response.status) }
        return try ProtobufCCodec.ozmap.decode(Response.self, from: response.payload, as: descriptor.responseType)
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Calls awaiting their response, by call_id.
final class PendingCalls: Sendable {
    private struct Call {
        var continuation: CheckedContinuation<ResponseEnvelope, any Error>
        var timer: Scheduled<Void>?
    }

    private struct State {
        var lastCallID: UInt64 = 0
        var calls: [UInt64: Call] = [:]
        /// Set once the connection is gone: why new calls fail.
        var closedBecause: RPCError?
    }

    private let state = NIOLockedValueBox(State())

    func nextCallID() -> UInt64 {
        state.withLockedValue { $0.lastCallID += 1; return $0.lastCallID }
    }

    /// Nil once registered; otherwise why the connection is closed (the server's status when it said one).
    func register(_ callID: UInt64, _ continuation: CheckedContinuation<ResponseEnvelope, any Error>) -> RPCError? {
        state.withLockedValue { state in
            if let closed = state.closedBecause { return closed }
            state.calls[callID] = Call(continuation: continuation)
            return nil
        }
    }

    func setTimer(_ callID: UInt64, _ timer: Scheduled<Void>) {
        let stale = state.withLockedValue { state -> Bool in
            guard state.calls[callID] != nil else { return true }
            state.calls[callID]!.timer = timer
            return false
        }
        if stale { timer.cancel() }
    }

    private func take(_ callID: UInt64) -> Call? {
        state.withLockedValue { $0.calls.removeValue(forKey: callID) }
    }

    func complete(_ response: ResponseEnvelope) {
        guard let call = take(response.callID) else { return } // timed out or cancelled: dropped
        call.timer?.cancel()
        call.continuation.resume(returning: response)
    }

    func fail(_ callID: UInt64, _ error: RPCError) {
        guard let call = take(callID) else { return }
        call.timer?.cancel()
        call.continuation.resume(throwing: error)
    }

    /// Fails every waiting call and every later one.
    func failAll(_ error: RPCError) {
        let calls = state.withLockedValue { state in
            if state.closedBecause == nil { state.closedBecause = error }
            defer { state.calls.removeAll() }
            return Array(state.calls.values)
        }
        for call in calls {
            call.timer?.cancel()
            call.continuation.resume(throwing: error)
        }
    }
}

/// Hands each response to the call waiting for it. A response with call_id 0
/// is the server condemning the connection: every waiting call gets its status.
final class ResponseRouter: ChannelInboundHandler {
    typealias InboundIn = ResponseEnvelope

    private let calls: PendingCalls

    init(calls: PendingCalls) {
        self.calls = calls
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let response = unwrapInboundIn(data)
        if response.callID == 0 {
            calls.failAll(RPCError(status: response.status))
        } else {
            calls.complete(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        calls.failAll(RPCError(.unavailable, "ozmapd closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        calls.failAll(RPCError(.unavailable, "connection to ozmapd failed: \(describe(error))"))
        context.close(promise: nil)
    }
}

func describe(_ error: any Error) -> String {
    if let error = error as? IOError { return error.description }
    if let error = error as? RPCError { return error.message }
    return "\(error)"
}
