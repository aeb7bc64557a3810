import Foundation
import NIOCore
import NIOHTTP1

/// One connection's HTTP/1.1 handler: gathers a request, hands it to the engine, waits the
/// injected latency on the event loop (never blocking it), and answers with Content-Length,
/// or closes the connection for a dropped reply. Keep-alive follows the request.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBodyBytes = 8 * 1024 * 1024

    private let engine: SimulatorEngine
    private var requestHead: HTTPRequestHead?
    private var body = ByteBuffer()
    private var bodyTooLarge = false

    init(engine: SimulatorEngine) {
        self.engine = engine
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestHead = head
            body.clear()
            bodyTooLarge = false
            // libcurl sends `Expect: 100-continue` for large bodies and would wait for this.
            if head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                let interim = HTTPResponseHead(version: head.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
            }
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head = requestHead else { return }
            requestHead = nil
            handle(head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        guard !bodyTooLarge else {
            write(.error(status: 413, "request body larger than \(Self.maxBodyBytes) bytes"), head, keepAlive, context)
            return
        }
        let request = APIRequest(
            method: head.method.rawValue, uri: head.uri,
            headers: head.headers.map { HTTPHeaderField(name: $0.name, value: $0.value) },
            body: Array(body.readableBytesView))
        switch engine.admit(request) {
        case .immediate(let response):
            write(response, head, keepAlive, context)
        case .api(let decision):
            let finish = {
                switch self.engine.complete(request, verdict: decision.verdict) {
                case .respond(let response):
                    self.write(response, head, keepAlive, context)
                case .dropReply:
                    context.close(promise: nil)
                }
            }
            if decision.latencyMilliseconds > 0 {
                let token = engine.requestLog.hold(request)
                context.eventLoop.assumeIsolated().scheduleTask(
                    in: .milliseconds(Int64(decision.latencyMilliseconds))
                ) {
                    self.engine.requestLog.release(token)
                    finish()
                }
            } else {
                finish()
            }
        }
    }

    private func write(
        _ response: APIResponse, _ requestHead: HTTPRequestHead, _ keepAlive: Bool, _ context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        for field in response.headers {
            headers.add(name: field.name, value: field.value)
        }
        if response.status != 204 {
            headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            headers.add(name: "Content-Length", value: String(response.body.count))
        }
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        headers.add(name: "Date", value: httpDate()) // as every HTTP server sends it (ozmapctl doctor reads the clock skew)
        let head = HTTPResponseHead(
            version: requestHead.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !response.body.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

/// Now as an HTTP date (RFC 9110 IMF-fixdate): "Wed, 02 Dec 2026 01:40:00 GMT".
private func httpDate() -> String {
    var now = time(nil)
    var parts = tm()
    gmtime_r(&now, &parts)
    var buffer = [CChar](repeating: 0, count: 64)
    let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
