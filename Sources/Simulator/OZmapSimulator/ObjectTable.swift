/// One collection of stored objects (boxes, splitters, ...), keyed by id and kept in
/// creation order, which is the default order of the list routes. Fields named at creation
/// are indexed by their string values, so that `=` and `in` filters on them (the lookups
/// ozmapd makes: clients by code and serial, properties by client, splitters by box, any
/// object by id) read only the matching objects instead of the whole table.
struct ObjectTable: Sendable {
    private(set) var order: [String] = []
    private var objects: [String: JSONObject] = [:]
    /// Creation order, for sorting what an index returns.
    private var sequence: [String: Int] = [:]
    private var nextSequence = 0
    private let indexed: [(name: String, path: JSONPath)]
    /// Field → string value → ids of the objects holding it there.
    private var index: [String: [String: Set<String>]] = [:]
    /// Field → ids of objects holding a value there that is not a string (a number, an object):
    /// the index cannot rule them out, so they are always candidates.
    private var unindexed: [String: Set<String>] = [:]

    /// `indexing`: dot paths of the fields to index.
    init(indexing fields: [String] = []) {
        indexed = fields.map { ($0, JSONPath($0)) }
    }

    var count: Int { objects.count }

    subscript(id: String) -> JSONObject? {
        objects[id]
    }

    func contains(_ id: String) -> Bool {
        objects[id] != nil
    }

    /// Every object, in creation order.
    var all: [JSONObject] {
        order.compactMap { objects[$0] }
    }

    /// The objects matching `predicate`, in creation order.
    func objects(where predicate: (JSONObject) -> Bool) -> [JSONObject] {
        var matches: [JSONObject] = []
        for id in order {
            if let object = objects[id], predicate(object) { matches.append(object) }
        }
        return matches
    }

    /// The objects matching `filter`, in creation order: through an index when one of its
    /// conditions is `=` or `in` plain strings on an indexed field, else by a scan.
    func objects(matching filter: RecordFilter) -> [JSONObject] {
        for condition in filter.conditions {
            guard let candidates = candidates(condition) else { continue }
            return inCreationOrder(candidates).filter(filter.matches)
        }
        return objects(where: filter.matches)
    }

    /// The objects whose `field` holds one of the strings `values`, in creation order (a scan when not indexed).
    func objects(withAnyOf values: [String], at field: String) -> [JSONObject] {
        let path = JSONPath(field)
        let wanted = Set(values)
        func holds(_ object: JSONObject) -> Bool {
            path.anyValue(in: object) { if case .string(let text) = $0 { wanted.contains(text) } else { false } }
        }
        guard let byValue = index[field] else { return objects(where: holds) }
        var ids = unindexed[field] ?? []
        for value in wanted { ids.formUnion(byValue[value] ?? []) }
        return inCreationOrder(ids).filter(holds)
    }

    private func inCreationOrder(_ ids: Set<String>) -> [JSONObject] {
        ids.sorted { (sequence[$0] ?? 0) < (sequence[$1] ?? 0) }.compactMap { objects[$0] }
    }

    /// Ids that may match the condition, or nil when the index cannot say (then every object may).
    private func candidates(_ condition: FilterCondition) -> Set<String>? {
        guard let byValue = index[condition.property] else { return nil }
        let wanted: [SimulatorJSON]
        switch condition.op {
        case .equal: wanted = [condition.value]
        case .in:
            guard case .array(let values) = condition.value else { return nil }
            wanted = values
        default: return nil
        }
        // Strings only, and not times: those compare loosely (as instants, numbers, null as missing).
        var ids = unindexed[condition.property] ?? []
        for value in wanted {
            guard case .string(let text) = value, ISOTime.parse(text) == nil else { return nil }
            ids.formUnion(byValue[text] ?? [])
        }
        return ids
    }

    /// Adds a new object, or replaces the one with the same id keeping its position.
    mutating func insert(_ object: JSONObject, id: String) {
        if let old = objects.updateValue(object, forKey: id) {
            unindex(old, id: id)
        } else {
            order.append(id)
            sequence[id] = nextSequence
            nextSequence += 1
        }
        addToIndex(object, id: id)
    }

    /// Applies `change` to the object; false when there is no such object.
    @discardableResult
    mutating func update(_ id: String, _ change: (inout JSONObject) throws -> Void) rethrows -> Bool {
        guard var object = objects[id] else { return false }
        unindex(object, id: id)
        objects[id] = nil  // keep the value uniquely referenced while it is changed
        defer {
            objects[id] = object
            addToIndex(object, id: id)
        }
        try change(&object)
        return true
    }

    @discardableResult
    mutating func remove(_ id: String) -> JSONObject? {
        guard let removed = objects.removeValue(forKey: id) else { return nil }
        unindex(removed, id: id)
        sequence[id] = nil
        if let position = order.firstIndex(of: id) {
            order.remove(at: position)
        }
        return removed
    }

    // MARK: index upkeep

    private static func values(at path: JSONPath, in object: JSONObject) -> (strings: Set<String>, other: Bool) {
        var strings = Set<String>()
        var other = false
        _ = path.anyValue(in: object) { value in
            switch value {
            case .string(let text): strings.insert(text)
            case .null, .array: break  // arrays are walked into; null matches no string
            default: other = true
            }
            return false
        }
        return (strings, other)
    }

    private mutating func addToIndex(_ object: JSONObject, id: String) {
        for (name, path) in indexed {
            let (strings, other) = Self.values(at: path, in: object)
            for text in strings { index[name, default: [:]][text, default: []].insert(id) }
            if index[name] == nil { index[name] = [:] }
            if other { unindexed[name, default: []].insert(id) }
        }
    }

    private mutating func unindex(_ object: JSONObject, id: String) {
        for (name, path) in indexed {
            let (strings, _) = Self.values(at: path, in: object)
            for text in strings {
                index[name]?[text]?.remove(id)
                if index[name]?[text]?.isEmpty == true { index[name]?[text] = nil }
            }
            unindexed[name]?.remove(id)
        }
    }
}
