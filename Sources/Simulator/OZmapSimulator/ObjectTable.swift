/// One collection of stored objects (boxes, splitters, ...), keyed by id and kept in
/// creation order, which is the default order of the list routes.
///
/// Indexes, so that a page of the filters ozmapd sends reads only the matching objects
/// (a 200,000-box network has about 1.9 million objects; a scan per page cannot keep up):
/// - the fields named at creation, by their string values (`=`, `in`: clients by code and
///   serial, properties by client, splitters by box, any object by id) and by presence
///   (`exists: true`: the splitters traced to an OLT);
/// - `updatedAt` as an instant (`>=`, `>`, `<=`, `<`: the incremental sync).
///
/// Every index holds creation sequence numbers in ascending order, so a page is a slice of
/// the candidates: no sorting of all the matches, and when the one condition is answered
/// exactly by its index, no object is read but the page's.
struct ObjectTable: Sendable {
    /// Objects by creation sequence; nil once removed (sequences are never reused).
    private var slots: [JSONObject?] = []
    private var sequenceOf: [String: Int] = [:]
    /// Sequences of the objects present, ascending: creation order.
    private var live: [Int] = []
    private var fields: [FieldIndex]
    /// `updatedAt` in ms per sequence (`Int64.min`: none, or not a time), and the sorted
    /// (ms, sequence) pairs for range queries.
    private var timeOf: [Int64] = []
    private var times: [TimeEntry] = []
    /// While true, `times` is not kept: `buildTimeIndex()` sorts it once. The generator
    /// makes the boxes not connected last but older than the rest, and inserting each into
    /// the sorted index moved all of it (about 8 of 27 s of a 200,000-box network).
    private var timeIndexDeferred = false
    /// Sequences whose `updatedAt` is present but not one time string: the time index
    /// cannot say how they compare, so they are always candidates.
    private var irregularTimes: [Int] = []

    private struct FieldIndex: Sendable {
        let name: String
        let path: JSONPath
        /// String value → sequences holding it at the path.
        var byValue: [String: [Int]] = [:]
        /// Sequences holding a value that is not a string (a number, an object): always candidates.
        var nonString: [Int] = []
        /// Sequences holding any non-null value at the path (`exists: true`).
        var present: [Int] = []
    }

    private struct TimeEntry: Sendable, Comparable {
        var ms: Int64
        var sequence: Int
        static func < (a: TimeEntry, b: TimeEntry) -> Bool { (a.ms, a.sequence) < (b.ms, b.sequence) }
    }

    /// `indexing`: dot paths of the fields to index.
    init(indexing fields: [String] = []) {
        self.fields = fields.map { FieldIndex(name: $0, path: JSONPath($0)) }
    }

    var count: Int { live.count }

    subscript(id: String) -> JSONObject? {
        sequenceOf[id].flatMap { slots[$0] }
    }

    func contains(_ id: String) -> Bool {
        sequenceOf[id] != nil
    }

    /// The first object created that is still present.
    var first: JSONObject? {
        live.first.flatMap { slots[$0] }
    }

    /// Every object, in creation order.
    var all: [JSONObject] {
        live.compactMap { slots[$0] }
    }

    /// The objects matching `predicate`, in creation order.
    func objects(where predicate: (JSONObject) -> Bool) -> [JSONObject] {
        var matches: [JSONObject] = []
        for sequence in live {
            if let object = slots[sequence], predicate(object) { matches.append(object) }
        }
        return matches
    }

    /// Every object matching `filter`, in creation order (through an index when one applies).
    func objects(matching filter: RecordFilter) -> [JSONObject] {
        page(matching: filter, start: 0, limit: Int.max).rows
    }

    /// The matching objects' count, and `limit` of them from `start`, in creation order.
    /// Through the most selective index among the conditions; a scan when none applies.
    func page(matching filter: RecordFilter, start: Int, limit: Int) -> (total: Int, rows: [JSONObject]) {
        var best: (sequences: [Int], exact: Bool)?
        for condition in filter.conditions {
            guard let found = candidates(condition) else { continue }
            if best == nil || found.sequences.count < best!.sequences.count { best = found }
        }
        if let best, best.exact, filter.conditions.count == 1 {
            let total = best.sequences.count
            guard start < total else { return (total, []) }
            let end = limit >= total - start ? total : start + limit
            return (total, best.sequences[start..<end].compactMap { slots[$0] })
        }
        var total = 0
        var rows: [JSONObject] = []
        for sequence in best?.sequences ?? live {
            guard let object = slots[sequence], filter.matches(object) else { continue }
            if total >= start, rows.count < limit { rows.append(object) }
            total += 1
        }
        return (total, rows)
    }

    /// The objects whose `field` holds one of the strings `values`, in creation order (a scan when not indexed).
    func objects(withAnyOf values: [String], at field: String) -> [JSONObject] {
        let path = JSONPath(field)
        let wanted = Set(values)
        func holds(_ object: JSONObject) -> Bool {
            path.anyValue(in: object) { if case .string(let text) = $0 { wanted.contains(text) } else { false } }
        }
        guard let index = fields.first(where: { $0.name == field }) else { return objects(where: holds) }
        var sequences = index.nonString
        for value in wanted { sequences += self.sequences(holding: value, in: index) }
        return Self.ascendingUnique(sequences).compactMap { slots[$0] }.filter(holds)
    }

    /// Sequences (ascending) that may match the condition, and whether exactly those match;
    /// nil when no index applies (then every object may).
    private func candidates(_ condition: FilterCondition) -> (sequences: [Int], exact: Bool)? {
        if condition.property == "updatedAt" { return timeCandidates(condition) }
        guard let index = fields.first(where: { $0.name == condition.property }) else { return nil }
        let wanted: [SimulatorJSON]
        switch condition.op {
        case .equal: wanted = [condition.value]
        case .in:
            guard case .array(let values) = condition.value else { return nil }
            wanted = values
        case .exists:
            // `exists: false` (missing or null) is the complement: rare, left to the scan.
            guard condition.existsFlag else { return nil }
            return (index.present, true)
        default: return nil
        }
        // Strings only, and not times: those compare loosely (as instants, numbers, null as missing).
        var sequences = index.nonString
        for value in wanted {
            guard case .string(let text) = value, ISOTime.parse(text) == nil else { return nil }
            sequences += self.sequences(holding: text, in: index)
        }
        return (wanted.count == 1 && index.nonString.isEmpty ? sequences : Self.ascendingUnique(sequences), index.nonString.isEmpty)
    }

    /// The sequences whose field holds `text`, ascending.
    private func sequences(holding text: String, in index: FieldIndex) -> [Int] {
        let indexed = index.byValue[text] ?? []
        guard index.name == "id", let own = sequenceOf[text], let object = slots[own],
              Self.values(at: index.path, in: object).strings.contains(text) else { return indexed }
        return Self.ascendingUnique(indexed + [own])
    }

    /// An object's `id` field holding its own id is found through `sequenceOf`, not indexed
    /// again: a second dictionary entry and an array per object made most of the time a
    /// 200,000-box network took to generate.
    private static func isOwnID(_ text: String, of index: FieldIndex, id: String) -> Bool {
        index.name == "id" && text == id
    }

    /// `updatedAt` compared with a time: a range of the time index.
    private func timeCandidates(_ condition: FilterCondition) -> (sequences: [Int], exact: Bool)? {
        precondition(!timeIndexDeferred, "a time query before buildTimeIndex()")
        guard let wanted = condition.valueMilliseconds else { return nil }  // not a time: compared as text
        let range: Range<Int>
        switch condition.op {
        case .greaterOrEqual: range = lowerBound(TimeEntry(ms: wanted, sequence: Int.min))..<times.count
        case .greater: range = lowerBound(TimeEntry(ms: wanted, sequence: Int.max))..<times.count
        case .lessOrEqual: range = 0..<lowerBound(TimeEntry(ms: wanted, sequence: Int.max))
        case .less: range = 0..<lowerBound(TimeEntry(ms: wanted, sequence: Int.min))
        default: return nil
        }
        var sequences: [Int]
        if range.count > live.count / 16 {
            // A large share of the table: one pass over the time column, already in creation order.
            let op = condition.op
            sequences = live.filter { sequence in
                let ms = timeOf[sequence]
                guard ms != Int64.min else { return false }
                return switch op {
                case .greaterOrEqual: ms >= wanted
                case .greater: ms > wanted
                case .lessOrEqual: ms <= wanted
                default: ms < wanted
                }
            }
            if !irregularTimes.isEmpty { sequences = Self.ascendingUnique(sequences + irregularTimes) }
        } else {
            sequences = Self.ascendingUnique(times[range].map(\.sequence) + irregularTimes)
        }
        return (sequences, irregularTimes.isEmpty)
    }

    private func lowerBound(_ entry: TimeEntry) -> Int {
        var low = 0, high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < entry { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private static func ascendingUnique(_ sequences: [Int]) -> [Int] {
        var sorted = sequences.sorted()
        var last = Int.min
        sorted.removeAll { sequence in
            defer { last = sequence }
            return sequence == last
        }
        return sorted
    }

    /// Adds a new object, or replaces the one with the same id keeping its position.
    mutating func insert(_ object: JSONObject, id: String) {
        let sequence: Int
        if let existing = sequenceOf[id] {
            sequence = existing
            unindex(slots[existing]!, sequence: existing, id: id)
        } else {
            sequence = slots.count
            sequenceOf[id] = sequence
            slots.append(nil)
            timeOf.append(Int64.min)
            live.append(sequence)
        }
        slots[sequence] = object
        addToIndex(object, sequence: sequence, id: id)
    }

    /// Applies `change` to the object; false when there is no such object.
    @discardableResult
    mutating func update(_ id: String, _ change: (inout JSONObject) throws -> Void) rethrows -> Bool {
        guard let sequence = sequenceOf[id], var object = slots[sequence] else { return false }
        unindex(object, sequence: sequence, id: id)
        slots[sequence] = nil  // keep the value uniquely referenced while it is changed
        defer {
            slots[sequence] = object
            addToIndex(object, sequence: sequence, id: id)
        }
        try change(&object)
        return true
    }

    @discardableResult
    mutating func remove(_ id: String) -> JSONObject? {
        guard let sequence = sequenceOf.removeValue(forKey: id), let removed = slots[sequence] else { return nil }
        unindex(removed, sequence: sequence, id: id)
        slots[sequence] = nil
        live.removeSorted(sequence)
        return removed
    }

    // MARK: index upkeep

    /// Stops keeping the `updatedAt` index until `buildTimeIndex()`: for a bulk of inserts
    /// not in time order.
    mutating func deferTimeIndex() {
        timeIndexDeferred = true
    }

    mutating func buildTimeIndex() {
        guard timeIndexDeferred else { return }
        timeIndexDeferred = false
        times = live.compactMap { sequence in
            timeOf[sequence] == Int64.min ? nil : TimeEntry(ms: timeOf[sequence], sequence: sequence)
        }
        times.sort()
    }

    /// The strings at `path` (each once: an array, since there are few; a Set each was a
    /// hashed allocation per field of every object generated).
    private static func values(at path: JSONPath, in object: JSONObject) -> (strings: [String], other: Bool, present: Bool) {
        var strings: [String] = []
        var other = false
        var present = false
        _ = path.anyValue(in: object) { value in
            switch value {
            case .string(let text): if !strings.contains(text) { strings.append(text) }
            case .null, .array: break  // arrays are walked into; null matches no string
            default: other = true
            }
            if !value.isNull { present = true }
            return false
        }
        return (strings, other, present)
    }

    /// The `updatedAt` instant, or nil when there is none; `irregular` when present but not one time string.
    private static func time(of object: JSONObject) -> (ms: Int64?, irregular: Bool) {
        switch object["updatedAt"] {
        case nil, .null?: return (nil, false)
        case .string(let text)?:
            let ms = ISOTime.parse(text)
            return (ms, ms == nil)
        default: return (nil, true)
        }
    }

    private mutating func addToIndex(_ object: JSONObject, sequence: Int, id: String) {
        for position in fields.indices {
            let (strings, other, present) = Self.values(at: fields[position].path, in: object)
            for text in strings where !Self.isOwnID(text, of: fields[position], id: id) {
                fields[position].byValue[text, default: []].insertSorted(sequence)
            }
            if other { fields[position].nonString.insertSorted(sequence) }
            if present { fields[position].present.insertSorted(sequence) }
        }
        let (ms, irregular) = Self.time(of: object)
        if let ms {
            timeOf[sequence] = ms
            let entry = TimeEntry(ms: ms, sequence: sequence)
            if !timeIndexDeferred {
                if let last = times.last, !(last < entry) {
                    times.insert(entry, at: lowerBound(entry))
                } else {
                    times.append(entry)  // the common case: generated and changed objects carry the newest time
                }
            }
        }
        if irregular { irregularTimes.insertSorted(sequence) }
    }

    private mutating func unindex(_ object: JSONObject, sequence: Int, id: String) {
        for position in fields.indices {
            let (strings, other, present) = Self.values(at: fields[position].path, in: object)
            for text in strings where !Self.isOwnID(text, of: fields[position], id: id) {
                fields[position].byValue[text]?.removeSorted(sequence)
                if fields[position].byValue[text]?.isEmpty == true { fields[position].byValue[text] = nil }
            }
            if other { fields[position].nonString.removeSorted(sequence) }
            if present { fields[position].present.removeSorted(sequence) }
        }
        let ms = timeOf[sequence]
        if ms != Int64.min, !timeIndexDeferred {
            let entry = TimeEntry(ms: ms, sequence: sequence)
            let at = lowerBound(entry)
            if at < times.count, times[at] == entry { times.remove(at: at) }
        }
        timeOf[sequence] = Int64.min
        irregularTimes.removeSorted(sequence)
    }
}

extension Array where Element == Int {
    /// Inserts into an ascending array (appends in the common case: sequences grow).
    fileprivate mutating func insertSorted(_ value: Int) {
        if let last, last >= value {
            let at = insertionPoint(value)
            if at < count, self[at] == value { return }
            insert(value, at: at)
        } else {
            append(value)
        }
    }

    fileprivate mutating func removeSorted(_ value: Int) {
        let at = insertionPoint(value)
        if at < count, self[at] == value { remove(at: at) }
    }

    private func insertionPoint(_ value: Int) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
