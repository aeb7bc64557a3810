import Foundation
import OZmapClient
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Testing

/// CTO names as people type them, through ozmapd's socket: ListBoxes queries and GetBox by name.
@Suite(.timeLimit(.minutes(5))) struct CTONameIntegrationTests {
    /// The GRPCCore.RPCError of a GetBox by name; nil (and a recorded issue) when it finds a box.
    func getBoxError(_ client: OZmapIntegrationConnection, name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> GRPCCore.RPCError? {
        do {
            let box = try await client.rpc.getBox(GetBoxRequest(name: name))
            Issue.record("GetBox '\(name)' found \(box.name) (\(box.id))", sourceLocation: sourceLocation)
            return nil
        } catch let error as GRPCCore.RPCError {
            return error
        }
    }

    @Test func namesAsPeopleTypeThem() async throws {
        let rig = try await TestRig(boxes: 300, olts: 2)
        try await rig.startDaemon()
        let client = try await rig.client()

        // Before any full pass: UNAVAILABLE, not NOT_FOUND.
        let before = try #require(try await getBoxError(client, name: "CTO-01-001"))
        #expect(before.code == .unavailable && before.message.contains("not loaded yet"), "\(before)")

        // A slow first pass: while it runs, the answer says how far it got.
        // Each request slow enough that the loading window outlasts a poll on a loaded machine
        // (at 250 ms a whole make test run once missed it).
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 1000))
        _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: simulatorKey))
        var loading: GRPCCore.RPCError?
        try await waitUntil("GetBox answers with the first pass's progress") {
            let error = try await getBoxError(client, name: "CTO-01-001")
            #expect(error?.code == .unavailable, "\(String(describing: error))")
            loading = error
            return error?.message.range(of: #"box cache still loading \([0-9]+ of [1-9][0-9]* boxes\)"#, options: .regularExpression) != nil
        }
        print("while loading: \(loading?.message ?? "")")
        rig.simulator.setFaults(.none)
        let report = try #require(try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: .timeout(.seconds(60))).report)
        #expect(report.error.isEmpty, "\(report.error)")

        let truth = connectedBoxes(rig.simulator)
        let boxes = try await rig.allBoxes(client)
        #expect(boxes.count == truth.count)

        // ListBoxes: the query is normalised like the names.
        let expected = Set(boxes.filter { $0.name.hasPrefix("CTO-01-00") }.map(\.id))
        #expect(!expected.isEmpty)
        for query in ["cto 01 00", "CTO_01_00", "Cto.01.00", "cto-01-00", " CTO  01 - 00"] {
            let listed = try await rig.allBoxes(client, ListBoxesRequest(query: query, pageSize: 1000))
            #expect(Set(listed.map(\.id)) == expected, "query '\(query)'")
        }
        let prefixed = try await client.rpc.listBoxes(ListBoxesRequest(query: "cto_01_00", pageSize: 1000, match: .prefix))
        #expect(prefixed.total == UInt32(expected.count))

        // GetBox by name: separators, case, and numbers by value.
        let target = try #require(boxes.filter { $0.name.hasPrefix("CTO-01-0") }.sorted { $0.name < $1.name }.last)
        let parts = target.name.split(separator: "-")
        let spellings = [target.name.lowercased(), target.name.replacingOccurrences(of: "-", with: " "),
                         target.name.replacingOccurrences(of: "-", with: "_"),
                         "cto \(Int(parts[1])!) \(Int(parts[2])!)", "CTO-\(Int(parts[1])!)-\(Int(parts[2])!)"]
        for spelling in spellings {
            let found = try await client.rpc.getBox(GetBoxRequest(name: spelling))
            #expect(found.id == target.id, "'\(spelling)' found \(found.name)")
        }

        // Not found: the nearest names.
        let missing = try #require(try await getBoxError(client, name: "CTO-01-0009x"))
        #expect(missing.code == .notFound)
        #expect(missing.message.contains("did you mean: CTO-01-"), "\(missing.message)")

        // Two boxes whose names differ only in spelling: ambiguous, each listed, and the id settles it.
        let other = try #require(boxes.first { $0.id != target.id && $0.ozmapOltId == target.ozmapOltId })
        let respelled = target.name.replacingOccurrences(of: "-", with: " ").lowercased()
        try rig.simulator.renameBox(id: other.id, to: respelled)
        let incremental = try #require(try await client.rpc.syncBoxes(SyncBoxesRequest(full: false, wait: true)).report)
        #expect(incremental.error.isEmpty, "\(incremental.error)")
        let ambiguous = try #require(try await getBoxError(client, name: target.name))
        #expect(ambiguous.code == .failedPrecondition)
        for part in ["2 boxes match", "\(target.name) (id \(target.id), project ", "\(respelled) (id \(other.id), project ", "give the box id"] {
            #expect(ambiguous.message.contains(part), "\(ambiguous.message) lacks \(part)")
        }
        #expect(try await client.rpc.getBox(GetBoxRequest(name: other.id)).name == respelled)

        // After a restart the boxes on disk count as loaded: NOT_FOUND at once, never UNAVAILABLE.
        await client.close()
        try await rig.stopDaemon()
        rig.simulator.setFaults(SimulatorFaults(down: true))
        try await rig.startDaemon()
        let again = try await rig.client()
        let afterRestart = try #require(try await getBoxError(again, name: "no such box"))
        #expect(afterRestart.code == .notFound, "\(afterRestart)")
        let byID = try await again.rpc.getBox(GetBoxRequest(id: target.id))
        #expect(byID.name == target.name)
        rig.simulator.setFaults(.none)
        await again.close()
        try await rig.tearDown()
    }
}
