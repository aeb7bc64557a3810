import Logging
import NIOCore
import ArcholtOZmapV1
import GRPCCore
import OZmapWire

/// The end of the pipeline: a connection that breaks the protocol (an
/// oversized frame, an undecodable envelope, a frame that stalls) gets one status with call_id 0
/// and is closed. Other connections never notice.
final class ProtocolErrorHandler: ChannelInboundHandler {
    typealias InboundIn = Never

    private let logger: Logger
    private var closing = false

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let rpcError: GRPCCore.RPCError
        switch error {
        case let error as FrameTooLargeError: rpcError = error.rpcError
        case let error as UndecodableEnvelopeError: rpcError = error.rpcError
        case let error as IncompleteFrameTimeoutError: rpcError = error.rpcError
        case is ByteToMessageDecoderError:
            return // bytes that arrived after the connection was condemned
        case let error as WireMessageError:
            // Only a response this server built can fail to encode: a bug, never the peer's fault.
            logger.error("could not encode a response; closing the connection", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        default:
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        guard !closing else { return }
        closing = true
        logger.notice("closing connection after a protocol error", metadata: ["status": "\(rpcError)"])
        context.refuseConnection(rpcError)
    }
}
