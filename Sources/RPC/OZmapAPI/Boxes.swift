/// `archolt.ozmap.v1.SyncKind`
public enum SyncKind: String, Codable, Sendable, Hashable {
    case unspecified = "SYNC_KIND_UNSPECIFIED"
    case full = "SYNC_KIND_FULL"
    case incremental = "SYNC_KIND_INCREMENTAL"
}

/// `archolt.ozmap.v1.SyncReport`
public struct SyncReport: Codable, Sendable, Hashable {
    public var kind: SyncKind
    public var running: Bool
    public var startedAt: String
    public var finishedAt: String
    public var durationMs: UInt64
    public var boxes: UInt32
    public var boxesAdded: UInt32
    public var boxesUpdated: UInt32
    public var boxesRemoved: UInt32
    public var error: String
    public var phase: String
    public var progressDone: UInt32
    public var progressTotal: UInt32
    public var ozmapRequests: UInt32

    public init(kind: SyncKind, running: Bool, startedAt: String, finishedAt: String, durationMs: UInt64, boxes: UInt32,
                boxesAdded: UInt32, boxesUpdated: UInt32, boxesRemoved: UInt32, error: String, phase: String,
                progressDone: UInt32, progressTotal: UInt32, ozmapRequests: UInt32 = 0) {
        self.kind = kind
        self.running = running
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
        self.boxes = boxes
        self.boxesAdded = boxesAdded
        self.boxesUpdated = boxesUpdated
        self.boxesRemoved = boxesRemoved
        self.error = error
        self.phase = phase
        self.progressDone = progressDone
        self.progressTotal = progressTotal
        self.ozmapRequests = ozmapRequests
    }
}

/// `archolt.ozmap.v1.SyncBoxesRequest`
public struct SyncBoxesRequest: Codable, Sendable, Hashable {
    public var full: Bool
    public var wait: Bool

    public init(full: Bool = false, wait: Bool = false) {
        self.full = full
        self.wait = wait
    }
}

/// `archolt.ozmap.v1.SyncBoxesResponse`
public struct SyncBoxesResponse: Codable, Sendable, Hashable {
    public var report: SyncReport
    public var started: Bool

    public init(report: SyncReport, started: Bool) {
        self.report = report
        self.started = started
    }
}

/// `archolt.ozmap.v1.QueryMatch`
public enum QueryMatch: String, Codable, Sendable, Hashable {
    case contains = "QUERY_MATCH_CONTAINS"
    case exact = "QUERY_MATCH_EXACT"
    case prefix = "QUERY_MATCH_PREFIX"
}

/// `archolt.ozmap.v1.ListBoxesRequest`
public struct ListBoxesRequest: Codable, Sendable, Hashable {
    public var archoltOltId: String
    public var ozmapOltId: String
    public var query: String
    public var pageSize: UInt32
    public var pageToken: String
    public var match: QueryMatch

    public init(archoltOltId: String = "", ozmapOltId: String = "", query: String = "", pageSize: UInt32 = 0,
                pageToken: String = "", match: QueryMatch = .contains) {
        self.archoltOltId = archoltOltId
        self.ozmapOltId = ozmapOltId
        self.query = query
        self.pageSize = pageSize
        self.pageToken = pageToken
        self.match = match
    }
}

/// `archolt.ozmap.v1.ListBoxesResponse`
public struct ListBoxesResponse: Codable, Sendable, Hashable {
    public var boxes: [Box]
    public var nextPageToken: String
    public var total: UInt32

    public init(boxes: [Box], nextPageToken: String, total: UInt32) {
        self.boxes = boxes
        self.nextPageToken = nextPageToken
        self.total = total
    }
}

/// `archolt.ozmap.v1.GetBoxRequest`
public struct GetBoxRequest: Codable, Sendable, Hashable {
    public var id: String
    public var name: String

    public init(id: String = "", name: String = "") {
        self.id = id
        self.name = name
    }
}

/// `archolt.ozmap.v1.Box`
public struct Box: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var project: String
    public var ozmapOltId: String
    public var slotId: String
    public var ponId: String
    public var lat: Double
    public var lng: Double
    public var boxType: String
    public var implanted: Bool
    public var portsTotal: UInt32
    public var portsFree: UInt32
    public var splitters: [Splitter]
    public var updatedAt: String

    public init(id: String, name: String, project: String, ozmapOltId: String, slotId: String, ponId: String,
                lat: Double, lng: Double, boxType: String, implanted: Bool, portsTotal: UInt32, portsFree: UInt32,
                splitters: [Splitter], updatedAt: String) {
        self.id = id
        self.name = name
        self.project = project
        self.ozmapOltId = ozmapOltId
        self.slotId = slotId
        self.ponId = ponId
        self.lat = lat
        self.lng = lng
        self.boxType = boxType
        self.implanted = implanted
        self.portsTotal = portsTotal
        self.portsFree = portsFree
        self.splitters = splitters
        self.updatedAt = updatedAt
    }
}

/// `archolt.ozmap.v1.Splitter`
public struct Splitter: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var ozmapOltId: String
    public var slotId: String
    public var ponId: String
    public var isDrop: Bool
    public var portsTotal: UInt32
    public var portsFree: UInt32

    public init(id: String, name: String, ozmapOltId: String, slotId: String, ponId: String, isDrop: Bool,
                portsTotal: UInt32, portsFree: UInt32) {
        self.id = id
        self.name = name
        self.ozmapOltId = ozmapOltId
        self.slotId = slotId
        self.ponId = ponId
        self.isDrop = isDrop
        self.portsTotal = portsTotal
        self.portsFree = portsFree
    }
}
