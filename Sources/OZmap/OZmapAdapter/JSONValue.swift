/// JSON read where it lies: a value is a range of the bytes OZmap sent, decoded only when asked
/// for. OZmap's list rows carry twenty-odd fields (a splitter's every port, its fibres) of which
/// ozmapd reads a handful; JSONSerialization built all of them as Foundation objects, about half
/// of a full pass's CPU (docs/PERFORMANCE.md, "A network at scale"). A document is checked whole
/// when it is read, so a value's own reading cannot meet bad syntax; the check notes where each
/// object and array ends, so reading a page's rows jumps over them instead of scanning them again.
struct JSONValue: Sendable {
    fileprivate let document: JSONDocument
    fileprivate let start: Int
    fileprivate let end: Int
    /// The value's place in `document.containers` when it is an object or an array.
    fileprivate let container: Int

    /// The one value `bytes` hold (whitespace around it allowed), its syntax checked.
    init(document bytes: [UInt8]) throws(JSONSyntaxError) {
        // Offsets are kept in 32 bits (a page's rows and members are many, and small is fast).
        guard bytes.count < Int(UInt32.max) else { throw JSONSyntaxError("a document of 4 GiB or more", at: 0) }
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        let start = scanner.index
        try scanner.skipValue(depth: 0)
        let end = scanner.index
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else { throw JSONSyntaxError("text after the value", at: scanner.index) }
        self.init(document: JSONDocument(text: bytes, containers: scanner.containers), start: start, end: end, container: 0)
    }

    fileprivate init(document: JSONDocument, start: Int, end: Int, container: Int) {
        (self.document, self.start, self.end, self.container) = (document, start, end, container)
    }

    private var first: UInt8 { document.text[start] }

    var isNull: Bool { first == UInt8(ascii: "n") }

    /// The object's members; nil when the value is no object.
    var object: JSONObject? {
        guard first == UInt8(ascii: "{") else { return nil }
        var members: [JSONObject.Member] = []
        // OZmap's rows have 15–20 members: room for them at once, below glibc's "large" requests
        // (1 KiB; each of those first consolidates every small block freed since the last one).
        members.reserveCapacity(JSONObject.reservedMembers)
        document.walk(inside: self, members: true) { key, keyEscaped, value, container in
            members.append(.init(key: key, keyEscaped: keyEscaped, value: value, container: container))
        }
        return JSONObject(document: document, members: members)
    }

    /// The array's elements; nil when the value is no array.
    var array: [JSONValue]? {
        guard first == UInt8(ascii: "[") else { return nil }
        var elements: [JSONValue] = []
        document.walk(inside: self, members: false) { _, _, value, container in
            elements.append(JSONValue(document: document, start: value.lowerBound, end: value.upperBound, container: container))
        }
        return elements
    }

    /// How many elements the array holds, and how many of them are null, without making a value
    /// of each (a customer splitter's ports: sixteen of them a row); nil when the value is no array.
    var elementCounts: (all: Int, null: Int)? {
        guard first == UInt8(ascii: "[") else { return nil }
        var counts = (all: 0, null: 0)
        document.walk(inside: self, members: false) { [text = document.text] _, _, value, _ in
            counts.all += 1
            if text[value.lowerBound] == UInt8(ascii: "n") { counts.null += 1 }
        }
        return counts
    }

    /// The string, its escapes decoded; nil when the value is no string.
    var string: String? {
        guard first == UInt8(ascii: "\"") else { return nil }
        return JSONScanner.decodeString(document.text, start + 1..<end - 1)
    }

    /// A number's text as it was sent (`12`, `-3.5e2`); nil when the value is no number.
    var numberText: String? {
        guard first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return nil }
        return String(decoding: document.text[start..<end], as: UTF8.self)
    }

    var bool: Bool? {
        switch first {
        case UInt8(ascii: "t"): true
        case UInt8(ascii: "f"): false
        default: nil
        }
    }
}

/// A checked document's text, and where each of its objects and arrays ends (in the order they
/// open), so that reading one walks its own members and jumps over what is nested in them.
private final class JSONDocument: Sendable {
    struct Container: Sendable {
        /// Past the closing bracket.
        var end: UInt32
        /// The first container after this one and those nested in it.
        var next: UInt32
    }

    let text: [UInt8]
    let containers: [Container]

    init(text: [UInt8], containers: [Container]) {
        self.text = text
        self.containers = containers
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: true
        default: false
        }
    }

    /// Calls `body` with each value inside `container`: an object's key inside the quotes (escapes
    /// undecoded) and whether it has escapes, the value's range, its place in `containers` when it
    /// is an object or an array (else -1). Nothing is checked again: the document was checked whole.
    func walk(inside container: JSONValue, members: Bool, _ body: (Range<Int>, Bool, Range<Int>, Int) -> Void) {
        text.withUnsafeBufferPointer { bytes in
            containers.withUnsafeBufferPointer { containers in
                var index = container.start + 1
                var nested = container.container + 1 // the next container to open
                func skipWhitespace() {
                    while true {
                        switch bytes[index] {
                        case 0x20, 0x09, 0x0A, 0x0D: index += 1
                        default: return
                        }
                    }
                }
                /// Whether the string had escapes.
                @discardableResult func skipString() -> Bool {
                    var escaped = false
                    index += 1
                    while bytes[index] != UInt8(ascii: "\"") {
                        guard bytes[index] == UInt8(ascii: "\\") else {
                            index += 1
                            continue
                        }
                        escaped = true
                        index += 2
                    }
                    index += 1
                    return escaped
                }
                skipWhitespace()
                while bytes[index] != UInt8(ascii: "}"), bytes[index] != UInt8(ascii: "]") {
                    var key = 0..<0
                    var keyEscaped = false
                    if members {
                        let keyStart = index
                        keyEscaped = skipString()
                        key = keyStart + 1..<index - 1
                        skipWhitespace()
                        index += 1 // ':'
                        skipWhitespace()
                    }
                    let start = index
                    var ordinal = -1
                    switch bytes[index] {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        ordinal = nested
                        index = Int(containers[nested].end)
                        nested = Int(containers[nested].next)
                    case UInt8(ascii: "\""):
                        skipString()
                    default: // a number or a word: up to the next delimiter
                        while !Self.isDelimiter(bytes[index]) { index += 1 }
                    }
                    body(key, keyEscaped, start..<index, ordinal)
                    skipWhitespace()
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        skipWhitespace()
                    }
                }
            }
        }
    }
}

/// An object's members, in the order sent; a key sent twice reads as its first.
struct JSONObject: Sendable {
    /// Room an object's members get at once (24 bytes each): more grow as an array does.
    static let reservedMembers = 32

    /// 24 bytes: offsets in 32 bits (the document is smaller than 4 GiB).
    fileprivate struct Member: Sendable {
        private let keyStart: UInt32
        private let keyEnd: UInt32
        private let valueStart: UInt32
        private let valueEnd: UInt32
        let container: Int32
        /// Rare: OZmap's keys are plain, compared byte for byte.
        let keyEscaped: Bool

        init(key: Range<Int>, keyEscaped: Bool, value: Range<Int>, container: Int) {
            (keyStart, keyEnd) = (UInt32(key.lowerBound), UInt32(key.upperBound))
            (valueStart, valueEnd) = (UInt32(value.lowerBound), UInt32(value.upperBound))
            self.container = Int32(container)
            self.keyEscaped = keyEscaped
        }

        /// Inside the quotes, escapes undecoded.
        var key: Range<Int> { Int(keyStart)..<Int(keyEnd) }
        var value: Range<Int> { Int(valueStart)..<Int(valueEnd) }
    }

    fileprivate let document: JSONDocument
    fileprivate let members: [Member]

    /// The members' names, decoded, in the order sent.
    var keys: [String] { members.map { JSONScanner.decodeString(document.text, $0.key) } }

    subscript(key: String) -> JSONValue? {
        for member in members where matches(member, key) {
            return JSONValue(document: document, start: member.value.lowerBound, end: member.value.upperBound, container: Int(member.container))
        }
        return nil
    }

    private func matches(_ member: Member, _ key: String) -> Bool {
        guard !member.keyEscaped else { return JSONScanner.decodeString(document.text, member.key) == key }
        var key = key
        return key.withUTF8 { wanted in
            wanted.count == member.key.count && document.text.withUnsafeBufferPointer {
                UnsafeBufferPointer(rebasing: $0[member.key]).elementsEqual(wanted)
            }
        }
    }
}

struct JSONSyntaxError: Error, CustomStringConvertible {
    let description: String
    init(_ problem: String, at offset: Int) { description = "not JSON: \(problem) at byte \(offset)" }
}

/// Walks JSON text: each `skip` checks the syntax of what it passes over, and notes where each
/// container ends.
private struct JSONScanner {
    /// Deeper nesting than this is refused rather than risking the stack.
    static let maximumDepth = 256

    let bytes: [UInt8]
    var index: Int
    private(set) var containers: [JSONDocument.Container] = []

    init(_ bytes: [UInt8], at index: Int = 0) {
        self.bytes = bytes
        self.index = index
        containers.reserveCapacity(bytes.count / 96) // OZmap's rows: a container per 100–150 bytes
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        guard depth < Self.maximumDepth else { throw JSONSyntaxError("nested deeper than \(Self.maximumDepth)", at: index) }
        guard let byte = peek else { throw JSONSyntaxError("a value expected", at: index) }
        switch byte {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"): try skipContainer(close: UInt8(ascii: "}"), depth: depth, members: true)
        case UInt8(ascii: "["): try skipContainer(close: UInt8(ascii: "]"), depth: depth, members: false)
        case UInt8(ascii: "t"): try skipLiteral("true")
        case UInt8(ascii: "f"): try skipLiteral("false")
        case UInt8(ascii: "n"): try skipLiteral("null")
        default: try skipNumber()
        }
    }

    private mutating func skipContainer(close: UInt8, depth: Int, members: Bool) throws(JSONSyntaxError) {
        let ordinal = containers.count
        containers.append(.init(end: 0, next: 0))
        defer { containers[ordinal] = .init(end: UInt32(index), next: UInt32(containers.count)) } // read only once the document is checked
        index += 1
        skipWhitespace()
        if peek == close {
            index += 1
            return
        }
        while true {
            if members {
                guard peek == UInt8(ascii: "\"") else { throw JSONSyntaxError("a member's name expected", at: index) }
                try skipString()
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { throw JSONSyntaxError("':' expected", at: index) }
                index += 1
                skipWhitespace()
            }
            try skipValue(depth: depth + 1)
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case close:
                index += 1
                return
            default:
                throw JSONSyntaxError("',' or '\(Character(Unicode.Scalar(close)))' expected", at: index)
            }
        }
    }

    mutating func skipString() throws(JSONSyntaxError) {
        let opening = index
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            guard byte >= 0x20 else { throw JSONSyntaxError("a control character in a string", at: index) }
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { break }
                switch bytes[index + 1] {
                case UInt8(ascii: "u"):
                    guard index + 6 <= bytes.count, bytes[index + 2..<index + 6].allSatisfy({ Self.hexValue($0) != nil }) else {
                        throw JSONSyntaxError("a bad \\u escape", at: index)
                    }
                    index += 6
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                default:
                    throw JSONSyntaxError("a bad escape", at: index)
                }
                continue
            }
            index += 1
        }
        throw JSONSyntaxError("a string not closed", at: opening)
    }

    private mutating func skipLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count,
              literal.withUTF8Buffer({ $0.elementsEqual(bytes[index..<index + count]) }) else {
            throw JSONSyntaxError("an unknown word", at: index)
        }
        index += count
    }

    /// `-? int frac? exp?`, as JSON has it.
    private mutating func skipNumber() throws(JSONSyntaxError) {
        let begin = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            return index - from
        }
        if peek == UInt8(ascii: "-") { index += 1 }
        let leadingZero = peek == UInt8(ascii: "0")
        let whole = digits()
        guard whole > 0, !(leadingZero && whole > 1) else { throw JSONSyntaxError("a value expected", at: begin) }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw JSONSyntaxError("digits expected after '.'", at: index) }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw JSONSyntaxError("digits expected in an exponent", at: index) }
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte - 0x30)
        case 0x41...0x46: UInt32(byte - 0x41 + 10)
        case 0x61...0x66: UInt32(byte - 0x61 + 10)
        default: nil
        }
    }

    /// The text of a string's inside (already checked), escapes decoded; a lone surrogate reads as U+FFFD.
    static func decodeString(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        guard bytes[range].contains(UInt8(ascii: "\\")) else { return String(decoding: bytes[range], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        func hex4(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 4 | hexValue(bytes[at + $1])! } }
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= range.upperBound,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    let low = hex4(index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: out.append(escaped) // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
