import Foundation
import OZmapAPI
import OZmapDomain
import OZmapRPC

/// Credentials, OZmap OLTs, OLT links and the box cache.
struct OZmapHandlers: Sendable {
    let connection: OZmapConnection
    let synchronizer: BoxSynchronizer
    let links: OLTLinks

    func register(into router: inout RPCRouter) {
        router.register(OZmapIntegration.setCredentials) { request, _ in try await setCredentials(request) }
        router.register(OZmapIntegration.getCredentials) { _, _ in GetCredentialsResponse(credentials: credentials()) }
        router.register(OZmapIntegration.listOZmapOLTs) { _, _ in try await listOZmapOLTs() }
        router.register(OZmapIntegration.linkOLT) { request, _ in
            let (link, created) = try await links.link(archoltOLTID: request.archoltOltId, ozmapOLTID: request.ozmapOltId,
                                                       requireCTO: request.requireCtoOnActivation)
            return LinkOLTResponse(link: OZmapAPI.OLTLink(link), created: created)
        }
        router.register(OZmapIntegration.unlinkOLT) { request, _ in
            UnlinkOLTResponse(removed: OZmapAPI.OLTLink(try links.unlink(archoltOLTID: request.archoltOltId)))
        }
        router.register(OZmapIntegration.listOLTLinks) { _, _ in
            ListOLTLinksResponse(links: try links.all().map(OZmapAPI.OLTLink.init))
        }
        router.register(OZmapIntegration.syncBoxes) { request, _ in try await syncBoxes(request) }
        router.register(OZmapIntegration.listBoxes) { request, _ in try listBoxes(request) }
        router.register(OZmapIntegration.getBox) { request, _ in try getBox(request) }
    }

    private func credentials() -> Credentials {
        guard let stored = connection.stored else { return Credentials(apiUrl: "", apiKeySet: false, source: "", updatedAt: "") }
        return Credentials(apiUrl: stored.credentials.apiURL, apiKeySet: true, source: stored.source, updatedAt: stored.updatedAt)
    }

    private func setCredentials(_ request: SetCredentialsRequest) async throws -> SetCredentialsResponse {
        let credentials = try OZmapCredentials(apiURL: request.apiUrl, apiKey: request.apiKey)
        _ = try await connection.set(credentials)
        _ = await synchronizer.start(.full) // the initial load
        return SetCredentialsResponse(credentials: self.credentials())
    }

    private func directory() throws -> any OZmapDirectory {
        guard let directory = connection.directory else {
            throw RPCError(.failedPrecondition, "no OZmap credentials: set them with SetCredentials (ozmapctl credentials set)")
        }
        return directory
    }

    private func listOZmapOLTs() async throws -> ListOZmapOLTsResponse {
        let olts = try await directory().olts()
        var linked: [String: String] = [:]
        for link in try links.all() { linked[link.ozmapOLTID] = link.archoltOLTID }
        return ListOZmapOLTsResponse(olts: olts.map {
            OZmapAPI.OZmapOLT(id: $0.id, name: $0.name, project: $0.project, ip: $0.ip, implanted: $0.implanted,
                              archoltOltId: linked[$0.id] ?? "")
        })
    }

    private func syncBoxes(_ request: SyncBoxesRequest) async throws -> SyncBoxesResponse {
        _ = try directory()
        let kind: OZmapDomain.SyncKind = request.full ? .full : .incremental
        let (report, started) = request.wait ? await synchronizer.run(kind) : await synchronizer.start(kind)
        return SyncBoxesResponse(report: OZmapAPI.SyncReport(report), started: started)
    }

    private func listBoxes(_ request: ListBoxesRequest) throws -> ListBoxesResponse {
        var oltID = request.ozmapOltId.isEmpty ? nil : request.ozmapOltId
        if !request.archoltOltId.isEmpty {
            let linked = try links.require(request.archoltOltId).ozmapOLTID
            if let oltID, oltID != linked {
                throw RPCError.invalidArgument(field: "ozmap_olt_id", "disagrees with the link of archolt_olt_id \(request.archoltOltId) (\(linked)); give one of them")
            }
            oltID = linked
        }
        let pageSize = try Paging.size(request.pageSize)
        let offset = try Paging.offset(request.pageToken)
        let match: NameMatch = switch request.match {
        case .contains: .contains
        case .exact: .exact
        case .prefix: .prefix
        }
        let matches = synchronizer.cache.snapshot.boxes(oltID: oltID, query: request.query, match: match)
        let page = matches.dropFirst(offset).prefix(pageSize)
        let next = offset + page.count < matches.count ? Paging.token(offset: offset + page.count) : ""
        return ListBoxesResponse(boxes: page.map(OZmapAPI.Box.init), nextPageToken: next, total: UInt32(clamping: matches.count))
    }

    /// By id (exact), or by name as people type it (the rules of `CTOResolver`, over every OLT).
    private func getBox(_ request: GetBoxRequest) throws -> OZmapAPI.Box {
        var oltNames: [String: String] = [:]
        for link in (try? links.all()) ?? [] { oltNames[link.ozmapOLTID] = link.ozmapOLTName }
        let resolver = CTOResolver(cache: synchronizer.cache, oltNames: oltNames)
        if !request.id.isEmpty { return OZmapAPI.Box(try resolver.box(id: request.id)) }
        guard !request.name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RPCError.invalidArgument(field: "id", "give the box id or its name")
        }
        return OZmapAPI.Box(try resolver.resolve(request.name))
    }
}
