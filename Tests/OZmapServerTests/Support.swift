import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapServer
import OZmapTestSupport
import OZmapWire
import ServiceLifecycle
import Testing

// The envelopes of the raw-frame tests are the generated ones (ArcholtOZmapV1, which
// OZmapClient exports), as the framed transport reads and writes them.
typealias RequestEnvelope = ArcholtOZmapV1.RequestEnvelope
typealias ResponseEnvelope = ArcholtOZmapV1.ResponseEnvelope

/// A gate handlers wait on until the test opens it; counts who is waiting.
final class Gate: Sendable {
    private let state = NIOLockedValueBox((open: false, waiting: 0, peak: 0, waiters: [CheckedContinuation<Void, Never>]()))

    var waiting: Int { state.withLockedValue { $0.waiting } }
    /// The most handlers ever waiting at once.
    var peak: Int { state.withLockedValue { $0.peak } }

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLockedValue { state -> Bool in
                if state.open { return true }
                state.waiting += 1
                state.peak = max(state.peak, state.waiting)
                state.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    /// Lets the longest-waiting handler through; the gate stays shut for the others.
    func releaseOne() {
        let first = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else { return nil }
            state.waiting -= 1
            return state.waiters.removeFirst()
        }
        first?.resume()
    }

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            state.waiting = 0
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "ozmapd-test")
    logger.logLevel = .warning
    return logger
}()

/// A UnixSocketServer run in-process inside a ServiceGroup, on a socket in a temporary directory.
final class TestServer: Sendable {
    let directory: String
    let socketPath: String
    let server: UnixSocketServer
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// `configure` adjusts the server configuration; `handlers` adds handlers beside GetStatus
    /// (or replaces it). `socketPath` defaults to one in the server's own temporary directory.
    init(socketPath: String? = nil, callExecutor: (any TaskExecutor)? = nil,
         configure: (inout ServerConfiguration) -> Void = { _ in },
         handlers: (inout TestService) -> Void = { _ in }) async throws {
        directory = try makeTemporaryDirectory()
        self.socketPath = socketPath ?? directory + "/ozmapd.sock"
        var configuration = ServerConfiguration(socketPath: self.socketPath)
        // Tests hold calls behind gates, more than a small machine's cores (the default); the
        // tests of the running limit set their own.
        configuration.maximumRunningCalls = 64
        configure(&configuration)
        let stats = ServerStats()
        var service = TestService()
        service.register(OZmapIntegration.Method.GetStatus.self) { _, _ in
            let snapshot = stats.snapshot
            return GetStatusResponse(version: "test", connectionsOpen: UInt32(snapshot.connectionsOpen),
                                     connectionsAccepted: UInt64(snapshot.connectionsAccepted),
                                     callsServed: UInt64(snapshot.callsServed), callsInFlight: UInt32(snapshot.callsInFlight))
        }
        handlers(&service)
        server = UnixSocketServer(configuration: configuration, services: [service],
                                  stats: stats, logger: testLogger, callExecutor: callExecutor)
        group = ServiceGroup(services: [server], logger: testLogger)
        let group = self.group
        running = Task { try await group.run() }
        try await server.waitUntilListening()
    }

    /// The generated client on a connection of its own.
    func connect() async throws -> OZmapIntegrationConnection {
        try await OZmapIntegrationConnection.connect(socketPath: socketPath)
    }

    func rawConnection() async throws -> RawConnection {
        try await RawConnection.connect(socketPath)
    }

    /// Triggers graceful shutdown; `stopped()` waits for it to complete.
    func shutDown() async {
        await group.triggerGracefulShutdown()
    }

    func stopped() async throws {
        try await running.value
    }

    func stop() async throws {
        await shutDown()
        try await stopped()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A socket connection that speaks raw frames, for tests of the protocol itself.
final class RawConnection: Sendable {
    let channel: any Channel
    private let queue: FrameQueue

    private init(channel: any Channel, queue: FrameQueue) {
        self.channel = channel
        self.queue = queue
    }

    /// `reading: false` leaves what the server sends in the socket until `startReading()`.
    static func connect(_ path: String, reading: Bool = true) async throws -> RawConnection {
        let queue = FrameQueue()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: reading)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameLength: 64 << 20)),
                        FrameCollector(queue: queue),
                    ])
                }
            }
            .connect(unixDomainSocketPath: path).get()
        return RawConnection(channel: channel, queue: queue)
    }

    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
    }

    /// Sends bytes as they are, no framing added.
    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Sends each envelope framed, all in one write.
    func send(_ requests: [RequestEnvelope]) async throws {
        var bytes: [UInt8] = []
        for request in requests { bytes += frame(try encodeRequest(request)) }
        try await send(bytes)
    }

    /// The next response; throws when the server closes the connection instead.
    func next(timeout: Duration = .seconds(10)) async throws -> ResponseEnvelope {
        try await waitUntil("a frame arrives", timeout: timeout) { queue.hasFrameOrClosed }
        guard let bytes = queue.pop() else { throw TimedOut(description: "the server closed the connection") }
        return try ResponseEnvelope(serializedBytes: bytes)
    }

    /// True when the server closes the connection with nothing more sent; false when a frame comes.
    func isClosedByServer(timeout: Duration = .seconds(10)) async throws -> Bool {
        try await waitUntil("a frame or the close", timeout: timeout) { queue.hasFrameOrClosed }
        return queue.pop() == nil
    }

    func close() async {
        try? await channel.close()
    }
}

final class FrameQueue: Sendable {
    private let state = NIOLockedValueBox((frames: CircularBuffer<[UInt8]>(), closed: false))

    var hasFrameOrClosed: Bool { state.withLockedValue { !$0.frames.isEmpty || $0.closed } }
    func push(_ frame: [UInt8]) { state.withLockedValue { $0.frames.append(frame) } }
    func pop() -> [UInt8]? { state.withLockedValue { $0.frames.popFirst() } }
    func close() { state.withLockedValue { $0.closed = true } }
}

private final class FrameCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let queue: FrameQueue

    init(queue: FrameQueue) {
        self.queue = queue
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.push(Array(unwrapInboundIn(data).readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.close()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A 4-byte big-endian length, then the bytes.
func frame(_ body: [UInt8]) -> [UInt8] {
    let length = UInt32(body.count)
    return [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + body
}

func encodeRequest(_ request: RequestEnvelope) throws -> [UInt8] {
    try request.serializedBytes()
}

let getStatusPath = OZmapIntegration.Method.GetStatus.path



