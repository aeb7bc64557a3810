import Foundation
@testable import OZmapSimulator
import Testing

/// The list routes answer through indexes (ObjectTable): every page they give must be the
/// page a scan of the whole table gives, on generated data after changes and on stored
/// values the indexes cannot classify (numbers, arrays, nulls, times that are not times).
@Suite(.timeLimit(.minutes(2)))
struct IndexedListTests {
    /// The scan: every object matching, in creation order, then the page's slice.
    private func scanned(_ table: ObjectTable, _ filter: RecordFilter, start: Int, limit: Int) -> (Int, [String]) {
        let matches = table.objects(where: filter.matches)
        return (matches.count, matches.dropFirst(start).prefix(limit).compactMap { $0["id"]?.string })
    }

    private func expectAgreement(_ table: ObjectTable, _ filterJSON: String, pages: [(Int, Int)] = [(0, 7), (5, 3), (0, 100_000)],
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let filter = try RecordFilter.parse(queryText: filterJSON)
        for (start, limit) in pages {
            let indexed = table.page(matching: filter, start: start, limit: limit)
            let (total, ids) = scanned(table, filter, start: start, limit: limit)
            #expect(indexed.total == total, "\(filterJSON) total", sourceLocation: sourceLocation)
            #expect(indexed.rows.compactMap { $0["id"]?.string } == ids, "\(filterJSON) start \(start) limit \(limit)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func generatedNetworkAfterChangesPagesAsAScanDoes() throws {
        var configuration = SimulatorConfiguration(apiKey: "k")
        configuration.boxes = 120
        configuration.olts = 3
        var network = NetworkGenerator.generate(configuration)
        let start = network.clock.current
        let boxIDs = network.boxes.all.compactMap { $0["id"]?.string }
        // The boxes not connected come last but are older than the rest: the time index,
        // sorted once after the generation, must still place them first.
        let firstConnected = try #require(network.boxes.first?["updatedAt"]?.string)
        let older = #"[{"property":"updatedAt","operator":"<","value":"\#(firstConnected)"}]"#
        try expectAgreement(network.boxes, older)
        try expectAgreement(network.boxes, #"[{"property":"updatedAt","operator":">=","value":"\#(firstConnected)"}]"#)
        #expect(network.boxes.page(matching: try RecordFilter.parse(queryText: older), start: 0, limit: 1_000).total == 6)
        let oltIDs = network.olts.all.compactMap { $0["id"]?.string }
        try network.renameBox(id: boxIDs[3], to: "Renamed")
        try network.moveBox(id: boxIDs[10], toOLT: oltIDs[2])
        try network.moveBox(id: boxIDs[11], toOLT: nil)
        try network.deleteBox(id: boxIDs[12])
        let middle = network.clock.current
        try network.renameBox(id: boxIDs[40], to: "Renamed later")
        try network.moveBox(id: boxIDs[41], toOLT: oltIDs[0])
        let splitterIDs = network.splitters.all.compactMap { $0["id"]?.string }
        let firstBoxes = "[" + boxIDs.prefix(30).map { "\"\($0)\"" }.joined(separator: ",") + ",\"000000000000000000000000\"]"

        for (table, filters) in [
            (network.splitters, [
                #"[{"property":"olt","operator":"exists","value":true}]"#,
                #"[{"property":"olt","operator":"=","value":"\#(oltIDs[1])"}]"#,
                #"[{"property":"olt","operator":"exists","value":true},{"property":"isDrop","operator":"=","value":true}]"#,
                #"[{"property":"parent","operator":"in","value":\#(firstBoxes)}]"#,
                #"[{"property":"id","operator":"=","value":"\#(splitterIDs[7])"}]"#,
                #"[{"property":"updatedAt","operator":">=","value":"\#(start)"}]"#,
                #"[{"property":"updatedAt","operator":">","value":"\#(start)"}]"#,
                #"[{"property":"updatedAt","operator":">=","value":"\#(middle)"}]"#,
                #"[{"property":"updatedAt","operator":"<","value":"\#(middle)"}]"#,
                #"[{"property":"updatedAt","operator":"<=","value":"\#(start)"}]"#,
            ]),
            (network.boxes, [
                #"[{"property":"id","operator":"in","value":\#(firstBoxes)}]"#,
                #"[{"property":"updatedAt","operator":">=","value":"\#(middle)"}]"#,
                #"[{"property":"updatedAt","operator":">","value":"\#(start)"},{"property":"name","operator":"like","value":"renamed"}]"#,
                "[]",
            ]),
        ] {
            for filter in filters { try expectAgreement(table, filter) }
        }
    }

    /// Values the indexes hold apart (not a string, not one time) are still found as a scan finds them.
    @Test func oddValuesAreCandidatesAsAScanSeesThem() throws {
        var table = ObjectTable(indexing: ["id", "olt", "parent"])
        let rows: [JSONObject] = [
            ["olt": "a", "parent": "p1", "updatedAt": "2026-01-01T00:00:00.000Z"],
            ["olt": .null, "parent": .array(["p1", "p2"]), "updatedAt": "2026-01-01T00:00:01.000Z"],
            ["olt": 7, "updatedAt": 5],
            ["parent": "p2", "updatedAt": "not a time"],
            ["olt": "b", "parent": "p3", "updatedAt": .array(["2026-01-01T00:00:02.000Z"])],
            ["olt": "a", "updatedAt": "2026-01-01T00:00:02-03:00"],
            ["olt": .object(["x": "a"]), "updatedAt": .null],
        ]
        for (position, row) in rows.enumerated() {
            let id = String(format: "%024x", position + 1)
            var object = row
            object["id"] = .string(id)
            table.insert(object, id: id)
        }
        // Changes move objects between index entries; a removal leaves a hole in the sequences.
        table.update(String(format: "%024x", 1)) { $0["updatedAt"] = "2026-01-01T00:00:03.000Z"; $0["olt"] = .null }
        table.remove(String(format: "%024x", 3))
        table.insert(["id": "000000000000000000000003", "olt": "a", "updatedAt": "2026-01-01T00:00:00.500Z"], id: "000000000000000000000003")
        // An `id` field is found through the table's own ids only when it holds the object's id:
        // one holding another id, one with none, one holding its id among others, and one that
        // changes its id field after it was inserted.
        table.insert(["id": "x", "olt": "c"], id: "key-8")
        table.insert(["olt": "c"], id: "key-9")
        table.insert(["id": .array(["key-10", "y"]), "olt": "c"], id: "key-10")
        table.insert(["id": "key-11", "olt": "c"], id: "key-11")
        table.update("key-11") { $0["id"] = "key-8" }
        for filter in [
            #"[{"property":"id","operator":"=","value":"key-8"}]"#,
            #"[{"property":"id","operator":"=","value":"key-9"}]"#,
            #"[{"property":"id","operator":"=","value":"x"}]"#,
            #"[{"property":"id","operator":"in","value":["key-8","key-10","y","key-11","000000000000000000000002"]}]"#,
            #"[{"property":"id","operator":"exists","value":true}]"#,
        ] {
            try expectAgreement(table, filter, pages: [(0, 2), (1, 2), (0, 100)])
        }
        #expect(table.objects(withAnyOf: ["key-8", "key-10", "x"], at: "id").count == 3)
        for filter in [
            #"[{"property":"olt","operator":"exists","value":true}]"#,
            #"[{"property":"olt","operator":"exists","value":false}]"#,
            #"[{"property":"olt","operator":"=","value":"a"}]"#,
            #"[{"property":"olt","operator":"in","value":["a","b",null]}]"#,
            #"[{"property":"olt","operator":"=","value":7}]"#,
            #"[{"property":"parent","operator":"in","value":["p1","p2"]}]"#,
            #"[{"property":"updatedAt","operator":">=","value":"2026-01-01T00:00:01.000Z"}]"#,
            #"[{"property":"updatedAt","operator":"<","value":"2026-01-01T00:00:02.000Z"}]"#,
            #"[{"property":"updatedAt","operator":">","value":"2026-01-01T03:00:01.500+03:00"}]"#,
            #"[{"property":"updatedAt","operator":">=","value":"m"}]"#,
        ] {
            try expectAgreement(table, filter, pages: [(0, 2), (1, 2), (0, 100)])
        }
    }
}
