import Synchronization
import NIOCore
import NIOPosix
import ArcholtOZmapV1
import GRPCCore
import OZmapWire

/// A connection to ozmapd: async/await calls, pipelined on one socket, each
/// with its own timeout. Every failure surfaces as an `RPCError`: the
/// server's status, or UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED decided here.
///
/// When ozmapd has closed the connection (its idle timeout, a restart), the next
/// call connects again and goes out on the new connection: it had not been sent,
/// so sending it is safe. A call in flight when the connection drops fails with
/// UNAVAILABLE — it may or may not have run; the caller decides whether to repeat it.
public final class OZmapClient: Sendable {
    public static let defaultTimeout: Duration = .seconds(30)

    public let socketPath: String
    private let group: any EventLoopGroup
    private let state: Mutex<(connection: Connection, closedByCaller: Bool)>

    private init(socketPath: String, group: any EventLoopGroup, connection: Connection) {
        self.socketPath = socketPath
        self.group = group
        self.state = Mutex((connection, false))
    }

    public static func connect(socketPath: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> OZmapClient {
        OZmapClient(socketPath: socketPath, group: group, connection: try await Connection.open(socketPath, group: group))
    }

    /// False once ozmapd has closed the connection (or `close()` was called); the next
    /// call then connects again, unless the client was closed.
    public var isConnected: Bool {
        state.withLock { $0.closedByCaller ? false : $0.connection.isOpen }
    }

    /// Calls a method with raw payload bytes; the response envelope is returned whatever its status.
    public func call(path: String, payload: [UInt8], timeout: Duration = defaultTimeout) async throws -> ResponseEnvelope {
        let connection = state.withLock { $0.connection }
        do {
            return try await connection.call(path: path, payload: payload, timeout: timeout)
        } catch is Connection.AlreadyClosed {
            do {
                return try await reconnect(replacing: connection).call(path: path, payload: payload, timeout: timeout)
            } catch let closed as Connection.AlreadyClosed {
                throw closed.reason // closed again at once: say why, do not loop
            }
        }
    }

    private static let closedByCaller = GRPCCore.RPCError(code: .unavailable, message: "this client was closed (OZmapClient.close()); connect again")

    /// Closes the connection; later calls fail with UNAVAILABLE instead of connecting again.
    public func close() async {
        let connection = state.withLock { state in
            state.closedByCaller = true
            return state.connection
        }
        await connection.close()
    }

    /// One new connection in place of a closed one. Calls that find the same closed
    /// connection at once may each open one: the first opened is kept, the others are
    /// closed at once and their calls go out on the kept one.
    private func reconnect(replacing closed: Connection) async throws -> Connection {
        if state.withLock({ $0.closedByCaller }) { throw Self.closedByCaller }
        let fresh = try await Connection.open(socketPath, group: group)
        let kept = state.withLock { state -> Bool in
            guard !state.closedByCaller, state.connection === closed else { return false }
            state.connection = fresh
            return true
        }
        if !kept {
            // Another call replaced it first (or the caller closed the client): use the current one.
            await fresh.close()
            return try state.withLock { state in
                if state.closedByCaller { throw Self.closedByCaller }
                return state.connection
            }
        }
        return fresh
    }
}

/// One socket to ozmapd and the calls waiting on it.
final class Connection: Sendable {
    /// The connection was closed before the call was sent: nothing reached ozmapd.
    struct AlreadyClosed: Error {
        let reason: GRPCCore.RPCError
    }

    private let channel: any Channel
    private let calls: PendingCalls

    private init(channel: any Channel, calls: PendingCalls) {
        self.channel = channel
        self.calls = calls
    }

    static func open(_ socketPath: String, group: any EventLoopGroup) async throws -> Connection {
        let calls = PendingCalls()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(LengthPrefixedFrameDecoder()),
                            MessageToByteHandler(LengthPrefixedFrameEncoder()),
                            EnvelopeCodecHandler.client(),
                            ResponseRouter(calls: calls),
                        ])
                    }
                }
                .connect(unixDomainSocketPath: socketPath)
                .get()
        } catch {
            throw GRPCCore.RPCError(code: .unavailable, message: "cannot connect to ozmapd at \(socketPath): \(describe(error)) (is ozmapd running? set --socket or OZMAPD_SOCKET)")
        }
        return Connection(channel: channel, calls: calls)
    }

    func call(path: String, payload: [UInt8], timeout: Duration) async throws -> ResponseEnvelope {
        let timeoutMs = UInt32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let callID = calls.nextCallID()
        let channel = self.channel
        let calls = self.calls
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if let closed = calls.register(callID, continuation) {
                    return continuation.resume(throwing: AlreadyClosed(reason: closed))
                }
                let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutMs))) {
                    calls.fail(callID, GRPCCore.RPCError(code: .deadlineExceeded, message: "\(path) got no answer within \(timeoutMs) ms"))
                }
                calls.setTimer(callID, timer)
                let request = RequestEnvelope(callId: callID, method: path, timeoutMs: timeoutMs, payload: payload)
                channel.writeAndFlush(request).whenFailure { error in
                    let reason = GRPCCore.RPCError(code: .unavailable, message: "cannot send to ozmapd: \(describe(error))")
                    // Closed before the write: not a byte of it went out.
                    calls.fail(callID, error as? ChannelError == .ioOnClosedChannel ? AlreadyClosed(reason: reason) : reason)
                }
            }
        } onCancel: {
            calls.fail(callID, GRPCCore.RPCError(code: .cancelled, message: "\(path) was cancelled by the caller"))
        }
    }

    var isOpen: Bool { !calls.isClosed }

    func close() async {
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
        var closedBecause: GRPCCore.RPCError?
    }

    private let state = Mutex(State())

    var isClosed: Bool { state.withLock { $0.closedBecause != nil } }

    func nextCallID() -> UInt64 {
        state.withLock { $0.lastCallID += 1; return $0.lastCallID }
    }

    /// Nil once registered; otherwise why the connection is closed (the server's status when it said one).
    func register(_ callID: UInt64, _ continuation: CheckedContinuation<ResponseEnvelope, any Error>) -> GRPCCore.RPCError? {
        state.withLock { state in
            if let closed = state.closedBecause { return closed }
            state.calls[callID] = Call(continuation: continuation)
            return nil
        }
    }

    func setTimer(_ callID: UInt64, _ timer: Scheduled<Void>) {
        let stale = state.withLock { state -> Bool in
            guard state.calls[callID] != nil else { return true }
            state.calls[callID]!.timer = timer
            return false
        }
        if stale { timer.cancel() }
    }

    private func take(_ callID: UInt64) -> Call? {
        state.withLock { $0.calls.removeValue(forKey: callID) }
    }

    func complete(_ response: ResponseEnvelope) {
        guard let call = take(response.callId) else { return } // timed out or cancelled: dropped
        call.timer?.cancel()
        call.continuation.resume(returning: response)
    }

    func fail(_ callID: UInt64, _ error: any Error) {
        guard let call = take(callID) else { return }
        call.timer?.cancel()
        call.continuation.resume(throwing: error)
    }

    /// Fails every waiting call and every later one.
    func failAll(_ error: GRPCCore.RPCError) {
        let calls = state.withLock { state in
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
        if response.callId == 0 {
            calls.failAll(response.outcome.rpcError
                ?? GRPCCore.RPCError(code: .unavailable, message: "ozmapd closed the connection"))
        } else {
            calls.complete(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        calls.failAll(GRPCCore.RPCError(code: .unavailable, message: "ozmapd closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        calls.failAll(GRPCCore.RPCError(code: .unavailable, message: "connection to ozmapd failed: \(describe(error))"))
        context.close(promise: nil)
    }
}

func describe(_ error: any Error) -> String {
    if let error = error as? IOError { return error.description }
    if let error = error as? GRPCCore.RPCError { return error.message }
    return "\(error)"
}
