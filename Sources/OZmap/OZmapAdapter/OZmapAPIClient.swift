import Foundation
import Logging
import OZmapDomain

/// How the OZmap client pages and retries.
public struct OZmapClientConfiguration: Sendable {
    /// Rows per list page: the most the simulator and the older tools use (the official SDK
    /// pages with 100); a server that caps `limit` lower says so in its answer, and the pages
    /// are counted with its `limit`.
    public var pageSize = 500
    /// The pages of one list read at once (the HTTP client's concurrency: more would only queue).
    public var concurrency = 4
    /// Attempts for a read before giving up (1 = no retry).
    public var readAttempts = 4
    public var backoff = Backoff(base: .milliseconds(200), cap: .seconds(10))
    /// The longest `Retry-After` honoured; a longer one fails the read (the next pass retries).
    public var maxRetryAfter: Duration = .seconds(60)

    public init() {}
}

/// OZmap API v2 over libcurl, as `../shared/ozmap-api-v2.md` describes it: the
/// raw key in `Authorization`, filters as URL-encoded JSON, `rows` envelopes.
public struct OZmapAPIClient: OZmapDirectory {
    private let credentials: OZmapCredentials
    private let http: CurlHTTPClient
    private let metrics: OZmapRequestMetrics
    private let configuration: OZmapClientConfiguration
    private let retryAfter: RetryAfterGate
    private let logger: Logger
    private let onStatus: OZmapStatusObserver?

    /// `retryAfter` is shared by every client of one OZmap, so a `Retry-After` holds them all.
    /// `onStatus` hears the HTTP status of every answer (the connection's credentials state
    /// learns of a 401/403 there, whatever the request).
    public init(credentials: OZmapCredentials, http: CurlHTTPClient, metrics: OZmapRequestMetrics,
                configuration: OZmapClientConfiguration = .init(), retryAfter: RetryAfterGate = RetryAfterGate(), logger: Logger,
                onStatus: OZmapStatusObserver? = nil) {
        self.onStatus = onStatus
        self.credentials = credentials
        self.http = http
        self.metrics = metrics
        self.retryAfter = retryAfter
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: OZmapDirectory

    public func verifyCredentials() async throws {
        do {
            _ = try await get("authenticated", route: "authenticated")
        } catch let error as IntegrationError where error.kind == .ozmapRejectedKey {
            throw IntegrationError(.ozmapRejectedKey, "OZmap rejected the API key (HTTP 401 on GET \(credentials.apiURL)/authenticated): check the key, and that its user has the API module")
        }
    }

    public func olts() async throws -> [OZmapOLTInfo] {
        try await list("olts").map(OZmapJSON.olt)
    }

    public func olt(id: String) async throws -> OZmapOLTInfo {
        OZmapJSON.olt(try OZmapJSON.object(try await get("olts/\(Self.escape(id))", route: "olts/{id}")))
    }

    public var requestConcurrency: Int { configuration.concurrency }

    /// Only the fields the pass reads (`select`): a splitter's ports and fibres are most of its row,
    /// and the pass fetches them with the box. A server that ignores `select` sends whole rows, read alike.
    public func connectedSplitterPages() -> AsyncThrowingStream<[TracedSplitter], any Error> {
        pageStream("splitters", filter: [Filter("olt", "exists", true)], select: "parent,updatedAt") {
            $0.compactMap(OZmapJSON.tracedSplitter)
        }
    }

    public func splitters(updatedSince time: String) async throws -> [OZmapSplitter] {
        try await list("splitters", filter: [Filter("updatedAt", ">=", time)], select: OZmapJSON.splitterFields).compactMap(OZmapJSON.splitter)
    }

    public func splitters(inBoxes ids: [String]) async throws -> [OZmapSplitter] {
        guard !ids.isEmpty else { return [] }
        return try await list("splitters", filter: [Filter("parent", "in", ids)], select: OZmapJSON.splitterFields).compactMap(OZmapJSON.splitter)
    }

    public func boxes(ids: [String]) async throws -> [OZmapBoxInfo] {
        guard !ids.isEmpty else { return [] }
        return try await list("boxes", filter: [Filter("id", "in", ids)], select: OZmapJSON.boxFields).compactMap(OZmapJSON.box)
    }

    public func boxes(updatedSince time: String) async throws -> [OZmapBoxInfo] {
        try await list("boxes", filter: [Filter("updatedAt", ">=", time)], select: OZmapJSON.boxFields).compactMap(OZmapJSON.box)
    }

    // MARK: requests

    /// One element of OZmap's `filter` parameter.
    struct Filter {
        var property: String
        var `operator`: String
        var value: FilterValue

        init(_ property: String, _ operation: String, _ value: some FilterValueConvertible) {
            self.property = property
            self.operator = operation
            self.value = value.filterValue
        }

        /// `{"property":…,"operator":…,"value":…}`, keys in the reference's order (stable in logs and tests).
        var json: String {
            "{\"property\":\(FilterValue.string(property).json),\"operator\":\(FilterValue.string(self.operator).json),\"value\":\(value.json)}"
        }
    }

    /// A list request's reader: the route's path, its query, the route for metrics.
    typealias PageReader = @Sendable (String, [(String, String)], String) async throws -> [UInt8]

    /// Every row of a list route (`forEachPage`), in page order.
    func list(_ route: String, filter: [Filter] = [], select: String? = nil, reader: PageReader? = nil) async throws -> [JSONObject] {
        var pages: [Int: [JSONObject]] = [:]
        try await forEachPage(route, filter: filter, select: select, reader: reader, { $0 }) { pages[$0] = $1 }
        return pages.keys.sorted().flatMap { pages[$0]! }
    }

    /// The pages of a list route as a stream, each handed over as soon as it is read (`forEachPage`).
    /// The stream's reader ends the fetching by dropping it; the pass's request tally goes along.
    func pageStream<Row: Sendable>(_ route: String, filter: [Filter] = [], select: String? = nil,
                                   _ rows: @escaping @Sendable ([JSONObject]) -> [Row]) -> AsyncThrowingStream<[Row], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[Row], any Error>.makeStream()
        let tally = OZmapRequestTally.current
        let task = Task {
            do {
                try await OZmapRequestTally.$current.withValue(tally) {
                    try await forEachPage(route, filter: filter, select: select, rows) { continuation.yield($1) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Reads every page of a list route and hands each to `body` (its number, its rows) as it
    /// arrives: the first alone, since its `total` and `limit` say how many follow; then those
    /// `configuration.concurrency` at a time, in any order; then one at a time for as long as
    /// OZmap still says there is a next page (the list grew meanwhile; an older server without
    /// `hasNextPage` or `total` is paged until a page comes back short or empty).
    func forEachPage<Row: Sendable>(_ route: String, filter: [Filter] = [], select: String? = nil, reader: PageReader? = nil,
                                    _ rows: @escaping @Sendable ([JSONObject]) -> [Row],
                                    _ body: (Int, [Row]) throws -> Void) async throws {
        let fetch: PageReader = reader ?? { path, query, route in try await get(path, query: query, route: route) }
        let filterJSON = filter.isEmpty ? nil : "[" + filter.map(\.json).joined(separator: ",") + "]"
        let pageSize = configuration.pageSize
        let apiURL = credentials.apiURL
        @Sendable func read(_ page: Int) async throws -> Page<Row> {
            var query = [("page", "\(page)"), ("limit", "\(pageSize)")]
            if let filterJSON { query.append(("filter", filterJSON)) }
            if let select { query.append(("select", select)) }
            let body = try OZmapJSON.object(try await fetch(route, query, route))
            guard let pageRows = OZmapJSON.objects(body["rows"]) else {
                throw IntegrationError(.ozmapUnreachable, "OZmap answered GET \(route) without a 'rows' list: is \(apiURL) an OZmap API v2?")
            }
            let limit = OZmapJSON.int(body["limit"]) ?? pageSize
            let total = OZmapJSON.int(body["total"])
            let hasNext: Bool
            if let stated = body["hasNextPage"]?.bool {
                hasNext = stated
            } else {
                let start = OZmapJSON.int(body["start"]) ?? (page - 1) * limit
                let count = OZmapJSON.int(body["count"]) ?? pageRows.count
                hasNext = !pageRows.isEmpty && (total.map { start + count < $0 } ?? (pageRows.count >= pageSize))
            }
            return Page(number: page, rows: rows(pageRows), hasNext: hasNext, total: total, limit: limit)
        }

        let first = try await read(1)
        try body(1, first.rows)
        guard first.hasNext else { return }
        var next = 2
        if let total = first.total, first.limit > 0 {
            let last = (total + first.limit - 1) / first.limit
            var more = true  // what the last of those pages said
            try await withThrowingTaskGroup(of: Page<Row>.self) { group in
                var page = 2
                var inFlight = 0
                while page <= last || inFlight > 0 {
                    while page <= last, inFlight < max(1, configuration.concurrency) {
                        let number = page
                        group.addTask { try await read(number) }
                        page += 1
                        inFlight += 1
                    }
                    guard let done = try await group.next() else { break }
                    inFlight -= 1
                    try body(done.number, done.rows)
                    if done.number == last { more = done.hasNext }
                }
            }
            guard more else { return }
            next = max(2, last + 1)
        }
        while true {
            try Task.checkCancellation()
            let page = try await read(next)
            try body(next, page.rows)
            guard page.hasNext else { return }
            next += 1
        }
    }

    private struct Page<Row: Sendable>: Sendable {
        var number: Int
        var rows: [Row]
        var hasNext: Bool
        var total: Int?
        var limit: Int
    }

    /// A GET, retried with full-jitter backoff on UNAVAILABLE (429, 5xx, no answer), honouring Retry-After.
    /// Throws `IntegrationError`.
    func get(_ path: String, query: [(String, String)] = [], route: String) async throws -> [UInt8] {
        do {
            return try await read(path, query: query, route: route)
        } catch let failure as OZmapCallError {
            throw failure.error
        }
    }

    /// `get`, throwing `OZmapCallError` (with the HTTP status and Retry-After).
    /// `attempts` nil means the configured read attempts.
    func read(_ path: String, query: [(String, String)] = [], route: String, attempts: Int? = nil) async throws -> [UInt8] {
        let attempts = attempts ?? configuration.readAttempts
        var attempt = 0
        while true {
            do {
                return try await send(method: "GET", path: path, query: query, body: nil, route: route)
            } catch let failure as OZmapCallError where failure.error.kind == .ozmapUnreachable && attempt + 1 < attempts {
                var wait = configuration.backoff.delay(attempt: attempt)
                if let retryAfter = failure.retryAfter {
                    guard retryAfter <= configuration.maxRetryAfter else { throw failure }
                    wait = max(wait, retryAfter)
                }
                logger.debug("retrying an OZmap read", metadata: ["route": "\(route)", "attempt": "\(attempt + 1)", "wait": "\(wait)", "error": "\(failure.error.message)"])
                try await Task.sleep(for: wait)
                attempt += 1
            }
        }
    }

    /// One request, counted; failures are `OZmapCallError`s mapped to status codes. Never retried here,
    /// and not sent at all while OZmap's last `Retry-After` runs.
    func send(method: String, path: String, query: [(String, String)], body: [UInt8]?, route: String) async throws -> [UInt8] {
        if let wait = retryAfter.remaining() {
            throw OZmapCallError(error: IntegrationError(.ozmapUnreachable, "OZmap asked ozmapd to wait (Retry-After) another \(wait) before \(method) \(route)"),
                                 httpStatus: 0, retryAfter: wait, outcomeUnknown: false)
        }
        OZmapRequestTally.current?.add()
        var url = "\(credentials.apiURL)/\(path)"
        if !query.isEmpty { url += "?" + query.map { "\($0)=\(Self.escape($1))" }.joined(separator: "&") }
        var headers = [("Authorization", credentials.apiKey.revealed), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response: HTTPResponse
        let started = ContinuousClock.now
        do {
            response = try await http.send(HTTPRequest(method: method, url: url, headers: headers, body: body))
        } catch let error as HTTPTransportError {
            metrics.record(method: method, route: route, status: 0, duration: ContinuousClock.now - started)
            let what = error.isTimeout ? "timed out" : "failed"
            throw OZmapCallError(error: IntegrationError(.ozmapUnreachable, "OZmap \(method) \(route) \(what): \(error.message) (\(credentials.apiURL))"),
                                 httpStatus: 0, outcomeUnknown: method != "GET" && error.mayHaveBeenSent)
        }
        metrics.record(method: method, route: route, status: response.status, duration: ContinuousClock.now - started)
        onStatus?(response.status, method, route)
        if (200..<300).contains(response.status) { return response.body }
        let wait = Self.retryAfter(response.headers["retry-after"])
        if let wait { retryAfter.hold(for: wait) }
        throw OZmapCallError(error: mapStatus(response, method: method, route: route), httpStatus: response.status, retryAfter: wait)
    }

    private func mapStatus(_ response: HTTPResponse, method: String, route: String) -> IntegrationError {
        let message = redact(OZmapJSON.errorMessage(response.body))
        let what = "OZmap answered \(response.status) to \(method) \(route)" + (message.isEmpty ? "" : ": \(message)")
        return switch response.status {
        case 401: IntegrationError(.ozmapRejectedKey, what + " (the API key was rejected)")
        case 403: IntegrationError(.ozmapForbidden, what + " (the key's user lacks permission)")
        case 404: IntegrationError(.ozmapNotFound, what)
        case 429, 500...: IntegrationError(.ozmapUnreachable, what)
        default: IntegrationError(.ozmapRefused(httpStatus: response.status), what)
        }
    }

    /// OZmap's text with the key cut out, should a server ever echo it.
    private func redact(_ text: String) -> String {
        text.replacingOccurrences(of: credentials.apiKey.revealed, with: "<redacted>")
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return .milliseconds(Int64(max(0, seconds) * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
    }

    static func escape(_ text: String) -> String {
        // RFC 3986's unreserved characters stay, every other UTF-8 byte is %XX (by hand: Foundation's
        // encoder was 4% of a full pass's CPU, the `in` filters' ids).
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Values a filter compares with.
enum FilterValue {
    case string(String), bool(Bool), strings([String])

    var json: String {
        switch self {
        case .string(let value):
            var out: [UInt8] = []
            Self.appendQuoted(value, to: &out)
            return String(decoding: out, as: UTF8.self)
        case .bool(let value): return value ? "true" : "false"
        case .strings(let values):
            var out: [UInt8] = [UInt8(ascii: "[")]
            out.reserveCapacity(values.count * 27 + 2)
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendQuoted(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// `text` as a JSON string, byte for byte as JSONEncoder writes it (`/` escaped too), by
    /// hand: a JSONEncoder an id was 4% of a full pass's CPU (the `in` filters' ids).
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)  // lower case, as JSONEncoder; `escape`'s %XX is upper
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out += [UInt8(ascii: "\\"), byte]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

protocol FilterValueConvertible { var filterValue: FilterValue { get } }
extension String: FilterValueConvertible { var filterValue: FilterValue { .string(self) } }
extension Bool: FilterValueConvertible { var filterValue: FilterValue { .bool(self) } }
extension Array: FilterValueConvertible where Element == String { var filterValue: FilterValue { .strings(self) } }
