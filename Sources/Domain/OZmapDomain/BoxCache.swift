import Synchronization

/// How a name query matches box names (after normalisation).
public enum NameMatch: Sendable {
    case contains, exact, prefix
}

/// An immutable set of boxes with its indexes. The cache swaps whole
/// snapshots, so a reader sees the old set or the new one, never half.
public struct BoxCacheSnapshot: Sendable {
    public let boxesByID: [String: CachedBox]
    private let idsByOLT: [String: [String]]
    private let idsByName: [String: [String]]
    /// Every id, ordered by normalised name then id: the paging order.
    private let orderedIDs: [String]
    private let normalizedNames: [String: String]

    public static let empty = BoxCacheSnapshot(boxes: [])

    public init(boxes: [CachedBox]) {
        var byID: [String: CachedBox] = [:]
        for box in boxes { byID[box.id] = box }
        var names: [String: String] = [:]
        for box in byID.values { names[box.id] = CachedBox.normalize(box.name) }
        let ordered = byID.keys.sorted { (names[$0]!, $0) < (names[$1]!, $1) }
        var byOLT: [String: [String]] = [:]
        var byName: [String: [String]] = [:]
        for id in ordered {
            byOLT[byID[id]!.oltID, default: []].append(id)
            byName[names[id]!, default: []].append(id)
        }
        boxesByID = byID
        idsByOLT = byOLT
        idsByName = byName
        orderedIDs = ordered
        normalizedNames = names
    }

    public var count: Int { boxesByID.count }

    /// Boxes whose name is exactly `name` (normalised): several when names repeat.
    public func boxes(named name: String) -> [CachedBox] {
        (idsByName[CachedBox.normalize(name)] ?? []).map { boxesByID[$0]! }
    }

    /// Boxes of an OLT (nil: all) whose name matches the query (nil or empty: all), in paging order.
    public func boxes(oltID: String?, query: String?, match: NameMatch) -> [CachedBox] {
        let candidates = oltID.map { idsByOLT[$0] ?? [] } ?? orderedIDs
        guard let query, !query.isEmpty else { return candidates.map { boxesByID[$0]! } }
        let needle = CachedBox.normalize(query)
        if match == .exact, oltID == nil { return boxes(named: query) }
        return candidates.filter { id in
            let name = normalizedNames[id]!
            return switch match {
            case .exact: name == needle
            case .prefix: name.hasPrefix(needle)
            case .contains: name.contains(needle)
            }
        }.map { boxesByID[$0]! }
    }
}

/// The box cache: the current snapshot, replaced atomically by each sync.
public final class BoxCache: Sendable {
    private let current = Mutex(BoxCacheSnapshot.empty)

    public init() {}

    public var snapshot: BoxCacheSnapshot { current.withLock { $0 } }

    public func replace(with snapshot: BoxCacheSnapshot) {
        current.withLock { $0 = snapshot }
    }
}
