import Foundation

/// The `filter` query parameter: a JSON array of `{"property", "operator", "value"}`
/// conditions, AND-ed (reference §2).
struct RecordFilter: Sendable {
    var conditions: [FilterCondition]

    static let matchAll = RecordFilter(conditions: [])

    func matches(_ object: JSONObject) -> Bool {
        conditions.allSatisfy { $0.matches(object) }
    }

    /// Parses the URL-decoded text of `?filter=`; nil or empty text means no condition.
    static func parse(queryText text: String?, parameter: String = "filter") throws(SimulatorError) -> RecordFilter {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return .matchAll }
        let json: SimulatorJSON
        do {
            json = try SimulatorJSON.parse(text)
        } catch {
            throw .badRequest("\(parameter) is not valid JSON: expected an array of {\"property\", \"operator\", \"value\"}")
        }
        return try parse(json: json, parameter: parameter)
    }

    static func parse(json: SimulatorJSON, parameter: String = "filter") throws(SimulatorError) -> RecordFilter {
        guard case .array(let elements) = json else {
            throw .badRequest("\(parameter) must be a JSON array of {\"property\", \"operator\", \"value\"}")
        }
        var conditions: [FilterCondition] = []
        for (index, element) in elements.enumerated() {
            conditions.append(try FilterCondition(element, label: "\(parameter)[\(index)]"))
        }
        return RecordFilter(conditions: conditions)
    }
}

/// The operators of the reference. `near`, `within` and `point-intersect` are valid on a
/// real OZmap but not simulated: they answer 400 saying so, rather than a wrong result.
enum FilterOperator: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case like
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case `in`
    case notIn = "notin"
    case exists
    case all
    case near
    case within
    case pointIntersect = "point-intersect"

    var isSimulated: Bool {
        switch self {
        case .near, .within, .pointIntersect: false
        default: true
        }
    }

    static let validList = allCases.map(\.rawValue).joined(separator: ", ")
}

struct FilterCondition: Sendable {
    let property: String
    let path: JSONPath
    let op: FilterOperator
    let value: SimulatorJSON
    /// Prepared forms of `value`, computed once per request rather than once per object.
    private let valueSet: Set<SimulatorJSON>
    private let valueList: [SimulatorJSON]
    /// The list holds only strings that are not timestamps: a stored string then matches
    /// exactly or not at all, and the per-value loose comparison can be skipped (it parses times).
    private let valueListIsPlainStrings: Bool
    /// The value as an instant, when it is a time (the time index compares with it).
    let valueMilliseconds: Int64?
    private let likePattern: LikePattern?
    let existsFlag: Bool

    init(_ json: SimulatorJSON, label: String) throws(SimulatorError) {
        guard case .object(let members) = json else {
            throw .badRequest("\(label) must be an object {\"property\", \"operator\", \"value\"}")
        }
        guard let property = members["property"]?.string, !property.isEmpty else {
            throw .badRequest("\(label).property is missing or not a string")
        }
        guard let opText = members["operator"]?.string else {
            throw .badRequest("\(label).operator is missing or not a string")
        }
        guard let op = FilterOperator(rawValue: opText) else {
            throw .badRequest(
                "\(label).operator '\(opText)' is not a valid filter operator (valid: \(FilterOperator.validList))")
        }
        guard op.isSimulated else {
            throw .badRequest("\(label).operator '\(opText)' is valid in OZmap but not implemented by ozmap-sim")
        }
        guard let value = members["value"] else {
            throw .badRequest("\(label).value is missing")
        }
        self.property = property
        path = JSONPath(property)
        self.op = op
        self.value = value

        var list: [SimulatorJSON] = []
        var flag = true
        var pattern: LikePattern? = nil
        switch op {
        case .in, .notIn, .all:
            guard case .array(let elements) = value else {
                throw .badRequest("\(label).value must be an array for operator '\(opText)'")
            }
            list = elements
        case .exists:
            switch value {
            case .bool(let bool): flag = bool
            case .number(let number) where number == 0 || number == 1: flag = number == 1
            case .string("true"): flag = true
            case .string("false"): flag = false
            default: throw .badRequest("\(label).value must be true or false for operator 'exists'")
            }
        case .like:
            guard case .string(let text) = value else {
                throw .badRequest("\(label).value must be a string for operator 'like'")
            }
            pattern = LikePattern(text)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            switch value {
            case .number, .string: break
            default: throw .badRequest("\(label).value must be a number or a string for operator '\(opText)'")
            }
        default:
            break
        }
        valueList = list
        valueSet = Set(list)
        valueListIsPlainStrings = list.allSatisfy { $0.string.map { ISOTime.parse($0) == nil } ?? false }
        existsFlag = flag
        likePattern = pattern
        valueMilliseconds = value.string.flatMap(ISOTime.parse)
    }

    func matches(_ object: JSONObject) -> Bool {
        switch op {
        case .equal:
            return equals(object)
        case .notEqual:
            return !equals(object)
        case .in:
            return isIn(object)
        case .notIn:
            return !isIn(object)
        case .exists:
            return path.anyValue(in: object) { !$0.isNull } == existsFlag
        case .like:
            guard let likePattern else { return false }
            return path.anyValue(in: object) { stored in
                guard case .string(let text) = stored else { return false }
                return likePattern.matches(text)
            }
        case .less:
            return path.anyValue(in: object) { compare($0).map { $0 < 0 } ?? false }
        case .lessOrEqual:
            return path.anyValue(in: object) { compare($0).map { $0 <= 0 } ?? false }
        case .greater:
            return path.anyValue(in: object) { compare($0).map { $0 > 0 } ?? false }
        case .greaterOrEqual:
            return path.anyValue(in: object) { compare($0).map { $0 >= 0 } ?? false }
        case .all:
            return valueList.allSatisfy { wanted in
                path.anyValue(in: object) { Self.looselyEqual($0, wanted) }
            }
        case .near, .within, .pointIntersect:
            return false
        }
    }

    /// `=` with `null` also matches a missing field, as MongoDB does.
    private func equals(_ object: JSONObject) -> Bool {
        if value.isNull, !path.anyValue(in: object, { _ in true }) { return true }
        return path.anyValue(in: object) { Self.looselyEqual($0, value) }
    }

    private func isIn(_ object: JSONObject) -> Bool {
        if valueSet.contains(.null), !path.anyValue(in: object, { _ in true }) { return true }
        return path.anyValue(in: object) { stored in
            if valueSet.contains(stored) { return true }
            if valueListIsPlainStrings, case .string = stored { return false }
            return valueList.contains { Self.looselyEqual(stored, $0) }
        }
    }

    /// Equality after casting the wanted value to the stored value's type, as Mongoose casts
    /// query values to the schema (`"0"` finds status 0, `12345` finds code "12345").
    static func looselyEqual(_ stored: SimulatorJSON, _ wanted: SimulatorJSON) -> Bool {
        if stored == wanted { return true }
        switch (stored, wanted) {
        case (.number(let number), .string(let text)):
            return Double(text) == number
        case (.string(let text), .number(let number)):
            return text == SimulatorJSON.number(number).jsonText
        case (.bool(let bool), .string(let text)):
            return text == (bool ? "true" : "false")
        case (.string(let storedText), .string(let wantedText)):
            guard let storedTime = ISOTime.parse(storedText), let wantedTime = ISOTime.parse(wantedText) else {
                return false
            }
            return storedTime == wantedTime
        default:
            return false
        }
    }

    /// Orders a stored value against the condition's value; nil when they do not compare.
    /// Two ISO-8601 timestamps compare as instants, whatever their precision or zone.
    private func compare(_ stored: SimulatorJSON) -> Int? {
        switch (stored, value) {
        case (.number(let a), .number(let b)):
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.number(let a), .string(let text)):
            guard let b = Double(text) else { return nil }
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a), .string(let b)):
            if let wanted = valueMilliseconds, let storedTime = ISOTime.parse(a) {
                return storedTime < wanted ? -1 : (storedTime > wanted ? 1 : 0)
            }
            return a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a), .number):
            let b = value.jsonText
            return a < b ? -1 : (a > b ? 1 : 0)
        default:
            return nil
        }
    }
}

/// `like`: a case-insensitive substring match; with `%` in the pattern, `%` is a wildcard
/// and the pattern is anchored (`CTO-01%` = starts with `CTO-01`).
struct LikePattern: Sendable {
    private let pieces: [String]
    private let anchored: Bool

    init(_ pattern: String) {
        let lowered = pattern.lowercased()
        anchored = lowered.contains("%")
        pieces = anchored ? lowered.split(separator: "%", omittingEmptySubsequences: false).map(String.init) : [lowered]
    }

    func matches(_ text: String) -> Bool {
        let lowered = text.lowercased()
        guard anchored else {
            return pieces[0].isEmpty || lowered.contains(pieces[0])
        }
        var rest = Substring(lowered)
        for (index, piece) in pieces.enumerated() {
            let isFirst = index == 0
            let isLast = index == pieces.count - 1
            if isFirst {
                guard rest.hasPrefix(piece) else { return false }
                rest = rest.dropFirst(piece.count)
            } else if isLast {
                return piece.isEmpty || rest.hasSuffix(piece)
            } else if !piece.isEmpty {
                guard let range = rest.range(of: piece) else { return false }
                rest = rest[range.upperBound...]
            }
        }
        return rest.isEmpty
    }
}
