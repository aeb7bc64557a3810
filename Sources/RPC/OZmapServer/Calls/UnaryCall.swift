import ArcholtOZmapV1
import GRPCCore
import NIOCore
import OZmapRPC
import Synchronization

/// One request envelope taken off a connection, on its way to the server's task group.
struct AcceptedCall: Sendable {
    var request: RequestEnvelope
    var peer: PeerIdentity?
    /// The connection it came on, for the scheduler's fair share.
    var connection: ObjectIdentifier
    /// When it was taken off the connection: its deadline counts from here, waiting included.
    var accepted = ContinuousClock.now
    /// Hands the answer back to the connection's event loop; called once.
    var respond: @Sendable (ResponseEnvelope) -> Void
}

/// What the socket transport knows of a call beyond GRPCCore's context:
/// `context.transportSpecific as? UnixSocketCall`.
public struct UnixSocketCall: ServerContext.TransportSpecific {
    public var callID: UInt64
    /// From SO_PEERCRED; nil when the kernel would not say.
    public var peer: PeerIdentity?
    /// When the call's `timeout_ms` (or the server default) runs out; the transport
    /// answers DEADLINE_EXCEEDED then and cancels the handler.
    public var deadline: ContinuousClock.Instant
}

extension ServerContext {
    /// The call's deadline when the socket transport carries it; nil in process.
    public var socketCall: UnixSocketCall? { transportSpecific as? UnixSocketCall }
}

/// A unary request as GRPCCore reads it: its (empty) metadata, then its one message.
struct UnaryRequestParts: AsyncSequence, Sendable {
    typealias Element = RPCRequestPart<[UInt8]>
    let metadata: Metadata
    let payload: [UInt8]

    struct AsyncIterator: AsyncIteratorProtocol {
        var parts: [Element]
        mutating func next() async throws -> Element? {
            parts.isEmpty ? nil : parts.removeFirst()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(parts: [.metadata(metadata), .message(payload)])
    }
}

/// Collects a unary call's response parts into one envelope. The first status
/// answers; whatever comes later is dropped (the deadline may have answered first).
final class UnaryResponseWriter: ClosableRPCWriterProtocol, Sendable {
    typealias Element = RPCResponsePart<[UInt8]>

    private let callID: UInt64
    private let deliver: @Sendable (ResponseEnvelope) -> Void
    private let state = Mutex<(payload: [UInt8], answered: Bool)>(([], false))

    init(callID: UInt64, deliver: @escaping @Sendable (ResponseEnvelope) -> Void) {
        self.callID = callID
        self.deliver = deliver
    }

    func write(_ element: Element) async throws {
        switch element {
        case .metadata: break // a frame has no headers
        case .message(let bytes): state.withLock { $0.payload = bytes }
        case .status(let status, let metadata): answer(status, metadata)
        }
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try await write(element) }
    }

    func finish() async {
        answer(GRPCCore.Status(code: .internalError, message: "the call ended without a status"), [:])
    }

    func finish(throwing error: any Error) async {
        answer(GRPCCore.Status(code: .internalError, message: "the call failed: \(error)"), [:])
    }

    /// Answers unless the call already was; true when this answered it.
    @discardableResult
    func answer(_ status: GRPCCore.Status, _ metadata: Metadata) -> Bool {
        let payload = state.withLock { state -> [UInt8]? in
            guard !state.answered else { return nil }
            state.answered = true
            return state.payload
        }
        guard let payload else { return false }
        let ok = status.code == .ok
        deliver(ResponseEnvelope(callId: callID, status: ArcholtOZmapV1.Status(status, metadata), payload: ok ? payload : []))
        return true
    }
}
