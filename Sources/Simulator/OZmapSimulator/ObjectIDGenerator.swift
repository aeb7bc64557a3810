/// Deterministic 24-hex ids shaped like MongoDB ObjectIds: a fixed timestamp part, a part
/// derived from the seed, and a counter. Ids grow with creation order, so sorting by id
/// equals sorting by creation, as with real ObjectIds.
struct ObjectIDGenerator: Sendable {
    private let prefix: String
    private var counter: UInt64 = 0

    init(seed: UInt64) {
        // 0x5f5e1000 is 2020-09-13, a plausible creation second for an OZmap tenant.
        prefix = Self.hex(0x5f5e_1000, width: 8) + Self.hex(seed & 0xFFFF, width: 4)
    }

    mutating func next() -> String {
        counter += 1
        return prefix + Self.hex(counter, width: 12)
    }

    static func isObjectID(_ text: String) -> Bool {
        text.utf8.count == 24 && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte)
        }
    }

    static func hex(_ value: UInt64, width: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var remaining = value
        var position = width - 1
        while position >= 0 {
            bytes[position] = digits[Int(remaining & 0xF)]
            remaining >>= 4
            position -= 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
