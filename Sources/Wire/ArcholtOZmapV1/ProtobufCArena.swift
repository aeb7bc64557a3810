import CProtobufC
import Foundation

/// C memory for one message being packed; freed when the arena goes.
final class ProtobufCArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { blocks.forEach { free($0) } }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let block = calloc(max(count, 1), MemoryLayout<T>.stride)!
        blocks.append(block)
        return block.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// nil for "": protobuf-c skips a proto3 string that is NULL or empty.
    func string(_ text: String, _ field: StaticString) throws(WireMessageError) -> UnsafeMutablePointer<CChar>? {
        if text.isEmpty { return nil }
        let utf8 = text.utf8
        if utf8.contains(0) {
            throw WireMessageError(field: "\(field)", reason: "contains a NUL character")
        }
        let copy = allocate(CChar.self, count: utf8.count + 1)
        _ = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(copy).assumingMemoryBound(to: UInt8.self), count: utf8.count).initialize(from: utf8)
        return copy
    }

    /// Never nil: a oneof member is packed only when its pointer is set, "" included.
    func presentString(_ text: String, _ field: StaticString) throws(WireMessageError) -> UnsafeMutablePointer<CChar> {
        try string(text, field) ?? allocate(CChar.self, count: 1)
    }

    func strings(_ texts: [String], _ field: StaticString) throws(WireMessageError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !texts.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: texts.count)
        for (index, text) in texts.enumerated() {
            // A repeated string's elements are never NULL to protobuf-c.
            do {
                array[index] = try presentString(text, field)
            } catch {
                throw WireMessageError(field: "\(field)[\(index)]", reason: error.reason)
            }
        }
        return (texts.count, array)
    }

    func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let copy = allocate(UInt8.self, count: bytes.count)
        copy.update(from: bytes, count: bytes.count)
        return ProtobufCBinaryData(len: bytes.count, data: copy)
    }

    /// Never a NULL `data`: a oneof member is packed only when it points somewhere, empty included.
    func presentBytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        bytes.isEmpty ? ProtobufCBinaryData(len: 0, data: allocate(UInt8.self, count: 1)) : self.bytes(bytes)
    }

    func bytesList(_ list: [[UInt8]]) -> (Int, UnsafeMutablePointer<ProtobufCBinaryData>?) {
        guard !list.isEmpty else { return (0, nil) }
        let array = allocate(ProtobufCBinaryData.self, count: list.count)
        for (index, element) in list.enumerated() { array[index] = bytes(element) }
        return (list.count, array)
    }

    func scalars<Value, C>(_ values: [Value], _ convert: (Value) -> C) -> (Int, UnsafeMutablePointer<C>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(C.self, count: values.count)
        for (index, value) in values.enumerated() { array[index] = convert(value) }
        return (values.count, array)
    }

    /// A nested message's struct, here and filled. An error names the field inside it.
    func message<M: ProtobufCMessageMapping>(_ value: M, _ field: StaticString) throws(WireMessageError) -> UnsafeMutablePointer<M.CMessage> {
        do {
            return try filled(value)
        } catch {
            throw error.inside("\(field)")
        }
    }

    func messages<M: ProtobufCMessageMapping>(_ values: [M], _ field: StaticString) throws(WireMessageError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            do {
                array[index] = try filled(value)
            } catch {
                throw error.inside("\(field)[\(index)]")
            }
        }
        return (values.count, array)
    }

    /// `value`'s struct, here, initialised as protoc-c initialises it and filled.
    func filled<M: ProtobufCMessageMapping>(_ value: M) throws(WireMessageError) -> UnsafeMutablePointer<M.CMessage> {
        let message = allocate(M.CMessage.self, count: 1)
        M.initialize(message)
        try value.fill(&message.pointee, self)
        return message
    }
}
