import Foundation
import OZmapDomain

/// The `box` column's format: a cached box and its splitters packed into a blob, fields in a
/// fixed order — strings as a varint length and UTF-8, integers as zigzag varints, coordinates
/// as IEEE-754 bits. JSON (GRDB's Codable column) cost more than a third of a full pass's CPU
/// and most of a restart (16.4 s at 200,000 boxes); these 200,000 are read back, SQLite
/// included, in about 0.5–0.75 s.
/// The first byte is the format's version, so a future change can tell old rows apart.
enum PackedBox {
    static let version: UInt8 = 1

    static func pack(_ box: CachedBox) -> [UInt8] {
        var writer = Writer()
        writer.bytes.reserveCapacity(160 + 96 * box.splitters.count)
        writer.bytes.append(version)
        for text in [box.id, box.name, box.project, box.oltID, box.slotID, box.ponID, box.boxType, box.updatedAt] {
            writer.string(text)
        }
        writer.double(box.lat)
        writer.double(box.lng)
        writer.bool(box.implanted)
        writer.integer(box.portsTotal)
        writer.integer(box.portsFree)
        writer.integer(box.splitters.count)
        for splitter in box.splitters {
            // A splitter's box and time are most often the box's own: one byte says so.
            writer.sameOr(splitter.boxID, as: box.id)
            writer.sameOr(splitter.updatedAt, as: box.updatedAt)
            writer.string(splitter.id)
            writer.string(splitter.name)
            for text in [splitter.oltID, splitter.slotID, splitter.ponID] { writer.optionalString(text) }
            writer.bool(splitter.isDrop)
            writer.integer(splitter.outputs)
            writer.integer(splitter.freeOutputs)
        }
        return writer.bytes
    }

    /// The box in `bytes`, its repeated strings shared through `pool`.
    static func unpack(_ bytes: UnsafeRawBufferPointer, pool: inout StringPool) throws(PackedBoxError) -> CachedBox {
        var reader = Reader(bytes: bytes)
        let version = try reader.byte()
        guard version == Self.version else { throw PackedBoxError("format version \(version), expected \(Self.version)") }
        let id = try reader.string()
        let name = try reader.string()
        let project = pool.intern(try reader.string())
        let oltID = pool.intern(try reader.string())
        let slotID = pool.intern(try reader.string())
        let ponID = pool.intern(try reader.string())
        let boxType = pool.intern(try reader.string())
        let updatedAt = try reader.string()
        let lat = try reader.double()
        let lng = try reader.double()
        let implanted = try reader.bool()
        let portsTotal = try reader.integer()
        let portsFree = try reader.integer()
        let count = try reader.integer()
        guard count >= 0, count <= bytes.count else { throw PackedBoxError("\(count) splitters in \(bytes.count) bytes") }
        var splitters: [OZmapSplitter] = []
        splitters.reserveCapacity(count)
        for _ in 0..<count {
            let boxID = try reader.sameOr(id)
            let splitterUpdatedAt = try reader.sameOr(updatedAt)
            let splitterID = try reader.string()
            let splitterName = pool.intern(try reader.string())
            let splitterOLT = try reader.optionalString().map { pool.intern($0) }
            let splitterSlot = try reader.optionalString().map { pool.intern($0) }
            let splitterPON = try reader.optionalString().map { pool.intern($0) }
            splitters.append(OZmapSplitter(
                id: splitterID, name: splitterName, boxID: boxID, oltID: splitterOLT, slotID: splitterSlot, ponID: splitterPON,
                isDrop: try reader.bool(), outputs: try reader.integer(), freeOutputs: try reader.integer(), updatedAt: splitterUpdatedAt))
        }
        guard reader.offset == bytes.count else { throw PackedBoxError("\(bytes.count - reader.offset) bytes left over") }
        return CachedBox(id: id, name: name, project: project, oltID: oltID, slotID: slotID, ponID: ponID, lat: lat, lng: lng,
                         boxType: boxType, implanted: implanted, portsTotal: portsTotal, portsFree: portsFree,
                         splitters: splitters, updatedAt: updatedAt)
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func integer(_ value: Int) {
            varint(UInt64(bitPattern: Int64((value << 1) ^ (value >> (Int.bitWidth - 1)))))
        }

        mutating func string(_ text: String) {
            var text = text
            text.withUTF8 { utf8 in
                varint(UInt64(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }

        mutating func optionalString(_ text: String?) {
            bool(text != nil)
            if let text { string(text) }
        }

        /// 1: the same text as `same`; 0 and the text otherwise.
        mutating func sameOr(_ text: String, as same: String) {
            bool(text == same)
            if text != same { string(text) }
        }

        mutating func double(_ value: Double) {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func byte() throws(PackedBoxError) -> UInt8 {
            guard offset < bytes.count else { throw PackedBoxError("cut short at byte \(offset)") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws(PackedBoxError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 64 else { throw PackedBoxError("a number longer than 64 bits at byte \(offset)") }
                value |= UInt64(next & 0x7F) << shift
                if next < 0x80 { return value }
                shift += 7
            }
        }

        mutating func integer() throws(PackedBoxError) -> Int {
            let raw = try varint()
            return Int(truncatingIfNeeded: Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
        }

        mutating func string() throws(PackedBoxError) -> String {
            let count = try varint()
            guard count <= UInt64(bytes.count - offset) else { throw PackedBoxError("a \(count)-byte text past the end at byte \(offset)") }
            defer { offset += Int(count) }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(count)]), as: UTF8.self)
        }

        mutating func optionalString() throws(PackedBoxError) -> String? {
            try bool() ? try string() : nil
        }

        mutating func sameOr(_ same: String) throws(PackedBoxError) -> String {
            try bool() ? same : try string()
        }

        mutating func double() throws(PackedBoxError) -> Double {
            guard bytes.count - offset >= 8 else { throw PackedBoxError("cut short at byte \(offset)") }
            var bits: UInt64 = 0
            withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 8])) }
            offset += 8
            return Double(bitPattern: UInt64(littleEndian: bits))
        }

        mutating func bool() throws(PackedBoxError) -> Bool {
            switch try byte() {
            case 0: false
            case 1: true
            case let other: throw PackedBoxError("\(other) where a yes/no was expected at byte \(offset - 1)")
            }
        }
    }
}

/// A `box` row that is not a packed box: the database was damaged or written by another program.
struct PackedBoxError: Error, CustomStringConvertible {
    let description: String
    init(_ problem: String) { description = "a cached box's row is unreadable: \(problem)" }
}
