import Foundation
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Testing

/// Onboarding the ISP's existing fleet: a dry-run says per row what an apply does; an apply
/// adopts, attaches, moves or creates, never re-creating what exists; running it again changes
/// nothing (docs/INTEGRATION.md, "Importing the existing fleet").
@Suite(.timeLimit(.minutes(5)))
struct ImportTests {
    private func writes(_ rig: TestRig) -> [LoggedRequest] {
        rig.simulator.requestLog().filter { $0.method != "GET" && $0.outcome != .faulted }
    }

    private func row(_ onu: String, serial: String, cto: String, olt: String = "olt-a", implanted: Implantation = .unspecified) -> ImportRow {
        ImportRow(archoltOltId: olt, onuId: onu, serialNumber: serial, cto: cto, macAddress: "", pppoeUser: "", implanted: implanted)
    }

    @Test func aDryRunSaysWhatAnApplyDoesAndASecondApplyWritesNothing() async throws {
        let rig = try await TestRig(boxes: 30, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 4)
        let erp = ERP(rig.simulator)
        let byCode = try await erp.fileClient(code: "i-code", name: "Ana", serial: "ZTEGI0000001", at: boxes[0].id, project: boxes[0].project)
        let bySerial = try await erp.fileClient(code: "ERP-900", name: "Bia", serial: "ZTEGI0000002", at: boxes[0].id, project: boxes[0].project)
        let loose = try await erp.fileClientWithoutProperty(code: "i-attach", name: "Caio", serial: "ZTEGI0000003", at: boxes[1].id,
                                                            project: boxes[1].project)
        let elsewhere = try await erp.fileClient(code: "i-move", name: "Davi", serial: "ZTEGI0000004", at: boxes[1].id, project: boxes[1].project)
        let full = boxes[3]
        try await erp.fill(box: full.id, project: full.project, prefix: "fill")
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        let rows = [
            row("i-code", serial: "ZTEGI0000001", cto: boxes[0].name),
            row("i-serial", serial: "ZTEGI0000002", cto: boxes[0].name),
            row("i-attach", serial: "ZTEGI0000003", cto: boxes[0].id),
            row("i-move", serial: "ZTEGI0000004", cto: boxes[0].id),
            row("i-create", serial: "ZTEGI0000005", cto: boxes[0].id, implanted: .implanted),
            row("i-olt", serial: "ZTEGI0000006", cto: boxes[0].id, olt: "olt-unlinked"),
            row("i-cto", serial: "ZTEGI0000007", cto: "NO-SUCH-CTO"),
            row("i-serialbad", serial: "!!", cto: boxes[0].id),
            row("i-code", serial: "ZTEGI0000001", cto: boxes[0].id),
            row("i-full", serial: "ZTEGI0000008", cto: full.id),
        ]
        rig.simulator.clearRequestLog()
        let dry = try await client.rpc.importONUs(ImportONUsRequest(rows: rows))
        #expect(dry.dryRun && writes(rig).isEmpty, "a dry run writes nothing")
        #expect(dry.results.map(\.action) == [.adopt, .adopt, .attach, .move, .create, .error, .error, .error, .error, .error])
        #expect(dry.results.map(\.row) == Array(1...10))
        #expect(dry.results[0].ozmapClientId == byCode.client && dry.results[1].ozmapClientId == bySerial.client)
        #expect(dry.results[2].ozmapClientId == loose && dry.results[3].ozmapClientId == elsewhere.client)
        #expect(dry.results[5].error.contains("olt-unlinked"), "\(dry.results[5].error)")
        #expect(dry.results[6].error.contains("NO-SUCH-CTO"), "\(dry.results[6].error)")
        #expect(dry.results[7].error.contains("serial_number"), "\(dry.results[7].error)")
        #expect(dry.results[8].error.contains("row 1"), "\(dry.results[8].error)")
        #expect(dry.results[9].error.contains("no free customer port"), "\(dry.results[9].error)")
        #expect(dry.errors == 5 && dry.counts.first { $0.action == .adopt }?.count == 2)
        #expect(try await client.rpc.getStatus(GetStatusRequest()).operationsPending == 0)

        let applied = try await client.rpc.importONUs(ImportONUsRequest(dryRun: false, rows: rows))
        #expect(applied.results.prefix(5).allSatisfy { !$0.operationId.isEmpty })
        try await rig.outboxDrained(client)
        let snapshot = rig.simulator.snapshot()
        #expect(snapshot.clients(code: "i-code").map(\.id) == [byCode.client])
        #expect(snapshot.clients(code: "i-serial").isEmpty && snapshot.clients(code: "ERP-900").map(\.id) == [bySerial.client])
        #expect(snapshot.clients(code: "i-attach").map(\.id) == [loose])
        #expect(snapshot.clients(code: "i-move").map(\.id) == [elsewhere.client])
        #expect(snapshot.clients(code: "i-create").count == 1 && snapshot.clients(code: "i-create").first?.implanted == true)
        for code in ["i-code", "i-attach", "i-move", "i-create", "ERP-900"] {
            #expect(rig.ozmapClients(code: code).boxes == [boxes[0].id], "\(code) at its CTO")
        }
        #expect(!writes(rig).contains { $0.method == "DELETE" }, "nothing deleted")
        for onu in ["i-olt", "i-cto", "i-serialbad", "i-full"] {
            await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.getONU(GetONURequest(onuId: onu)) }
        }

        rig.simulator.clearRequestLog()
        let again = try await client.rpc.importONUs(ImportONUsRequest(dryRun: false, rows: rows))
        #expect(again.results.prefix(5).map(\.action) == Array(repeating: .nothing, count: 5), "\(again.results.prefix(5).map(\.detail))")
        #expect(again.results.allSatisfy { $0.operationId.isEmpty })
        try await rig.outboxDrained(client)
        #expect(writes(rig).isEmpty, "a second apply writes nothing")
        await client.close()
        try await rig.tearDown()
    }

    /// Rows beyond a CTO's free ports, a serial given twice, and an ONU ArchOLT deprovisioned are
    /// errors in the plan, before anything is recorded.
    @Test func rowsTheBatchCannotHoldAreErrorsInThePlan() async throws {
        let rig = try await TestRig(boxes: 30, occupied: 0.2)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 2)
        let small = try #require(boxes.min { $0.portsFree < $1.portsFree })
        _ = try await client.rpc.provisionONU(provision("p-gone", cto: boxes[0].id))
        _ = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "p-gone"))
        let fits = Int(small.portsFree)
        var rows = (0...fits).map { row("p-\($0)", serial: "ZTEGP\(String(format: "%07d", $0))", cto: small.id) }
        rows.append(row("p-twin", serial: "ZTEGP0000000", cto: boxes[0].id))
        rows.append(row("p-gone", serial: "ZTEGP0000099", cto: boxes[0].id))
        let plan = try await client.rpc.importONUs(ImportONUsRequest(rows: rows))
        #expect(plan.results.prefix(fits).allSatisfy { $0.action == .create })
        #expect(plan.results[fits].action == .error && plan.results[fits].error.contains("earlier rows"), "\(plan.results[fits].error)")
        #expect(plan.results[fits + 1].action == .error && plan.results[fits + 1].error.contains("row 1"), "\(plan.results[fits + 1].error)")
        #expect(plan.results[fits + 2].action == .error && plan.results[fits + 2].error.contains("deprovisioned"), "\(plan.results[fits + 2].error)")
        await client.close()
        try await rig.tearDown()
    }

    /// An ERP client whose serial was typed in lower case is adopted, not doubled; an ONU ozmapd
    /// holds on another OLT is an error naming that OLT.
    @Test func aLowerCaseSerialIsFoundAndAnotherOLTsONUIsRefused() async throws {
        let rig = try await TestRig(boxes: 30, olts: 2, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        let second = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts.first { $0.id != olt.id }!
        _ = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-b", ozmapOltId: second.id, requireCtoOnActivation: false))
        let otherBox = try await rig.boxesWithRoom(on: second, client: client)[0]
        let filed = try await ERP(rig.simulator).fileClient(code: "ERP-77", name: "Rita", serial: "ztegl0000001", at: boxes[0].id,
                                                            project: boxes[0].project)
        _ = try await client.rpc.provisionONU(provision("l-2", cto: boxes[1].id))
        let rows = [row("l-1", serial: "ZTEGL0000001", cto: boxes[0].id), row("l-2", serial: "ZTEGL0000002", cto: otherBox.id, olt: "olt-b")]
        let applied = try await client.rpc.importONUs(ImportONUsRequest(dryRun: false, rows: rows))
        #expect(applied.results.map(\.action) == [.adopt, .error])
        #expect(applied.results[0].ozmapClientId == filed.client)
        #expect(applied.results[1].error.contains("olt-a"), "\(applied.results[1].error)")
        try await rig.outboxDrained(client)
        #expect(rig.simulator.snapshot().clients.filter { $0.serialNumber.uppercased() == "ZTEGL0000001" }.map(\.id) == [filed.client])
        await client.close()
        try await rig.tearDown()
    }

    /// `ozmapctl onu import`: the table, and exit 65 when a row is an ERROR (the calls' status
    /// codes are 0–16); a file `;`-separated with Excel's "sep=;" line.
    @Test func ozmapctlImportsAFileAndExitsWith65OnAnErrorRow() async throws {
        let rig = try await TestRig(boxes: 20, occupied: 0.1)
        let (client, olt) = try await rig.provisioningReady()
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        let file = rig.directory + "/fleet.csv"
        try "sep=;\narcholt_olt_id;onu_id;serial_number;cto\nolt-a;c-1;ZTEGC0000001;\(box.name)\nolt-a;c-2;ZTEGC0000002;NO-SUCH-CTO\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output, errors) = try await runProcess(binary("ozmapctl"), ["onu", "import", file],
                                                            environment: ["OZMAPD_SOCKET": rig.socketPath], directory: rig.directory)
        #expect(status == 65, "\(output)\(errors)")
        #expect(output.contains("CREATE") && output.contains("ERROR") && output.contains("NO-SUCH-CTO"), "\(output)")
        #expect(rig.ozmapClients(code: "c-1").clients == 0, "a dry run")
        await client.close()
        try await rig.tearDown()
    }

    @Test func aBatchOverTheLimitOrEmptyIsRefusedNamingRows() async throws {
        let rig = try await TestRig(boxes: 10, occupied: 0.1)
        let (client, _) = try await rig.provisioningReady()
        let many = (0...1_000).map { row("b-\($0)", serial: "ZTEGB\(String(format: "%07d", $0))", cto: "x") }
        for rows in [many, []] {
            await #expect { try await client.rpc.importONUs(ImportONUsRequest(rows: rows)) } throws: { error in
                (error as? GRPCCore.RPCError)?.code == .invalidArgument && (error as? GRPCCore.RPCError)?.message.contains("rows") == true
            }
        }
        await client.close()
        try await rig.tearDown()
    }
}
