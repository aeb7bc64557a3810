import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// `metrics_listen`: GET /metrics answers the metrics as Prometheus text (what GetMetrics
/// answers), anything else 404. A swift-service-lifecycle `Service` in the Daemon's list: it
/// binds when the group starts, and closes its listener and connections on shutdown. Plain
/// HTTP on the address the operator gave (127.0.0.1:9464 by convention), never a default one.
public final class MetricsHTTPServer: Service, Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private struct State: Sendable {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var stopped = false
        /// nil once listening (or failed): callers of `waitUntilListening` then return at once.
        var waiters: [CheckedContinuation<Int, any Error>]? = []
        var outcome: Result<Int, any Error>?
    }

    public let address: MetricsListenAddress
    private let render: @Sendable () -> String
    private let logger: Logger
    private let state = Mutex(State())

    public init(address: MetricsListenAddress, logger: Logger, render: @escaping @Sendable () -> String) {
        self.address = address
        self.render = render
        self.logger = logger
    }

    /// The bound port (the configured one, or the one the system picked for port 0), once listening.
    public func waitUntilListening() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { state -> Result<Int, any Error>? in
                guard state.waiters != nil else { return state.outcome }
                state.waiters!.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    private func settle(_ outcome: Result<Int, any Error>) {
        let waiters = state.withLock { state in
            defer { state.waiters = nil; state.outcome = outcome }
            return state.waiters ?? []
        }
        for waiter in waiters { waiter.resume(with: outcome) }
    }

    public func run() async throws {
        let render = self.render
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                }
            }
        let listener: any Channel
        do {
            listener = try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            let failure = DaemonConfiguration.Error(description: "metrics_listen \(address): cannot listen: \(error)")
            settle(.failure(failure))
            throw failure
        }
        let port = listener.localAddress?.port ?? address.port
        let stopped = state.withLock { state -> Bool in
            state.listener = listener
            return state.stopped
        }
        settle(.success(port))
        logger.info("metrics listening", metadata: ["metrics_listen": "\(address.host):\(port)", "path": "/metrics"])
        if !stopped { try? await gracefulShutdown() }
        await close()
    }

    private func close() async {
        let (listener, connections) = state.withLock { state -> ((any Channel)?, [any Channel]) in
            state.stopped = true
            defer { state.listener = nil; state.connections.removeAll() }
            return (state.listener, Array(state.connections.values))
        }
        try? await listener?.close()
        for connection in connections { try? await connection.close() }
    }

    private func track(_ channel: any Channel) {
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

/// One connection: GET /metrics (a query string is ignored) renders off the event loop (the outbox
/// gauges read SQLite) and answers with Content-Length; keep-alive follows the request.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> String
    private var requestHead: HTTPRequestHead?

    init(render: @escaping @Sendable () -> String) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestHead = head
        case .body:
            break // no route takes a body
        case .end:
            guard let head = requestHead else { return }
            requestHead = nil
            let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard head.method == .GET, path == "/metrics" else {
                respond(status: .notFound, contentType: "text/plain; charset=utf-8",
                        body: "not found: GET /metrics serves ozmapd's metrics\n", head: head, context: context)
                return
            }
            let render = self.render
            context.eventLoop.makeFutureWithTask { render() }
                .assumeIsolated()
                .whenSuccess { text in
                    self.respond(status: .ok, contentType: MetricsHTTPServer.contentType, body: text, head: head, context: context)
                }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(status: HTTPResponseStatus, contentType: String, body: String, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(buffer.readableBytes)")])
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Where `metrics_listen` binds: an IP address the operator gave (IPv4, or IPv6 in brackets) or
/// `localhost`, and a port (0: any free one, for tests).
public struct MetricsListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`; nil for anything else.
    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":"), (try? SocketAddress(ipAddress: String(host), port: 0)) != nil else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard host == "localhost" || (!host.contains(":") && (try? SocketAddress(ipAddress: String(host), port: 0)) != nil) else { return nil }
        }
        guard let port = Int(portText), (0...65_535).contains(port), portText.allSatisfy(\.isNumber) else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
