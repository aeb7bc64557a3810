import Foundation
import OZmapClient
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Testing

/// The provisioning flow over the socket, against the simulator: clients created, moved and removed exactly once.
@Suite(.timeLimit(.minutes(5))) struct ProvisioningTests {
    @Test func theWholeStory() async throws {
        let rig = try await TestRig(boxes: 40)
        let (client, olt) = try await rig.provisioningReady(requireCTO: true)
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let (first, second) = (boxes[0], boxes[1])

        // Refused before anything is written.
        rig.simulator.clearRequestLog()
        do {
            _ = try await client.rpc.provisionONU(provision("1001"))
            Issue.record("provisioned without the required CTO")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("OLT olt-a requires a CTO at activation"))
        }
        await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.getONU(GetONURequest(onuId: "1001")) }
        #expect(try await client.rpc.listOperations(ListOperationsRequest()).operations.isEmpty)
        #expect(rig.simulator.requestLog().isEmpty)

        // Provision with a CTO, by name: the client and its property are created in one POST.
        let created = try await client.rpc.provisionONU(provision("1001", cto: first.name.lowercased(), serial: "zteg0000a001"))
        #expect(created.onu?.state == .synced)
        #expect(created.onu?.serialNumber == "ZTEG0000A001")
        #expect(created.operation?.state == .done)
        #expect(created.onu?.ozmapClientId.isEmpty == false && created.onu?.ozmapPropertyId.isEmpty == false)
        let snapshot = rig.simulator.snapshot()
        let ozmapClient = try #require(snapshot.clients(code: "1001").first)
        #expect(ozmapClient.name == "ZTEG0000A001" && ozmapClient.serialNumber == "ZTEG0000A001" && ozmapClient.implanted)
        #expect(rig.ozmapClients(code: "1001").boxes == [first.id])
        #expect(rig.propertyCreates() == 1)

        // Move to another CTO, by id: the property is re-homed, client and property ids kept.
        let moved = try await client.rpc.assignCTO(AssignCTORequest(onuId: "1001", cto: second.id))
        #expect(moved.onu?.state == .synced && moved.onu?.ctoBoxId == second.id)
        #expect(moved.onu?.ozmapClientId == created.onu?.ozmapClientId && moved.onu?.ozmapPropertyId == created.onu?.ozmapPropertyId)
        #expect(moved.onu?.port ?? 0 > 0 && moved.onu?.splitterName.isEmpty == false)
        #expect(rig.ozmapClients(code: "1001").clients == 1)
        #expect(rig.ozmapClients(code: "1001").boxes == [second.id])

        // Assigning the same CTO again changes nothing.
        let same = try await client.rpc.assignCTO(AssignCTORequest(onuId: "1001", cto: second.name))
        #expect(same.operation == nil && same.onu?.state == .synced)

        // Deprovision, twice.
        let gone = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "1001"))
        #expect(gone.onu?.state == .deprovisioned)
        #expect(rig.ozmapClients(code: "1001").clients == 0)
        #expect(rig.ozmapClients(code: "1001").boxes.isEmpty)
        let again = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "1001"))
        #expect(again.onu?.state == .deprovisioned && again.operation?.state == .done)

        // Every mutation is in the audit log, without the key.
        let audit = try await client.rpc.listAuditLog(ListAuditLogRequest(onuId: "1001")).entries
        #expect(audit.map { "\($0.httpMethod) \($0.route) \($0.httpStatus)" } == [
            "POST properties 201", "PATCH properties/{id} 204", "DELETE properties/{id} 204",
        ])
        #expect(audit.allSatisfy { $0.result == "ok" && !$0.error.contains(simulatorKey) })
        await client.close()
        try await rig.tearDown()
    }

    @Test func withoutARequiredCTOTheONUWaitsForAssignCTO() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady(requireCTO: false)
        let waiting = try await client.rpc.provisionONU(provision("2001"))
        #expect(waiting.onu?.state == .waitingForCto && waiting.operation == nil)
        // The request's own require_cto is honoured too.
        var strict = provision("2002")
        strict.requireCto = true
        await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.provisionONU(strict) }
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        let placed = try await client.rpc.assignCTO(AssignCTORequest(onuId: "2001", cto: box.id))
        #expect(placed.onu?.state == .synced && rig.ozmapClients(code: "2001").boxes == [box.id])
        await client.close()
        try await rig.tearDown()
    }

    @Test func badRequestsNameTheFieldAndReachNothing() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        rig.simulator.clearRequestLog()
        func field(of request: ProvisionONURequest) async -> String? {
            do {
                _ = try await client.rpc.provisionONU(request)
                return nil
            } catch let error as GRPCCore.RPCError {
                return error.code == .invalidArgument ? error.violations.first?.field : GRPCCore.Status.Code(error.code).wireName
            } catch {
                return nil
            }
        }
        var request = provision("", cto: box.id)
        #expect(await field(of: request) == "onu_id")
        request = provision("3001", cto: box.id, serial: "")
        #expect(await field(of: request) == "serial_number")
        request = provision("3001", cto: box.id, serial: "ZTEG-12!")
        #expect(await field(of: request) == "serial_number")
        request = provision("3001", cto: box.id)
        request.macAddress = "not-a-mac"
        #expect(await field(of: request) == "mac_address")
        request = provision("3001\u{7}", cto: box.id)
        #expect(await field(of: request) == "onu_id")
        request = provision("3001", cto: box.id)
        request.archoltOltId = "olt-unknown"
        #expect(await field(of: request) == "FAILED_PRECONDITION")
        request = provision("3001", cto: "CTO-NOWHERE")
        #expect(await field(of: request) == "NOT_FOUND")
        #expect(rig.simulator.requestLog().isEmpty, "nothing reached OZmap")
        await client.close()
        try await rig.tearDown()
    }

    @Test func ambiguousNamesAndFullBoxesAreRefused() async throws {
        let rig = try await TestRig(boxes: 20)
        try await rig.startDaemon()
        let client = try await rig.client()
        _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: simulatorKey))
        // The initial load ends first: a sync asked for while it runs joins it, and it may have
        // listed the splitters before the twins exist.
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        let olt = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts.sorted { $0.name < $1.name }[0]
        let twin1 = try rig.simulator.addBox(name: "CTO-GEMEA", toOLT: olt.id)
        let twin2 = try rig.simulator.addBox(name: "cto-gêmea", toOLT: olt.id)
        let sync = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        #expect(sync.started && sync.report?.boxes == 22, "a pass of its own sees the twins: \(sync.report)")
        _ = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-a", ozmapOltId: olt.id, requireCtoOnActivation: false))
        do {
            _ = try await client.rpc.provisionONU(provision("4001", cto: "Cto-Gemea"))
            Issue.record("an ambiguous CTO name was accepted")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains(twin1) && error.message.contains(twin2))
        }
        // Fill one box, let the cache see it, and the next ONU is refused there.
        let box = try await client.rpc.getBox(GetBoxRequest(id: twin1))
        for index in 0..<Int(box.portsFree) {
            _ = try await client.rpc.provisionONU(provision("fill-\(index)", cto: twin1))
        }
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: false, wait: true))
        #expect(try await client.rpc.getBox(GetBoxRequest(id: twin1)).portsFree == 0)
        do {
            _ = try await client.rpc.provisionONU(provision("4002", cto: twin1))
            Issue.record("a full box was accepted")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("no free customer port"))
        }
        await client.close()
        try await rig.tearDown()
    }

    @Test func aClientAlreadyInOZmapIsNotCreatedAgain() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        // Clients 5001 and 5002 exist in OZmap at the first box; then ozmapd starts from a blank state directory.
        _ = try await client.rpc.provisionONU(provision("5001", cto: boxes[0].id))
        _ = try await client.rpc.provisionONU(provision("5002", cto: boxes[0].id))
        await client.close()
        try await rig.stopDaemon()
        try FileManager.default.removeItem(atPath: rig.stateDirectory)
        let fresh = try await rig.provisioningReady()
        rig.simulator.clearRequestLog()
        let same = try await fresh.client.rpc.provisionONU(provision("5001", cto: boxes[0].id))
        #expect(same.onu?.state == .synced)
        #expect(rig.propertyCreates() == 0, "already at this box: nothing to create")
        #expect(rig.ozmapClients(code: "5001").clients == 1)
        // Already there at another box: moved, not duplicated.
        let elsewhere = try await fresh.client.rpc.provisionONU(provision("5002", cto: boxes[1].id))
        #expect(elsewhere.onu?.state == .synced)
        #expect(rig.ozmapClients(code: "5002").clients == 1 && rig.ozmapClients(code: "5002").boxes == [boxes[1].id])
        await fresh.client.close()
        try await rig.tearDown()
    }

    @Test func twoHundredProvisionsWhileOZmapIsDownAllLandOnce() async throws {
        let rig = try await TestRig(boxes: 120)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 4)
        rig.simulator.setFaults(SimulatorFaults(down: true))
        let count = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let response = try await client.rpc.provisionONU(
                                                         provision("down-\(index)", cto: boxes[index % boxes.count].id))
                    #expect(response.onu?.state == .pending)
                    // Queued, or being attempted at the moment the call's wait ended: not applied.
                    #expect(response.operation?.state == .pending || response.operation?.state == .inFlight)
                }
            }
            try await group.waitForAll()
        }
        let status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.operationsPending == UInt32(count))
        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)
        let snapshot = rig.simulator.snapshot()
        for index in 0..<count {
            #expect(snapshot.clients(code: "down-\(index)").count == 1, "client down-\(index) exists exactly once")
        }
        // Paged in 64s, every ONU once.
        var request = ListONUsRequest(state: .synced, pageSize: 64)
        var seen = Set<String>()
        repeat {
            let page = try await client.rpc.listONUs(request)
            for onu in page.onus { #expect(seen.insert(onu.onuId).inserted) }
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        #expect(seen.count == count)
        // Each ONU's create is in the audit log: one POST answered "ok", or, when the POST outlived
        // ozmapd's 3 s timeout (seen under ASan), one whose outcome was unknown ("retry"), after which
        // the next attempt found the client instead of posting again. Never two successful POSTs.
        let audit = try await client.rpc.listAuditLog(ListAuditLogRequest(pageSize: 1000)).entries
        let posts = Dictionary(grouping: audit.filter { $0.httpMethod == "POST" }, by: \.onuId)
        for index in 0..<count {
            let results = posts["down-\(index)", default: []].map(\.result)
            #expect(results.filter { $0 == "ok" }.count == 1 || (!results.contains("ok") && results.contains("retry")),
                    "down-\(index): POST results \(results)")
        }
        await client.close()
        try await rig.tearDown()
    }

    @Test func aPostWhoseReplyIsLostIsNotRepeated() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        rig.simulator.clearRequestLog()
        rig.simulator.setFaults(SimulatorFaults(dropReplyRate: 1, routes: [FaultRoute("POST properties")]))
        let response = try await client.rpc.provisionONU(provision("6001", cto: box.id))
        #expect(response.onu?.state == .pending, "the outcome is unknown: pending, not failed")
        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)
        #expect(try await client.rpc.getONU(GetONURequest(onuId: "6001")).state == .synced)
        #expect(rig.ozmapClients(code: "6001").clients == 1)
        #expect(rig.propertyCreates() == 1, "the retry looked the client up and found it")
        let lookups = rig.simulator.requestLog().filter { $0.path.contains("/properties/client/6001") }
        #expect(lookups.count >= 2)
        await client.close()
        try await rig.tearDown()
    }

    @Test func pendingOperationsResumeAfterARestart() async throws {
        let rig = try await TestRig(boxes: 40)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        rig.simulator.setFaults(SimulatorFaults(down: true))
        for index in 0..<20 {
            _ = try await client.rpc.provisionONU(provision("restart-\(index)", cto: boxes[index % boxes.count].id))
        }
        await client.close()
        try await rig.stopDaemon()
        rig.simulator.setFaults(.none)
        try await rig.startDaemon()
        let again = try await rig.client()
        try await rig.outboxDrained(again)
        for index in 0..<20 {
            #expect(rig.ozmapClients(code: "restart-\(index)").clients == 1)
        }
        await again.close()
        try await rig.tearDown()
    }

    @Test func provisionThenDeprovisionWhileDownCollapse() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        rig.simulator.setFaults(SimulatorFaults(down: true))
        _ = try await client.rpc.provisionONU(provision("7001", cto: boxes[0].id))
        try await waitUntil("the create was tried") {
            try await client.rpc.listOperations(ListOperationsRequest(onuId: "7001")).operations.first?.attempts ?? 0 > 0
        }
        _ = try await client.rpc.assignCTO(AssignCTORequest(onuId: "7001", cto: boxes[1].id))
        _ = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "7001"))
        let operations = try await client.rpc.listOperations(ListOperationsRequest(onuId: "7001")).operations
        #expect(operations.map(\.kind) == [.createClient, .createClient, .deleteClient])
        // Tried while OZmap was down, the first create never sent a write: both creates are superseded.
        #expect(operations[0].state == .collapsed && operations[1].state == .collapsed)
        rig.simulator.clearRequestLog()
        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)
        #expect(try await client.rpc.getONU(GetONURequest(onuId: "7001")).state == .deprovisioned)
        #expect(rig.ozmapClients(code: "7001").clients == 0)
        #expect(rig.propertyCreates() == 0, "nothing was created only to be deleted")
        await client.close()
        try await rig.tearDown()
    }

    @Test func anOperationThatSentAWriteIsNeverCollapsed() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        // The POST is applied but its reply lost: the create may have reached OZmap.
        rig.simulator.setFaults(SimulatorFaults(dropReplyRate: 1, routes: [FaultRoute("POST properties")]))
        _ = try await client.rpc.provisionONU(provision("7101", cto: box.id))
        rig.simulator.setFaults(SimulatorFaults(down: true))
        _ = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "7101"))
        let operations = try await client.rpc.listOperations(ListOperationsRequest(onuId: "7101")).operations
        #expect(operations.first?.state != .collapsed)
        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)
        #expect(rig.ozmapClients(code: "7101").clients == 0, "the client the lost reply created is removed")
        await client.close()
        try await rig.tearDown()
    }

    @Test func concurrentCTOChangesEndWithOneClientAtTheLastCTO() async throws {
        let rig = try await TestRig(boxes: 60)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = Array(try await rig.boxesWithRoom(on: olt, client: client).prefix(10))
        _ = try await client.rpc.provisionONU(provision("8001", cto: boxes[0].id))
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 50))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for box in boxes.dropFirst() {
                group.addTask { _ = try await client.rpc.assignCTO(AssignCTORequest(onuId: "8001", cto: box.id)) }
            }
            try await group.waitForAll()
        }
        try await rig.outboxDrained(client)
        rig.simulator.setFaults(.none)
        let onu = try await client.rpc.getONU(GetONURequest(onuId: "8001"))
        #expect(onu.state == .synced)
        let placed = rig.ozmapClients(code: "8001")
        #expect(placed.clients == 1)
        #expect(placed.boxes == [onu.ctoBoxId], "OZmap holds the client at the CTO ozmapd recorded last")
        await client.close()
        try await rig.tearDown()
    }

    @Test func theOutboxWaitsAsLongAsRetryAfterSays() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        rig.simulator.clearRequestLog()
        rig.simulator.setFaults(.forcedStatus(429, retryAfterSeconds: 2, routes: [FaultRoute("POST properties")]))
        let response = try await client.rpc.provisionONU(provision("9101", cto: box.id))
        #expect(response.onu?.state == .pending)
        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)
        let posts = rig.simulator.requestLog().filter { $0.method == "POST" && $0.path.hasSuffix("/properties") }
        #expect(posts.map(\.status) == [429, 201])
        if posts.count == 2 {
            #expect(posts[1].receivedAt.timeIntervalSince(posts[0].receivedAt) >= 1.95, "no request before Retry-After expired")
        }
        let audit = try await client.rpc.listAuditLog(ListAuditLogRequest(onuId: "9101")).entries
        #expect(audit.map(\.result) == ["retry", "ok"])
        await client.close()
        try await rig.tearDown()
    }

    @Test func aPermanentRefusalFailsTheOperationUntilRetried() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        rig.simulator.setFaults(.forcedStatus(400, routes: [FaultRoute("POST properties")]))
        do {
            _ = try await client.rpc.provisionONU(provision("9001", cto: box.id))
            Issue.record("a refused create was reported as a success")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("OZmap answered 400"))
        }
        #expect(try await client.rpc.getONU(GetONURequest(onuId: "9001")).state == .failed)
        let failed = try #require(try await client.rpc.listOperations(ListOperationsRequest(state: .failed)).operations.first)
        let whileFailed = try await client.rpc.getStatus(GetStatusRequest())
        #expect(whileFailed.operationsFailed == 1 && whileFailed.operationsPending == 0)
        rig.simulator.setFaults(.none)
        _ = try await client.rpc.retryOperation(RetryOperationRequest(operationId: failed.id))
        try await rig.outboxDrained(client)
        #expect(try await client.rpc.getStatus(GetStatusRequest()).operationsFailed == 0)
        #expect(try await client.rpc.getONU(GetONURequest(onuId: "9001")).state == .synced)
        #expect(rig.ozmapClients(code: "9001").clients == 1)
        await client.close()
        try await rig.tearDown()
    }
}

/// ozmapctl's provisioning commands against a real ozmapd and the simulator.
@Suite(.timeLimit(.minutes(3))) struct ProvisioningCLITests {
    @Test func onuOpsAndLogCommands() async throws {
        let rig = try await TestRig(boxes: 20)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        let environment = ["OZMAPD_SOCKET": rig.socketPath]
        func ctl(_ arguments: String...) async throws -> (Int32, String, String) {
            try await runProcess(binary("ozmapctl"), arguments, environment: environment, directory: rig.directory)
        }
        var (status, output, errors) = try await ctl("onu", "provision", "--olt", "olt-a", "--onu", "cli-1", "--serial", "zteg0000c011", "--cto", box.name)
        #expect(status == 0, "\(errors)")
        #expect(output.contains("ONU cli-1: synced at \(box.name)"))
        (status, output, _) = try await ctl("onu", "show", "cli-1", "--json")
        #expect(status == 0 && output.contains(#""state": "ONU_STATE_SYNCED""#) && output.contains(#""serial_number": "ZTEG0000C011""#))
        (status, output, _) = try await ctl("ops", "list", "--onu", "cli-1")
        #expect(status == 0 && output.contains("create-client") && output.contains("done"))
        (status, output, _) = try await ctl("log", "--onu", "cli-1")
        #expect(status == 0 && output.contains("POST properties") && output.contains("201"))
        (status, _, errors) = try await ctl("onu", "assign", "nobody", box.id)
        #expect(status == Int32(RPCError.Code.notFound.rawValue) && errors.contains("NOT_FOUND"))
        (status, _, errors) = try await ctl("onu", "list", "--state", "shiny")
        #expect(status == Int32(RPCError.Code.invalidArgument.rawValue) && errors.contains("--state"))
        (status, output, _) = try await ctl("onu", "deprovision", "cli-1")
        #expect(status == 0 && output.contains("deprovisioned"))
        #expect(rig.ozmapClients(code: "cli-1").clients == 0)
        await client.close()
        try await rig.tearDown()
    }
}
