import Foundation
import OZmapDomain
@testable import OZmapAdapter
import Testing

/// The adapter's JSON reading (`JSONValue`): every document Foundation writes reads back as
/// Foundation reads it; what is not JSON is refused, naming where; OZmap's loose shapes
/// (ids or `_id`, references populated, numbers as text) read as before.
@Suite struct JSONValueTests {
    /// The same tree as JSONSerialization's, built from the view.
    static func tree(_ value: JSONValue) -> Any {
        if let object = value.object {
            var members: [String: Any] = [:]
            for key in object.keys { members[key] = tree(object[key]!) }
            return members
        }
        if let array = value.array { return array.map(tree) }
        if let text = value.string { return text }
        if let flag = value.bool { return flag }
        if let number = value.numberText { return Double(number)! }
        return NSNull()
    }

    static func same(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case let (a as [String: Any], b as [String: Any]):
            a.count == b.count && a.allSatisfy { key, value in b[key].map { same(value, $0) } ?? false }
        case let (a as [Any], b as [Any]): a.count == b.count && zip(a, b).allSatisfy(same)
        case let (a as String, b as String): a == b
        case let (a as Bool, b as Bool): a == b
        case let (a as Double, b as Double): a == b
        case (is NSNull, is NSNull): true
        default: false
        }
    }

    /// Random documents: nesting, every escape, text beyond the BMP, numbers of every shape.
    static func randomValue(_ generator: inout SystemRandomNumberGenerator, depth: Int = 0) -> Any {
        let texts = ["", "CTO-01", "Ação ＣＴＯ", "quote \" backslash \\ slash /", "tab\tnew\nline\r\u{8}\u{C}", "emoji 📡 \u{10FFFF}", "\u{1}\u{1F}"]
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
        case 0: return texts.randomElement(using: &generator)!
        case 1: return [0.0, -1, 42, 1.5, -3.25e-7, 6.02e23, Double(Int32.max)].randomElement(using: &generator)!
        case 2: return Bool.random(using: &generator)
        case 3: return NSNull()
        case 4: return (0..<Int.random(in: 0..<5, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) }
        default:
            var object: [String: Any] = [:]
            for index in 0..<Int.random(in: 0..<6, using: &generator) {
                object[texts.randomElement(using: &generator)! + "\(index)"] = randomValue(&generator, depth: depth + 1)
            }
            return object
        }
    }

    @Test func everyDocumentFoundationWritesReadsAsFoundationReadsIt() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let document = ["rows": [Self.randomValue(&generator), Self.randomValue(&generator)]]
            let data = try JSONSerialization.data(withJSONObject: document, options: .prettyPrinted)
            let read = try JSONValue(document: Array(data))
            let expected = try JSONSerialization.jsonObject(with: data)
            #expect(Self.same(Self.tree(read), expected), "\(String(decoding: data, as: UTF8.self))")
        }
        // Wider than the members an object reserves room for (`JSONObject.reservedMembers`), each
        // with a container of its own to jump over.
        var wide: [String: Any] = [:]
        for index in 0..<(JSONObject.reservedMembers * 3) { wide["k\(index)"] = index % 2 == 0 ? ["n": index] : [index, "\(index)"] }
        let wideData = try JSONSerialization.data(withJSONObject: ["rows": [wide, wide]])
        #expect(Self.same(Self.tree(try JSONValue(document: Array(wideData))), try JSONSerialization.jsonObject(with: wideData)))
        // Escapes as other writers send them: \u forms, a surrogate pair, a lone surrogate.
        let escaped = try JSONValue(document: Array(#"["\u0041\u00e7\u00E3o", "\ud83d\udce1", "\ud83d!", "a\/b"]"#.utf8)).array!
        #expect(escaped.map { $0.string! } == ["Ação", "📡", "\u{FFFD}!", "a/b"])
    }

    @Test func whatIsNotJSONIsRefusedNamingWhere() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        for text in ["", "{", "[1,]", "[1 2]", #"{"a" 1}"#, #"{"a":}"#, "{1:2}", "01", "-", "1.", "1e", ".5", #""\x""#, #""\u12""#,
                     "\"tab\there\"", "tru", "nul", "[] []", #""open"#, deep] {
            #expect(throws: JSONSyntaxError.self, "\(text.prefix(40))") { try JSONValue(document: Array(text.utf8)) }
        }
        #expect((try? JSONValue(document: Array(" \n{\"a\": [1, -0.5e+3, true, null]}\t".utf8))) != nil)
    }

    @Test func ozmapsLooseShapesReadAsBefore() throws {
        let splitter = try OZmapJSON.object(Array("""
            {"_id": "s1", "name": "SPL 1:8", "parent": {"id": "b1", "name": "CTO"}, "olt": "o1", "slot": 3, "isDrop": 1,
             "connectables": {"input": ["f0"], "output": [null, "fibre", null, null]}, "updatedAt": "2026-12-01T00:00:00.000Z",
             "id": "", "ratio": {"output": 16}}
            """.utf8))
        let read = try #require(OZmapJSON.splitter(splitter))
        // An empty `id` gives way to `_id`; a populated parent reads as its id; a number as text.
        #expect(read.id == "s1" && read.boxID == "b1" && read.oltID == "o1" && read.slotID == "3" && read.ponID == nil)
        #expect(read.isDrop && read.outputs == 4 && read.freeOutputs == 3)
        let box = try #require(OZmapJSON.box(try OZmapJSON.object(Array("""
            {"id": "b1", "name": "CTO-01", "coords": [-46.6, "-23.5"], "lat": null, "implanted": "true", "project": {"_id": "p1"}}
            """.utf8))))
        #expect(box.lat == -23.5 && box.lng == -46.6 && box.implanted && box.project == "p1")
        #expect(OZmapJSON.int(try JSONValue(document: Array("7.9".utf8))) == 7)
        #expect(OZmapJSON.int(try JSONValue(document: Array(#""12""#.utf8))) == 12)
        #expect(OZmapJSON.objects(Array("[{}, 1]".utf8)) == nil)
        #expect(OZmapJSON.errorMessage(Array(#"{"error": "key \"x\" unknown"}"#.utf8)) == #"key "x" unknown"#)
        #expect(throws: IntegrationError.self) { try OZmapJSON.object(Array("[]".utf8)) }
    }

    /// The query's percent-encoding writes what Foundation's encoder wrote.
    @Test func queryTextIsEncodedAsFoundationEncodesIt() {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let samples = ["", "65a1b2c3d4e5f6a7b8c9d0e1", #"[{"property":"id","operator":"in","value":["a b","c&d"]}]"#,
                       "Ação ＣＴＯ 📡", "%25+/?#=:@!$'()*,;", "\u{0}\u{7F}\u{80}"]
        for text in samples {
            #expect(OZmapAPIClient.escape(text) == text.addingPercentEncoding(withAllowedCharacters: unreserved), "\(text)")
        }
    }

    /// A filter's values are written as JSONEncoder writes them: every control character,
    /// quotes, backslashes, slashes and text beyond ASCII, alone and in an `in` list.
    @Test func filterValuesAreWrittenAsJSONEncoderWritesThem() throws {
        var samples = ["", "65a1b2c3d4e5f6a7b8c9d0e1", #"a "quoted" \ back/slash"#, "Ação ＣＴＯ 📡", "\u{7F}\u{80}\u{2028}"]
        samples.append(String(decoding: (0..<0x20).map { UInt8($0) } + Array("x".utf8), as: UTF8.self))
        for _ in 0..<200 {
            samples.append(String((0..<Int.random(in: 0...12)).map { _ in
                Character(Unicode.Scalar([0x0A, 0x1F, 0x22, 0x2F, 0x5C, 0x41, 0xE7, 0x1F4E1].randomElement()!)!)
            }))
        }
        for text in samples {
            let encoded = String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
            #expect(FilterValue.string(text).json == encoded, "\(Array(text.utf8))")
        }
        #expect(FilterValue.strings(samples).json == String(decoding: try JSONEncoder().encode(samples), as: UTF8.self))
        #expect(FilterValue.strings([]).json == "[]")
    }
}
