/// `archolt.ozmap.v1.ListOZmapOLTsRequest`
public struct ListOZmapOLTsRequest: Codable, Sendable, Hashable {
    public init() {}
}

/// `archolt.ozmap.v1.ListOZmapOLTsResponse`
public struct ListOZmapOLTsResponse: Codable, Sendable, Hashable {
    public var olts: [OZmapOLT]

    public init(olts: [OZmapOLT]) {
        self.olts = olts
    }
}

/// `archolt.ozmap.v1.OZmapOLT`
public struct OZmapOLT: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var project: String
    public var ip: String
    public var implanted: Bool
    public var archoltOltId: String

    public init(id: String, name: String, project: String, ip: String, implanted: Bool, archoltOltId: String) {
        self.id = id
        self.name = name
        self.project = project
        self.ip = ip
        self.implanted = implanted
        self.archoltOltId = archoltOltId
    }
}

/// `archolt.ozmap.v1.LinkOLTRequest`
public struct LinkOLTRequest: Codable, Sendable, Hashable {
    public var archoltOltId: String
    public var ozmapOltId: String
    public var requireCtoOnActivation: Bool

    public init(archoltOltId: String, ozmapOltId: String, requireCtoOnActivation: Bool) {
        self.archoltOltId = archoltOltId
        self.ozmapOltId = ozmapOltId
        self.requireCtoOnActivation = requireCtoOnActivation
    }
}

/// `archolt.ozmap.v1.LinkOLTResponse`
public struct LinkOLTResponse: Codable, Sendable, Hashable {
    public var link: OLTLink
    public var created: Bool

    public init(link: OLTLink, created: Bool) {
        self.link = link
        self.created = created
    }
}

/// `archolt.ozmap.v1.UnlinkOLTRequest`
public struct UnlinkOLTRequest: Codable, Sendable, Hashable {
    public var archoltOltId: String

    public init(archoltOltId: String) {
        self.archoltOltId = archoltOltId
    }
}

/// `archolt.ozmap.v1.UnlinkOLTResponse`
public struct UnlinkOLTResponse: Codable, Sendable, Hashable {
    public var removed: OLTLink

    public init(removed: OLTLink) {
        self.removed = removed
    }
}

/// `archolt.ozmap.v1.ListOLTLinksRequest`
public struct ListOLTLinksRequest: Codable, Sendable, Hashable {
    public init() {}
}

/// `archolt.ozmap.v1.ListOLTLinksResponse`
public struct ListOLTLinksResponse: Codable, Sendable, Hashable {
    public var links: [OLTLink]

    public init(links: [OLTLink]) {
        self.links = links
    }
}

/// `archolt.ozmap.v1.OLTLink`
public struct OLTLink: Codable, Sendable, Hashable {
    public var archoltOltId: String
    public var ozmapOltId: String
    public var ozmapOltName: String
    public var requireCtoOnActivation: Bool
    public var createdAt: String
    public var updatedAt: String
    /// Empty when fine; else what is wrong with the link (its OZmap OLT is not in the current tenant).
    public var problem: String

    public init(archoltOltId: String, ozmapOltId: String, ozmapOltName: String, requireCtoOnActivation: Bool,
                createdAt: String, updatedAt: String, problem: String = "") {
        self.archoltOltId = archoltOltId
        self.ozmapOltId = ozmapOltId
        self.ozmapOltName = ozmapOltName
        self.requireCtoOnActivation = requireCtoOnActivation
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.problem = problem
    }
}
