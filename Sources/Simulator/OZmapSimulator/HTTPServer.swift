import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The listening socket and its connections, on NIO's shared multi-threaded event loops.
final class HTTPServer: Sendable {
    private struct State: Sendable {
        var listener: Channel?
        var connections: [ObjectIdentifier: Channel] = [:]
        var stopped = false
    }

    private let engine: SimulatorEngine
    private let state = Mutex(State())

    init(engine: SimulatorEngine) {
        self.engine = engine
    }

    /// Binds and returns the bound port.
    func start(host: String, port: Int) async throws -> Int {
        let engine = self.engine
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(engine: engine))
                }
            }
        let listener = try await bootstrap.bind(host: host, port: port).get()
        let alreadyStarted = state.withLock { state -> Bool in
            guard state.listener == nil, !state.stopped else { return true }
            state.listener = listener
            return false
        }
        if alreadyStarted {
            try? await listener.close()
            throw SimulatorError(status: 500, message: "the simulator was already started or stopped")
        }
        guard let boundPort = listener.localAddress?.port else {
            throw SimulatorError(status: 500, message: "the listening socket has no port")
        }
        return boundPort
    }

    /// Closes the listener, then every open connection.
    func stop() async throws {
        await close(forGood: true)
    }

    /// Closes the listener and every connection, as an unreachable OZmap would
    /// (connection refused); `start` on the same port listens again.
    func suspend() async {
        await close(forGood: false)
    }

    private func close(forGood: Bool) async {
        let (listener, connections) = state.withLock { state -> (Channel?, [Channel]) in
            if forGood { state.stopped = true }
            defer {
                state.listener = nil
                state.connections.removeAll()
            }
            return (state.listener, Array(state.connections.values))
        }
        if let listener {
            try? await listener.close()
        }
        for connection in connections {
            try? await connection.close()
        }
    }

    private func track(_ channel: Channel) {
        let key = ObjectIdentifier(channel)
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.connections[key] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { _ = $0.connections.removeValue(forKey: key) }
        }
    }
}
