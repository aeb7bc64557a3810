import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import OZmapSimulator

/// A response as the tests see it.
struct TestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> SimulatorJSON {
        try SimulatorJSON.parse(bytes: body)
    }

    func header(_ name: String) -> String? {
        headers.first(name: name)
    }
}

enum TestClientError: Error, Equatable {
    /// The server closed the connection without answering.
    case closedWithoutReply
}

/// A minimal HTTP/1.1 client over one keep-alive connection, on NIO.
final class HTTPTestClient: Sendable {
    private let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    static func connect(port: Int) async throws -> HTTPTestClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return HTTPTestClient(channel: channel)
    }

    func send(
        _ method: String, _ uri: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> TestResponse {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri)
        head.headers.add(name: "Host", value: "127.0.0.1")
        for (name, value) in headers {
            head.headers.add(name: name, value: value)
        }
        if let body {
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        let promise = channel.eventLoop.makePromise(of: TestResponse.self)
        channel.writeAndFlush(OutgoingRequest(head: head, body: body, promise: promise), promise: nil)
        return try await promise.futureResult.get()
    }

    var isActive: Bool { channel.isActive }

    func close() async {
        try? await channel.close()
    }
}

private struct OutgoingRequest: Sendable {
    var head: HTTPRequestHead
    var body: [UInt8]?
    var promise: EventLoopPromise<TestResponse>
}

/// Writes requests and completes their promises in order with the responses.
private final class ResponseCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = OutgoingRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<EventLoopPromise<TestResponse>>()
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.promise)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let bytes = request.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let responseHead = head, let promise = waiting.popFirst() else { return }
            head = nil
            promise.succeed(TestResponse(status: Int(responseHead.status.code), headers: responseHead.headers, body: body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(TestClientError.closedWithoutReply)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        while let promise = waiting.popFirst() {
            promise.fail(error)
        }
    }
}
