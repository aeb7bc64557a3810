import NIOCore
import ArcholtOZmapV1
import GRPCCore

extension ChannelHandlerContext {
    /// Answers a connection-level error (call_id 0), then closes the connection once it is written.
    func refuseConnection(_ error: GRPCCore.RPCError) {
        let channel = self.channel
        writeAndFlush(NIOAny(ResponseEnvelope.connectionError(error))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
