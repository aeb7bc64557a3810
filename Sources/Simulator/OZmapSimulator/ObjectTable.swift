/// One collection of stored objects (boxes, splitters, ...), keyed by id and kept in
/// creation order, which is the default order of the list routes.
struct ObjectTable: Sendable {
    private(set) var order: [String] = []
    private var objects: [String: JSONObject] = [:]

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

    /// Adds a new object, or replaces the one with the same id keeping its position.
    mutating func insert(_ object: JSONObject, id: String) {
        if objects.updateValue(object, forKey: id) == nil {
            order.append(id)
        }
    }

    /// Applies `change` to the object; false when there is no such object.
    @discardableResult
    mutating func update(_ id: String, _ change: (inout JSONObject) throws -> Void) rethrows -> Bool {
        guard var object = objects[id] else { return false }
        objects[id] = nil  // keep the value uniquely referenced while it is changed
        defer { objects[id] = object }
        try change(&object)
        return true
    }

    @discardableResult
    mutating func remove(_ id: String) -> JSONObject? {
        guard let removed = objects.removeValue(forKey: id) else { return nil }
        if let position = order.firstIndex(of: id) {
            order.remove(at: position)
        }
        return removed
    }
}
