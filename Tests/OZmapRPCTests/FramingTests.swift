import NIOCore
import NIOEmbedded
import OZmapWire
import Testing

/// The frame decoder alone, fed by an embedded channel.
@Suite(.timeLimit(.minutes(3))) struct FramingTests {
    private func channel(maximum: Int = 64) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameLength: maximum)))
        return channel
    }

    private func frame(_ body: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(body.count), endianness: .big)
        buffer.writeBytes(body)
        return Array(buffer.readableBytesView)
    }

    @Test func byteByByteAndManyPerWrite() throws {
        let channel = try channel()
        let bytes = frame([1, 2, 3]) + frame([]) + frame([4])
        for byte in bytes.prefix(5) {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil, "a partial frame is held")
        try channel.writeInbound(ByteBuffer(bytes: bytes.dropFirst(5)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(), "a zero-length frame is a frame")
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [4]))
        _ = try channel.finish()
    }

    @Test func exactlyTheMaximumPassesAndOneMoreFailsFromTheHeaderAlone() throws {
        let channel = try channel(maximum: 8)
        try channel.writeInbound(ByteBuffer(bytes: frame(Array(repeating: 7, count: 8))))
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 8)
        #expect {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 9]))
        } throws: { error in
            (error as? FrameTooLargeError) == FrameTooLargeError(length: 9, maximum: 8)
        }
        _ = try? channel.finish()
    }

    @Test func aFrameThatStallsFailsAfterItsTimeout() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(
            LengthPrefixedFrameDecoder(maximumFrameLength: 64, incompleteFrameTimeout: .milliseconds(100))))
        try channel.writeInbound(ByteBuffer(bytes: frame([1]) + [0, 0, 0, 5, 9]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1]))
        (channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .milliseconds(99))
        #expect(throws: Never.self) { try channel.throwIfErrorCaught() }
        (channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .milliseconds(1))
        #expect(throws: IncompleteFrameTimeoutError.self) { try channel.throwIfErrorCaught() }
        _ = try? channel.finish()
    }

    @Test func encoderPrefixesTheLength() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(LengthPrefixedFrameEncoder()))
        try channel.writeOutbound(ByteBuffer(bytes: [9, 8, 7]))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [0, 0, 0, 3, 9, 8, 7]))
        _ = try channel.finish()
    }
}
