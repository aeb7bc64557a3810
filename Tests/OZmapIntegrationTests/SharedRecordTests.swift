import Foundation
import OZmapClient
import OZmapDaemon
import OZmapDomain
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Testing

/// OZmap is a shared record: what the ERP or a person filed is adopted, attached or moved,
/// never deleted to be created again; changes reach OZmap as one PATCH of what changed; the
/// box cache counts ozmapd's own writes (docs/INTEGRATION.md, "What exists in OZmap").
@Suite(.timeLimit(.minutes(5)))
struct SharedRecordTests {
    /// Writes the simulator received (anything but GET), as "METHOD route".
    private func writes(_ rig: TestRig) -> [LoggedRequest] {
        rig.simulator.requestLog().filter { $0.method != "GET" && $0.outcome != .faulted }
    }

    @Test func anERPClientWithoutAPropertyIsAttachedWithItsIDKept() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let erp = ERP(rig.simulator)
        let erpClient = try await erp.fileClientWithoutProperty(code: "3001", name: "Maria Souza", serial: "ZTEG00003001",
                                                                at: boxes[1].id, project: boxes[1].project)
        rig.simulator.clearRequestLog()

        let done = try await client.rpc.provisionONU(provision("3001", cto: boxes[0].name, serial: "ZTEG00003001"))
        #expect(done.onu?.state == .synced && done.onu?.ctoBoxId == boxes[0].id)
        #expect(done.onu?.ozmapClientId == erpClient, "the ERP's client is attached, not re-created")
        #expect(done.onu?.adopted == true && done.onu?.ozmapClientCode == "3001")
        #expect(done.onu?.port ?? 0 > 0)
        let posts = writes(rig).filter { $0.method == "POST" }
        #expect(posts.count == 1 && posts[0].bodyJSON?["client"]?.string == erpClient)
        #expect(!writes(rig).contains { $0.method == "DELETE" })
        let snapshot = rig.simulator.snapshot()
        #expect(snapshot.clients(code: "3001").map(\.id) == [erpClient])
        #expect(snapshot.clients(code: "3001").first?.name == "Maria Souza", "the ERP's name stays")
        #expect(rig.ozmapClients(code: "3001").boxes == [boxes[0].id])
        await client.close()
        try await rig.tearDown()
    }

    @Test func aClientAtAnotherBoxIsMovedWithItsIDsKept() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let filed = try await ERP(rig.simulator).fileClient(code: "3002", name: "José Lima", serial: "ZTEG00003002",
                                                            at: boxes[1].id, project: boxes[1].project)
        rig.simulator.clearRequestLog()

        let done = try await client.rpc.provisionONU(provision("3002", cto: boxes[0].id, serial: "ZTEG00003002"))
        #expect(done.onu?.state == .synced && done.onu?.ctoBoxId == boxes[0].id)
        #expect(done.onu?.ozmapClientId == filed.client && done.onu?.ozmapPropertyId == filed.property)
        #expect(writes(rig).map { "\($0.method) \($0.path.split(separator: "/").dropLast().last ?? "")" }
                    == ["PATCH ftth-clients", "PATCH properties"], "one update of the ONU's data, one move; no delete, no create")
        let property = try #require(rig.simulator.snapshot().properties.first { $0.id == filed.property })
        #expect(property.box == boxes[0].id && property.client == filed.client)
        #expect(done.onu?.port == UInt32(property.connections.first?.port ?? -1))
        await client.close()
        try await rig.tearDown()
    }

    @Test func aClientFoundOnlyBySerialIsAdoptedAndNoSecondClientIsMade() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let filed = try await ERP(rig.simulator).fileClient(code: "ERP-777", name: "Ana Dias", serial: "ZTEG00003003",
                                                            at: boxes[0].id, project: boxes[0].project)
        rig.simulator.clearRequestLog()

        let done = try await client.rpc.provisionONU(provision("3003", cto: boxes[0].name, serial: "ZTEG00003003"))
        #expect(done.onu?.state == .synced && done.onu?.adopted == true)
        #expect(done.onu?.ozmapClientId == filed.client && done.onu?.ozmapClientCode == "ERP-777")
        #expect(rig.propertyCreates() == 0)
        let snapshot = rig.simulator.snapshot()
        #expect(snapshot.clients(code: "3003").isEmpty && snapshot.clients(code: "ERP-777").count == 1)
        // Only the ONU's data was written; the ERP's code and name stay.
        let patch = try #require(writes(rig).first)
        #expect(writes(rig).count == 1 && patch.method == "PATCH" && patch.bodyJSON?["code"] == nil && patch.bodyJSON?["name"] == nil)
        #expect(snapshot.clients(code: "ERP-777").first?.name == "Ana Dias")

        let shown = try await client.rpc.getONU(GetONURequest(onuId: "3003"))
        #expect(shown.adopted && shown.ozmapClientCode == "ERP-777")
        // Deprovision removes the adopted client (adopted_on_deprovision = delete, the default).
        let gone = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "3003"))
        #expect(gone.onu?.state == .deprovisioned)
        #expect(rig.simulator.snapshot().clients(code: "ERP-777").isEmpty)
        await client.close()
        try await rig.tearDown()
    }

    @Test func changedDataIsOnePatchOfTheChangedFieldsAndSameDataWritesNothing() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        var request = provision("3004", cto: box.name, serial: "ZTEG00003004")
        request.implanted = false
        let created = try await client.rpc.provisionONU(request)
        #expect(created.onu?.state == .synced)
        let marked = try #require(rig.simulator.snapshot().clients(code: "3004").first)
        #expect(marked.json["external_id"]?.string == "ozmapd:onu:3004")

        rig.simulator.clearRequestLog()
        let same = try await client.rpc.provisionONU(request)
        #expect(same.operation == nil && same.onu?.state == .synced)
        #expect(writes(rig).isEmpty && rig.simulator.requestLog().isEmpty, "same data: no request at all")

        // The ONU is swapped (new serial), and activated.
        request.serialNumber = "HWTC00003004"
        request.implantation = .implanted
        let changed = try await client.rpc.provisionONU(request)
        #expect(changed.onu?.state == .synced && changed.onu?.serialNumber == "HWTC00003004" && changed.onu?.implanted == true)
        #expect(changed.onu?.ozmapClientId == created.onu?.ozmapClientId)
        let patches = writes(rig)
        #expect(patches.count == 1)
        let body = try #require(patches.first?.bodyJSON)
        #expect(patches.first?.method == "PATCH" && patches.first?.path.contains("ftth-clients/") == true)
        #expect(body.object?.keys.sorted() == ["implanted", "name", "onu"])
        #expect(body["onu"]?.object?.keys.sorted() == ["serial_number"])
        let updated = try #require(rig.simulator.snapshot().clients(code: "3004").first)
        #expect(updated.serialNumber == "HWTC00003004" && updated.name == "HWTC00003004" && updated.implanted)

        // Leaving implanted unchanged (the wire's explicit form) writes nothing either.
        rig.simulator.clearRequestLog()
        request.implantation = .unchanged
        let kept = try await client.rpc.provisionONU(request)
        #expect(kept.operation == nil && kept.onu?.implanted == true && writes(rig).isEmpty)
        await client.close()
        try await rig.tearDown()
    }

    @Test func theSwapAtAFullCTOWorksAtOnceWithoutASync() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client, free: 1).min { $0.portsFree < $1.portsFree }!
        rig.simulator.clearRequestLog()
        for index in 0..<Int(box.portsFree) {
            let placed = try await client.rpc.provisionONU(provision("swap-\(index)", cto: box.id))
            #expect(placed.onu?.state == .synced)
        }
        #expect(try await client.rpc.getBox(GetBoxRequest(id: box.id)).portsFree == 0, "ozmapd's creates count at once")
        do {
            _ = try await client.rpc.provisionONU(provision("swap-new", cto: box.id))
            Issue.record("provisioned at a full CTO")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("no free customer port"))
        }
        // The everyday swap: the old ONU goes, its replacement takes the port at once.
        _ = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "swap-0"))
        #expect(try await client.rpc.getBox(GetBoxRequest(id: box.id)).portsFree == 1)
        let replacement = try await client.rpc.provisionONU(provision("swap-new", cto: box.id))
        #expect(replacement.onu?.state == .synced && replacement.onu?.ctoBoxId == box.id)
        let syncs = rig.simulator.requestLog().filter { $0.path.hasSuffix("/splitters") && ($0.query ?? "").contains("exists") }
        #expect(syncs.isEmpty, "no full pass was needed")
        await client.close()
        try await rig.tearDown()
    }

    @Test func aCreateOrMoveOZmapRefusesForWantOfPortsSaysTheCTOIsFullAndMovesNothing() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let (home, full) = (boxes[0], boxes[1])
        let placed = try await client.rpc.provisionONU(provision("3006", cto: home.id))
        // The ERP fills the other box behind ozmapd's back: the cache still counts free ports there.
        try await ERP(rig.simulator).fill(box: full.id, project: full.project, prefix: "erp-full")
        #expect(try await client.rpc.getBox(GetBoxRequest(id: full.id)).portsFree > 0)

        do {
            _ = try await client.rpc.assignCTO(AssignCTORequest(onuId: "3006", cto: full.name))
            Issue.record("moved to a full CTO")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("CTO \(full.name)") && error.message.contains("no free customer port"))
            #expect(!error.message.contains("RetryOperation"))
        }
        let after = try await client.rpc.getONU(GetONURequest(onuId: "3006"))
        #expect(after.ctoBoxId == home.id && after.state == .synced)
        #expect(after.ozmapClientId == placed.onu?.ozmapClientId && after.ozmapPropertyId == placed.onu?.ozmapPropertyId)
        #expect(rig.ozmapClients(code: "3006").boxes == [home.id], "the client stays where it was")
        #expect(try await client.rpc.getBox(GetBoxRequest(id: full.id)).portsFree == 0, "the box was re-read")

        // A create there is refused the same way: OZmap refuses, the box is re-read, "no free customer port".
        do {
            _ = try await client.rpc.provisionONU(provision("3106", cto: full.id))
            Issue.record("created at a full CTO")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("no free customer port"))
        }
        // A refused move that also changed the ONU's data: the data reached OZmap, the client stayed home.
        var swapped = provision("3006", cto: full.id, serial: "HWTC00003006")
        swapped.implantation = .unchanged
        await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.provisionONU(swapped) }
        let stayed = try await client.rpc.getONU(GetONURequest(onuId: "3006"))
        #expect(stayed.ctoBoxId == home.id && stayed.state == .synced && stayed.serialNumber == "HWTC00003006")
        #expect(rig.simulator.snapshot().clients(code: "3006").first?.serialNumber == "HWTC00003006")
        await client.close()
        try await rig.tearDown()
    }

    @Test func assignCTOTakesOverAnONUOzmapdNeverSawWhenItNamesItsOLTAndSerial() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let filed = try await ERP(rig.simulator).fileClient(code: "4001", name: "Edu Ramos", serial: "ZTEG00004001",
                                                            at: boxes[1].id, project: boxes[1].project)
        do {
            _ = try await client.rpc.assignCTO(AssignCTORequest(onuId: "4001", cto: boxes[0].id))
            Issue.record("assigned a CTO to an ONU ozmapd never saw, without its OLT and serial")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .notFound && error.message.contains("archolt_olt_id") && error.message.contains("serial_number"))
        }
        rig.simulator.clearRequestLog()
        let taken = try await client.rpc.assignCTO(AssignCTORequest(
            onuId: "4001", cto: boxes[0].name, archoltOltId: "olt-a", serialNumber: "zteg00004001"))
        #expect(taken.onu?.state == .synced && taken.onu?.ctoBoxId == boxes[0].id && taken.onu?.serialNumber == "ZTEG00004001")
        #expect(taken.onu?.ozmapClientId == filed.client && taken.onu?.ozmapPropertyId == filed.property, "moved, ids kept")
        #expect(writes(rig).map(\.method) == ["PATCH"], "one move; the ERP's name and implantation left alone")
        #expect(rig.simulator.snapshot().clients(code: "4001").map(\.name) == ["Edu Ramos"])
        await client.close()
        try await rig.tearDown()
    }

    @Test func anERPClientHoldingTheLastPortOfTheCTOIsAdoptedThereKeepingItsImplantation() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        let erp = ERP(rig.simulator)
        let filed = try await erp.fileClient(code: "3012", name: "Bia", serial: "ZTEG00003012", at: box.id, project: box.project)
        try await erp.request("PATCH", "ftth-clients/\(filed.client)", ["implanted": true])
        try await erp.fill(box: box.id, project: box.project, prefix: "erp-last")
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        #expect(try await client.rpc.getBox(GetBoxRequest(id: box.id)).portsFree == 0)

        var request = provision("3012", cto: box.name, serial: "ZTEG00003012")
        request.implantation = .unchanged
        let adopted = try await client.rpc.provisionONU(request)
        #expect(adopted.onu?.state == .synced && adopted.onu?.ozmapClientId == filed.client && adopted.onu?.implanted == true)
        #expect(rig.simulator.snapshot().clients(code: "3012").first?.implanted == true, "implanted left as OZmap had it")
        await client.close()
        try await rig.tearDown()
    }

    @Test func withoutTheSDKFormsAnERPClientUnderTheONUsCodeIsNotRecreatedToMoveIt() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let filed = try await ERP(rig.simulator).fileClient(code: "3013", name: "Caio", serial: "ZTEG00003013",
                                                            at: boxes[1].id, project: boxes[1].project)
        rig.simulator.setSDKForms(false)
        do {
            _ = try await client.rpc.provisionONU(provision("3013", cto: boxes[0].id, serial: "ZTEG00003013"))
            Issue.record("moved a client this server cannot move")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("move it in OZmap"))
        }
        let snapshot = rig.simulator.snapshot()
        #expect(snapshot.clients(code: "3013").map(\.id) == [filed.client], "the ERP's client is neither deleted nor doubled")
        #expect(snapshot.properties.first { $0.id == filed.property }?.box == boxes[1].id)
        await client.close()
        try await rig.tearDown()
    }

    @Test func onAServerWithoutTheSDKFormsAMoveCreatesFirstAndAnAttachIsRefusedWithoutDeleting() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        rig.simulator.setSDKForms(false)
        _ = try await client.rpc.provisionONU(provision("3007", cto: boxes[0].id))
        rig.simulator.clearRequestLog()

        let moved = try await client.rpc.assignCTO(AssignCTORequest(onuId: "3007", cto: boxes[1].id))
        #expect(moved.onu?.state == .synced && moved.onu?.ctoBoxId == boxes[1].id)
        let order = rig.simulator.requestLog().filter { $0.method != "GET" }.map { "\($0.method) \($0.status)" }
        #expect(order.prefix(3) == ["PATCH 400", "POST 201", "DELETE 204"], "refused move, then create at the new box, then delete the old")
        #expect(rig.ozmapClients(code: "3007").clients == 1 && rig.ozmapClients(code: "3007").boxes == [boxes[1].id])

        // An ERP client without a property (filed through another server's forms) cannot be attached
        // here: refused, and nothing deleted.
        rig.simulator.setSDKForms(true)
        let erpClient = try await ERP(rig.simulator).fileClientWithoutProperty(code: "3008", name: "Rui", serial: "ZTEG00003008",
                                                                               at: boxes[1].id, project: boxes[1].project)
        rig.simulator.setSDKForms(false)
        do {
            _ = try await client.rpc.provisionONU(provision("3008", cto: boxes[0].id, serial: "ZTEG00003008"))
            Issue.record("provisioned although the client could not be attached")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("does not delete a client to create it again"))
        }
        #expect(rig.simulator.snapshot().clients(code: "3008").map(\.id) == [erpClient])
        await client.close()
        try await rig.tearDown()
    }

    @Test func deprovisionRemovesAPropertyWhoseClientIsAlreadyGone() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        let placed = try await client.rpc.provisionONU(provision("3009", cto: box.id))
        let freeBefore = try await client.rpc.getBox(GetBoxRequest(id: box.id)).portsFree
        // Someone deletes the client in OZmap: its property stays, holding the port.
        try await ERP(rig.simulator).request("DELETE", "ftth-clients/\(placed.onu?.ozmapClientId ?? "")")

        let gone = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "3009"))
        #expect(gone.onu?.state == .deprovisioned)
        #expect(!rig.simulator.snapshot().properties.contains { $0.id == placed.onu?.ozmapPropertyId }, "the stored property id was used")
        #expect(try await client.rpc.getBox(GetBoxRequest(id: box.id)).portsFree == freeBefore + 1)
        await client.close()
        try await rig.tearDown()
    }

    @Test(arguments: [AdoptedClientPolicy.detach, .keep])
    func adoptedClientsOnDeprovision(_ policy: AdoptedClientPolicy) async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady { $0.adoptedOnDeprovision = policy }
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        let filed = try await ERP(rig.simulator).fileClient(code: "ERP-9", name: "Lia", serial: "ZTEG00003010", at: box.id, project: box.project)
        let placed = try await client.rpc.provisionONU(provision("3010", cto: box.id, serial: "ZTEG00003010"))
        #expect(placed.onu?.adopted == true && placed.onu?.ozmapClientId == filed.client)

        let gone = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "3010"))
        #expect(gone.onu?.state == .deprovisioned)
        let snapshot = rig.simulator.snapshot()
        #expect(snapshot.clients(code: "ERP-9").map(\.id) == [filed.client], "the ERP's client stays")
        let property = snapshot.properties.first { $0.id == filed.property }
        switch policy {
        case .detach: #expect(property == nil, "the port is freed")
        case .keep: #expect(property?.client == filed.client, "nothing touched")
        case .delete: break
        }
        await client.close()
        try await rig.tearDown()
    }

    @Test func createdPropertiesCarryTheMarkAndTheLocationInTheSchemasForm() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        rig.simulator.clearRequestLog()
        _ = try await client.rpc.provisionONU(provision("3011", cto: box.id))
        let post = try #require(rig.simulator.requestLog().first { $0.method == "POST" }?.bodyJSON)
        #expect(post["external_id"]?.string == "ozmapd:onu:3011" && post["client"]?["external_id"]?.string == "ozmapd:onu:3011")
        let coords = post["coords"]?.array?.compactMap(\.number) ?? []
        #expect(coords.count == 2 && abs(coords[0] - box.lng) < 1e-9 && abs(coords[1] - box.lat) < 1e-9, "[lng, lat]")
        await client.close()
        try await rig.tearDown()
    }
}
