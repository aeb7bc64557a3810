import ArcholtOZmapV1

/// A fleet import file (`ozmapctl onu import`), read and checked before
/// anything is sent.
///
/// The file is CSV with a header row naming the columns, in any order:
/// `archolt_olt_id`, `onu_id`, `serial_number`, `cto` (required) and
/// `mac_address`, `pppoe_user`, `implanted` (optional). Header names are
/// matched case-insensitively and trimmed; a UTF-8 byte order mark is
/// ignored; a file that is not UTF-8 is read as Latin-1 (older Excel exports).
/// The separator, `;` (Brazilian spreadsheets) or `,`, is the one the header
/// line uses. Fields may be quoted (`"a;b"`, `""` for a quote, line breaks
/// inside); values are trimmed; CRLF or LF line ends; blank lines (and lines of
/// separators only) are skipped.
public struct ImportFile: Sendable, Hashable {
    /// One data row and the file line it starts on (the header is usually line 1).
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var row: ImportRow

        public init(line: Int, row: ImportRow) {
            self.line = line
            self.row = row
        }
    }

    public var separator: Character
    /// The columns in file order, as the header names them (lower case).
    public var columns: [String]
    public var entries: [Entry]

    public static let requiredColumns = ["archolt_olt_id", "onu_id", "serial_number", "cto"]
    public static let optionalColumns = ["mac_address", "pppoe_user", "implanted"]
    public static var knownColumns: [String] { requiredColumns + optionalColumns }
    /// Problems listed at most; the rest are counted.
    public static let maxProblemsListed = 20

    /// Reads a file's bytes: UTF-8 (with or without a byte order mark), else Latin-1.
    public init(bytes: [UInt8]) throws(ImportFileError) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        let text: String
        if let utf8 = String(validating: body, as: UTF8.self) {
            text = utf8
        } else {
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: body.map { Unicode.Scalar($0) })
            text = String(scalars)
        }
        try self.init(text: text)
    }

    /// Reads a file's text. A leading U+FEFF (byte order mark) is ignored.
    public init(text: String) throws(ImportFileError) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        // Excel may write its separator as a first line "sep=;".
        var declared: Character?
        if scalars.count >= 5, String(String.UnicodeScalarView(scalars.prefix(4))).lowercased() == "sep=", [";", ","].contains(scalars[4]) {
            declared = Character(scalars[4])
            let rest = scalars.dropFirst(5)
            scalars = Array(rest.drop { $0 != "\n" }) // an empty first line: the header stays line 2
        }
        let separator = declared ?? Self.detectSeparator(scalars)
        var records = try CSVReader.records(scalars, separator: separator)
        guard !records.isEmpty else {
            throw ImportFileError([.init(line: 1, message: "the file is empty: it needs a header row naming the columns")])
        }
        // Some exports end every line with a separator: an empty last column, dropped on every line.
        if records[0].fields.count > 1, records[0].fields.last?.trimmingSpaces().isEmpty == true {
            let width = records[0].fields.count
            for index in records.indices where records[index].fields.count == width && records[index].fields.last?.trimmingSpaces().isEmpty == true {
                records[index].fields.removeLast()
            }
        }
        let header = records[0]
        let columns = header.fields.map { $0.trimmingSpaces().lowercased() }
        try Self.checkHeader(columns, line: header.line)
        func index(_ name: String) -> Int? { columns.firstIndex(of: name) }
        let (olt, onu, serial, cto) = (index("archolt_olt_id")!, index("onu_id")!, index("serial_number")!, index("cto")!)
        let (mac, pppoe, implanted) = (index("mac_address"), index("pppoe_user"), index("implanted"))

        var entries: [Entry] = []
        var lineOfONU: [String: Int] = [:]
        var problems: [ImportFileError.Problem] = []
        var problemCount = 0
        func problem(_ line: Int, _ message: String) {
            problemCount += 1
            if problems.count < Self.maxProblemsListed { problems.append(.init(line: line, message: message)) }
        }
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                problem(record.line, "\(record.fields.count) field\(record.fields.count == 1 ? "" : "s"), the header has \(columns.count)"
                    + " (separator '\(separator)')")
                continue
            }
            let values = record.fields.map { $0.trimmingSpaces() }
            var implantation = Implantation.unspecified
            if let implanted {
                guard let parsed = Self.implantation(values[implanted]) else {
                    problem(record.line, "column implanted: \"\(values[implanted])\" is not one of "
                        + "true/false, 1/0, yes/no, sim/não, implantado/não implantado (or empty: leave it as OZmap has it)")
                    continue
                }
                implantation = parsed
            }
            if !values[onu].isEmpty, let earlier = lineOfONU.updateValue(record.line, forKey: values[onu]) {
                problem(record.line, "onu_id \(values[onu]) is also on line \(earlier): one row per ONU")
                continue
            }
            entries.append(Entry(line: record.line, row: ImportRow(
                archoltOltId: values[olt], onuId: values[onu], serialNumber: values[serial], cto: values[cto],
                macAddress: mac.map { values[$0] } ?? "", pppoeUser: pppoe.map { values[$0] } ?? "", implanted: implantation)))
        }
        guard problems.isEmpty else { throw ImportFileError(problems, total: problemCount) }
        self.separator = separator
        self.columns = columns
        self.entries = entries
    }

    /// `;` or `,`: whichever the header line (the first non-blank line) holds
    /// more of outside quotes; `,` when it holds neither.
    static func detectSeparator(_ scalars: [Unicode.Scalar]) -> Character {
        var (semicolons, commas) = (0, 0)
        var inQuotes = false
        var seenText = false
        for scalar in scalars {
            switch scalar {
            case "\"": inQuotes.toggle(); seenText = true
            case "\n" where !inQuotes, "\r" where !inQuotes: if seenText { return semicolons > commas ? ";" : "," }
            case ";" where !inQuotes: semicolons += 1; seenText = true
            case "," where !inQuotes: commas += 1; seenText = true
            case " ", "\t": break
            default: seenText = true
            }
        }
        return semicolons > commas ? ";" : ","
    }

    private static func checkHeader(_ columns: [String], line: Int) throws(ImportFileError) {
        var problems: [ImportFileError.Problem] = []
        let unknown = columns.enumerated().filter { !knownColumns.contains($0.element) }
        if !unknown.isEmpty {
            let names = unknown.map { $0.element.isEmpty ? "(column \($0.offset + 1) has no name)" : "\"\($0.element)\"" }
            problems.append(.init(line: line, message: "unknown column\(unknown.count == 1 ? "" : "s") \(names.joined(separator: ", ")); "
                + "the columns are \(knownColumns.joined(separator: ", "))"))
        }
        var seen = Set<String>()
        let repeated = columns.filter { !$0.isEmpty && !seen.insert($0).inserted }
        if !repeated.isEmpty {
            problems.append(.init(line: line, message: "column\(repeated.count == 1 ? "" : "s") \(Set(repeated).sorted().joined(separator: ", ")) appear\(repeated.count == 1 ? "s" : "") more than once"))
        }
        let missing = requiredColumns.filter { !columns.contains($0) }
        if !missing.isEmpty {
            problems.append(.init(line: line, message: "missing required column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))"
                + " (the header row must name \(requiredColumns.joined(separator: ", ")))"))
        }
        if !problems.isEmpty { throw ImportFileError(problems) }
    }

    /// The `implanted` column: empty leaves it as OZmap has it.
    public static func implantation(_ text: String) -> Implantation? {
        switch text.trimmingSpaces().lowercased() {
        case "": .unspecified
        case "true", "1", "yes", "sim", "implantado": .implanted
        case "false", "0", "no", "não", "nao", "não implantado", "nao implantado": .notImplanted
        default: nil
        }
    }

    /// The rows in batches of at most `size` (ImportONUs takes 1,000 at most).
    public func batches(size: Int = 1000) -> [ImportBatch] {
        precondition(size > 0, "batch size must be positive")
        return stride(from: 0, to: entries.count, by: size).enumerated().map { number, start in
            ImportBatch(number: number + 1, entries: entries[start..<min(start + size, entries.count)])
        }
    }
}

/// The rows of one ImportONUs call, with the file lines they came from.
public struct ImportBatch: Sendable, Hashable {
    /// 1-based.
    public let number: Int
    public let entries: ArraySlice<ImportFile.Entry>

    public var rows: [ImportRow] { entries.map(\.row) }
    public var firstLine: Int { entries.first?.line ?? 0 }
    public var lastLine: Int { entries.last?.line ?? 0 }

    /// The file line of a result's `row` (1-based in this batch); nil when out of range.
    public func line(ofRow row: UInt32) -> Int? {
        guard row >= 1, Int(row) <= entries.count else { return nil }
        return entries[entries.startIndex + Int(row) - 1].line
    }
}

/// Why a file cannot be imported: every problem with its line (up to
/// `ImportFile.maxProblemsListed`), and how many there are in all.
public struct ImportFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { "line \(line): \(message)" }
    }

    public var problems: [Problem]
    public var total: Int

    public init(_ problems: [Problem], total: Int? = nil) {
        self.problems = problems
        self.total = max(total ?? problems.count, problems.count)
    }

    public var description: String {
        var lines = problems.map(\.description)
        if total > problems.count { lines.append("… and \(total - problems.count) more") }
        return lines.joined(separator: "\n")
    }
}

/// RFC 4180 CSV, with the separator given and line numbers kept.
enum CSVReader {
    struct Record: Equatable {
        /// The line the record starts on (1-based).
        var line: Int
        var fields: [String]
    }

    /// The records of a file, blank ones (no text, or separators only) left out.
    static func records(_ scalars: [Unicode.Scalar], separator: Character) throws(ImportFileError) -> [Record] {
        let separator = separator.unicodeScalars.first!
        var records: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var quoteLine = 0
        var inQuotes = false
        var closedQuote = false // the current field was quoted and its quote is closed
        var sawQuote = false    // the current record has a quoted field
        var index = 0

        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            closedQuote = false
        }
        func endRecord() {
            endField()
            if sawQuote || fields.contains(where: { !$0.trimmingSpaces().isEmpty }) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            sawQuote = false
        }

        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if inQuotes {
                switch scalar {
                case "\"":
                    if index < scalars.count, scalars[index] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        inQuotes = false
                        closedQuote = true
                    }
                case "\r", "\n":
                    if scalar == "\r", index < scalars.count, scalars[index] == "\n" { index += 1 }
                    field.append("\n")
                    line += 1
                default:
                    field.append(scalar)
                }
                continue
            }
            switch scalar {
            case separator:
                endField()
            case "\r", "\n":
                if scalar == "\r", index < scalars.count, scalars[index] == "\n" { index += 1 }
                endRecord()
                line += 1
                recordLine = line
            case "\"" where !closedQuote && field.allSatisfy({ $0 == " " || $0 == "\t" }):
                field = String.UnicodeScalarView()
                inQuotes = true
                sawQuote = true
                quoteLine = line
            case " " where closedQuote, "\t" where closedQuote:
                break
            default:
                if closedQuote {
                    throw ImportFileError([.init(line: line, message: "field \(fields.count + 1): text after its closing quote "
                        + "(a quote inside a quoted field is written \"\")")])
                }
                field.append(scalar)
            }
        }
        if inQuotes {
            throw ImportFileError([.init(line: quoteLine, message: "field \(fields.count + 1): a quote is opened and never closed")])
        }
        if !field.isEmpty || !fields.isEmpty || closedQuote { endRecord() }
        return records
    }
}

extension String {
    /// Without spaces, tabs and line breaks at either end.
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
