public import ArcholtOZmapV1
public import GRPCCore
public import NIOCore

/// The framing of the ozmapd wire protocol: a 4-byte big-endian length, then that many bytes.
public enum Framing {
    public static let headerLength = 4
    public static let defaultMaxFrameLength = 4 * 1024 * 1024
}

/// A frame announced a length over the maximum; its body was never read.
public struct FrameTooLargeError: Error, Hashable {
    public let length: Int
    public let maximum: Int

    public init(length: Int, maximum: Int) {
        self.length = length
        self.maximum = maximum
    }

    public var rpcError: RPCError {
        RPCError(code: .resourceExhausted, message: "frame of \(length) bytes exceeds the maximum of \(maximum) bytes; closing the connection")
    }
}

/// A frame began arriving and did not complete in time (a slow or stalled peer).
public struct IncompleteFrameTimeoutError: Error, Hashable {
    public let timeout: TimeAmount

    public var rpcError: RPCError {
        RPCError(code: .deadlineExceeded, message: "a frame took more than \(timeout.nanoseconds / 1_000_000) ms to arrive; closing the connection")
    }
}

/// Splits the byte stream into frames. A header announcing more than the
/// maximum fails at once, before any of the body is buffered; a frame that
/// has begun must be complete within `incompleteFrameTimeout`.
public struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maximumFrameLength: Int
    public let incompleteFrameTimeout: TimeAmount?
    private var timer: Scheduled<Void>?

    public init(maximumFrameLength: Int = Framing.defaultMaxFrameLength, incompleteFrameTimeout: TimeAmount? = nil) {
        self.maximumFrameLength = maximumFrameLength
        self.incompleteFrameTimeout = incompleteFrameTimeout
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            armTimer(context: context, pending: buffer.readableBytes > 0)
            return .needMoreData
        }
        guard Int(length) <= maximumFrameLength else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            throw FrameTooLargeError(length: Int(length), maximum: maximumFrameLength)
        }
        guard buffer.readableBytes >= Framing.headerLength + Int(length) else {
            armTimer(context: context, pending: true)
            return .needMoreData
        }
        disarmTimer()
        buffer.moveReaderIndex(forwardBy: Framing.headerLength)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is dropped: its sender is gone and cannot be answered.
        while try decode(context: context, buffer: &buffer) == .continue {}
        disarmTimer()
        return .needMoreData
    }

    public mutating func decoderRemoved(context: ChannelHandlerContext) {
        disarmTimer()
    }

    /// Starts the clock when a frame begins; it keeps running until the frame is complete.
    private mutating func armTimer(context: ChannelHandlerContext, pending: Bool) {
        guard pending, timer == nil, let timeout = incompleteFrameTimeout else { return }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            bound.value.fireErrorCaught(IncompleteFrameTimeoutError(timeout: timeout))
        }
    }

    private mutating func disarmTimer() {
        timer?.cancel()
        timer = nil
    }
}

/// Prefixes each outbound frame with its length.
public struct LengthPrefixedFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.reserveCapacity(Framing.headerLength + data.readableBytes)
        out.writeInteger(UInt32(data.readableBytes), endianness: .big)
        out.writeImmutableBuffer(data)
    }
}

/// A frame that is not a valid envelope.
public struct UndecodableEnvelopeError: Error {
    public let rpcError: RPCError
}

/// Turns frames into envelopes and envelopes into frames with the generated protoc-c mapping:
/// `In` is what the peer sends (RequestEnvelope on the server), `Out` what this side sends.
public final class EnvelopeCodecHandler<In: WireMessage, Out: WireMessage>: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = In
    public typealias OutboundIn = Out
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            let envelope = try In(serializedBytes: Array(frame.readableBytesView))
            context.fireChannelRead(wrapInboundOut(envelope))
        } catch {
            context.fireErrorCaught(UndecodableEnvelopeError(rpcError: RPCError(
                code: .invalidArgument, message: "undecodable \(In.protoName): \(error); closing the connection",
                metadata: FieldViolation.metadata([FieldViolation(field: error.field, description: error.reason)]))))
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            let bytes = try unwrapOutboundIn(data).serializedBytes()
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: promise)
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }
}

extension EnvelopeCodecHandler where In == RequestEnvelope, Out == ResponseEnvelope {
    /// The server side: requests in, responses out.
    public static func server() -> EnvelopeCodecHandler { EnvelopeCodecHandler() }
}

extension EnvelopeCodecHandler where In == ResponseEnvelope, Out == RequestEnvelope {
    /// The client side: responses in, requests out.
    public static func client() -> EnvelopeCodecHandler { EnvelopeCodecHandler() }
}
