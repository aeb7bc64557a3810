import Foundation

/// `GET <resource>`: filter, sort, page, and answer the `rows` envelope (reference §2).
extension SimulatorEngine {
    static let defaultPageSize = 25

    func list(_ resource: Resource, query: QueryParameters) throws -> APIResponse {
        let page = try Self.positiveInteger(query["page"], name: "page") ?? 1
        let requestedLimit = try Self.positiveInteger(query["limit"], name: "limit") ?? Self.defaultPageSize
        let limit = min(requestedLimit, configuration.maxPageSize)
        let filter = try RecordFilter.parse(queryText: query["filter"])
        let sort = try SortOrder.parse(queryText: query["sort"])
        let selection = FieldSelection(query["select"])
        let populateClient = resource == .properties && Self.populates(query, "client")
        let (start, overflow) = (page - 1).multipliedReportingOverflow(by: limit)
        guard !overflow else { throw SimulatorError.badRequest("page is too large") }

        let (total, rows) = readNetwork { network -> (Int, [JSONObject]) in
            let table = network.table(resource)
            let total: Int
            let pageRows: [JSONObject]
            if sort.keys.isEmpty {
                (total, pageRows) = table.page(matching: filter, start: start, limit: limit)
            } else {
                let matches = sort.apply(to: table.objects(matching: filter))
                (total, pageRows) = (matches.count, Array(matches.dropFirst(start).prefix(limit)))
            }
            return (total, pageRows.map { populateClient ? network.populatingClient(of: $0) : $0 })
        }

        let hasNextPage = start + rows.count < total
        var envelope: JSONObject = [
            "total": .int(total),
            "count": .int(rows.count),
            "start": .int(start),
            "limit": .int(limit),
            "rows": .array(rows.map { .object(selection.apply(to: $0)) }),
            "hasNextPage": .bool(hasNextPage),
            "nextUrl": .null,
        ]
        if hasNextPage {
            envelope["nextUrl"] = .string(Self.nextURL(resource, page: page + 1, limit: limit, query: query))
        }
        return .json(.object(envelope))
    }

    /// `/api/v2/boxes?page=2&limit=25`, carrying the other parameters of the request.
    static func nextURL(_ resource: Resource, page: Int, limit: Int, query: QueryParameters) -> String {
        var url = apiPrefix + "/" + resource.rawValue + "?page=\(page)&limit=\(limit)"
        for (name, value) in query.pairs where name != "page" && name != "limit" {
            url += "&" + percentEncoded(name) + "=" + percentEncoded(value)
        }
        return url
    }

    static func percentEncoded(_ text: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func positiveInteger(_ text: String?, name: String) throws(SimulatorError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1 else {
            throw .badRequest("\(name) must be a positive integer (got '\(text)')")
        }
        return value
    }
}

/// `select`: comma- or space-separated top-level fields to keep (`name,project`), or to drop
/// with a `-` prefix (`-cables`). `id` and `_id` are always kept, as Mongoose keeps `_id`.
struct FieldSelection: Sendable {
    private var included: Set<String> = []
    private var excluded: Set<String> = []

    init(_ text: String?) {
        guard let text else { return }
        for field in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            let top = String(field.split(separator: ".").first ?? field)
            if top.hasPrefix("-") {
                excluded.insert(String(top.dropFirst()))
            } else {
                included.insert(top)
            }
        }
    }

    func apply(to object: JSONObject) -> JSONObject {
        if !included.isEmpty {
            return object.filter { included.contains($0.key) || $0.key == "id" || $0.key == "_id" }
        }
        if !excluded.isEmpty {
            return object.filter { !excluded.contains($0.key) }
        }
        return object
    }
}
