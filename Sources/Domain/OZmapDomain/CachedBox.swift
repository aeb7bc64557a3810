import Foundation

/// A box connected to an OLT, as the cache keeps it: the box, where it is
/// wired (OLT, slot, PON) and its customer ports.
public struct CachedBox: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var project: String
    public var oltID: String
    public var slotID: String
    public var ponID: String
    public var lat: Double
    public var lng: Double
    public var boxType: String
    public var implanted: Bool
    public var portsTotal: Int
    public var portsFree: Int
    public var splitters: [OZmapSplitter]
    /// The latest `updatedAt` of the box and its splitters.
    public var updatedAt: String

    /// The cache entry for a box and its splitters; nil when no splitter ties it to an OLT.
    public init?(box: OZmapBoxInfo, splitters: [OZmapSplitter]) {
        let ordered = splitters.sorted { ($0.isDrop ? 1 : 0, $0.name, $0.id) < ($1.isDrop ? 1 : 0, $1.name, $1.id) }
        // The splitter nearest the OLT names the wiring: primaries come before customer splitters.
        guard let traced = ordered.first(where: { $0.oltID?.isEmpty == false }) else { return nil }
        id = box.id
        name = box.name
        project = box.project
        oltID = traced.oltID ?? ""
        slotID = traced.slotID ?? ""
        ponID = traced.ponID ?? ""
        lat = box.lat
        lng = box.lng
        boxType = box.boxType
        implanted = box.implanted
        let drops = ordered.filter(\.isDrop)
        portsTotal = drops.reduce(0) { $0 + $1.outputs }
        portsFree = drops.reduce(0) { $0 + $1.freeOutputs }
        self.splitters = ordered
        updatedAt = ([box.updatedAt] + splitters.map(\.updatedAt)).max() ?? box.updatedAt
    }

    /// The key names are compared by: case- and accent-insensitive ("Ação" ~ "acao").
    public static func normalize(_ name: String) -> String {
        name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .trimmingCharacters(in: .whitespaces)
    }
}
