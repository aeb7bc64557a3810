
/// An ArchOLT OLT mapped to an OZmap OLT.
public struct LinkedOLT: Sendable, Hashable, Codable {
    public var archoltOLTID: String
    public var ozmapOLTID: String
    public var ozmapOLTName: String
    public var requireCTOOnActivation: Bool
    public var createdAt: String
    public var updatedAt: String
    /// Empty when fine; else what is wrong: its OZmap OLT is not in the OZmap the credentials
    /// now point at. Linking the OLT again clears it.
    public var problem: String

    public init(archoltOLTID: String, ozmapOLTID: String, ozmapOLTName: String, requireCTOOnActivation: Bool,
                createdAt: String, updatedAt: String, problem: String = "") {
        self.archoltOLTID = archoltOLTID
        self.ozmapOLTID = ozmapOLTID
        self.ozmapOLTName = ozmapOLTName
        self.requireCTOOnActivation = requireCTOOnActivation
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.problem = problem
    }
}

public protocol OLTLinkStore: Sendable {
    func allLinks() throws -> [LinkedOLT]
    func link(archoltOLTID: String) throws -> LinkedOLT?
    func saveLink(_ link: LinkedOLT) throws
    /// Removes and returns the link; nil when there was none.
    func deleteLink(archoltOLTID: String) throws -> LinkedOLT?
}

/// Links between ArchOLT OLTs and OZmap OLTs.
public struct OLTLinks: Sendable {
    private let store: any OLTLinkStore
    private let connection: OZmapConnection

    public init(store: any OLTLinkStore, connection: OZmapConnection) {
        self.store = store
        self.connection = connection
    }

    /// Links (or re-links) an OLT; the OZmap OLT must exist in OZmap.
    public func link(archoltOLTID: String, ozmapOLTID: String, requireCTO: Bool) async throws -> (link: LinkedOLT, created: Bool) {
        try Validate.identifier(archoltOLTID, field: "archolt_olt_id")
        try Validate.identifier(ozmapOLTID, field: "ozmap_olt_id")
        guard let directory = connection.directory else {
            throw IntegrationError(.credentialsMissing, "no OZmap credentials: set them first (SetCredentials) so the OZmap OLT can be checked")
        }
        let olt: OZmapOLTInfo
        do {
            olt = try await directory.olt(id: ozmapOLTID)
        } catch let error as IntegrationError where error.kind == .ozmapNotFound {
            throw IntegrationError(.notFound, "OZmap has no OLT with id \(ozmapOLTID); ListOZmapOLTs lists them")
        }
        let now = Timestamp.now()
        let existing = try store.link(archoltOLTID: archoltOLTID)
        let link = LinkedOLT(archoltOLTID: archoltOLTID, ozmapOLTID: olt.id, ozmapOLTName: olt.name,
                           requireCTOOnActivation: requireCTO, createdAt: existing?.createdAt ?? now, updatedAt: now)
        try store.saveLink(link)
        return (link, existing == nil)
    }

    public func unlink(archoltOLTID: String) throws -> LinkedOLT {
        try Validate.identifier(archoltOLTID, field: "archolt_olt_id")
        guard let removed = try store.deleteLink(archoltOLTID: archoltOLTID) else {
            throw IntegrationError(.notFound, "ArchOLT OLT \(archoltOLTID) is not linked")
        }
        return removed
    }

    public func all() throws -> [LinkedOLT] {
        try store.allLinks()
    }

    /// After the credentials moved to another tenant: flags every link whose OZmap OLT is not
    /// among `olts` (the new tenant's), and clears the flag of those whose OLT is. Returns the
    /// links flagged now.
    @discardableResult
    public func recheck(against olts: [OZmapOLTInfo], tenant: String) throws -> [LinkedOLT] {
        let known = Set(olts.map(\.id))
        var flagged: [LinkedOLT] = []
        for var link in try store.allLinks() {
            let problem = known.contains(link.ozmapOLTID) ? "" :
                "OZmap OLT \(link.ozmapOLTID) (\(link.ozmapOLTName)) is not in the OZmap at \(tenant) the credentials now point at: link this OLT again (LinkOLT) or unlink it"
            if !problem.isEmpty { flagged.append(link) }
            guard problem != link.problem else { continue }
            link.problem = problem
            try store.saveLink(link)
        }
        return flagged
    }

    /// The link of an ArchOLT OLT, or FAILED_PRECONDITION naming it.
    public func require(_ archoltOLTID: String) throws -> LinkedOLT {
        guard let link = try store.link(archoltOLTID: archoltOLTID) else {
            throw IntegrationError(.conflict, "ArchOLT OLT \(archoltOLTID) is not linked to an OZmap OLT (LinkOLT)")
        }
        return link
    }
}

/// Checks shared by every request.
public enum Validate {
    /// A non-empty id of printable characters, at most 128 of them.
    public static func identifier(_ value: String, field: String) throws {
        guard !value.isEmpty else { throw IntegrationError.invalidInput(field: field, "is required") }
        guard value.count <= 128 else { throw IntegrationError.invalidInput(field: field, "is longer than 128 characters") }
        guard !value.unicodeScalars.contains(where: \.isControlCharacter) else {
            throw IntegrationError.invalidInput(field: field, "contains control characters")
        }
    }
}

extension Unicode.Scalar {
    /// What no value the integration stores may hold: C0/C1 controls, DEL, and the invisible
    /// format and separator characters (bidi overrides, zero-width, U+2028/9) that can disguise
    /// text in a log or a UI. The wire contract's request-text rule (OZmapRPC.RequestText) refuses
    /// the same set at the edge; this keeps the domain safe on its own.
    var isControlCharacter: Bool {
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
