import Foundation
import Synchronization

/// One API request the simulator received, for test assertions. It keeps the
/// `Authorization` header in clear: the log is a test aid, never something to expose.
public struct LoggedRequest: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Applied and answered.
        case answered
        /// Answered with an injected fault status; not applied.
        case faulted
        /// Applied, but the connection was closed without a reply.
        case dropped
    }

    /// 1, 2, 3... in order of handling.
    public var sequence: Int
    public var receivedAt: Date
    public var method: String
    /// The path as received, without the query string (still percent-encoded).
    public var path: String
    /// The raw query string, if any.
    public var query: String?
    /// The decoded query parameters (the last value wins).
    public var queryParameters: [String: String]
    public var headers: [HTTPHeaderField]
    /// The `Authorization` header exactly as sent, nil when absent.
    public var authorization: String?
    /// The body as UTF-8 text.
    public var body: String
    /// The status answered (or that would have been, when the reply was dropped).
    public var status: Int
    public var outcome: Outcome

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body parsed as JSON, when it is JSON.
    public var bodyJSON: SimulatorJSON? {
        body.isEmpty ? nil : try? SimulatorJSON.parse(body)
    }

    var json: SimulatorJSON {
        [
            "sequence": .int(sequence),
            "receivedAt": .string(ISOTime.format(milliseconds: Int64(receivedAt.timeIntervalSince1970 * 1000))),
            "method": .string(method),
            "path": .string(path),
            "query": .optionalString(query),
            "queryParameters": .object(queryParameters.mapValues { .string($0) }),
            "headers": .array(headers.map { ["name": .string($0.name), "value": .string($0.value)] }),
            "authorization": .optionalString(authorization),
            "body": .string(body),
            "status": .int(status),
            "outcome": .string(outcome.rawValue),
        ]
    }
}

/// The bounded, thread-safe request log.
final class RequestLogStore: Sendable {
    private struct State: Sendable {
        var entries: [LoggedRequest] = []
        var nextSequence = 1
        /// Requests received and not answered yet because a fault holds them (latency).
        var held: [Int: HeldRequest] = [:]
        var nextHold = 0
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    func record(_ request: APIRequest, status: Int, outcome: LoggedRequest.Outcome) {
        let parameters = (try? QueryParameters(rawQuery: request.rawQuery))?.pairs ?? []
        let queryParameters = Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        state.withLock { state in
            let entry = LoggedRequest(
                sequence: state.nextSequence, receivedAt: request.receivedAt, method: request.method,
                path: request.path, query: request.rawQuery, queryParameters: queryParameters,
                headers: request.headers, authorization: request.header("Authorization"),
                body: String(decoding: request.body, as: UTF8.self), status: status, outcome: outcome)
            state.nextSequence += 1
            guard limit > 0 else { return }
            state.entries.append(entry)
            // Trim in chunks so that a full log does not shift the whole array on every request.
            if state.entries.count > limit + limit / 10 {
                state.entries.removeFirst(state.entries.count - limit)
            }
        }
    }

    var entries: [LoggedRequest] {
        state.withLock { state in
            Array(state.entries.suffix(limit))
        }
    }

    func clear() {
        state.withLock { $0.entries.removeAll() }
    }

    /// Notes a request that a latency fault holds; `release` with the answer's token.
    func hold(_ request: APIRequest) -> Int {
        let held = HeldRequest(
            receivedAt: request.receivedAt, method: request.method, path: request.path,
            body: String(decoding: request.body, as: UTF8.self))
        return state.withLock { state in
            state.nextHold += 1
            state.held[state.nextHold] = held
            return state.nextHold
        }
    }

    func release(_ token: Int) {
        _ = state.withLock { $0.held.removeValue(forKey: token) }
    }

    var held: [HeldRequest] {
        state.withLock { $0.held.values.sorted { $0.receivedAt < $1.receivedAt } }
    }
}

/// A request the simulator has received but not yet applied or answered (a latency fault
/// holds it): lets a test act while OZmap is known to have a request in its hands.
public struct HeldRequest: Sendable, Equatable {
    public var receivedAt: Date
    public var method: String
    public var path: String
    public var body: String
}
