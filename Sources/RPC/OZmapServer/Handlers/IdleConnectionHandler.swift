import ArcholtOZmapV1
import NIOCore
import OZmapRPC

/// Closes a connection that has had no call in flight for `timeout`: a client
/// that connects and never calls, or never closes, does not hold a connection
/// slot (max_connections) for ever. Clients reconnect when they next need one.
final class IdleConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = RequestEnvelope
    typealias InboundOut = RequestEnvelope
    typealias OutboundIn = ResponseEnvelope
    typealias OutboundOut = ResponseEnvelope

    private let timeout: TimeAmount
    private var callsOpen = 0
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelActive(context: ChannelHandlerContext) {
        armTimer(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armTimer(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        callsOpen += 1
        timer?.cancel()
        timer = nil
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Every call is answered exactly once; call_id 0 answers belong to no call.
        if unwrapOutboundIn(data).callId != 0 {
            callsOpen = max(0, callsOpen - 1)
            if callsOpen == 0 { armTimer(context: context) }
        }
        context.write(data, promise: promise)
    }

    private func armTimer(context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }
}
