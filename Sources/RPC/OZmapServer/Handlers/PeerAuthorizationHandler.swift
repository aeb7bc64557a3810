import NIOCore
import OZmapRPC

/// Lets a connection through only when its peer passes the policy; otherwise
/// answers PERMISSION_DENIED (call_id 0) and closes it before any call runs.
final class PeerAuthorizationHandler: ChannelInboundHandler {
    typealias InboundIn = RequestEnvelope
    typealias InboundOut = RequestEnvelope
    typealias OutboundOut = ResponseEnvelope

    private let denial: RPCError?

    init(peer: PeerIdentity?, policy: PeerPolicy) {
        denial = policy.denial(for: peer)
    }

    func channelActive(context: ChannelHandlerContext) {
        if let denial {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.connectionError(denial))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard denial == nil else { return }
        context.fireChannelRead(data)
    }
}
