import Foundation
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Testing

/// Drift: what people change in OZmap by hand is reported by a reconcile dry-run with its kind
/// and fields, and an apply makes OZmap hold what ozmapd holds again — deleting no client that
/// ozmapd did not create (docs/INTEGRATION.md, "Drift").
@Suite(.timeLimit(.minutes(5)))
struct ReconcileTests {
    private func reconcile(_ client: OZmapIntegrationConnection, apply: Bool = false, olt: String = "", onu: String = "") async throws -> ReconcileResponse {
        try await client.rpc.reconcile(ReconcileRequest(dryRun: apply ? false : nil, archoltOltId: olt, onuId: onu))
    }

    private func count(_ response: ReconcileResponse, _ kind: DriftKind) -> UInt32 {
        response.counts.first { $0.kind == kind }?.count ?? 0
    }

    /// Every client in OZmap that ozmapd did not create: (id, code), to compare before and after.
    private func othersClients(_ rig: TestRig) -> Set<String> {
        Set(rig.simulator.snapshot().clients.filter { !($0.json["external_id"]?.string ?? "").hasPrefix("ozmapd:") }.map(\.id))
    }

    @Test func eachDriftKindIsReportedAndAnApplyFixesIt() async throws {
        let rig = try await TestRig(boxes: 30, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        let erp = ERP(rig.simulator)
        var placed: [String: ProvisionONUResponse] = [:]
        for onu in ["d-missing", "d-moved", "d-data", "d-orphan", "d-dup", "d-same"] {
            placed[onu] = try await client.rpc.provisionONU(provision(onu, cto: boxes[0].id))
            #expect(placed[onu]?.onu?.state == .synced)
        }
        let clean = try await reconcile(client)
        #expect(clean.rows.isEmpty, "nothing drifted yet: \(clean.rows)")
        #expect(clean.onusChecked == 6)

        // People at work in OZmap.
        try await erp.request("DELETE", "properties/\(placed["d-missing"]!.onu?.ozmapPropertyId ?? "")")
        try await erp.request("PATCH", "properties/\(placed["d-moved"]!.onu?.ozmapPropertyId ?? "")", ["box": boxes[1].id, "auto_connect": true])
        try await erp.request("PATCH", "ftth-clients/\(placed["d-data"]!.onu?.ozmapClientId ?? "")",
                              ["onu": ["serial_number": "RETYPED0001", "mac_address": "aa:bb:cc:00:11:22", "user_PPPoE": "user-d-data"], "implanted": false])
        try await erp.request("DELETE", "ftth-clients/\(placed["d-orphan"]!.onu?.ozmapClientId ?? "")")
        // A second client for d-dup, marked as ozmapd's (a create whose answer was lost), and one the ERP filed under the same code.
        let extra = try await erp.request("POST", "properties", [
            "project": boxes[2].project, "box": boxes[2].id, "auto_connect": true, "external_id": "ozmapd:onu:d-dup",
            "client": ["code": "d-dup", "name": "dup", "implanted": true, "status": 0, "external_id": "ozmapd:onu:d-dup",
                       "onu": ["serial_number": "ZTEGDUP00001", "mac_address": "", "user_PPPoE": ""]] as [String: Any],
        ])
        // A client ozmapd made for an ONU ArchOLT deprovisioned (the lost reply of an old create).
        _ = try await client.rpc.provisionONU(provision("d-ghost", cto: boxes[2].id))
        _ = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "d-ghost"))
        let ghost = try await erp.request("POST", "properties", [
            "project": boxes[2].project, "box": boxes[2].id, "auto_connect": true, "external_id": "ozmapd:onu:d-ghost",
            "client": ["code": "d-ghost", "name": "ghost", "implanted": true, "status": 0, "external_id": "ozmapd:onu:d-ghost",
                       "onu": ["serial_number": "ZTEGGHOST001", "mac_address": "", "user_PPPoE": ""]] as [String: Any],
        ])
        // The ERP files its own client under the deprovisioned ONU's code: not ozmapd's to remove.
        let erpUnderGhostCode = try await erp.fileClient(code: "d-ghost", name: "Cliente ERP", serial: "ZTEGERPGH001",
                                                         at: boxes[2].id, project: boxes[2].project)
        let others = othersClients(rig)
        #expect(others.contains(erpUnderGhostCode.client))

        let dry = try await reconcile(client)
        #expect(dry.dryRun)
        func rows(_ kind: DriftKind) -> [DriftRow] { dry.rows.filter { $0.kind == kind } }
        #expect(rows(.missingInOzmap).map(\.onuId) == ["d-missing"])
        #expect(rows(.atOtherBox).map(\.onuId) == ["d-moved"])
        #expect(rows(.atOtherBox).first?.ozmapHolds.contains(boxes[1].id) == true)
        #expect(rows(.dataDiffers).map(\.onuId) == ["d-data"])
        #expect(Set(rows(.dataDiffers).first?.fields ?? []) == ["onu.serial_number", "implanted"], "\(rows(.dataDiffers))")
        #expect(rows(.propertyWithoutClient).map(\.onuId) == ["d-orphan"])
        #expect(rows(.propertyWithoutClient).first?.ozmapPropertyId == placed["d-orphan"]!.onu?.ozmapPropertyId)
        #expect(rows(.duplicate).map(\.onuId) == ["d-dup"])
        #expect(rows(.duplicate).first?.action.contains(extra["client"] as? String ?? "?") == true)
        #expect(rows(.unknownToOzmapd).map(\.onuId) == ["d-ghost"])
        #expect(rows(.unknownToOzmapd).first?.ozmapClientId == ghost["client"] as? String)
        #expect(dry.counts.count == DriftKind.allCases.count - 1 && dry.rows.count == 6)
        #expect(count(dry, .duplicate) == 1 && dry.operationIds.isEmpty)
        #expect(dry.ozmapRequests > 0)
        // A dry run changes nothing.
        #expect(othersClients(rig) == others)
        #expect(rig.simulator.snapshot().clients(code: "d-ghost").count == 2, "the marked client and the ERP's")

        let applied = try await reconcile(client, apply: true)
        #expect(!applied.dryRun && applied.operationIds.count == 6, "one operation per ONU: \(applied.operationIds)")
        #expect(applied.rows.allSatisfy { !$0.operationId.isEmpty })
        try await rig.outboxDrained(client)

        let after = try await reconcile(client)
        #expect(after.rows.isEmpty, "the apply fixed every difference: \(after.rows)")
        let snapshot = rig.simulator.snapshot()
        for onu in ["d-missing", "d-moved", "d-data", "d-orphan", "d-dup", "d-same"] {
            #expect(rig.ozmapClients(code: onu).clients == 1, "\(onu): one client")
            #expect(rig.ozmapClients(code: onu).boxes == [boxes[0].id], "\(onu): at its CTO")
        }
        #expect(snapshot.clients(code: "d-ghost").map(\.id) == [erpUnderGhostCode.client], "only the marked client went")
        #expect(snapshot.properties.first { $0.id == placed["d-orphan"]!.onu?.ozmapPropertyId } == nil, "the empty property went")
        let moved = try await client.rpc.getONU(GetONURequest(onuId: "d-moved"))
        #expect(moved.ozmapClientId == placed["d-moved"]!.onu?.ozmapClientId, "moved back with its ids")
        #expect(snapshot.clients(code: "d-data").first?.serialNumber == placed["d-data"]!.onu?.serialNumber)
        #expect(othersClients(rig) == others, "no client ozmapd did not create was deleted")
        await client.close()
        try await rig.tearDown()
    }

    @Test func aDuplicateOzmapdDidNotCreateIsReportedAndLeftToAPerson() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        _ = try await client.rpc.provisionONU(provision("dup-erp", cto: boxes[0].id))
        let theirs = try await ERP(rig.simulator).fileClient(code: "dup-erp", name: "Cliente ERP", serial: "ZTEGERP00009",
                                                             at: boxes[1].id, project: boxes[1].project)
        let dry = try await reconcile(client, onu: "dup-erp")
        let row = try #require(dry.rows.first { $0.kind == .duplicate })
        #expect(row.action.hasPrefix("none:") && row.action.contains(theirs.client), "\(row.action)")
        let applied = try await reconcile(client, apply: true, onu: "dup-erp")
        #expect(applied.operationIds.isEmpty, "nothing an apply may do")
        try await rig.outboxDrained(client)
        #expect(rig.simulator.snapshot().clients.contains { $0.id == theirs.client }, "the ERP's client stays")
        await client.close()
        try await rig.tearDown()
    }

    /// A client marked as ozmapd's for an ONU ozmapd has no record of at all (its state directory
    /// lost or restored from a backup): the ONU may be live, so an apply does not remove it.
    @Test func aMarkedClientOfAnONUWithNoRecordIsReportedNotRemoved() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let stray = try await ERP(rig.simulator).request("POST", "properties", [
            "project": boxes[0].project, "box": boxes[0].id, "auto_connect": true, "external_id": "ozmapd:onu:n-1",
            "client": ["code": "n-1", "name": "n", "implanted": true, "status": 0, "external_id": "ozmapd:onu:n-1",
                       "onu": ["serial_number": "ZTEGNREC0001", "mac_address": "", "user_PPPoE": ""]] as [String: Any],
        ])
        let dry = try await reconcile(client)
        let row = try #require(dry.rows.first { $0.kind == .unknownToOzmapd })
        #expect(row.onuId == "n-1" && row.action.hasPrefix("none:") && row.action.contains("import"), "\(row.action)")
        #expect(try await reconcile(client, onu: "n-1").rows.map(\.kind) == [.unknownToOzmapd])
        let applied = try await reconcile(client, apply: true)
        #expect(applied.operationIds.isEmpty)
        try await rig.outboxDrained(client)
        #expect(rig.simulator.snapshot().clients.contains { $0.id == stray["client"] as? String }, "the client stays")
        await client.close()
        try await rig.tearDown()
    }

    /// The ERP's property left without its client: an apply gives the ONU a client of ozmapd's own
    /// and leaves the ERP's property (its address, drop and history) for a person.
    @Test func anAdoptedPropertyWithoutItsClientIsNotDeleted() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client, free: 3)[0]
        let erp = ERP(rig.simulator)
        let filed = try await erp.fileClient(code: "e-1", name: "Cliente ERP", serial: "ZTEGE0000001", at: box.id, project: box.project)
        let adopted = try await client.rpc.provisionONU(provision("e-1", cto: box.id, serial: "ZTEGE0000001"))
        #expect(adopted.onu?.adopted == true && adopted.onu?.ozmapPropertyId == filed.property)
        try await erp.request("DELETE", "ftth-clients/\(filed.client)")

        let dry = try await reconcile(client, onu: "e-1")
        let row = try #require(dry.rows.first)
        #expect(row.kind == .propertyWithoutClient && row.action.contains("ERP's"), "\(row.action)")
        _ = try await reconcile(client, apply: true, onu: "e-1")
        try await rig.outboxDrained(client)
        #expect(rig.simulator.snapshot().properties.contains { $0.id == filed.property }, "the ERP's property stays")
        #expect(rig.ozmapClients(code: "e-1").clients == 1 && rig.ozmapClients(code: "e-1").boxes.contains(box.id))
        #expect(try await reconcile(client, onu: "e-1").rows.isEmpty)
        await client.close()
        try await rig.tearDown()
    }

    /// An ONU whose deprovision OZmap refused is on its way out: when a person then removes its
    /// client by hand, reconcile does not report it missing, and an apply never creates it again.
    @Test func anONUWhoseDeprovisionFailedIsNotCreatedAgain() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        let placed = try await client.rpc.provisionONU(provision("f-1", cto: box.id))
        rig.simulator.setFaults(SimulatorFaults(errorRate: 1, status: 422, routes: [FaultRoute("DELETE properties")]))
        await #expect(throws: GRPCCore.RPCError.self) {
            try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "f-1"))
        }
        #expect(try await client.rpc.getONU(GetONURequest(onuId: "f-1")).state == .failed)
        rig.simulator.setFaults(.none)
        try await ERP(rig.simulator).request("DELETE", "properties/\(placed.onu?.ozmapPropertyId ?? "")")

        #expect(try await reconcile(client).rows.isEmpty, "not compared while its deprovision is unfinished")
        #expect(try await reconcile(client, apply: true).operationIds.isEmpty)
        try await rig.outboxDrained(client)
        #expect(rig.ozmapClients(code: "f-1").clients == 0)
        await client.close()
        try await rig.tearDown()
    }

    @Test func scopesAndBadRequestsNameTheirFields() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let done = try await client.rpc.provisionONU(provision("s-1", cto: boxes[0].id))
        try await ERP(rig.simulator).request("DELETE", "properties/\(done.onu?.ozmapPropertyId ?? "")")
        #expect(try await reconcile(client, olt: "olt-a").rows.map(\.kind) == [.missingInOzmap])
        #expect(try await reconcile(client, olt: "olt-other").rows.isEmpty)
        #expect(try await reconcile(client, onu: "s-1").onusChecked == 1)
        await #expect { try await reconcile(client, olt: "olt-a", onu: "s-1") } throws: { error in
            (error as? GRPCCore.RPCError)?.code == .invalidArgument && (error as? GRPCCore.RPCError)?.message.contains("onu_id") == true
        }
        await client.close()
        try await rig.tearDown()
    }

    @Test func aFullBoxPassRunsADryRunWhoseCountsShowInGetStatus() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let done = try await client.rpc.provisionONU(provision("g-1", cto: boxes[0].id))
        try await ERP(rig.simulator).request("DELETE", "properties/\(done.onu?.ozmapPropertyId ?? "")")
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        try await waitUntil("GetStatus shows the drift") {
            let status = try await client.rpc.getStatus(GetStatusRequest())
            return status.drift.first { $0.kind == .missingInOzmap }?.count == 1 && !status.driftCheckedAt.isEmpty
        }
        await client.close()
        try await rig.tearDown()
    }
}
