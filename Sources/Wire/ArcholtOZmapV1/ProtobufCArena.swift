import CProtobufC
import Foundation

/// The C memory of one message on its way through libprotobuf-c: the protoc-c structs,
/// strings and arrays the generated code fills before packing, or everything
/// libprotobuf-c allocates while unpacking. Allocating moves an offset through a chunk
/// (4 KiB first, then twice the last); nothing is freed on its own, the chunks go when
/// the arena does. A `calloc` and a `free` for each string, array and nested message cost
/// 1.7 of the 4.7 µs of coding a GetStatusResponse both ways (docs/PERFORMANCE.md,
/// "Message coding").
///
/// Noncopyable, so its memory is freed exactly once, when it goes out of scope. Whatever
/// points into it (a filled or unpacked struct) must not outlive it: callers hold it with
/// `withExtendedLifetime` while they use such a pointer. AddressSanitizer sees a chunk,
/// not each allocation in it: what reads this memory goes by the counts and lengths
/// protobuf-c and the code below wrote, as before.
struct ProtobufCArena: ~Copyable {
    /// The current chunk; each begins with the address of the one before it (nil for the first).
    private var chunk: UnsafeMutableRawPointer?
    /// Bytes of `chunk` in use, its header included.
    private var used = 0
    private var capacity = 0

    /// The chunk header, padded to malloc's alignment so the space after it keeps it.
    private static let header = 16
    private static let firstChunk = 4096
    /// What every allocation for libprotobuf-c gets, as from malloc: it cannot say what it stores.
    static let cAlignment = 16

    init() {}

    deinit {
        var next = chunk
        while let current = next {
            next = current.load(as: UnsafeMutableRawPointer?.self)
            free(current)
        }
    }

    /// `byteCount` bytes, uninitialised, aligned to `alignment` (a power of two, at most 16);
    /// nil only when malloc fails.
    mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
        precondition(alignment > 0 && alignment <= Self.header && alignment & (alignment - 1) == 0)
        // More than any message could need (frames are far smaller): keeps the sums below in range.
        guard byteCount >= 0, byteCount <= Int.max / 4 else { return nil }
        var start = (used + alignment - 1) & ~(alignment - 1)
        if chunk == nil || byteCount > capacity - start {
            let size = max(capacity * 2, Self.firstChunk, Self.header + byteCount)
            guard let next = malloc(size) else { return nil }
            next.storeBytes(of: chunk, as: UnsafeMutableRawPointer?.self)
            chunk = next
            capacity = size
            start = Self.header
        }
        used = start + byteCount
        return chunk! + start
    }

    /// Uninitialised room for `count` values of a C type.
    mutating func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        guard let memory = allocate(byteCount: MemoryLayout<T>.stride * count, alignment: MemoryLayout<T>.alignment) else {
            fatalError("out of memory coding a message")
        }
        return memory.bindMemory(to: T.self, capacity: count)
    }

    // MARK: unpacking

    /// libprotobuf-c unpacks `bytes` with its memory from this arena (so there is no
    /// `free_unpacked`: its frees do nothing, the arena frees everything). What it
    /// returns lives as long as the arena. A failed unpack leaves its memory here too.
    mutating func unpack<C>(
        _ bytes: [UInt8],
        _ unpack: (UnsafeMutablePointer<ProtobufCAllocator>, UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<C>?
    ) -> UnsafeMutablePointer<C>? {
        withUnsafeMutablePointer(to: &self) { arena in
            var allocator = ProtobufCAllocator(
                alloc: { data, size in
                    data!.assumingMemoryBound(to: ProtobufCArena.self).pointee.allocate(byteCount: size, alignment: ProtobufCArena.cAlignment)
                },
                free: { _, _ in },
                allocator_data: UnsafeMutableRawPointer(arena)
            )
            return bytes.withUnsafeBufferPointer { unpack(&allocator, $0) }
        }
    }

    // MARK: filling a struct to pack

    /// nil for "": protobuf-c skips a proto3 string that is NULL or empty.
    mutating func string(_ text: String, _ field: StaticString) throws(WireMessageError) -> UnsafeMutablePointer<CChar>? {
        text.isEmpty ? nil : try copy(text, field)
    }

    /// Never nil: a oneof member is packed only when its pointer is set, "" included.
    mutating func presentString(_ text: String, _ field: StaticString) throws(WireMessageError) -> UnsafeMutablePointer<CChar> {
        try copy(text, field)
    }

    mutating func strings(_ texts: [String], _ field: StaticString) throws(WireMessageError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !texts.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: texts.count)
        for (index, text) in texts.enumerated() {
            // A repeated string's elements are never NULL to protobuf-c.
            do {
                (array + index).initialize(to: try copy(text, field))
            } catch {
                throw WireMessageError(field: "\(field)[\(index)]", reason: error.reason)
            }
        }
        return (texts.count, array)
    }

    /// The text NUL-terminated, as protobuf-c reads it; a NUL inside would cut it short there.
    private mutating func copy(_ text: String, _ field: StaticString) throws(WireMessageError) -> UnsafeMutablePointer<CChar> {
        var text = text
        let count = text.utf8.count
        let copy = allocate(CChar.self, count: count + 1)
        text.withUTF8 { utf8 in
            // Always equal (String's UTF-8 is the view's); checked so that nothing can write past `copy`.
            precondition(utf8.count == count)
            if let source = utf8.baseAddress { UnsafeMutableRawPointer(copy).copyMemory(from: source, byteCount: count) }
        }
        copy[count] = 0
        if count > 0, memchr(copy, 0, count) != nil {
            throw WireMessageError(field: "\(field)", reason: "contains a NUL character")
        }
        return copy
    }

    mutating func bytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let copy = allocate(UInt8.self, count: bytes.count)
        copy.initialize(from: bytes, count: bytes.count)
        return ProtobufCBinaryData(len: bytes.count, data: copy)
    }

    /// Never a NULL `data`: a oneof member is packed only when it points somewhere, empty included.
    mutating func presentBytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        bytes.isEmpty ? ProtobufCBinaryData(len: 0, data: allocate(UInt8.self)) : self.bytes(bytes)
    }

    mutating func bytesList(_ list: [[UInt8]]) -> (Int, UnsafeMutablePointer<ProtobufCBinaryData>?) {
        guard !list.isEmpty else { return (0, nil) }
        let array = allocate(ProtobufCBinaryData.self, count: list.count)
        for (index, element) in list.enumerated() { (array + index).initialize(to: bytes(element)) }
        return (list.count, array)
    }

    mutating func scalars<Value, C>(_ values: [Value], _ convert: (Value) -> C) -> (Int, UnsafeMutablePointer<C>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(C.self, count: values.count)
        for (index, value) in values.enumerated() { (array + index).initialize(to: convert(value)) }
        return (values.count, array)
    }

    /// A nested message's struct, here and filled. An error names the field inside it.
    mutating func message<M: ProtobufCMessageMapping>(_ value: M, _ field: StaticString) throws(WireMessageError) -> UnsafeMutablePointer<M.CMessage> {
        do {
            return try filled(value)
        } catch {
            throw error.inside("\(field)")
        }
    }

    mutating func messages<M: ProtobufCMessageMapping>(_ values: [M], _ field: StaticString) throws(WireMessageError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            do {
                (array + index).initialize(to: try filled(value))
            } catch {
                throw error.inside("\(field)[\(index)]")
            }
        }
        return (values.count, array)
    }

    /// `value`'s struct, here, initialised as protoc-c initialises it and filled.
    mutating func filled<M: ProtobufCMessageMapping>(_ value: M) throws(WireMessageError) -> UnsafeMutablePointer<M.CMessage> {
        let message = allocate(M.CMessage.self)
        M.initialize(message)
        try value.fill(&message.pointee, &self)
        return message
    }
}
