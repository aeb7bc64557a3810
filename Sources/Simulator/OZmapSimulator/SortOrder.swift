/// The `sort` query parameter: `[{"property": "updatedAt", "direction": 1}]`
/// (1 ascending, -1 descending). Without it, lists keep creation order.
struct SortOrder: Sendable {
    struct Key: Sendable {
        var path: JSONPath
        var descending: Bool
    }

    var keys: [Key]

    static func parse(queryText text: String?) throws(SimulatorError) -> SortOrder {
        guard let text, !text.isEmpty else { return SortOrder(keys: []) }
        guard case .array(let elements)? = try? SimulatorJSON.parse(text) else {
            throw .badRequest("sort must be a JSON array of {\"property\", \"direction\"}")
        }
        var keys: [Key] = []
        for (index, element) in elements.enumerated() {
            guard let property = element["property"]?.string, !property.isEmpty else {
                throw .badRequest("sort[\(index)].property is missing or not a string")
            }
            let direction = element["direction"] ?? 1
            guard let step = direction.int, step == 1 || step == -1 else {
                throw .badRequest("sort[\(index)].direction must be 1 or -1")
            }
            keys.append(Key(path: JSONPath(property), descending: step == -1))
        }
        return SortOrder(keys: keys)
    }

    /// Sorts stably: objects equal on every key keep their creation order.
    func apply(to objects: [JSONObject]) -> [JSONObject] {
        guard !keys.isEmpty else { return objects }
        let decorated = objects.enumerated().map { (offset: $0.offset, object: $0.element) }
        return decorated.sorted { left, right in
            for key in keys {
                let order = Self.compare(key.path.value(in: left.object), key.path.value(in: right.object))
                if order != 0 { return key.descending ? order > 0 : order < 0 }
            }
            return left.offset < right.offset
        }.map(\.object)
    }

    /// MongoDB's cross-type order: missing/null < numbers < strings < objects < arrays < booleans.
    static func compare(_ left: SimulatorJSON?, _ right: SimulatorJSON?) -> Int {
        let leftRank = rank(left)
        let rightRank = rank(right)
        if leftRank != rightRank { return leftRank < rightRank ? -1 : 1 }
        switch (left, right) {
        case (.number(let a)?, .number(let b)?):
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a)?, .string(let b)?):
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.bool(let a)?, .bool(let b)?):
            return a == b ? 0 : (a ? 1 : -1)
        default:
            return 0
        }
    }

    private static func rank(_ value: SimulatorJSON?) -> Int {
        switch value {
        case nil, .null?: 0
        case .number?: 1
        case .string?: 2
        case .object?: 3
        case .array?: 4
        case .bool?: 5
        }
    }
}
