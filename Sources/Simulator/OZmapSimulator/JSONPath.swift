/// A dot path into a stored object (`onu.serial_number`, `ratio.output`), resolved with
/// MongoDB's rules: a path walks into every element of an array it meets, a numeric
/// segment indexes an array, and an array at the end matches through any of its elements.
struct JSONPath: Sendable {
    let segments: [String]

    init(_ text: String) {
        segments = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// True when `predicate` holds for one of the values the path reaches.
    func anyValue(in object: JSONObject, _ predicate: (SimulatorJSON) -> Bool) -> Bool {
        guard let first = segments.first, let value = object[first] else { return false }
        return Self.anyValue(value, segments.dropFirst(), predicate)
    }

    private static func anyValue(
        _ value: SimulatorJSON, _ rest: ArraySlice<String>, _ predicate: (SimulatorJSON) -> Bool
    ) -> Bool {
        guard let key = rest.first else {
            if case .array(let elements) = value {
                return elements.contains(where: predicate) || predicate(value)
            }
            return predicate(value)
        }
        switch value {
        case .object(let members):
            guard let next = members[key] else { return false }
            return anyValue(next, rest.dropFirst(), predicate)
        case .array(let elements):
            if let index = Int(key) {
                return elements.indices.contains(index) && anyValue(elements[index], rest.dropFirst(), predicate)
            }
            return elements.contains { anyValue($0, rest, predicate) }
        default:
            return false
        }
    }

    /// The single value at the path without walking into arrays (used for sorting).
    func value(in object: JSONObject) -> SimulatorJSON? {
        guard let first = segments.first, var current = object[first] else { return nil }
        for key in segments.dropFirst() {
            switch current {
            case .object(let members):
                guard let next = members[key] else { return nil }
                current = next
            case .array(let elements):
                guard let index = Int(key), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}
