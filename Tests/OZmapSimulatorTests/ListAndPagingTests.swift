import OZmapSimulator
import Testing

@Suite(.timeLimit(.minutes(3)))
struct ListAndPagingTests {
    @Test func tenThousandBoxesGenerateAndPageCompletely() async throws {
        var configuration = SimulatorConfiguration(apiKey: SimulatorHarness.apiKey)
        configuration.boxes = 10_000
        let started = ContinuousClock.now
        let simulator = try OZmapSimulator(configuration: configuration)
        let elapsed = ContinuousClock.now - started
        print("generating 10,000 boxes took \(elapsed)") // a figure, not an assertion: speed belongs to benchmarks

        try await SimulatorHarness.run(simulator: simulator) { sim in
            let total = 10_000 + 500  // plus 5% boxes not traced to an OLT
            let first = try await sim.getJSON("boxes")
            #expect(first["total"]?.int == total)
            #expect(first["count"]?.int == 25)
            #expect(first["start"]?.int == 0)
            #expect(first["limit"]?.int == 25)
            #expect(first["rows"]?.array?.count == 25)
            #expect(first["hasNextPage"] == true)
            #expect(first["nextUrl"]?.string == "/api/v2/boxes?page=2&limit=25")

            let capped = try await sim.getJSON("boxes?limit=100000")
            #expect(capped["limit"]?.int == 500)
            #expect(capped["count"]?.int == 500)

            // Follow nextUrl to the end: every box exactly once, starts consistent.
            var seen = Set<String>()
            var next: String? = "/api/v2/boxes?limit=500"
            var pages = 0
            while let url = next {
                let page = try await sim.getJSON(url)
                #expect(page["start"]?.int == pages * 500)
                #expect(page["total"]?.int == total)
                let ids = SimulatorHarness.ids(page)
                #expect(page["count"]?.int == ids.count)
                seen.formUnion(ids)
                pages += 1
                next = page["hasNextPage"] == true ? page["nextUrl"]?.string : nil
                if page["hasNextPage"] == false {
                    #expect(page["nextUrl"] == nil || page["nextUrl"] == .null)
                    #expect(page["count"]?.int == total - 20 * 500)
                }
                if pages > 30 { break }
            }
            #expect(pages == 21)
            #expect(seen.count == total)

            let beyond = try await sim.getJSON("boxes?page=1000&limit=500")
            #expect(beyond["rows"] == [])
            #expect(beyond["count"]?.int == 0)
            #expect(beyond["hasNextPage"] == false)
        }
    }

    @Test func nextUrlCarriesFilterAndSort() async throws {
        try await SimulatorHarness.run { sim in
            let filter: SimulatorJSON = [condition("name", "like", "cto-01")]
            let sort = SimulatorHarness.encoded(#"[{"property":"name","direction":-1}]"#)
            let first = try await sim.list("boxes", filter: filter, extra: "limit=5&sort=\(sort)")
            #expect(first["total"]?.int == 21)  // 20 connected + 1 not connected on OLT 1
            let names = (first["rows"]?.array ?? []).compactMap { $0["name"]?.string }
            #expect(names == ["CTO-01-021", "CTO-01-020", "CTO-01-019", "CTO-01-018", "CTO-01-017"])
            let nextURL = try #require(first["nextUrl"]?.string)
            #expect(nextURL.contains("filter="))
            let second = try await sim.getJSON(nextURL)
            #expect(second["start"]?.int == 5)
            #expect(second["rows"]?[0]?["name"]?.string == "CTO-01-016")
        }
    }

    @Test func badPagingParametersAre400() async throws {
        try await SimulatorHarness.run { sim in
            for query in ["page=0", "page=abc", "limit=0", "limit=-5", "limit=x"] {
                let response = try await sim.request("GET", "boxes?\(query)")
                #expect(response.status == 400, "\(query)")
                let message = try response.json()["message"]?.string ?? ""
                #expect(message.contains(query.split(separator: "=")[0]), "\(message)")
            }
            let badSort = try await sim.request("GET", "boxes?sort=" + SimulatorHarness.encoded(#"[{"property":"name","direction":2}]"#))
            #expect(badSort.status == 400)
        }
    }

    @Test func everyResourceListsAndGetsById() async throws {
        try await SimulatorHarness.run { sim in
            for resource in ["olts", "splitters", "boxes", "ftth-clients", "properties"] {
                let page = try await sim.list(resource, extra: "limit=3")
                let id = try #require(SimulatorHarness.ids(page).first, "\(resource) is empty")
                #expect(ObjectIDCheck.isObjectID(id))
                let single = try await sim.getJSON("\(resource)/\(id)")
                #expect(single["id"]?.string == id)
                #expect(single["_id"]?.string == id)
                #expect(single["createdAt"]?.string.map(ObjectIDCheck.isTimestamp) == true)
                #expect(single["updatedAt"]?.string.map(ObjectIDCheck.isTimestamp) == true)
            }
        }
    }
}

enum ObjectIDCheck {
    static func isObjectID(_ text: String) -> Bool {
        text.count == 24 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// `2024-05-01T12:30:00.123Z`
    static func isTimestamp(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil
    }
}
