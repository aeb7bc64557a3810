import ArcholtOZmapV1
import GRPCCore
import OZmapClient
import OZmapTestSupport
import Testing

/// The generated client stubs on GRPCCore, over ozmapd's Unix socket through
/// `UnixSocketClientTransport`, against a real daemon and ozmap-sim: a Swift caller
/// provisions, reads and deprovisions an ONU with typed messages and never touches
/// bytes; ozmapd's errors arrive as GRPCCore's RPCError with the field violations.
@Suite(.timeLimit(.minutes(3))) struct TypedClientTests {
    @Test func aTypedClientProvisionsAndDeprovisionsOverTheSocket() async throws {
        let rig = try await TestRig(boxes: 40)
        try await withTypedClient(rig) { grpc, ozmapd in
            var patient = CallOptions.defaults
            patient.timeout = .seconds(60)
            let sync = try await ozmapd.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: patient)
            #expect(sync.report?.boxes == 40)
            let olt = try #require(try await ozmapd.listOZmapOLTs(ListOZmapOLTsRequest()).olts.min { $0.name < $1.name })
            _ = try await ozmapd.linkOLT(LinkOLTRequest(archoltOltId: "olt-a", ozmapOltId: olt.id))
            let box = try #require(try await ozmapd.listBoxes(ListBoxesRequest(ozmapOltId: olt.id, pageSize: 100)).boxes.first { $0.portsFree >= 1 })

            let reply = try await ozmapd.provisionONU(ProvisionONURequest(
                archoltOltId: "olt-a", onuId: "t-1001", serialNumber: "ZTEGT0001001", cto: box.name, implantation: .implanted))
            #expect(reply.onu?.ctoBoxId == box.id)
            try await waitUntil("the ONU is synced") {
                try await ozmapd.getONU(GetONURequest(onuId: "t-1001")).state == .synced
            }
            #expect(rig.ozmapClients(code: "t-1001").boxes == [box.id])

            _ = try await ozmapd.deprovisionONU(DeprovisionONURequest(onuId: "t-1001"))
            try await waitUntil("the client is removed from OZmap") {
                try await ozmapd.getONU(GetONURequest(onuId: "t-1001")).state == .deprovisioned
            }
            #expect(rig.ozmapClients(code: "t-1001").clients == 0)

            // A bad request: INVALID_ARGUMENT, the field named in the message and the metadata.
            await #expect {
                try await ozmapd.provisionONU(ProvisionONURequest(archoltOltId: "olt-a", onuId: "", serialNumber: "ZTEGT0001002"))
            } throws: { error in
                guard let error = error as? GRPCCore.RPCError else { return false }
                let violations = Array(error.metadata[stringValues: "field-violation"])
                return error.code == .invalidArgument && error.message.contains("onu_id")
                    && violations.contains { $0.hasPrefix("onu_id: ") }
            }
            // A value the wire cannot carry never leaves the client: INVALID_ARGUMENT naming the field.
            await #expect {
                try await ozmapd.provisionONU(ProvisionONURequest(archoltOltId: "olt-a", onuId: "t-1003", serialNumber: "ZTEG\u{0}1"))
            } throws: { error in
                let error = error as? GRPCCore.RPCError
                return error?.code == .invalidArgument && error?.message == "serial_number: contains a NUL character"
            }
            // An unknown ONU: NOT_FOUND, as ozmapd says it.
            await #expect {
                try await ozmapd.getONU(GetONURequest(onuId: "never-seen"))
            } throws: { error in
                (error as? GRPCCore.RPCError)?.code == .notFound
            }
            grpc.beginGracefulShutdown()
        }
        try await rig.tearDown()
    }

    /// Shutting the client down lets the calls in flight finish: a full box pass asked
    /// to wait is running in ozmapd when the shutdown begins, and still answers OK.
    @Test func aGracefulShutdownLetsTheCallInFlightFinish() async throws {
        let rig = try await TestRig(boxes: 3000)
        try await withTypedClient(rig) { grpc, ozmapd in
            // The credentials start a full pass; this call waits for one of its own.
            let sync = Task {
                var patient = CallOptions.defaults
                patient.timeout = .seconds(120)
                return try await ozmapd.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: patient)
            }
            try await waitUntil("the waiting SyncBoxes is in flight") {
                try await ozmapd.getStatus(GetStatusRequest()).callsInFlight >= 1
            }
            grpc.beginGracefulShutdown()
            let report = try await sync.value.report
            #expect(report?.boxes == 3000 && report?.error == "")
        }
        try await rig.tearDown()
    }

    /// ozmapd started on the rig, a typed client over its socket, the simulator's credentials set.
    func withTypedClient(_ rig: TestRig,
                         _ body: (GRPCClient<UnixSocketClientTransport>, OZmapIntegration.Client<UnixSocketClientTransport>) async throws -> Void) async throws {
        try await rig.startDaemon()
        let transport = try await UnixSocketClientTransport.connect(socketPath: rig.socketPath)
        try await withGRPCClient(transport: transport) { grpc in
            let ozmapd = OZmapIntegration.Client(wrapping: grpc)
            _ = try await ozmapd.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: simulatorKey))
            try await body(grpc, ozmapd)
        }
    }
}
