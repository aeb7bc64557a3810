import Foundation
import ArcholtOZmapV1
import GRPCCore
import OZmapDomain

/// Credentials, OZmap OLTs, OLT links and the box cache.
extension IntegrationService {
    func setCredentials(request: SetCredentialsRequest, context: ServerContext) async throws -> SetCredentialsResponse {
        let credentials = try OZmapCredentials(apiURL: request.apiUrl, apiKey: request.apiKey)
        _ = try await connection.set(credentials)
        _ = await synchronizer.start(.full) // the initial load
        return SetCredentialsResponse(credentials: self.credentials())
    }

    func getCredentials(request: GetCredentialsRequest, context: ServerContext) async throws -> GetCredentialsResponse {
        GetCredentialsResponse(credentials: credentials())
    }

    func linkOLT(request: LinkOLTRequest, context: ServerContext) async throws -> LinkOLTResponse {
        let (link, created) = try await links.link(archoltOLTID: request.archoltOltId, ozmapOLTID: request.ozmapOltId,
                                                   requireCTO: request.requireCtoOnActivation)
        return LinkOLTResponse(link: OLTLink(link), created: created)
    }

    func unlinkOLT(request: UnlinkOLTRequest, context: ServerContext) async throws -> UnlinkOLTResponse {
        UnlinkOLTResponse(removed: OLTLink(try links.unlink(archoltOLTID: request.archoltOltId)))
    }

    func listOLTLinks(request: ListOLTLinksRequest, context: ServerContext) async throws -> ListOLTLinksResponse {
        ListOLTLinksResponse(links: try links.all().map(OLTLink.init))
    }

    private func credentials() -> Credentials {
        guard let stored = connection.stored else { return Credentials(apiUrl: "", apiKeySet: false, source: "", updatedAt: "") }
        return Credentials(apiUrl: stored.credentials.apiURL, apiKeySet: true, source: stored.source, updatedAt: stored.updatedAt)
    }

    private func directory() throws -> any OZmapDirectory {
        guard let directory = connection.directory else {
            throw IntegrationError(.credentialsMissing, "no OZmap credentials: set them with SetCredentials (ozmapctl credentials set)")
        }
        return directory
    }

    func listOZmapOLTs(request: ListOZmapOLTsRequest, context: ServerContext) async throws -> ListOZmapOLTsResponse {
        let olts = try await directory().olts()
        var linked: [String: String] = [:]
        for link in try links.all() { linked[link.ozmapOLTID] = link.archoltOLTID }
        return ListOZmapOLTsResponse(olts: olts.map {
            OZmapOLT(id: $0.id, name: $0.name, project: $0.project, ip: $0.ip, implanted: $0.implanted,
                              archoltOltId: linked[$0.id] ?? "")
        })
    }

    func syncBoxes(request: SyncBoxesRequest, context: ServerContext) async throws -> SyncBoxesResponse {
        _ = try directory()
        let kind: SyncPassKind = request.full ? .full : .incremental
        let (report, started) = request.wait ? await synchronizer.run(kind) : await synchronizer.start(kind)
        return SyncBoxesResponse(report: SyncReport(report), started: started)
    }

    func listBoxes(request: ListBoxesRequest, context: ServerContext) async throws -> ListBoxesResponse {
        var oltID = request.ozmapOltId.isEmpty ? nil : request.ozmapOltId
        if !request.archoltOltId.isEmpty {
            let linked = try links.require(request.archoltOltId).ozmapOLTID
            if let oltID, oltID != linked {
                throw IntegrationError.invalidInput(field: "ozmap_olt_id", "disagrees with the link of archolt_olt_id \(request.archoltOltId) (\(linked)); give one of them")
            }
            oltID = linked
        }
        let pageSize = try Paging.size(request.pageSize)
        let offset = try Paging.offset(request.pageToken)
        let match: NameMatch = switch request.match {
        case .contains: .contains
        case .exact: .exact
        case .prefix: .prefix
        case .unrecognized(let number): throw IntegrationError.invalidInput(field: "match", "\(number) is no QueryMatch this ozmapd knows")
        }
        let snapshot = synchronizer.cache.snapshot
        let matches = snapshot.ids(oltID: oltID, query: request.query, match: match)
        let page = matches.dropFirst(offset).prefix(pageSize)
        let next = offset + page.count < matches.count ? Paging.token(offset: offset + page.count) : ""
        return ListBoxesResponse(boxes: page.map { ArcholtOZmapV1.Box(snapshot.boxesByID[$0]!) }, nextPageToken: next,
                                 total: UInt32(clamping: matches.count))
    }

    /// By id (exact), or by name as people type it (the rules of `CTOResolver`, over every OLT).
    func getBox(request: GetBoxRequest, context: ServerContext) async throws -> ArcholtOZmapV1.Box {
        var oltNames: [String: String] = [:]
        for link in (try? links.all()) ?? [] { oltNames[link.ozmapOLTID] = link.ozmapOLTName }
        let resolver = CTOResolver(cache: synchronizer.cache, oltNames: oltNames)
        if !request.id.isEmpty { return ArcholtOZmapV1.Box(try resolver.box(id: request.id)) }
        guard !request.name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw IntegrationError.invalidInput(field: "id", "give the box id or its name")
        }
        return ArcholtOZmapV1.Box(try resolver.resolve(request.name))
    }
}
