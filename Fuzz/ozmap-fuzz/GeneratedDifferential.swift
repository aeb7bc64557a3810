// Differential check of the code generated from the proto (issue 12) against the
// descriptor-driven codec: on any payload, each generated request type accepts exactly
// the bytes the codec accepts and reads the same values (what it writes back, the
// codec reads as it read the input).
import ArcholtOZmapV1
import OZmapRPC

func checkGeneratedDecoders(_ payload: [UInt8]) {
    func open<Method: WireMethod>(_ method: Method.Type) {
        checkGenerated(Method.Input.self, payload)
    }
    for method in OZmapIntegration.Method.all { open(method) }
}

func checkGenerated<Message: WireMessage>(_ type: Message.Type, _ bytes: [UInt8]) {
    let described = codec.decodeOrNil(bytes, as: Message.protoName)
    let generated: Message
    do {
        generated = try Message(serializedBytes: bytes)
    } catch {
        if described != nil { violated("generated \(Message.protoName) refused bytes the codec accepts: \(error)", bytes) }
        return
    }
    guard let described else { violated("generated \(Message.protoName) accepted bytes the codec refuses", bytes) }
    do {
        let rewritten = try codec.decode(generated.serializedBytes(), as: Message.protoName)
        guard same(rewritten, described) else {
            violated("generated \(Message.protoName) read other values than the codec: \(rewritten) vs \(described)", bytes)
        }
    } catch {
        violated("a generated \(Message.protoName) does not re-encode: \(error)", bytes)
    }
}
