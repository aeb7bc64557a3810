import Foundation

/// Finds the box (CTO) a person named, by id or by name as people type it, in the box cache.
///
/// A name is looked up by `CachedBox.normalize` (case, accents, width and separators do not
/// count); when no name matches, by `CachedBox.looseKey` (numbers by value: `CTO-1-2` finds
/// `CTO-01-002`), which is taken only when it leaves exactly one box. Errors are `IntegrationError`s
/// a person can act on: FAILED_PRECONDITION listing every candidate when several boxes match,
/// NOT_FOUND with the nearest names when none does, UNAVAILABLE while the cache was never loaded.
/// Whether the box has a free port is the caller's business.
public struct CTOResolver: Sendable {
    /// How many nearest names a NOT_FOUND suggests.
    public static let suggestionCount = 5

    private let cache: BoxCache
    private let oltNames: [String: String]

    /// `oltNames`: names of OZmap OLTs by id, used to name the OLT a box was found on
    /// instead (its id alone otherwise).
    public init(cache: BoxCache, oltNames: [String: String] = [:]) {
        self.cache = cache
        self.oltNames = oltNames
    }

    /// The box of OZmap OLT `oltID` that `text` names: its box id (exact), or its name.
    /// `oltName` only words the errors.
    public func resolve(_ text: String, oltID: String, oltName: String) throws -> CachedBox {
        try resolve(text, scope: Scope(oltID: oltID, oltName: oltName))
    }

    /// The box that `text` names (its id, or its name) among every cached box, on any OLT.
    public func resolve(_ text: String) throws -> CachedBox {
        try resolve(text, scope: Scope(oltID: nil, oltName: ""))
    }

    /// The box with this id: NOT_FOUND when the cache has none, UNAVAILABLE while it was never loaded.
    public func box(id: String) throws -> CachedBox {
        let view = cache.view
        if let box = view.snapshot.boxesByID[id] { return box }
        try requireLoaded(view)
        throw IntegrationError(.notFound, "no box with id \(id) in the cache of boxes connected to an OLT; if it was just created or tied to an OLT in OZmap, run a sync (ozmapctl sync --wait)")
    }

    // MARK: -

    private struct Scope {
        var oltID: String?
        var oltName: String

        func contains(_ box: CachedBox) -> Bool { oltID.map { box.oltID == $0 } ?? true }
    }

    private func resolve(_ text: String, scope: Scope) throws -> CachedBox {
        let view = cache.view
        let snapshot = view.snapshot
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let normalized = CachedBox.normalize(trimmed)
        guard !normalized.isEmpty else {
            throw IntegrationError.invalidInput(field: "cto", "give the CTO's box id or its name (it is empty)")
        }
        if let box = snapshot.boxesByID[trimmed] {
            guard scope.contains(box) else {
                throw IntegrationError(.notFound, "box \(box.id) (\(box.name)) is on \(describe(oltID: box.oltID)), not on \(describe(scope)); name a box of that OLT, or link the ONU's OLT to \(describe(oltID: box.oltID))")
            }
            return box
        }
        let exact = snapshot.boxes(normalizedName: normalized)
        let exactHere = exact.filter(scope.contains)
        if exactHere.count == 1 { return exactHere[0] }
        if exactHere.count > 1 { throw ambiguous(text, exactHere, scope: scope) }
        let loose = snapshot.boxes(looseKey: CachedBox.looseKey(normalized: normalized))
        let looseHere = loose.filter(scope.contains)
        if looseHere.count == 1 { return looseHere[0] }
        if looseHere.count > 1 { throw ambiguous(text, looseHere, scope: scope) }
        try requireLoaded(view)
        throw notFound(text, normalized: normalized, elsewhere: exact.isEmpty ? loose : exact, in: snapshot, scope: scope)
    }

    /// UNAVAILABLE while no full pass ever finished: "not found" would be a guess.
    private func requireLoaded(_ view: BoxCache.View) throws {
        guard !view.loaded else { return }
        guard let progress = view.loadProgress else {
            throw IntegrationError(.notReady, "box cache not loaded yet: no full sync of the OZmap boxes has finished (ozmapctl status shows the last error; ozmapctl sync --full --wait runs one); retry once it has")
        }
        let stage = progress.total == 0
            ? "finding the boxes connected to the OLTs"
            : "\(progress.done) of \(progress.total) boxes"
        throw IntegrationError(.notReady, "box cache still loading (\(stage)); retry when the first full sync has finished")
    }

    private func ambiguous(_ text: String, _ boxes: [CachedBox], scope: Scope) -> IntegrationError {
        let listed = boxes.map { box in
            var pon = box.ponID.isEmpty ? "PON unknown" : "PON \(box.ponID)"
            if !box.slotID.isEmpty { pon = "slot \(box.slotID) \(pon)" }
            let olt = scope.oltID == nil ? ", \(describe(oltID: box.oltID))" : ""
            let project = box.project.isEmpty ? "no project" : "project \(box.project)"
            return "\(box.name) (id \(box.id), \(project), \(pon)\(olt), \(box.portsFree) of \(box.portsTotal) ports free)"
        }
        return IntegrationError(.conflict, "\(boxes.count) boxes \(scope.oltID == nil ? "" : "of \(describe(scope)) ")match '\(text)': \(listed.joined(separator: "; ")); give the box id")
    }

    private func notFound(_ text: String, normalized: String, elsewhere: [CachedBox], in snapshot: BoxCacheSnapshot,
                          scope: Scope) -> IntegrationError {
        var message = "no box named '\(text)' (nor with that id) among the boxes"
        message += scope.oltID == nil ? " connected to an OLT" : " of \(describe(scope))"
        let others = elsewhere.filter { !scope.contains($0) }
        if !others.isEmpty {
            let listed = others.prefix(3).map { "\($0.name) (id \($0.id)) is on \(describe(oltID: $0.oltID))" }
            message += "; " + listed.joined(separator: ", ") + (others.count > 3 ? ", and \(others.count - 3) more on other OLTs" : "")
        }
        let ids = snapshot.boxIDs(oltID: scope.oltID)
        if ids.isEmpty {
            message += scope.oltID == nil ? "; the cache holds no box" : "; the cache holds no box of that OLT"
        } else {
            let nearest = Self.nearest(to: normalized, among: ids, in: snapshot, count: Self.suggestionCount)
            let names = nearest.map { snapshot.boxesByID[$0]! }
            let repeated = Dictionary(grouping: names, by: \.name).filter { $0.value.count > 1 }
            message += "; did you mean: " + names.map { repeated[$0.name] == nil ? $0.name : "\($0.name) (id \($0.id))" }.joined(separator: ", ")
        }
        message += "; if the box was just created or tied to an OLT in OZmap, run a sync (ozmapctl sync --wait)"
        return IntegrationError(.notFound, message)
    }

    private func describe(_ scope: Scope) -> String {
        guard let id = scope.oltID else { return "any OLT" }
        return scope.oltName.isEmpty || scope.oltName == id ? "OZmap OLT \(id)" : "OZmap OLT \(scope.oltName) (\(id))"
    }

    private func describe(oltID: String) -> String {
        guard let name = oltNames[oltID], !name.isEmpty, name != oltID else { return "OZmap OLT \(oltID)" }
        return "OZmap OLT \(name) (\(oltID))"
    }

    // MARK: did you mean

    /// The ids (in `ids`) whose normalised names are nearest `needle`: by edit distance (bytes
    /// of the normalised names), then by the longer shared prefix, then in paging order.
    /// One pass over `ids`; a name is abandoned as soon as it cannot beat the current last one.
    static func nearest(to needle: String, among ids: [String], in snapshot: BoxCacheSnapshot, count: Int) -> [String] {
        let target = Array(needle.utf8)
        var best: [(distance: Int, prefix: Int, id: String)] = []
        var previous = [Int](repeating: 0, count: target.count + 1)
        var row = previous
        for id in ids {
            guard var name = snapshot.normalizedName(ofBoxID: id) else { continue }
            let limit = best.count < count ? Int.max : best[best.count - 1].distance
            let scored: (distance: Int, prefix: Int)? = name.withUTF8 { candidate in
                guard abs(candidate.count - target.count) <= limit,
                      let distance = editDistance(target, candidate, limit: limit, previous: &previous, row: &row) else {
                    return Optional<(distance: Int, prefix: Int)>.none
                }
                var prefix = 0
                while prefix < min(target.count, candidate.count), target[prefix] == candidate[prefix] { prefix += 1 }
                return (distance, prefix)
            }
            guard let (distance, prefix) = scored else { continue }
            // Ties keep the earlier one (paging order): insert after every entry not worse.
            let entry = (distance: distance, prefix: prefix, id: id)
            let at = best.firstIndex { ($0.distance, -$0.prefix) > (distance, -prefix) } ?? best.count
            guard at < count else { continue }
            best.insert(entry, at: at)
            if best.count > count { best.removeLast() }
        }
        return best.map(\.id)
    }

    /// Levenshtein distance, or nil once it must exceed `limit`.
    private static func editDistance(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>, limit: Int, previous: inout [Int], row: inout [Int]) -> Int? {
        for i in 0...a.count { previous[i] = i }
        for j in 1...max(1, b.count) where !b.isEmpty {
            row[0] = j
            var rowMinimum = j
            for i in 1...max(1, a.count) where !a.isEmpty {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                row[i] = min(previous[i] + 1, row[i - 1] + 1, previous[i - 1] + cost)
                rowMinimum = min(rowMinimum, row[i])
            }
            if rowMinimum > limit { return nil }
            swap(&previous, &row)
        }
        let distance = previous[a.count]
        return distance > limit ? nil : distance
    }
}
