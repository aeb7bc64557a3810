// libFuzzer target over every decoder ozmapd runs on bytes from the socket:
// the length-prefixed frame decoder, the envelope codec handler, and each
// request message (protobuf-c into the generated Swift messages, and into the
// descriptor-driven ProtoValue that `ozmapctl call` and `--json` read).
// docs/FUZZING.md explains how to run it (`make fuzz`, `make fuzz-check`).
//
// Built with -DOZMAP_FUZZ and -sanitize=fuzzer,address, main hands over to
// libFuzzer (LLVMFuzzerRunDriver: SwiftPM renames an executable's main, so
// libFuzzer's own main cannot be used). A plain `swift build` compiles the
// same checks into a command that replays files and writes the seed corpus,
// so the target keeps compiling with the rest of the package.
import CLibFuzzer
import CProtobufC
import Foundation
import NIOCore
import NIOEmbedded
import OZmapProtoC
import GRPCCore
import ArcholtOZmapV1
import OZmapRPC
import OZmapWire

/// Small, so oversized headers and frames of exactly the maximum are easy to reach.
let fuzzMaximumFrameLength = 512
let frameTimeout = TimeAmount.seconds(10)
let maximumFramesChecked = 4
let codec = ProtobufCCodec.ozmap

// MARK: invariants

/// An invariant broke: crash, so libFuzzer saves the input.
func violated(_ what: String, _ input: [UInt8]) -> Never {
    let hex = input.prefix(64).map { String($0, radix: 16) }.joined(separator: " ")
    fatalError("ozmap-fuzz invariant violated: \(what)\n  input (\(input.count) bytes, first 64): \(hex)")
}

/// Runs every check on one input: the input is a byte stream as a client would send it.
func fuzzOne(_ input: [UInt8]) {
    let reference = ReferenceFrames(input, maximum: fuzzMaximumFrameLength)
    // The decoder must split the stream the same way however the bytes arrive.
    checkFraming(input, chunks: [input], reference)
    checkFraming(input, chunks: chunked(input), reference)

    let envelopes = EmbeddedChannel(handler: EnvelopeCodecHandler<RequestEnvelope, ResponseEnvelope>.server())
    // Frames are independent: checking a few distinct ones per input keeps runs
    // fast when an input splits into hundreds of tiny frames.
    var seen: Set<[UInt8]> = []
    for frame in reference.frames where seen.count < maximumFramesChecked && seen.insert(frame).inserted {
        checkResponseEnvelope(frame)
        if let envelope = checkRequestEnvelope(frame, through: envelopes) {
            checkPayload(envelope.payload)
        } else if seen.count == 1 {
            // A first frame that is no envelope is tried as each request itself: mutations
            // there reach the payload decoders without keeping an envelope's lengths right.
            checkPayload(frame)
        }
    }
    _ = try? envelopes.finish()
}

// MARK: framing

/// How a correct decoder splits `bytes`: whole frames, then either an oversized header or a partial frame.
struct ReferenceFrames {
    var frames: [[UInt8]] = []
    var tooLarge: Int?
    /// Bytes after the last whole frame when no header was oversized.
    var pending = 0

    init(_ bytes: [UInt8], maximum: Int) {
        var offset = 0
        while bytes.count - offset >= Framing.headerLength {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            if length > maximum {
                tooLarge = length
                return
            }
            guard bytes.count - offset - 4 >= length else { break }
            frames.append(Array(bytes[offset + 4..<offset + 4 + length]))
            offset += 4 + length
        }
        pending = bytes.count - offset
    }
}

/// The input cut at points derived from its own bytes, so each input always splits the same way.
func chunked(_ bytes: [UInt8]) -> [[UInt8]] {
    var state = bytes.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    var chunks: [[UInt8]] = []
    var offset = 0
    while offset < bytes.count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let size = Int(state >> 33) % 9 + 1
        chunks.append(Array(bytes[offset..<min(offset + size, bytes.count)]))
        offset += size
    }
    return chunks
}

func checkFraming(_ input: [UInt8], chunks: [[UInt8]], _ reference: ReferenceFrames) {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(
        LengthPrefixedFrameDecoder(maximumFrameLength: fuzzMaximumFrameLength, incompleteFrameTimeout: frameTimeout)))
    var tooLarge: FrameTooLargeError?
    for chunk in chunks {
        do {
            try channel.writeInbound(channel.allocator.buffer(bytes: chunk))
        } catch let error as FrameTooLargeError {
            tooLarge = error
            break
        } catch {
            violated("the frame decoder threw \(error)", input)
        }
    }
    var frames: [[UInt8]] = []
    do {
        while let frame = try channel.readInbound(as: ByteBuffer.self) { frames.append(Array(frame.readableBytesView)) }
    } catch {
        violated("reading decoded frames threw \(error)", input)
    }
    guard frames == reference.frames else {
        violated("decoded \(frames.map(\.count)) frame lengths, expected \(reference.frames.map(\.count))", input)
    }
    guard tooLarge.map(\.length) == reference.tooLarge, tooLarge.map({ $0.maximum == fuzzMaximumFrameLength }) ?? true else {
        violated("oversized header: got \(String(describing: tooLarge)), expected length \(String(describing: reference.tooLarge))", input)
    }
    if let tooLarge, tooLarge.rpcError.code != .resourceExhausted {
        violated("an oversized frame answers \(tooLarge.rpcError.code)", input)
    }
    if tooLarge == nil {
        // A partial frame, and only a partial frame, times out: not a moment early.
        let loop = channel.embeddedEventLoop
        loop.advanceTime(by: frameTimeout - .nanoseconds(1))
        do { try channel.throwIfErrorCaught() } catch { violated("error before the frame timeout: \(error)", input) }
        loop.advanceTime(by: .nanoseconds(1))
        do {
            try channel.throwIfErrorCaught()
            if reference.pending > 0 { violated("\(reference.pending) pending bytes never timed out", input) }
        } catch let error as IncompleteFrameTimeoutError {
            if reference.pending == 0 { violated("timed out with no frame begun", input) }
            if error.rpcError.code != .deadlineExceeded { violated("a stalled frame answers \(error.rpcError.code)", input) }
        } catch {
            violated("the frame timer raised \(error)", input)
        }
    }
    do {
        // EOF with a partial frame drops it quietly.
        guard case .clean = try channel.finish() else { violated("frames left after EOF", input) }
    } catch {
        violated("closing the decoder threw \(error)", input)
    }
}

// MARK: envelopes

/// The server's EnvelopeCodecHandler on one frame: a RequestEnvelope, or INVALID_ARGUMENT.
func checkRequestEnvelope(_ frame: [UInt8], through channel: EmbeddedChannel) -> RequestEnvelope? {
    do {
        try channel.writeInbound(channel.allocator.buffer(bytes: frame))
    } catch let error as UndecodableEnvelopeError {
        expectInvalidArgument(error.rpcError, frame, "undecodable RequestEnvelope")
        return nil
    } catch {
        violated("EnvelopeCodecHandler threw \(error)", frame)
    }
    let envelope: RequestEnvelope
    do {
        guard let decoded = try channel.readInbound(as: RequestEnvelope.self) else { violated("no envelope and no error", frame) }
        envelope = decoded
    } catch {
        violated("reading the envelope threw \(error)", frame)
    }
    checkAgainstWire(codec.decodeOrNil(frame, as: RequestEnvelope.protoName), frame, RequestEnvelope.protoName)
    checkGenerated(RequestEnvelope.self, frame)
    return envelope
}

/// What a client decodes from the server, checked the same way.
func checkResponseEnvelope(_ frame: [UInt8]) {
    checkMessage(frame, as: ResponseEnvelope.protoName)
    checkGenerated(ResponseEnvelope.self, frame)
}

// MARK: payloads

/// The payload as every request message of the service, whatever method the envelope named.
func checkPayload(_ payload: [UInt8]) {
    checkGeneratedDecoders(payload)
    for descriptor in codec.service.methods {
        checkMessage(payload, as: descriptor.requestType)
    }
}

/// protobuf-c decoding of `bytes` as `type`: INVALID_ARGUMENT, or a value that
/// matches the wire, re-encodes, and decodes again to itself.
func checkMessage(_ bytes: [UInt8], as type: String, then: (ProtoValue) -> Void = { _ in }) {
    let value: ProtoValue
    do {
        value = try codec.decode(bytes, as: type)
    } catch let error as RPCError {
        expectInvalidArgument(error, bytes, "decoding \(type)")
        return
    } catch {
        violated("decoding \(type) threw \(error)", bytes)
    }
    checkAgainstWire(value, bytes, type)
    let canonical: [UInt8]
    do {
        canonical = try codec.encode(value, as: type)
        let again = try codec.decode(canonical, as: type)
        guard same(again, value) else { violated("\(type) changed in a round trip: \(value) → \(again)", bytes) }
        guard try codec.encode(again, as: type) == canonical else { violated("\(type) re-encodes differently", bytes) }
    } catch {
        violated("a decoded \(type) does not round-trip: \(error)", bytes)
    }
    then(value)
}

/// A refusal of bytes (the codec's or the framed transport's): INVALID_ARGUMENT naming a field in its metadata.
func expectInvalidArgument(_ error: RPCError, _ input: [UInt8], _ what: @autoclosure () -> String) {
    let violations = error.violations
    guard error.code == .invalidArgument, !error.message.isEmpty, !violations.isEmpty,
          violations.allSatisfy({ !$0.field.isEmpty }) else {
        violated("\(what()) failed with \(error) (\(violations)), not INVALID_ARGUMENT naming a field", input)
    }
}

/// Equality with NaN equal to itself: a NaN that round-trips is not a change.
func same(_ a: ProtoValue, _ b: ProtoValue) -> Bool {
    switch (a, b) {
    case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
    case let (.list(x), .list(y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case let (.message(x), .message(y)):
        return x.fields.count == y.fields.count
            && zip(x.fields, y.fields).allSatisfy { $0.name == $1.name && same($0.value, $1.value) }
    default: return a == b
    }
}

extension ProtobufCCodec {
    func decodeOrNil(_ bytes: [UInt8], as type: String) -> ProtoValue? { try? decode(bytes, as: type) }
}

// MARK: an independent reading of the wire

/// Checks the decoded top-level string and bytes fields hold exactly the bytes
/// the wire carried (the last occurrence wins, as in protobuf): nothing
/// truncated or altered on the way from C to Swift.
func checkAgainstWire(_ value: ProtoValue?, _ bytes: [UInt8], _ type: String) {
    guard case .message(let message)? = value, let descriptor = messageDescriptors[type],
          let wire = lastLengthDelimited(bytes) else { return }
    for index in 0..<Int(descriptor.pointee.n_fields) {
        let field = descriptor.pointee.fields[index]
        guard field.label != PROTOBUF_C_LABEL_REPEATED, let raw = wire[field.id] else { continue }
        let name = String(cString: field.name)
        switch (field.type, message[name]) {
        case (PROTOBUF_C_TYPE_STRING, .string(let text)?):
            if Array(text.utf8) != raw { violated("\(type).\(name) decoded as \(text.debugDescription), the wire has \(raw)", bytes) }
        case (PROTOBUF_C_TYPE_BYTES, .bytes(let data)?):
            if data != raw { violated("\(type).\(name) decoded as \(data.count) bytes, the wire has \(raw.count)", bytes) }
        default:
            continue
        }
    }
}

/// protoc-c's descriptors are static C data, never written: safe to share.
nonisolated(unsafe) let messageDescriptors: [String: UnsafePointer<ProtobufCMessageDescriptor>] = {
    var descriptors: [String: UnsafePointer<ProtobufCMessageDescriptor>] = [:]
    let service = ozmap_service_descriptor()!
    var roots = [ozmap_request_envelope_descriptor()!, ozmap_response_envelope_descriptor()!]
    for index in 0..<Int(service.pointee.n_methods) { roots.append(service.pointee.methods[index].input) }
    for root in roots { descriptors[String(cString: root.pointee.name)] = root }
    return descriptors
}()

/// Field number → payload of its last length-delimited occurrence; nil when
/// the bytes are not a well-formed message (protobuf-c has the final word then).
func lastLengthDelimited(_ bytes: [UInt8]) -> [UInt32: [UInt8]]? {
    var fields: [UInt32: [UInt8]] = [:]
    var offset = 0
    func varint() -> UInt64? {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard offset < bytes.count, shift < 64 else { return nil }
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte & 0x80 == 0 { return result }
        }
        return nil
    }
    while offset < bytes.count {
        guard let tag = varint(), tag >> 3 > 0, tag >> 3 <= UInt64(UInt32.max) else { return nil }
        switch tag & 7 {
        case 0: guard varint() != nil else { return nil }
        case 1: offset += 8
        case 5: offset += 4
        case 2:
            guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
            fields[UInt32(tag >> 3)] = Array(bytes[offset..<offset + Int(length)])
            offset += Int(length)
        default: return nil
        }
        guard offset <= bytes.count else { return nil }
    }
    return fields
}

// MARK: entry points

#if OZMAP_FUZZ
/// The input callback; exported under libFuzzer's name because the fuzzer
/// runtime's own (unused) main refers to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#endif

/// `ozmap-fuzz --write-corpus DIR` writes the seeds. Otherwise, in the fuzz
/// build, libFuzzer takes the arguments (corpus directories, -runs=, ...);
/// in a plain build, `ozmap-fuzz FILE...` runs the checks on each file, to
/// reproduce a crash without sanitizers.
@main
struct OZmapFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-corpus", arguments.count == 2 {
            exit(writeCorpus(to: arguments[1]))
        }
        #if OZMAP_FUZZ
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzerTestOneInput))
        #else
        guard !arguments.isEmpty, !arguments.contains(where: { $0.hasPrefix("-") }) else {
            print("usage: ozmap-fuzz FILE... | ozmap-fuzz --write-corpus DIR")
            exit(2)
        }
        for path in arguments {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(1)
            }
            fuzzOne(Array(data))
            print("ok \(path)")
        }
        #endif
    }
}
