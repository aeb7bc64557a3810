import Synchronization

/// How a name query matches box names (after normalisation).
public enum NameMatch: Sendable {
    case contains, exact, prefix
}

/// An immutable set of boxes with its indexes. The cache swaps whole
/// snapshots, so a reader sees the old set or the new one, never half.
/// Names are indexed by `CachedBox.normalize` and by `CachedBox.looseKey`.
public struct BoxCacheSnapshot: Sendable {
    public private(set) var boxesByID: BoxTable
    /// Per OLT, its ids in paging order.
    private var idsByOLT: [String: [String]]
    /// Every id, ordered by normalised name then id: the paging order. A name's boxes are one
    /// run of it, found by binary search (a dictionary of the names cost 85 bytes a box at 200,000).
    private var orderedIDs: [String]
    /// Every id, ordered by loose key (`CachedBox.looseKey`: numbers by value), then as the
    /// paging order: a loose key's boxes are one run of it (a dictionary cost 70 bytes a box).
    private var looseOrderedIDs: [String]

    public static let empty = BoxCacheSnapshot(boxes: [])

    public init(boxes: [CachedBox]) {
        var byID = BoxTable()
        byID.reserveCapacity(boxes.count)
        for box in boxes { byID[box.id] = box }
        self.init(boxesByID: byID)
    }

    /// The snapshot of these boxes (keyed by their ids), indexed.
    public init(boxesByID byID: BoxTable) {
        var keyed = byID.keys
        keyed.sort { ($0.name, $0.id) < ($1.name, $1.id) }
        var byOLT: [String: [String]] = [:]
        for (_, id, oltID) in keyed {
            byOLT[oltID, default: []].append(id)
        }
        boxesByID = byID
        idsByOLT = byOLT
        var loose = keyed.map { (key: CachedBox.looseKey(normalized: $0.name), name: $0.name, id: $0.id) }
        loose.sort { ($0.key, $0.name, $0.id) < ($1.key, $1.name, $1.id) }
        looseOrderedIDs = loose.map(\.id)
        orderedIDs = keyed.map(\.id)
    }

    public var count: Int { boxesByID.count }

    /// Boxes whose name is exactly `name` (normalised): several when names repeat.
    public func boxes(named name: String) -> [CachedBox] {
        boxes(normalizedName: CachedBox.normalize(name))
    }

    /// Boxes whose normalised name is `normalized` (already normalised), in paging order.
    public func boxes(normalizedName normalized: String) -> [CachedBox] {
        run(named: normalized, in: orderedIDs, matching: ==).map { boxesByID[$0]! }
    }

    /// Boxes whose loose key (`CachedBox.looseKey`) is `key`, in paging order.
    public func boxes(looseKey key: String) -> [CachedBox] {
        func looseKey(_ id: String) -> String { CachedBox.looseKey(normalized: boxesByID.normalizedName(ofID: id)!) }
        return Self.run(in: looseOrderedIDs, below: { looseKey($0) < key }, matching: { looseKey($0) == key }).map { boxesByID[$0]! }
    }

    /// The normalised name of a box in the snapshot.
    public func normalizedName(ofBoxID id: String) -> String? {
        boxesByID.normalizedName(ofID: id)
    }

    /// The ids of an OLT's boxes (nil: every box), in paging order.
    public func boxIDs(oltID: String?) -> [String] {
        oltID.map { idsByOLT[$0] ?? [] } ?? orderedIDs
    }

    /// Boxes of an OLT (nil: all) whose name matches the query (nil or empty: all), in paging order.
    /// The query is normalised as names are, so `cto 01 00` matches `CTO-01-001`.
    public func boxes(oltID: String?, query: String?, match: NameMatch) -> [CachedBox] {
        ids(oltID: oltID, query: query, match: match).map { boxesByID[$0]! }
    }

    /// The ids of `boxes(oltID:query:match:)`: a page of them costs its page, not every match
    /// (ListBoxes without a query would otherwise copy every box for 100 of them).
    public func ids(oltID: String?, query: String?, match: NameMatch) -> [String] {
        let candidates = boxIDs(oltID: oltID)
        guard let query, !query.isEmpty else { return candidates }
        let needle = CachedBox.normalize(query)
        if match == .exact {
            return run(named: needle, in: candidates, matching: ==)
        }
        if match == .prefix {
            return run(named: needle, in: candidates) { $0.hasPrefix($1) }
        }
        return candidates.filter { boxesByID.normalizedName(ofID: $0)!.contains(needle) }
    }

    /// Adds a box, or replaces the box with its id, keeping every index and the paging order.
    /// O(log n) searches, plus copying the indexes when another reader still holds them.
    mutating func upsert(_ box: CachedBox) {
        let name = CachedBox.normalize(box.name)
        if let old = boxesByID[box.id] {
            if old.oltID == box.oltID, boxesByID.normalizedName(ofID: box.id) == name {
                boxesByID[box.id] = box
                return
            }
            let oldName = boxesByID.normalizedName(ofID: box.id)!
            let key = (oldName, box.id)
            Self.remove(box.id, key: key, from: &idsByOLT, at: old.oltID, names: boxesByID)
            Self.remove(box.id, near: Self.looseInsertionIndex(of: key, in: looseOrderedIDs, names: boxesByID), from: &looseOrderedIDs)
            Self.remove(box.id, near: Self.insertionIndex(of: key, in: orderedIDs, names: boxesByID), from: &orderedIDs)
        }
        boxesByID[box.id] = box
        let key = (name, box.id)
        orderedIDs.insert(box.id, at: Self.insertionIndex(of: key, in: orderedIDs, names: boxesByID))
        Self.insert(box.id, key: key, into: &idsByOLT, at: box.oltID, names: boxesByID)
        looseOrderedIDs.insert(box.id, at: Self.looseInsertionIndex(of: key, in: looseOrderedIDs, names: boxesByID))
    }

    /// Removes a box from every index and the paging order; nothing when it is not there.
    mutating func remove(id: String) {
        guard let old = boxesByID[id], let name = boxesByID.normalizedName(ofID: id) else { return }
        let key = (name, id)
        Self.remove(id, key: key, from: &idsByOLT, at: old.oltID, names: boxesByID)
        Self.remove(id, near: Self.looseInsertionIndex(of: key, in: looseOrderedIDs, names: boxesByID), from: &looseOrderedIDs)
        Self.remove(id, near: Self.insertionIndex(of: key, in: orderedIDs, names: boxesByID), from: &orderedIDs)
        boxesByID[id] = nil
    }

    /// The ids in `ids` (in (name, id) order) whose names match `needle`: one run of them,
    /// from the first name not below it.
    private func run(named needle: String, in ids: [String], matching matches: (String, String) -> Bool) -> [String] {
        func name(_ id: String) -> String { boxesByID.normalizedName(ofID: id)! }
        return Self.run(in: ids, below: { name($0) < needle }, matching: { matches(name($0), needle) })
    }

    /// The ids that match, `ids` being in an order where they are one run from the first id
    /// not below what is looked for.
    private static func run(in ids: [String], below isBelow: (String) -> Bool, matching matches: (String) -> Bool) -> [String] {
        let start = partitionIndex(in: ids, isBelow: isBelow)
        var end = start
        while end < ids.count, matches(ids[end]) { end += 1 }
        return Array(ids[start..<end])
    }

    /// The first index in `ids` whose id is not below what is looked for (`isBelow` tells), the
    /// ids being in that order.
    private static func partitionIndex(in ids: [String], isBelow: (String) -> Bool) -> Int {
        var low = 0, high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if isBelow(ids[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The first index whose (name, id) is not below `key`.
    private static func insertionIndex(of key: (String, String), in ids: [String], names: BoxTable) -> Int {
        partitionIndex(in: ids) { (names.normalizedName(ofID: $0)!, $0) < key }
    }

    /// The first index of the loose order whose (loose key, name, id) is not below that of `key`.
    private static func looseInsertionIndex(of key: (String, String), in ids: [String], names: BoxTable) -> Int {
        let wanted = (CachedBox.looseKey(normalized: key.0), key.0, key.1)
        return partitionIndex(in: ids) { id in
            let name = names.normalizedName(ofID: id)!
            return (CachedBox.looseKey(normalized: name), name, id) < wanted
        }
    }

    /// Removes `id` from `ids`, found at `index` (where a binary search by its key put it) or,
    /// should the order hold it elsewhere, by a scan.
    private static func remove(_ id: String, near index: Int, from ids: inout [String]) {
        if index < ids.count, ids[index] == id {
            ids.remove(at: index)
        } else if let at = ids.firstIndex(of: id) {
            ids.remove(at: at)
        }
    }

    private static func remove(_ id: String, key: (String, String), from index: inout [String: [String]], at slot: String,
                               names: BoxTable) {
        guard var ids = index.removeValue(forKey: slot) else { return }
        remove(id, near: insertionIndex(of: key, in: ids, names: names), from: &ids)
        if !ids.isEmpty { index[slot] = ids }
    }

    private static func insert(_ id: String, key: (String, String), into index: inout [String: [String]], at slot: String,
                               names: BoxTable) {
        var ids = index.removeValue(forKey: slot) ?? []
        ids.insert(id, at: insertionIndex(of: key, in: ids, names: names))
        index[slot] = ids
    }
}

/// Boxes found by id, stored one after another, each with its normalised name (the key of the
/// paging order). A `[String: CachedBox]` kept each 176-byte box in a hash table sized up to
/// twice the boxes, and the names took a dictionary of their own: about 580 bytes a box at
/// 200,000 where this costs about 240.
public struct BoxTable: Sendable {
    private var boxes: [CachedBox] = []
    /// `CachedBox.normalize` of each box's name, at the box's position.
    private var names: [String] = []
    private var positions: [String: Int32] = [:]

    public init() {}

    public mutating func reserveCapacity(_ count: Int) {
        boxes.reserveCapacity(count)
        names.reserveCapacity(count)
        positions.reserveCapacity(count)
    }

    public var count: Int { boxes.count }
    public var isEmpty: Bool { boxes.isEmpty }
    /// Every box, in no particular order.
    public var values: [CachedBox] { boxes }
    /// Every box's normalised name, id and OLT, in no particular order (read in place: a copy
    /// of each box to read them was 2% of a first load's CPU).
    var keys: [(name: String, id: String, oltID: String)] {
        boxes.indices.map { (names[$0], boxes[$0].id, boxes[$0].oltID) }
    }

    /// Where the box with this id is in `values`; nil when there is none.
    public func position(ofID id: String) -> Int? {
        positions[id].map(Int.init)
    }

    public func normalizedName(ofID id: String) -> String? {
        positions[id].map { names[Int($0)] }
    }

    /// The box with this id; setting nil removes it (the last box takes its place).
    public subscript(id: String) -> CachedBox? {
        get { positions[id].map { boxes[Int($0)] } }
        set {
            switch (positions[id], newValue) {
            case let (position?, box?):
                if box.name != boxes[Int(position)].name { names[Int(position)] = CachedBox.normalize(box.name) }
                boxes[Int(position)] = box
            case let (nil, box?):
                positions[id] = Int32(boxes.count)
                boxes.append(box)
                names.append(CachedBox.normalize(box.name))
            case let (position?, nil):
                let moved = boxes.removeLast()
                let movedName = names.removeLast()
                positions[id] = nil
                if Int(position) < boxes.count {
                    boxes[Int(position)] = moved
                    names[Int(position)] = movedName
                    positions[moved.id] = position
                }
            case (nil, nil):
                break
            }
        }
    }
}

/// How far the running full pass has got: boxes fetched of those to fetch (0 of 0 while it
/// is still finding which boxes are connected).
public struct BoxCacheLoadProgress: Sendable, Hashable {
    public var done: Int
    public var total: Int

    public init(done: Int, total: Int) {
        self.done = done
        self.total = total
    }
}

/// The box cache: the current snapshot, replaced atomically by each sync; whether it was
/// ever loaded (a full pass finished, now or before a restart); the running full pass's progress.
public final class BoxCache: Sendable {
    /// Everything a reader needs, read at once.
    public struct View: Sendable {
        public var snapshot: BoxCacheSnapshot
        /// A full pass has finished (this run, or a previous one whose boxes were loaded from disk).
        public var loaded: Bool
        /// The running full pass's progress; nil when none runs.
        public var loadProgress: BoxCacheLoadProgress?
    }

    private let current: Mutex<View>

    public init(loaded: Bool = false) {
        current = Mutex(View(snapshot: .empty, loaded: loaded, loadProgress: nil))
    }

    public var snapshot: BoxCacheSnapshot { current.withLock { $0.snapshot } }

    /// The snapshot, the loaded flag and the progress, consistent with each other.
    public var view: View { current.withLock { $0 } }

    public var loaded: Bool { current.withLock { $0.loaded } }

    public var loadProgress: BoxCacheLoadProgress? { current.withLock { $0.loadProgress } }

    /// Installs a snapshot. `loaded`: it comes from a finished full pass (now or from disk):
    /// the cache then counts as loaded for good.
    public func replace(with snapshot: BoxCacheSnapshot, loaded: Bool = false) {
        current.withLock {
            $0.snapshot = snapshot
            if loaded { $0.loaded = true }
        }
    }

    /// Replaces or adds one box in the current snapshot, atomically (no reader sees half of it,
    /// and two upserts, or an upsert and a sync's swap, never lose each other's writes).
    public func upsert(_ box: CachedBox) {
        current.withLock { $0.snapshot.upsert(box) }
    }

    /// An incremental pass's changes, in the current snapshot and at once: in place, without
    /// copying it (unless a reader still holds it, for as long as it reads).
    /// `loaded`: they complete a full pass (as `replace`'s).
    public func apply(upserting boxes: [CachedBox], deleting ids: [String], loaded: Bool = false) {
        current.withLock { view in
            for id in ids { view.snapshot.remove(id: id) }
            for box in boxes { view.snapshot.upsert(box) }
            if loaded { view.loaded = true }
        }
    }

    /// Forgets every box, and that the cache was ever loaded: the credentials now point at
    /// another tenant, whose boxes are not these. Lookups answer UNAVAILABLE until a full pass finishes.
    public func reset() {
        current.withLock { $0 = View(snapshot: .empty, loaded: false, loadProgress: nil) }
    }

    // The progress of the running full pass. A cancelled pass (superseded by another) is
    // ignored: its last words must not overwrite the progress of the pass that replaced it.

    /// A full pass started.
    public func loadStarted() {
        guard !Task.isCancelled else { return }
        current.withLock { $0.loadProgress = BoxCacheLoadProgress(done: 0, total: 0) }
    }

    /// The running full pass fetched `done` of `total` boxes; ignored when no full pass runs.
    public func loadProgressed(done: Int, total: Int) {
        guard !Task.isCancelled else { return }
        current.withLock {
            if $0.loadProgress != nil { $0.loadProgress = BoxCacheLoadProgress(done: done, total: total) }
        }
    }

    /// The full pass ended, whether it succeeded or not.
    public func loadEnded() {
        guard !Task.isCancelled else { return }
        current.withLock { $0.loadProgress = nil }
    }
}
