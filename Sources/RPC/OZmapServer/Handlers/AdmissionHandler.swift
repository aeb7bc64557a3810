import NIOCore
import ArcholtOZmapV1
import GRPCCore

/// Admits a connection, or refuses it: answers the reason (PERMISSION_DENIED for
/// a peer outside the allowlist, RESOURCE_EXHAUSTED when the server is full)
/// with call_id 0 and closes it before any call runs.
final class AdmissionHandler: ChannelInboundHandler {
    typealias InboundIn = RequestEnvelope
    typealias InboundOut = RequestEnvelope

    private let refusal: GRPCCore.RPCError?

    init(refusal: GRPCCore.RPCError?) {
        self.refusal = refusal
    }

    func channelActive(context: ChannelHandlerContext) {
        if let refusal { context.refuseConnection(refusal) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refusal == nil else { return }
        context.fireChannelRead(data)
    }
}
