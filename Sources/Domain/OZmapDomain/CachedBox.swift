import Foundation

/// A box connected to an OLT, as the cache keeps it: the box, where it is
/// wired (OLT, slot, PON) and its customer ports.
public struct CachedBox: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var project: String
    public var oltID: String
    public var slotID: String
    public var ponID: String
    public var lat: Double
    public var lng: Double
    public var boxType: String
    public var implanted: Bool
    public var portsTotal: Int
    public var portsFree: Int
    public var splitters: [OZmapSplitter]
    /// The latest `updatedAt` of the box and its splitters.
    public var updatedAt: String

    /// A box as it was cached (the store reads it back with this).
    public init(id: String, name: String, project: String, oltID: String, slotID: String, ponID: String,
                lat: Double, lng: Double, boxType: String, implanted: Bool, portsTotal: Int, portsFree: Int,
                splitters: [OZmapSplitter], updatedAt: String) {
        (self.id, self.name, self.project, self.oltID, self.slotID, self.ponID) = (id, name, project, oltID, slotID, ponID)
        (self.lat, self.lng, self.boxType, self.implanted) = (lat, lng, boxType, implanted)
        (self.portsTotal, self.portsFree, self.splitters, self.updatedAt) = (portsTotal, portsFree, splitters, updatedAt)
    }

    /// The cache entry for a box and its splitters; nil when no splitter ties it to an OLT.
    /// Sorted in place and summed in loops, without copies: a copy of a splitter is seven strings
    /// retained (and released again), and a full pass makes an entry of every box.
    public init?(box: OZmapBoxInfo, splitters: consuming [OZmapSplitter]) {
        var ordered = splitters
        ordered.sort { a, b in
            if a.isDrop != b.isDrop { return !a.isDrop }
            if a.name != b.name { return a.name < b.name }
            return a.id < b.id
        }
        // The splitter nearest the OLT names the wiring: primaries come before customer splitters.
        guard let traced = ordered.firstIndex(where: { $0.oltID?.isEmpty == false }).map({ ordered[$0] }) else { return nil }
        id = box.id
        name = box.name
        project = box.project
        oltID = traced.oltID ?? ""
        slotID = traced.slotID ?? ""
        ponID = traced.ponID ?? ""
        lat = box.lat
        lng = box.lng
        boxType = box.boxType
        implanted = box.implanted
        var (total, free, newest) = (0, 0, box.updatedAt)
        for index in ordered.indices {
            if ordered[index].isDrop {
                total += ordered[index].outputs
                free += ordered[index].freeOutputs
            }
            if ordered[index].updatedAt > newest { newest = ordered[index].updatedAt }
        }
        (portsTotal, portsFree, updatedAt) = (total, free, newest)
        self.splitters = ordered
    }

    /// The key names are compared by, as people type them: case-, accent- and width-insensitive
    /// ("Ação" ~ "acao", "ＣＴＯ" ~ "cto"); every run of whitespace and of the separators
    /// `-` (and the other Unicode dashes), `_`, `.` and `/` is one space; trimmed.
    /// So `CTO 01`, `CTO-01`, `cto_01`, `CTO  01` and `Cto.01` all read `cto 01`. Linear in the name.
    public static func normalize(_ name: String) -> String {
        var ascii = true
        for byte in name.utf8 where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii {
            // The common case, without Foundation: lower-case ASCII, separators folded.
            var out: [UInt8] = []
            out.reserveCapacity(name.utf8.count)
            var pending = false
            for byte in name.utf8 {
                switch byte {
                case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"):
                    pending = !out.isEmpty
                default:
                    if pending { out.append(0x20); pending = false }
                    out.append((0x41...0x5A).contains(byte) ? byte + 0x20 : byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var out = String.UnicodeScalarView()
        var pending = false
        for scalar in folded.unicodeScalars {
            if isSeparator(scalar) {
                pending = !out.isEmpty
                continue
            }
            if pending {
                out.append(" ")
                pending = false
            }
            out.append(scalar)
        }
        return String(out)
    }

    /// The looser key, for when no name matches exactly: the normalised name cut into words at
    /// separators and between digits and other characters, numbers compared by value (leading
    /// zeros dropped). `CTO-1`, `cto01` and `CTO-01` all read `cto 1`; `cto 1 2` and `CTO-01-002`
    /// read `cto 1 2`. Takes a name already normalised.
    public static func looseKey(normalized name: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        // The kind of the last byte written: 0 none or a separator, 1 digit, 2 other.
        var last = 0
        // Inside a number, whether only zeros were seen so far (they are held back).
        var leadingZeros = false
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        for byte in name.utf8 {
            if byte == 0x20 {
                if leadingZeros { out.append(0x30); leadingZeros = false }
                if last != 0 { out.append(0x20); last = 0 }
                continue
            }
            let kind = isDigit(byte) ? 1 : 2
            if kind != last {
                if leadingZeros { out.append(0x30); leadingZeros = false }
                if last != 0 { out.append(0x20) }
                if kind == 1 { leadingZeros = true }
            }
            last = kind
            if kind == 1, leadingZeros {
                if byte == 0x30 { continue }
                leadingZeros = false
            }
            out.append(byte)
        }
        if leadingZeros { out.append(0x30) }
        if out.last == 0x20 { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whitespace, `_`, `.`, `/` and every dash (`-`, `‐`, `–`, `—`, `−`, …).
    private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "_", ".", "/", "\u{2212}": return true
        default: return scalar.properties.isWhitespace || scalar.properties.generalCategory == .dashPunctuation
        }
    }
}

/// One copy of each repeated string among the cached boxes: the OLT, slot, PON, project and
/// box-type ids repeat across thousands of boxes, a box's id in its splitters, its time in
/// theirs. Each 24-character id is a heap allocation of its own; shared, 200,000 boxes hold
/// about a sixth of the strings (docs/PERFORMANCE.md, "A network at scale").
public struct StringPool: Sendable {
    private var strings = Set<String>()
    /// The strings interned last, by their last two bytes: boxes come by OLT, slot and PON, so
    /// the next box's ids are mostly here, compared without hashing (a full pass hashed 11 ids
    /// a box: 4% of its CPU).
    private var recent = [String](repeating: "", count: 64)

    public init() {}

    /// The pool's copy of `text` (kept for next time when new).
    public mutating func intern(_ text: String) -> String {
        let utf8 = text.utf8
        // Up to 15 UTF-8 bytes live inside the String value itself: nothing to share.
        guard utf8.count > 15 else { return text }
        let end = utf8.endIndex
        let slot = (Int(utf8[utf8.index(end, offsetBy: -1)]) &+ Int(utf8[utf8.index(end, offsetBy: -2)]) &* 31) & 63
        if recent[slot] == text { return recent[slot] }
        let member = strings.insert(text).memberAfterInsert
        recent[slot] = member
        return member
    }

    /// The box with its repeated strings shared.
    /// Consuming: a box the caller still held would have its splitters copied to change them.
    public mutating func intern(_ box: consuming CachedBox) -> CachedBox {
        box.project = intern(box.project)
        box.oltID = intern(box.oltID)
        box.slotID = intern(box.slotID)
        box.ponID = intern(box.ponID)
        box.boxType = intern(box.boxType)
        for index in box.splitters.indices {
            intern(&box.splitters[index], boxID: box.id, updatedAt: box.updatedAt)
        }
        return box
    }

    /// In place: a splitter copied out of its box and back was a copy of each of its values.
    private mutating func intern(_ splitter: inout OZmapSplitter, boxID: String, updatedAt: String) {
        if splitter.boxID == boxID { splitter.boxID = boxID }
        if splitter.updatedAt == updatedAt { splitter.updatedAt = updatedAt }
        splitter.oltID = splitter.oltID.map { intern($0) }
        splitter.slotID = splitter.slotID.map { intern($0) }
        splitter.ponID = splitter.ponID.map { intern($0) }
        splitter.name = intern(splitter.name)
    }
}
