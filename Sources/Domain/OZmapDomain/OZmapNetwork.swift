import Synchronization

/// An OLT as OZmap documents it.
public struct OZmapOLTInfo: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var project: String
    public var ip: String
    public var implanted: Bool

    public init(id: String, name: String, project: String = "", ip: String = "", implanted: Bool = false) {
        self.id = id
        self.name = name
        self.project = project
        self.ip = ip
        self.implanted = implanted
    }
}

/// A splitter traced to an OLT, as a full pass lists them: which box it is in, when it last changed.
public struct TracedSplitter: Sendable, Hashable {
    public var boxID: String
    public var updatedAt: String

    public init(boxID: String, updatedAt: String) {
        self.boxID = boxID
        self.updatedAt = updatedAt
    }
}

/// A splitter inside a box. A box is connected to an OLT when one of its splitters has `oltID`.
public struct OZmapSplitter: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var boxID: String
    public var oltID: String?
    public var slotID: String?
    public var ponID: String?
    /// A customer splitter: its outputs are the ports clients connect to.
    public var isDrop: Bool
    public var outputs: Int
    public var freeOutputs: Int
    public var updatedAt: String

    public init(id: String, name: String, boxID: String, oltID: String?, slotID: String?, ponID: String?,
                isDrop: Bool, outputs: Int, freeOutputs: Int, updatedAt: String) {
        self.id = id
        self.name = name
        self.boxID = boxID
        self.oltID = oltID
        self.slotID = slotID
        self.ponID = ponID
        self.isDrop = isDrop
        self.outputs = outputs
        self.freeOutputs = freeOutputs
        self.updatedAt = updatedAt
    }
}

/// A box (CTO) as OZmap documents it, without its splitters.
public struct OZmapBoxInfo: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var project: String
    public var lat: Double
    public var lng: Double
    public var boxType: String
    public var implanted: Bool
    public var updatedAt: String

    public init(id: String, name: String, project: String, lat: Double, lng: Double, boxType: String, implanted: Bool, updatedAt: String) {
        self.id = id
        self.name = name
        self.project = project
        self.lat = lat
        self.lng = lng
        self.boxType = boxType
        self.implanted = implanted
        self.updatedAt = updatedAt
    }
}

/// What the box cache needs from OZmap; the libcurl adapter implements it.
/// Failures are `IntegrationError`s (OZmap unreachable, key rejected, ...) with messages
/// that never contain the API key.
public protocol OZmapDirectory: Sendable {
    /// Succeeds when OZmap accepts the key (`GET authenticated`).
    func verifyCredentials() async throws
    func olts() async throws -> [OZmapOLTInfo]
    func olt(id: String) async throws -> OZmapOLTInfo
    /// How many requests it sends at once at most: independent fetches beyond it only queue.
    var requestConcurrency: Int { get }
    /// Every splitter traced to an OLT, a page at a time as OZmap answers (pages in any order),
    /// so that a pass holds none of them longer than it takes to read their box ids.
    func connectedSplitterPages() -> AsyncThrowingStream<[TracedSplitter], any Error>
    /// Splitters changed at or after an OZmap `updatedAt` time.
    func splitters(updatedSince: String) async throws -> [OZmapSplitter]
    /// Every splitter inside these boxes.
    func splitters(inBoxes ids: [String]) async throws -> [OZmapSplitter]
    func boxes(ids: [String]) async throws -> [OZmapBoxInfo]
    /// Boxes changed at or after an OZmap `updatedAt` time.
    func boxes(updatedSince: String) async throws -> [OZmapBoxInfo]
}

/// Counts the OZmap requests sent on behalf of one task and its child tasks (a sync pass):
/// the adapter adds one for each request it sends while a tally is bound.
public final class OZmapRequestTally: Sendable {
    @TaskLocal public static var current: OZmapRequestTally?
    private let sent = Atomic<Int>(0)

    public init() {}

    public func add() { sent.add(1, ordering: .relaxed) }

    public var count: Int { sent.load(ordering: .relaxed) }
}
