import Foundation
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapSimulator
import OZmapStore
import OZmapTestSupport
import Testing

/// The box cache, end to end: ozmapd over its socket, libcurl over real HTTP to the simulator.
@Suite(.timeLimit(.minutes(5))) struct BoxSyncTests {
    @Test func credentialsStartTheLoadOfEveryConnectedBox() async throws {
        let rig = try await TestRig(boxes: 300, olts: 2)
        try await rig.startDaemon()
        let client = try await rig.client()
        let report = try await rig.connect(client)
        #expect(report.error.isEmpty, "\(report.error)")

        let truth = connectedBoxes(rig.simulator)
        let boxes = try await rig.allBoxes(client)
        #expect(boxes.count == truth.count)
        #expect(Set(boxes.map(\.id)) == Set(truth.keys), "exactly the boxes with a splitter traced to an OLT")
        for box in boxes.prefix(20) {
            let expected = try #require(truth[box.id])
            #expect(box.name == expected.name)
            #expect(box.ozmapOltId == expected.olt)
            #expect(abs(box.lat - expected.lat) < 1e-9 && abs(box.lng - expected.lng) < 1e-9, "coords are [lng, lat]")
            #expect(box.portsFree == expected.freePorts && box.portsTotal == expected.totalPorts)
        }

        let query = try await client.rpc.listBoxes(ListBoxesRequest(query: "cto-01", pageSize: 1000))
        #expect(query.total > 0)
        #expect(query.boxes.allSatisfy { $0.name.lowercased().contains("cto-01") })

        let status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.credentialsSet && status.ozmapReachable)
        #expect(status.boxCount == UInt32(truth.count))
        #expect(status.lastSync?.kind == .full && status.lastSync?.error == "")
        #expect(status.ozmapRequests.contains { $0.route == "splitters" && $0.httpStatus == 200 })

        // ozmapd sent the raw key and only filters OZmap documents, over kept-alive connections.
        let log = rig.simulator.requestLog()
        #expect(log.count > 10)
        #expect(try rig.daemon.ozmapHTTP.connectionsOpened <= 4, "at most one connection per libcurl worker")
        #expect(log.allSatisfy { $0.authorization == simulatorKey })
        let filters = log.compactMap { $0.queryParameters["filter"] }
        #expect(filters.contains(#"[{"property":"olt","operator":"exists","value":true}]"#))
        #expect(filters.contains { $0.hasPrefix(#"[{"property":"id","operator":"in","value":["#) })
        #expect(filters.contains { $0.hasPrefix(#"[{"property":"parent","operator":"in","value":["#) })
        #expect(log.allSatisfy { $0.method == "GET" }, "a sync only reads")
        for filter in filters {
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(filter.utf8)) as? [[String: Any]])
            for condition in parsed {
                // `like` is the drift check after the full pass (its marked clients); all are the reference's operators.
                #expect(["=", "in", "exists", ">=", "like"].contains(condition["operator"] as? String ?? ""))
                if let ids = condition["value"] as? [String] { #expect(ids.count <= 100, "id lists go 100 at a time") }
            }
        }
        await client.close()
        try await rig.tearDown()
    }

    @Test func pagingAcrossTenThousandBoxes() async throws {
        let rig = try await TestRig(boxes: 10_000, olts: 4)
        try await rig.startDaemon()
        let client = try await rig.client()
        let started = ContinuousClock.now
        let report = try await rig.connect(client, timeout: .seconds(240))
        print("full sync of \(report.boxes) boxes took \(ContinuousClock.now - started)")
        #expect(report.error.isEmpty, "\(report.error)")
        let truth = connectedBoxes(rig.simulator)
        #expect(truth.count >= 10_000)

        // OZmap was paged with limit 500 (ozmap_page_size) until hasNextPage was false.
        let splitterPages = rig.simulator.requestLog().filter {
            $0.method == "GET" && $0.path.hasSuffix("/splitters") && $0.queryParameters["filter"]?.contains("exists") == true
        }
        #expect(splitterPages.allSatisfy { $0.queryParameters["limit"] == "500" })
        // Only the box and the time of each splitter are read from these pages: the ports come with the box.
        #expect(!splitterPages.isEmpty && splitterPages.allSatisfy { $0.queryParameters["select"] == "parent,updatedAt" })
        #expect(Set(splitterPages.compactMap { $0.queryParameters["page"] }).count == splitterPages.count, "no page asked twice")
        // The boxes and their splitters, by ids, with only the fields the cache keeps (the same
        // rows whole are half as large again on the simulator; cables and tags make them larger on OZmap).
        let byIDs = rig.simulator.requestLog().filter { $0.method == "GET" && $0.queryParameters["filter"]?.contains("\"in\"") == true }
        #expect(byIDs.contains { $0.path.hasSuffix("/boxes") } && byIDs.contains { $0.path.hasSuffix("/splitters") })
        #expect(byIDs.allSatisfy { $0.queryParameters["select"] == ($0.path.hasSuffix("/boxes") ? "name,project,coords,lat,lng,boxType,implanted,updatedAt"
                                                                                                 : "name,parent,olt,slot,pon,isDrop,connectables,ratio,updatedAt") })

        // ozmapd's own paging hands out every box once.
        var seen = Set<String>()
        var request = ListBoxesRequest(pageSize: 777)
        var pages = 0
        repeat {
            let page = try await client.rpc.listBoxes(request)
            #expect(page.total == UInt32(truth.count))
            for box in page.boxes { #expect(seen.insert(box.id).inserted, "box \(box.id) listed twice") }
            request.pageToken = page.nextPageToken
            pages += 1
        } while !request.pageToken.isEmpty
        #expect(seen == Set(truth.keys))
        #expect(pages == (truth.count + 776) / 777)
        await client.close()
        try await rig.tearDown()
    }

    @Test func renameMoveAndDeleteAreSeenByTheNextPasses() async throws {
        let rig = try await TestRig(boxes: 60, olts: 2)
        try await rig.startDaemon()
        let client = try await rig.client()
        _ = try await rig.connect(client)
        let olts = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts
        #expect(olts.count == 2)
        let boxes = try await rig.allBoxes(client)
        let renamed = boxes[0], moved = boxes[1], deleted = boxes[2]
        let otherOLT = try #require(olts.first { $0.id != moved.ozmapOltId })

        try rig.simulator.renameBox(id: renamed.id, to: "CTO-Renomeada-Ação")
        try rig.simulator.moveBox(id: moved.id, toOLT: otherOLT.id)
        try rig.simulator.deleteBox(id: deleted.id)
        rig.simulator.clearRequestLog()

        let incremental = try #require(try await client.rpc.syncBoxes(SyncBoxesRequest(full: false, wait: true)).report)
        #expect(incremental.kind == .incremental && incremental.error.isEmpty, "\(incremental.error)")
        #expect(rig.simulator.requestLog().contains { $0.queryParameters["filter"]?.contains(#""operator":">=""#) == true })
        // The report counts the pass's requests: splitters and boxes changed (2), the 3 boxes' chunk (2).
        let passRequests = rig.simulator.requestLog().filter { $0.path.hasSuffix("/boxes") || $0.path.hasSuffix("/splitters") }
        #expect(incremental.ozmapRequests == UInt32(passRequests.count) && incremental.ozmapRequests == 4,
                "\(incremental.ozmapRequests) requests reported, \(passRequests.count) in the simulator's log")
        let byName = try await client.rpc.getBox(GetBoxRequest(name: "cto-renomeada-acao"))
        #expect(byName.id == renamed.id, "names match case- and accent-insensitively")
        let movedNow = try await client.rpc.getBox(GetBoxRequest(id: moved.id))
        #expect(movedNow.ozmapOltId == otherOLT.id)
        let onOther = try await rig.allBoxes(client, ListBoxesRequest(ozmapOltId: otherOLT.id, pageSize: 1000))
        #expect(onOther.contains { $0.id == moved.id })

        let full = try #require(try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true)).report)
        #expect(full.kind == .full && full.boxesRemoved >= 1)
        await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.getBox(GetBoxRequest(id: deleted.id)) }
        #expect(try await rig.allBoxes(client).count == connectedBoxes(rig.simulator).count)
        await client.close()
        try await rig.tearDown()
    }

    @Test func neverTwoSyncsAtOnce() async throws {
        let rig = try await TestRig(boxes: 30)
        try await rig.startDaemon()
        let client = try await rig.client()
        _ = try await rig.connect(client)
        // Every OZmap request takes 1.5 s, so a pass lasts seconds: two requests sent together overlap.
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 1500))
        rig.simulator.clearRequestLog()
        async let first = client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        async let second = client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        let (one, other) = try await (first, second)
        #expect(one.started != other.started, "one request started the pass, the other joined it")
        #expect(one.report == other.report)
        let passes = rig.simulator.requestLog().filter { $0.queryParameters["filter"]?.contains("exists") == true && $0.queryParameters["page"] == "1" }
        #expect(passes.count == 1, "OZmap saw one pass")
        rig.simulator.setFaults(.none)
        await client.close()
        try await rig.tearDown()
    }

    @Test func linkingChecksTheOZmapOLT() async throws {
        let rig = try await TestRig(boxes: 10)
        try await rig.startDaemon()
        let client = try await rig.client()
        _ = try await rig.connect(client)
        let olt = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts[0]
        let created = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-a", ozmapOltId: olt.id, requireCtoOnActivation: false))
        #expect(created.created && created.link?.ozmapOltName == olt.name)
        let updated = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-a", ozmapOltId: olt.id, requireCtoOnActivation: true))
        #expect(!updated.created && updated.link?.requireCtoOnActivation == true && updated.link?.createdAt == created.link?.createdAt)
        #expect(try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts.first { $0.id == olt.id }?.archoltOltId == "olt-a")
        let byLink = try await rig.allBoxes(client, ListBoxesRequest(archoltOltId: "olt-a", pageSize: 1000))
        #expect(!byLink.isEmpty && byLink.allSatisfy { $0.ozmapOltId == olt.id })
        do {
            _ = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-b", ozmapOltId: "5f5e1000000100000000ffff", requireCtoOnActivation: false))
            Issue.record("linked to an OLT OZmap does not have")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .notFound)
        }
        _ = try await client.rpc.unlinkOLT(UnlinkOLTRequest(archoltOltId: "olt-a"))
        #expect(try await client.rpc.listOLTLinks(ListOLTLinksRequest()).links.isEmpty)
        await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.unlinkOLT(UnlinkOLTRequest(archoltOltId: "olt-a")) }
        await client.close()
        try await rig.tearDown()
    }

    @Test func everyRefusalNamesItsCause() async throws {
        let rig = try await TestRig(boxes: 10)
        try await rig.startDaemon()
        let client = try await rig.client()
        func code<Response>(_ call: () async throws -> Response) async -> (GRPCCore.RPCError.Code?, String) {
            do {
                _ = try await call()
                return (nil, "")
            } catch let error as GRPCCore.RPCError {
                return (error.code, error.violations.first?.field ?? error.message)
            } catch {
                return (.unknown, "\(error)")
            }
        }
        // Before credentials: everything that needs OZmap says so.
        #expect(await code { try await client.rpc.syncBoxes(SyncBoxesRequest()) }.0 == .failedPrecondition)
        #expect(await code { try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()) }.0 == .failedPrecondition)
        #expect(await code { try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "a", ozmapOltId: "b", requireCtoOnActivation: false)) }.0 == .failedPrecondition)
        // An OZmap nobody answers for: UNAVAILABLE, and nothing saved.
        let nowhere = await code { try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: "http://127.0.0.1:1/api/v2", apiKey: simulatorKey)) }
        #expect(nowhere.0 == .unavailable)
        #expect(try await client.rpc.getCredentials(GetCredentialsRequest()).credentials?.apiKeySet == false)

        _ = try await rig.connect(client)
        let olt = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts[0]
        _ = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-a", ozmapOltId: olt.id, requireCtoOnActivation: false))
        #expect(await code { try await client.rpc.listBoxes(ListBoxesRequest(archoltOltId: "olt-unknown")) }.0 == .failedPrecondition)
        #expect(await code { try await client.rpc.listBoxes(ListBoxesRequest(archoltOltId: "olt-a", ozmapOltId: "other")) } == (.invalidArgument, "ozmap_olt_id"))
        #expect(await code { try await client.rpc.listBoxes(ListBoxesRequest(pageSize: 5000)) } == (.invalidArgument, "page_size"))
        #expect(await code { try await client.rpc.listBoxes(ListBoxesRequest(pageToken: "forged")) } == (.invalidArgument, "page_token"))
        #expect(await code { try await client.rpc.getBox(GetBoxRequest()) } == (.invalidArgument, "id"))
        #expect(await code { try await client.rpc.getBox(GetBoxRequest(id: "5f5e1000000100000000ffff")) }.0 == .notFound)
        #expect(await code { try await client.rpc.getBox(GetBoxRequest(name: "CTO-NOWHERE")) }.0 == .notFound)
        try rig.simulator.addBox(name: "CTO-TWIN", toOLT: olt.id)
        try rig.simulator.addBox(name: "cto-twin", toOLT: olt.id)
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        #expect(await code { try await client.rpc.getBox(GetBoxRequest(name: "Cto-Twin")) }.0 == .failedPrecondition)
        await client.close()
        try await rig.tearDown()
    }

    @Test func ozmapDownDuringASyncKeepsTheLastGoodCache() async throws {
        let rig = try await TestRig(boxes: 50)
        try await rig.startDaemon()
        let client = try await rig.client()
        _ = try await rig.connect(client)
        let before = try await rig.allBoxes(client)

        rig.simulator.setFaults(SimulatorFaults(down: true))
        let failed = try #require(try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true)).report)
        #expect(failed.error.hasPrefix("UNAVAILABLE: OZmap answered 503"), "\(failed.error)")
        #expect(try await rig.allBoxes(client) == before, "the old cache is kept")
        let status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(!status.ozmapReachable)
        #expect(status.lastSync?.error == failed.error)
        // ozmapctl reads the status name ahead of the error: `sync --wait` exits with UNAVAILABLE's 14.
        let (exit, output, errors) = try await runProcess(binary("ozmapctl"), ["sync", "--full", "--wait", "--socket", rig.socketPath],
                                                          directory: rig.directory)
        #expect(exit == 14, "\(output)\(errors)")
        #expect(status.ozmapRequests.contains { $0.httpStatus == 503 })
        await client.close()
        try await rig.tearDown()
    }

    @Test func restartWithOZmapDownServesTheCacheFromSQLite() async throws {
        let rig = try await TestRig(boxes: 40)
        try await rig.startDaemon()
        var client = try await rig.client()
        _ = try await rig.connect(client)
        let before = try await rig.allBoxes(client)
        await client.close()
        try await rig.stopDaemon()

        rig.simulator.setFaults(SimulatorFaults(down: true))
        try await rig.startDaemon()
        client = try await rig.client()
        #expect(try await rig.allBoxes(client) == before)
        let credentials = try #require(try await client.rpc.getCredentials(GetCredentialsRequest()).credentials)
        #expect(credentials.apiKeySet && credentials.apiUrl == rig.simulator.baseURL)
        #expect(try StateDatabase(stateDirectory: rig.stateDirectory).integrityCheck() == "ok")
        await client.close()
        try await rig.tearDown()
    }

    @Test func aWrongKeyIsUnauthenticatedAndNothingIsSaved() async throws {
        let rig = try await TestRig(boxes: 10)
        try await rig.startDaemon()
        let client = try await rig.client()
        do {
            _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: "not-the-key"))
            Issue.record("a wrong key was accepted")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .unauthenticated)
            #expect(error.message.contains("rejected the API key"))
            #expect(!error.message.contains("not-the-key"))
        }
        #expect(try await client.rpc.getCredentials(GetCredentialsRequest()).credentials?.apiKeySet == false)

        let invalid: [(SetCredentialsRequest, String)] = [
            (SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: "Bearer \(simulatorKey)"), "api_key"),
            (SetCredentialsRequest(apiUrl: "ftp://example.com/api/v2", apiKey: simulatorKey), "api_url"),
            (SetCredentialsRequest(apiUrl: rig.simulator.baseURL.replacingOccurrences(of: "/api/v2", with: "/api"), apiKey: simulatorKey), "api_url"),
            (SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: ""), "api_key"),
        ]
        for (request, field) in invalid {
            do {
                _ = try await client.rpc.setCredentials(request)
                Issue.record("accepted \(request.apiUrl)")
            } catch let error as GRPCCore.RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.violations.first?.field == field)
            }
        }
        // The simulator, like OZmap, refuses a Bearer-prefixed key.
        let bearer = rig.simulator.requestLog().filter { $0.authorization?.hasPrefix("Bearer") == true }
        #expect(bearer.isEmpty, "ozmapd never sends a Bearer prefix")
        await client.close()
        try await rig.tearDown()
    }

    @Test func readsRetryAndHonourRetryAfter() async throws {
        let rig = try await TestRig(boxes: 10)
        // Room for the test to lift the fault however loaded the machine is.
        try await rig.startDaemon { $0.ozmapReadAttempts = 20 }
        let client = try await rig.client()
        _ = try await rig.connect(client)
        rig.simulator.clearRequestLog()
        // The first two list requests fail with 429 and Retry-After: 1; the pass still succeeds.
        rig.simulator.setFaults(.forcedStatus(429, retryAfterSeconds: 1, routes: [FaultRoute("GET splitters")]))
        let running = Task { try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true)).report }
        try await waitUntil("two throttled attempts") {
            rig.simulator.requestLog().filter { $0.status == 429 }.count >= 2
        }
        rig.simulator.setFaults(.none)
        let report = try #require(try await running.value)
        #expect(report.error.isEmpty, "\(report.error)")
        let attempts = rig.simulator.requestLog().filter {
            $0.path.hasSuffix("/splitters") && $0.queryParameters["filter"]?.contains("exists") == true
        }
        #expect(attempts.count >= 3)
        for (previous, next) in zip(attempts, attempts.dropFirst()) where previous.status == 429 {
            #expect(next.receivedAt.timeIntervalSince(previous.receivedAt) >= 0.95, "Retry-After: 1 was honoured")
        }
        await client.close()
        try await rig.tearDown()
    }

    @Test func theKeyAppearsInNoLogLineReplyOrDatabase() async throws {
        let rig = try await TestRig(boxes: 20)
        try await rig.startDaemon()
        let client = try await rig.client()
        _ = try await rig.connect(client)
        rig.simulator.setFaults(SimulatorFaults(down: true))
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        rig.simulator.setFaults(.none)
        _ = try? await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: rig.simulator.baseURL, apiKey: simulatorKey + "x"))
        // A provisioning round trip, with a failure in the middle, also logs and audits.
        let olt = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts[0]
        _ = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: "olt-a", ozmapOltId: olt.id, requireCtoOnActivation: false))
        let box = try await rig.allBoxes(client, ListBoxesRequest(ozmapOltId: olt.id, pageSize: 1000)).first { $0.portsFree > 0 }!
        rig.simulator.setFaults(.forcedStatus(500, routes: [FaultRoute("POST properties")]))
        _ = try await client.rpc.provisionONU(provision("key-1", cto: box.id))
        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)
        _ = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: "key-1"))

        var replies: [String] = []
        for method in ["GetStatus", "GetCredentials", "ListBoxes", "ListOZmapOLTs", "ListMethods", "ListAuditLog", "ListOperations", "ListONUs"] {
            let response = try await client.connection.call(path: "/archolt.ozmap.v1.OZmapIntegration/\(method)", payload: [])
            replies.append(response.outcome.message + String(decoding: response.payload, as: UTF8.self))
        }
        #expect(!rig.logs.all.isEmpty)
        for line in rig.logs.all + replies { #expect(!line.contains(simulatorKey)) }
        let database = try Data(contentsOf: URL(fileURLWithPath: rig.stateDirectory + "/ozmapd.sqlite"))
        #expect(database.range(of: Data(simulatorKey.utf8)) == nil)
        let keyFile = rig.stateDirectory + "/ozmap-credentials.json"
        #expect((try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o600)
        await client.close()
        try await rig.tearDown()
    }
}
