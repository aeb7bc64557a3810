import ArcholtOZmapV1

/// `ozmapctl reconcile`'s text: the differences grouped by kind, then a summary line.
public enum ReconcileReport {
    /// The kinds in the order they are shown.
    public static let kinds: [DriftKind] = DriftKind.allCases.filter { $0 != .unspecified } + [.unspecified]

    /// The kind a row is shown under: a kind this build does not know is unclassified.
    static func shownKind(_ kind: DriftKind) -> DriftKind {
        if case .unrecognized = kind { .unspecified } else { kind }
    }

    public static func displayName(_ kind: DriftKind) -> String {
        switch kind {
        case .missingInOzmap: "missing in OZmap"
        case .atOtherBox: "at another box"
        case .dataDiffers: "data differs"
        case .propertyWithoutClient: "property without client"
        case .unknownToOzmapd: "unknown to ozmapd"
        case .duplicate: "duplicate"
        case .unspecified, .unrecognized: "unclassified"
        }
    }

    /// Every line to print: per kind with rows, a heading with its count and a
    /// table (the operation column after an apply); then the summary.
    public static func lines(_ response: ReconcileResponse) -> [String] {
        var lines: [String] = []
        for kind in kinds {
            let rows = response.rows.filter { shownKind($0.kind) == kind }
            guard !rows.isEmpty else { continue }
            lines.append("\(displayName(kind)) (\(rows.count))")
            let header = ["ONU", "OZMAP CLIENT", "PROPERTY", "FIELDS", "OZMAPD HOLDS", "OZMAP HOLDS", "ACTION"]
                + (response.dryRun ? [] : ["OPERATION"])
            lines += formatTable([header] + rows.map { row in
                [row.onuId, row.ozmapClientId, row.ozmapPropertyId, row.fields.joined(separator: ", "), oneLine(row.ozmapdHolds),
                 oneLine(row.ozmapHolds), oneLine(row.action)] + (response.dryRun ? [] : [row.operationId])
            })
            lines.append("")
        }
        lines.append(summary(response))
        return lines
    }

    /// The differences per kind: the server's counts, else the rows counted.
    public static func counts(_ response: ReconcileResponse) -> [(kind: DriftKind, count: Int)] {
        kinds.map { kind in
            let counted = response.counts.filter { shownKind($0.kind) == kind }.reduce(0) { $0 + Int($1.count) }
            return (kind, response.counts.isEmpty ? response.rows.filter { shownKind($0.kind) == kind }.count : counted)
        }
    }

    /// "12 ONUs checked, 3 differences: 2 missing in OZmap, 1 at another box (dry run: ...)".
    public static func summary(_ response: ReconcileResponse) -> String {
        let counts = counts(response).filter { $0.count > 0 }
        let total = counts.reduce(0) { $0 + $1.count }
        var line = "\(counted(Int(response.onusChecked), "ONU")) checked, "
        guard total > 0 else {
            line += "no differences"
            if !response.dryRun { line += "; applied: nothing to do" }
            return line
        }
        line += counted(total, "difference") + ": " + counts.map { "\($0.count) \(displayName($0.kind))" }.joined(separator: ", ")
        if response.dryRun {
            line += " (dry run: nothing changed; --apply queues the fixes)"
        } else {
            line += "; applied: \(counted(response.operationIds.count, "operation")) queued"
        }
        return line
    }
}

/// One row of an import with the file line it came from.
public struct ImportOutcome: Sendable, Hashable {
    /// nil when the server named a row the batch did not have.
    public var line: Int?
    public var result: ImportRowResult
    /// The CTO as the file gives it, shown when the server resolved none.
    public var fileCTO: String

    public init(line: Int?, result: ImportRowResult, fileCTO: String) {
        self.line = line
        self.result = result
        self.fileCTO = fileCTO
    }

    /// The batch's results with their file lines.
    public static func outcomes(_ results: [ImportRowResult], of batch: ImportBatch) -> [ImportOutcome] {
        results.map { result in
            let line = batch.line(ofRow: result.row)
            let cto = line == nil ? "" : batch.entries[batch.entries.startIndex + Int(result.row) - 1].row.cto
            return ImportOutcome(line: line, result: result, fileCTO: cto)
        }
    }
}

/// `ozmapctl onu import`'s text: a row per ONU, then a summary line.
public enum ImportReport {
    /// "ADOPT", "CREATE", ... ("?" for none).
    public static func actionName(_ action: ImportAction) -> String {
        action == .unspecified ? "?" : String(action.protoName.dropFirst(action.protoName.hasPrefix("IMPORT_ACTION_") ? "IMPORT_ACTION_".count : 0))
    }

    /// The table: file line, ONU, action, CTO, OZmap client, detail or error, and the operation after an apply.
    public static func table(_ outcomes: [ImportOutcome], dryRun: Bool) -> [String] {
        let header = ["LINE", "ONU", "ACTION", "CTO", "OZMAP CLIENT", "DETAIL"] + (dryRun ? [] : ["OPERATION"])
        let sorted = outcomes.enumerated().sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }.map(\.element)
        return formatTable([header] + sorted.map { outcome in
            let result = outcome.result
            let cto = !result.ctoBoxName.isEmpty ? result.ctoBoxName : !result.ctoBoxId.isEmpty ? result.ctoBoxId : outcome.fileCTO
            let detail = result.action == .error || !result.error.isEmpty ? (result.error.isEmpty ? result.detail : result.error) : result.detail
            return [outcome.line.map { "\($0)" } ?? "?", result.onuId, actionName(result.action), cto, result.ozmapClientId, oneLine(detail)]
                + (dryRun ? [] : [result.operationId])
        })
    }

    /// "3 rows: 1 adopt, 1 create, 1 error (dry run: nothing changed; run again with --apply)".
    /// `counts` excludes errors, which `errors` gives.
    public static func summary(rows: Int, counts: [ImportAction: Int], errors: Int, operations: Int, dryRun: Bool) -> String {
        let actions = ImportAction.allCases.filter { $0 != .error && $0 != .unspecified && counts[$0, default: 0] > 0 }
        var parts = actions.map { "\(counts[$0]!) \(actionName($0).lowercased())" }
        parts.append(errors == 0 ? "no errors" : counted(errors, "error"))
        var line = "\(counted(rows, "row")): " + parts.joined(separator: ", ")
        if dryRun {
            line += " (dry run: nothing changed; run again with --apply)"
        } else {
            line += "; \(counted(operations, "operation")) queued"
        }
        return line
    }
}

/// A table cell on one line.
func oneLine(_ text: String) -> String {
    text.contains(where: \.isNewline) ? text.split(whereSeparator: \.isNewline).joined(separator: " ") : text
}

/// The outcomes of an import's batches, and their totals.
public struct ImportTotals: Sendable, Hashable {
    public private(set) var outcomes: [ImportOutcome] = []
    /// Rows per action as the server counted them (errors included).
    public private(set) var counts: [ImportAction: Int] = [:]
    public private(set) var serverErrors = 0
    public private(set) var ozmapRequests = 0
    public private(set) var batches = 0

    public init() {}

    public mutating func add(_ response: ImportONUsResponse, of batch: ImportBatch) {
        let outcomes = ImportOutcome.outcomes(response.results, of: batch)
        self.outcomes += outcomes
        if response.counts.isEmpty {
            for outcome in outcomes { counts[outcome.result.action, default: 0] += 1 }
        } else {
            for count in response.counts { counts[count.action, default: 0] += Int(count.count) }
        }
        serverErrors += Int(response.errors)
        ozmapRequests += Int(response.ozmapRequests)
        batches += 1
    }

    /// Rows that cannot be imported: the most of the server's error count, its ERROR count and the ERROR rows.
    public var errors: Int {
        max(serverErrors, counts[.error, default: 0], outcomes.filter { $0.result.action == .error }.count)
    }

    /// Operations queued (after an apply).
    public var operations: Int { outcomes.filter { !$0.result.operationId.isEmpty }.count }

    public func summary(rows: Int, dryRun: Bool) -> String {
        ImportReport.summary(rows: rows, counts: counts.filter { $0.key != .error }, errors: errors, operations: operations, dryRun: dryRun)
    }
}
