import Foundation

/// One HTTP header line.
public struct HTTPHeaderField: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A request as the engine sees it, independent of SwiftNIO.
struct APIRequest: Sendable {
    var method: String
    /// The path without the query string, still percent-encoded.
    var path: String
    var rawQuery: String?
    var headers: [HTTPHeaderField]
    var body: [UInt8]
    var receivedAt: Date

    init(method: String, uri: String, headers: [HTTPHeaderField], body: [UInt8], receivedAt: Date = Date()) {
        self.method = method.uppercased()
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            rawQuery = String(uri[uri.index(after: mark)...])
        } else {
            path = uri
            rawQuery = nil
        }
        self.headers = headers
        self.body = body
        self.receivedAt = receivedAt
    }

    /// The first header with that name, compared case-insensitively.
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The path split on `/`, each segment percent-decoded; nil when a segment is malformed.
    var decodedSegments: [String]? {
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = String(raw).removingPercentEncoding else { return nil }
            segments.append(decoded)
        }
        return segments
    }
}

/// A response as the engine produces it.
struct APIResponse: Sendable {
    var status: Int
    var headers: [HTTPHeaderField] = []
    /// Empty for 204; otherwise JSON.
    var body: [UInt8] = []

    static func json(_ value: SimulatorJSON, status: Int = 200) -> APIResponse {
        APIResponse(status: status, body: value.serialized())
    }

    static func error(_ error: SimulatorError) -> APIResponse {
        json(["message": .string(error.message)], status: error.status)
    }

    static func error(status: Int, _ message: String) -> APIResponse {
        error(SimulatorError(status: status, message: message))
    }

    static let noContent = APIResponse(status: 204)
}

/// The decoded query string. `+` means a space, as in Express' parser.
struct QueryParameters: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init(rawQuery: String?) throws(SimulatorError) {
        guard let rawQuery, !rawQuery.isEmpty else { return }
        for item in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else {
                throw .badRequest("malformed query string: cannot decode '\(parts[0])'")
            }
            let rawValue = parts.count > 1 ? parts[1] : ""
            guard let value = Self.decode(rawValue) else {
                throw .badRequest("query parameter \(name) is not correctly percent-encoded")
            }
            pairs.append((name, value))
        }
    }

    /// The last value given for `name`.
    subscript(name: String) -> String? {
        pairs.last { $0.name == name }?.value
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// Reads a JSON request body and its fields; every failure names the field.
struct RequestBody: Sendable {
    let fields: JSONObject

    /// Bodies must be JSON objects sent as `application/json`: the real server (Express)
    /// ignores bodies of any other type, so an integration that forgets the header would
    /// silently send nothing.
    init(_ request: APIRequest) throws(SimulatorError) {
        let contentType = request.header("Content-Type")?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw .badRequest("request body must be JSON with Content-Type: application/json (got '\(contentType)')")
        }
        guard !request.body.isEmpty else { throw .badRequest("request body is empty: expected a JSON object") }
        let json: SimulatorJSON
        do {
            json = try SimulatorJSON.parse(bytes: request.body)
        } catch {
            throw .badRequest("request body is not valid JSON")
        }
        guard case .object(let fields) = json else { throw .badRequest("request body must be a JSON object") }
        self.fields = fields
    }

    init(fields: JSONObject) {
        self.fields = fields
    }

    subscript(name: String) -> SimulatorJSON? {
        fields[name]
    }

    func requiredString(_ name: String, label: String? = nil) throws(SimulatorError) -> String {
        guard let value = fields[name], !value.isNull else { throw .badRequest("\(label ?? name) is required") }
        guard let text = Self.stringValue(value), !text.isEmpty else {
            throw .badRequest("\(label ?? name) must be a non-empty string")
        }
        return text
    }

    func optionalString(_ name: String, label: String? = nil) throws(SimulatorError) -> String? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard case .string(let text) = value else { throw .badRequest("\(label ?? name) must be a string") }
        return text
    }

    func optionalBool(_ name: String, label: String? = nil) throws(SimulatorError) -> Bool? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard case .bool(let bool) = value else { throw .badRequest("\(label ?? name) must be true or false") }
        return bool
    }

    func optionalNumber(_ name: String, label: String? = nil) throws(SimulatorError) -> Double? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard case .number(let number) = value, number.isFinite else {
            throw .badRequest("\(label ?? name) must be a number")
        }
        return number
    }

    func optionalInt(_ name: String, label: String? = nil) throws(SimulatorError) -> Int? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let int = value.int else { throw .badRequest("\(label ?? name) must be an integer") }
        return int
    }

    /// Signal status: 0 (OK) or 1 (ERROR).
    func optionalStatus(_ name: String = "status", label: String? = nil) throws(SimulatorError) -> Int? {
        guard let status = try optionalInt(name, label: label) else { return nil }
        guard status == 0 || status == 1 else { throw .badRequest("\(label ?? name) must be 0 (OK) or 1 (ERROR)") }
        return status
    }

    func optionalObject(_ name: String, label: String? = nil) throws(SimulatorError) -> RequestBody? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard case .object(let members) = value else { throw .badRequest("\(label ?? name) must be an object") }
        return RequestBody(fields: members)
    }

    /// Codes and ids may come as numbers; they are stored as strings (Mongoose casts them).
    private static func stringValue(_ value: SimulatorJSON) -> String? {
        switch value {
        case .string(let text): text
        case .number: value.jsonText
        default: nil
        }
    }
}
