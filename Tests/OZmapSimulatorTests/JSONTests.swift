import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct JSONTests {
    @Test func parsesAndSerializesRoundTrip() throws {
        let text = #"{"a":[1,-2.5,1e3,true,false,null],"b":"qu\"ote \\ \/ \n \u00e9 \ud83d\ude00","c":{}}"#
        let value = try SimulatorJSON.parse(text)
        #expect(value["a"] == [1, -2.5, 1000, true, false, nil])
        #expect(value["a"]?[3]?.bool == true)
        #expect(value["a"]?[0]?.bool == nil, "1 is a number, not a Bool")
        #expect(value["b"]?.string == "qu\"ote \\ / \n é 😀")
        #expect(value["c"] == [:])
        #expect(try SimulatorJSON.parse(value.jsonText) == value)
        #expect(SimulatorJSON.number(3).jsonText == "3")
        #expect(SimulatorJSON.number(-48.55).jsonText == "-48.55")
        #expect(SimulatorJSON.string("\u{01}").jsonText == #""\u0001""#)
    }

    @Test func rejectsMalformedJSON() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"\\x\"", "[1] 2", "{'a':1}", ".5", "\"\u{01}\""] {
            #expect(throws: (any Error).self, "\(text)") { _ = try SimulatorJSON.parse(text) }
        }
    }
}
