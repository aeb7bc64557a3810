import Foundation
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport

extension TestRig {
    /// Credentials set, boxes loaded, ArchOLT OLT "olt-a" linked to the first OZmap OLT.
    func provisioningReady(requireCTO: Bool = false, configure: (inout DaemonConfiguration) -> Void = { _ in })
        async throws -> (client: OZmapIntegrationConnection, olt: OZmapOLT) {
        try await startDaemon(configure: configure)
        let client = try await self.client()
        return (client, try await prepareForProvisioning(client, requireCTO: requireCTO))
    }

    /// Credentials set, boxes loaded and "olt-a" linked, through a running daemon; returns the OZmap OLT.
    func prepareForProvisioning(_ client: OZmapIntegrationConnection, requireCTO: Bool = false) async throws -> OZmapOLT {
        _ = try await connect(client)
        let olt = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts.sorted { $0.name < $1.name }[0]
        _ = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-a", ozmapOltId: olt.id, requireCtoOnActivation: requireCTO))
        return olt
    }

    /// Boxes of an OZmap OLT with at least `free` free ports, by name.
    func boxesWithRoom(on olt: OZmapOLT, client: OZmapIntegrationConnection, free: UInt32 = 2) async throws -> [Box] {
        try await allBoxes(client, ListBoxesRequest(ozmapOltId: olt.id, pageSize: 1000)).filter { $0.portsFree >= free }
    }

    /// The simulator's clients with this code, and the boxes of their properties.
    func ozmapClients(code: String) -> (clients: Int, boxes: [String]) {
        let snapshot = simulator.snapshot()
        let ids = Set(snapshot.clients(code: code).map(\.id))
        return (ids.count, snapshot.properties.filter { $0.client.map(ids.contains) ?? false }.map(\.box))
    }

    /// Waits until the outbox has nothing left to do.
    func outboxDrained(_ client: OZmapIntegrationConnection, timeout: Duration = .seconds(60)) async throws {
        try await waitUntil("the outbox drains", timeout: timeout) {
            try await client.rpc.getStatus(GetStatusRequest()).operationsPending == 0
        }
    }

    /// POSTs that reached OZmap's properties route (applied, answered or not).
    func propertyCreates() -> Int {
        simulator.requestLog().filter { $0.method == "POST" && $0.path.hasSuffix("/properties") && $0.outcome != .faulted }.count
    }
}

func provision(_ onu: String, cto: String = "", serial: String? = nil) -> ProvisionONURequest {
    ProvisionONURequest(archoltOltId: "olt-a", onuId: onu, serialNumber: serial ?? "ZTEG\(String(format: "%08X", abs(onu.hashValue) % 0xFFFFFFF))",
                        macAddress: "aa:bb:cc:00:11:22", pppoeUser: "user-\(onu)", cto: cto, implanted: true)
}
