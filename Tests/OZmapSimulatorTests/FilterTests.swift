import Foundation
import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct FilterTests {
    @Test func equalityAndInequality() async throws {
        try await SimulatorHarness.run { sim in
            let equal = try await sim.list("boxes", filter: [condition("name", "=", "CTO-01-001")])
            #expect(equal["total"]?.int == 1)
            #expect(equal["rows"]?[0]?["name"]?.string == "CTO-01-001")
            let notEqual = try await sim.list("boxes", filter: [condition("name", "!=", "CTO-01-001")])
            #expect(notEqual["total"]?.int == 41)
            // AND of two conditions.
            let both = try await sim.list(
                "boxes", filter: [condition("name", "like", "cto-02"), condition("name", "!=", "CTO-02-001")])
            #expect(both["total"]?.int == 20)
        }
    }

    @Test func inAndNotInOnIdAndUnderscoreId() async throws {
        try await SimulatorHarness.run { sim in
            let boxes = sim.simulator.snapshot().boxes
            let wanted = [boxes[3].id, boxes[7].id, boxes[11].id]
            let byID = try await sim.list("boxes", filter: [condition("id", "in", .array(wanted.map { .string($0) }))])
            #expect(Set(SimulatorHarness.ids(byID)) == Set(wanted))
            #expect(byID["total"]?.int == 3)
            let byUnderscore = try await sim.list("boxes", filter: [condition("_id", "in", .array(wanted.map { .string($0) }))])
            #expect(Set(SimulatorHarness.ids(byUnderscore)) == Set(wanted))
            let notIn = try await sim.list("boxes", filter: [condition("id", "notin", .array(wanted.map { .string($0) }))])
            #expect(notIn["total"]?.int == boxes.count - 3)
            #expect(Set(SimulatorHarness.ids(notIn)).isDisjoint(with: wanted))
            let notArray = try await sim.request("GET", SimulatorHarness.listPath("boxes", filter: [condition("id", "in", "x")]))
            #expect(notArray.status == 400)
        }
    }

    @Test func existsFindsSplittersTracedToAnOLT() async throws {
        try await SimulatorHarness.run { sim in
            let snapshot = sim.simulator.snapshot()
            let traced = try await sim.list("splitters", filter: [condition("olt", "exists", true)])
            #expect(traced["total"]?.int == snapshot.splitters.filter { $0.olt != nil }.count)
            #expect(traced["total"]?.int == 80)  // 40 boxes x (primary + customer)
            let untraced = try await sim.list("splitters", filter: [condition("olt", "exists", false)])
            #expect(untraced["total"]?.int == 2)  // the 2 boxes not connected
            for row in untraced["rows"]?.array ?? [] {
                #expect(row["olt"] == nil, "an untraced splitter carries no olt field")
            }
            let parents = Set((traced["rows"]?.array ?? []).compactMap { $0["parent"]?.string })
            #expect(parents.count == 40)
            #expect(parents == Set(snapshot.connectedBoxes.map(\.id)))
        }
    }

    @Test func likeIsCaseInsensitiveWithPercentWildcards() async throws {
        try await SimulatorHarness.run { sim in
            let substring = try await sim.list("boxes", filter: [condition("name", "like", "cto-01")])
            #expect(substring["total"]?.int == 21)
            let suffix = try await sim.list("boxes", filter: [condition("name", "like", "%-001")])
            #expect(Set((suffix["rows"]?.array ?? []).compactMap { $0["name"]?.string }) == ["CTO-01-001", "CTO-02-001"])
            let prefix = try await sim.list("boxes", filter: [condition("name", "like", "Cto-02-01%")])
            #expect(prefix["total"]?.int == 10)  // 010...019
            let none = try await sim.list("boxes", filter: [condition("name", "like", "olt")])
            #expect(none["total"]?.int == 0)
        }
    }

    @Test func numericComparisonsAndDotPaths() async throws {
        try await SimulatorHarness.run { sim in
            let boxes = sim.simulator.snapshot().boxes
            let south = boxes.filter { $0.lat < -27.59 }.count
            let lessThan = try await sim.list("boxes", filter: [condition("lat", "<", -27.59)])
            #expect(lessThan["total"]?.int == south)
            let atLeast = try await sim.list("boxes", filter: [condition("lat", ">=", -27.59)])
            #expect(atLeast["total"]?.int == boxes.count - south)
            let maxLat = try #require(boxes.map(\.lat).max())
            #expect(try await sim.list("boxes", filter: [condition("lat", ">", .number(maxLat))])["total"]?.int == 0)
            #expect(try await sim.list("boxes", filter: [condition("lat", "<=", .number(maxLat))])["total"]?.int == boxes.count)

            let outputs = try await sim.list("splitters", filter: [condition("ratio.output", "=", 8), condition("isDrop", "=", true)])
            #expect(outputs["total"]?.int == 42)
            let client = try #require(sim.simulator.snapshot().clients.first)
            let bySerial = try await sim.list("ftth-clients", filter: [condition("onu.serial_number", "=", .string(client.serialNumber))])
            #expect(SimulatorHarness.ids(bySerial) == [client.id])
            // Mongoose casts query values to the field type: "0" finds status 0.
            let okAsText = try await sim.list("ftth-clients", filter: [condition("status", "=", "0")])
            let okAsNumber = try await sim.list("ftth-clients", filter: [condition("status", "=", 0)])
            #expect(okAsText["total"] == okAsNumber["total"])
            #expect((okAsNumber["total"]?.int ?? 0) > 0)
        }
    }

    @Test func updatedAtComparesAsInstantsForIncrementalSync() async throws {
        try await SimulatorHarness.run { sim in
            let box = try #require(sim.simulator.snapshot().boxes.first)
            try sim.simulator.renameBox(id: box.id, to: "CTO-RENAMED")
            let renamed = try #require(sim.simulator.snapshot().box(id: box.id))
            #expect(renamed.updatedAt > box.updatedAt)

            let changed = try await sim.list("boxes", filter: [condition("updatedAt", ">=", .string(renamed.updatedAt))])
            #expect(SimulatorHarness.ids(changed) == [box.id])
            let after = try await sim.list("boxes", filter: [condition("updatedAt", ">", .string(renamed.updatedAt))])
            #expect(after["total"]?.int == 0)

            // The same instant written in another zone and without "Z" still compares as an instant.
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let instant = try #require(formatter.date(from: renamed.updatedAt))
            formatter.timeZone = TimeZone(secondsFromGMT: -3 * 3600)
            let local = formatter.string(from: instant)
            #expect(local.hasSuffix("-03:00"))
            let sameInstant = try await sim.list("boxes", filter: [condition("updatedAt", ">=", .string(local))])
            #expect(SimulatorHarness.ids(sameInstant) == [box.id])
            let everything = try await sim.list("boxes", filter: [condition("updatedAt", "<=", .string(local))])
            #expect(everything["total"]?.int == 42)
        }
    }

    @Test func invalidFiltersAre400NamingTheProblem() async throws {
        try await SimulatorHarness.run { sim in
            let eq = try await sim.request("GET", SimulatorHarness.listPath("boxes", filter: [condition("name", "eq", "CTO-01-001")]))
            #expect(eq.status == 400)
            #expect(try eq.json()["message"]?.string?.contains("'eq'") == true)

            let cases: [(String, String)] = [
                ("not json", "filter"),
                (#"{"property":"name","operator":"=","value":"x"}"#, "array"),
                (#"[{"operator":"=","value":"x"}]"#, "property"),
                (#"[{"property":"name","value":"x"}]"#, "operator"),
                (#"[{"property":"name","operator":"="}]"#, "value"),
                (#"[{"property":"olt","operator":"exists","value":"maybe"}]"#, "exists"),
                (#"[{"property":"coords","operator":"near","value":[1,2]}]"#, "near"),
            ]
            for (filter, word) in cases {
                let response = try await sim.request("GET", "boxes?filter=" + SimulatorHarness.encoded(filter))
                #expect(response.status == 400, "\(filter)")
                let message = try response.json()["message"]?.string ?? ""
                #expect(message.contains(word), "\(filter): \(message)")
            }
        }
    }

    @Test func coordsAreLongitudeThenLatitude() async throws {
        try await SimulatorHarness.run { sim in
            for resource in ["boxes", "properties"] {
                let page = try await sim.list(resource, extra: "limit=20")
                for row in page["rows"]?.array ?? [] {
                    let lat = try #require(row["lat"]?.number)
                    let lng = try #require(row["lng"]?.number)
                    #expect(row["coords"] == [.number(lng), .number(lat)])
                    #expect(abs(lat - -27.59) < 0.05 && abs(lng - -48.55) < 0.05)
                }
            }
        }
    }
}
