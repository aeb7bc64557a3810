/// Encodes an `Encodable` Swift type as a `ProtoValue` message. Field names are
/// the Swift property names; the wire codec matches them to proto names.
public struct ProtoValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> ProtoValue {
        let root = Slot()
        try ProtoEncoding(slot: root, codingPath: []).encodeValue(value)
        return root.build() ?? .message(ProtoMessage())
    }
}

/// Where one encoded value goes; containers fill it in place.
private final class Slot {
    enum Content {
        case scalar(ProtoValue)
        case message([(String, Slot)])
        case list([Slot])
    }

    var content: Content?

    func build() -> ProtoValue? {
        switch content {
        case .scalar(let value)?: return value
        case .message(let fields)?:
            return .message(ProtoMessage(fields.compactMap { name, slot in
                slot.build().map { ProtoMessage.Field(name: name, value: $0) }
            }))
        case .list(let items)?: return .list(items.compactMap { $0.build() })
        case nil: return nil
        }
    }

    func field(_ name: String) -> Slot {
        guard case .message(var fields) = content else { preconditionFailure("not a message slot") }
        if let existing = fields.first(where: { $0.0 == name }) { return existing.1 }
        let slot = Slot()
        fields.append((name, slot))
        content = .message(fields)
        return slot
    }

    func appendItem() -> Slot {
        guard case .list(var items) = content else { preconditionFailure("not a list slot") }
        let slot = Slot()
        items.append(slot)
        content = .list(items)
        return slot
    }
}

private struct ProtoEncoding: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func encodeValue<T: Encodable>(_ value: T) throws {
        // Checked by type: an empty array of anything would also cast to [UInt8].
        if T.self == [UInt8].self, let bytes = value as? [UInt8] {
            slot.content = .scalar(.bytes(bytes))
        } else {
            try value.encode(to: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .message = slot.content {} else { slot.content = .message([]) }
        return KeyedEncodingContainer(KeyedContainer(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .list = slot.content {} else { slot.content = .list([]) }
        return UnkeyedContainer(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValue(encoding: self) }

    func set(_ value: ProtoValue) { slot.content = .scalar(value) }
}

private func protoValue<T: BinaryInteger>(_ number: T) -> ProtoValue {
    T.isSigned ? .int(Int64(number)) : .uint(UInt64(number))
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func encoding(_ key: Key) -> ProtoEncoding {
        ProtoEncoding(slot: slot.field(key.stringValue), codingPath: codingPath + [key])
    }

    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode(_ value: Bool, forKey key: Key) throws { encoding(key).set(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { encoding(key).set(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { encoding(key).set(.double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { encoding(key).set(.double(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { encoding(key).set(protoValue(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encoding(key).encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoding(key).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { encoding(key).unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { ProtoEncoding(slot: slot, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoding(key) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int {
        if case .list(let items) = slot.content { return items.count }
        return 0
    }

    private func next() -> ProtoEncoding {
        ProtoEncoding(slot: slot.appendItem(), codingPath: codingPath + [IndexKey(count)])
    }

    mutating func encodeNil() throws {}
    mutating func encode(_ value: Bool) throws { next().set(.bool(value)) }
    mutating func encode(_ value: String) throws { next().set(.string(value)) }
    mutating func encode(_ value: Double) throws { next().set(.double(value)) }
    mutating func encode(_ value: Float) throws { next().set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: Int8) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: Int16) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: Int32) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: Int64) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: UInt) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: UInt8) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: UInt16) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: UInt32) throws { next().set(protoValue(value)) }
    mutating func encode(_ value: UInt64) throws { next().set(protoValue(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try next().encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { next().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { next() }
}

private struct SingleValue: SingleValueEncodingContainer {
    let encoding: ProtoEncoding
    var codingPath: [any CodingKey] { encoding.codingPath }

    mutating func encodeNil() throws { encoding.slot.content = nil }
    mutating func encode(_ value: Bool) throws { encoding.set(.bool(value)) }
    mutating func encode(_ value: String) throws { encoding.set(.string(value)) }
    mutating func encode(_ value: Double) throws { encoding.set(.double(value)) }
    mutating func encode(_ value: Float) throws { encoding.set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: Int8) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: Int16) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: Int32) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: Int64) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: UInt) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: UInt8) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: UInt16) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: UInt32) throws { encoding.set(protoValue(value)) }
    mutating func encode(_ value: UInt64) throws { encoding.set(protoValue(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encoding.encodeValue(value) }
}
