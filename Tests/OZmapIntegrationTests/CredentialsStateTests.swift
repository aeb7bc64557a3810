import Foundation
import GRPCCore
import Logging
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapSimulator
import OZmapStore
import OZmapTestSupport
import Testing

/// A key OZmap rejects is loud and stops the outbox; new credentials (a good key, another
/// tenant) take over cleanly: the running pass is cancelled, another tenant's boxes never mix.
@Suite(.timeLimit(.minutes(5))) struct CredentialsStateTests {
    static let rejectionLog = "error OZmap rejected the API key;"
    static let pausedError = "OZmap rejected the API key: set a valid key with SetCredentials (ozmapctl credentials set)"

    /// OZmap writes the simulator received (answered or not).
    static func writes(_ simulator: OZmapSimulator) -> [LoggedRequest] {
        simulator.requestLog().filter { $0.method != "GET" }
    }

    @Test func aRejectedKeyIsLoudAndStopsTheOutboxUntilAGoodKeyIsSet() async throws {
        let rig = try await TestRig(boxes: 40)
        let (client, olt) = try await rig.provisioningReady { $0.outboxWaitMs = 300 }
        let box = try #require(try await rig.boxesWithRoom(on: olt, client: client).first)
        var status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.credentialsState == "ok" && status.credentialsError.isEmpty && status.ozmapReachable)

        // The key is revoked in OZmap: every request is answered 401.
        rig.simulator.setFaults(.forcedStatus(401))
        for _ in 0..<2 {
            let report = try #require(try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true)).report)
            #expect(report.error.contains("401"), "\(report.error)")
        }
        status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.credentialsSet)
        #expect(status.credentialsState == "rejected")
        #expect(status.credentialsError.contains("OZmap rejected the API key (HTTP 401 on GET"), "\(status.credentialsError)")
        #expect(!status.ozmapReachable, "OZmap answering 401 is not an OZmap ozmapd can use")
        #expect(rig.logs.all.filter { $0.hasPrefix(Self.rejectionLog) }.count == 1, "the rejection is logged once, not per request")

        // A change accepted while rejected stays queued, says why, and sends OZmap nothing.
        let queued = try await client.rpc.provisionONU(provision("7001", cto: box.name))
        #expect(queued.onu?.state == .pending)
        let operationID = try #require(queued.operation?.id)
        try await waitUntil("the queued operation says the key was rejected", timeout: .seconds(20)) {
            let operation = try await client.rpc.listOperations(ListOperationsRequest(onuId: "7001")).operations.first
            return operation?.lastError == Self.pausedError
        }
        // One more look by the worker, and another rejected sync, while rejected.
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: false, wait: true))
        #expect(try await client.rpc.getStatus(GetStatusRequest()).credentialsState == "rejected")
        let held = try #require(try await client.rpc.listOperations(ListOperationsRequest(onuId: "7001")).operations.first)
        #expect(held.id == operationID && held.state == .pending && held.attempts == 0, "\(held)")
        #expect(Self.writes(rig.simulator).isEmpty, "no OZmap write while the key is rejected")
        #expect(rig.logs.all.filter { $0.hasPrefix(Self.rejectionLog) }.count == 1)

        // The key is good again and is set: the state is ok, and the operation is applied exactly once.
        rig.simulator.setFaults(.none)
        _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: simulatorKey))
        status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.credentialsState == "ok" && status.credentialsError.isEmpty)
        try await waitUntil("the queued operation is applied", timeout: .seconds(30)) {
            try await client.rpc.getONU(GetONURequest(onuId: "7001")).state == .synced
        }
        try await rig.outboxDrained(client)
        #expect(rig.propertyCreates() == 1, "created exactly once")
        #expect(rig.ozmapClients(code: "7001").clients == 1)
        let done = try #require(try await client.rpc.listOperations(ListOperationsRequest(onuId: "7001")).operations.first)
        #expect(done.state == .done && done.lastError.isEmpty)
        #expect(try await client.rpc.getStatus(GetStatusRequest()).ozmapReachable)
        #expect(rig.logs.all.filter { $0.hasPrefix(Self.rejectionLog) }.count == 1)
        #expect(rig.logs.all.contains { $0.hasPrefix("notice OZmap accepts the API key") })
        #expect(!rig.logs.all.contains { $0.contains(simulatorKey) }, "the key never appears in a log")
        await client.close()
        try await rig.tearDown()
    }

    @Test func aKeyOZmapNeverTookIsRejectedAtStartAndNothingIsWritten() async throws {
        let rig = try await TestRig(boxes: 20)
        // Seed the state with good credentials and a link, then restart with a wrong configured key.
        let (setup, olt) = try await rig.provisioningReady()
        let box = try #require(try await rig.boxesWithRoom(on: olt, client: setup).first)
        await setup.close()
        try await rig.stopDaemon()
        // Credentials saved over the API win over configured ones: forget them.
        try FileManager.default.removeItem(atPath: rig.stateDirectory + "/" + CredentialFile.fileName)
        let keyFile = rig.directory + "/wrong.key"
        try "not-the-key".write(toFile: keyFile, atomically: true, encoding: .utf8)
        rig.simulator.clearRequestLog()
        try await rig.startDaemon {
            $0.ozmapAPIURL = rig.simulator.baseURL
            $0.ozmapAPIKeyFile = keyFile
            $0.outboxWaitMs = 300
        }
        let client = try await rig.client()
        // The start-up refresh meets the 401.
        try await waitUntil("the wrong key is rejected") {
            try await client.rpc.getStatus(GetStatusRequest()).credentialsState == "rejected"
        }
        let queued = try await client.rpc.provisionONU(provision("7101", cto: box.id))
        try await waitUntil("the operation says the key was rejected") {
            try await client.rpc.listOperations(ListOperationsRequest(onuId: "7101")).operations.first?.lastError == Self.pausedError
        }
        #expect(queued.operation?.state == .pending)
        #expect(Self.writes(rig.simulator).isEmpty)
        #expect(rig.simulator.requestLog().allSatisfy { $0.authorization == "not-the-key" })

        _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: simulatorKey))
        try await rig.outboxDrained(client)
        #expect(try await client.rpc.getONU(GetONURequest(onuId: "7101")).state == .synced)
        #expect(rig.propertyCreates() == 1)
        #expect(Self.writes(rig.simulator).allSatisfy { $0.authorization == simulatorKey })
        await client.close()
        try await rig.tearDown()
    }

    /// A second OZmap (another tenant: its own key, one OLT, ids unlike the rig's), started.
    static func otherTenant(key: String, boxes: Int, seed: UInt64) async throws -> OZmapSimulator {
        var configuration = SimulatorConfiguration(apiKey: key)
        configuration.boxes = boxes
        configuration.olts = 1
        configuration.seed = seed
        let other = try OZmapSimulator(configuration: configuration, logger: Logger(label: "ozmap-sim-2"))
        _ = try await other.start()
        return other
    }

    /// The OLT links are checked against a new tenant's OLTs once, during SetCredentials: a caller
    /// whose deadline passes before OZmap answers that read does not leave them unchecked.
    @Test func theOLTLinkRecheckOutlivesTheCallersDeadline() async throws {
        let rig = try await TestRig(boxes: 20, olts: 1)
        let (client, _) = try await rig.provisioningReady()
        let other = try await Self.otherTenant(key: "other-tenant-key-78", boxes: 5, seed: 4343)
        other.setFaults(SimulatorFaults(latencyMilliseconds: 1_500, routes: [FaultRoute(method: "GET", pathPrefix: "olts")]))
        await #expect(throws: GRPCCore.RPCError.self) {
            _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: other.baseURL, apiKey: "other-tenant-key-78"),
                                                    options: .timeout(.milliseconds(500)))
        }
        try await waitUntil("the link to the old tenant's OLT is flagged", timeout: .seconds(20)) {
            try await client.rpc.listOLTLinks(ListOLTLinksRequest()).links.first?.problem.contains("is not in the OZmap at") == true
        }
        await client.close()
        try await rig.tearDown()
        try await other.stop()
    }

    @Test func newCredentialsCancelTheRunningPassAndAnotherTenantNeverSeesTheOldBoxes() async throws {
        let rig = try await TestRig(boxes: 60)
        let (client, oldOLT) = try await rig.provisioningReady()
        let oldBoxes = Set(try await rig.allBoxes(client).map(\.id))
        #expect(!oldBoxes.isEmpty)

        let other = try await Self.otherTenant(key: "other-tenant-key-77", boxes: 25, seed: 4242)
        let otherBoxes = Set(connectedBoxes(other).keys)
        #expect(otherBoxes.isDisjoint(with: oldBoxes), "the two tenants' ids differ")

        // A slow pass under the old tenant is running, started by a caller that waits for it (so that
        // caller is in the old pass, not in one started later), and too slow to end before the switch.
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 2_000))
        let joiner = try await rig.client()
        async let joined = joiner.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        try await waitUntil("the old tenant's pass is running") {
            try await client.rpc.getStatus(GetStatusRequest()).lastSync?.running == true
        }
        // The new tenant answers slowly too, so an old pass that installed its result would be seen before the new one's.
        other.setFaults(SimulatorFaults(latencyMilliseconds: 1500))

        // …when the credentials move to another tenant.
        _ = try await client.rpc.setCredentials(
                                  SetCredentialsRequest(apiUrl: other.baseURL, apiKey: "other-tenant-key-77"))
        let afterSwitch = Set(try await rig.allBoxes(client).map(\.id))
        #expect(afterSwitch.isDisjoint(with: oldBoxes), "no box of the old tenant once the new credentials are set")

        // The old pass ends cancelled, having installed nothing.
        let oldPass = try #require(try await joined.report)
        #expect(oldPass.error.contains("cancelled"), "\(oldPass.error)")
        let afterOldPass = Set(try await rig.allBoxes(client).map(\.id))
        #expect(afterOldPass.isDisjoint(with: oldBoxes), "the cancelled pass installed nothing")

        // A full pass with the new credentials follows and loads the new tenant's boxes only.
        try await waitUntil("the new tenant's full pass ends", timeout: .seconds(60)) {
            let sync = try await client.rpc.getStatus(GetStatusRequest()).lastSync
            return sync?.running == false && sync?.kind == .full && sync?.error == "" && sync?.boxes == UInt32(otherBoxes.count)
        }
        #expect(Set(try await rig.allBoxes(client).map(\.id)) == otherBoxes)
        #expect(other.requestLog().contains { $0.queryParameters["filter"]?.contains(#""operator":"exists""#) == true })
        #expect(other.requestLog().allSatisfy { $0.authorization == "other-tenant-key-77" })

        // The link to the old tenant's OLT is flagged.
        let link = try #require(try await client.rpc.listOLTLinks(ListOLTLinksRequest()).links.first)
        #expect(link.ozmapOltId == oldOLT.id)
        #expect(link.problem.contains("is not in the OZmap at"), "\(link.problem)")
        #expect(rig.logs.all.contains { $0.contains("OLT link points at an OZmap OLT the new tenant does not have") })

        // After a restart the cache still holds the new tenant's boxes only (the store was emptied too).
        await joiner.close()
        await client.close()
        try await rig.stopDaemon()
        rig.simulator.setFaults(.none)
        other.setFaults(SimulatorFaults(down: true))
        try await rig.startDaemon()
        let again = try await rig.client()
        #expect(Set(try await rig.allBoxes(again).map(\.id)) == otherBoxes)
        #expect(try await again.rpc.listOLTLinks(ListOLTLinksRequest()).links.first?.problem.isEmpty == false)
        await again.close()
        try await other.stop()
        try await rig.tearDown()
    }
}
