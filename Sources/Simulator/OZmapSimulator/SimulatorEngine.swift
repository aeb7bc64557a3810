import Foundation
import Logging
import Synchronization

/// The simulator minus the network socket: the state behind its lock, the faults, the
/// request log, and the dispatch of a request to the API or the control routes.
final class SimulatorEngine: Sendable {
    let configuration: SimulatorConfiguration
    let logger: Logger
    let faults = FaultInjector()
    let requestLog: RequestLogStore
    /// See `SimulatorConfiguration.sdkForms`; read once per request, before the network lock.
    let sdkForms: Atomic<Bool>
    private let network: Mutex<Network>

    static let apiPrefix = "/api/v2"
    static let controlPrefix = "/__sim"

    init(configuration: SimulatorConfiguration, logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        requestLog = RequestLogStore(limit: configuration.requestLogLimit)
        sdkForms = Atomic(configuration.sdkForms)
        let started = ContinuousClock.now
        let network: Network
        if let seedFile = configuration.seedFile {
            network = try SeedFileLoader.load(path: seedFile, configuration: configuration)
        } else {
            network = NetworkGenerator.generate(configuration)
        }
        logger.info(
            "network ready",
            metadata: [
                "olts": "\(network.olts.count)", "boxes": "\(network.boxes.count)",
                "splitters": "\(network.splitters.count)", "clients": "\(network.clients.count)",
                "elapsed": "\(ContinuousClock.now - started)",
            ])
        self.network = Mutex(network)
    }

    /// Runs `body` with exclusive access to the network.
    func withNetwork<Result: Sendable>(_ body: (inout Network) throws -> Result) throws -> Result {
        try network.withLock { network in try body(&network) }
    }

    /// Read-only access, for callers that cannot fail.
    func readNetwork<Result: Sendable>(_ body: (Network) -> Result) -> Result {
        network.withLock { network in body(network) }
    }

    // MARK: dispatch

    /// How the HTTP layer must handle a request.
    enum Admission: Sendable {
        /// Answer at once (control API, unknown prefixes).
        case immediate(APIResponse)
        /// An API request: wait the latency, then `complete(_:verdict:)`.
        case api(FaultDecision)
    }

    /// The result of an API request.
    enum Completion: Sendable {
        case respond(APIResponse)
        /// The request was applied; close the connection without a reply.
        case dropReply
    }

    func admit(_ request: APIRequest) -> Admission {
        if let relative = Self.relativePath(request.path, under: Self.apiPrefix) {
            return .api(faults.decide(method: request.method, relativePath: relative))
        }
        if Self.relativePath(request.path, under: Self.controlPrefix) != nil {
            return .immediate(handleControl(request))
        }
        return .immediate(.error(status: 404, "Cannot \(request.method) \(request.path)"))
    }

    func complete(_ request: APIRequest, verdict: FaultDecision.Verdict) -> Completion {
        switch verdict {
        case .reject(let response):
            requestLog.record(request, status: response.status, outcome: .faulted)
            return .respond(response)
        case .apply(let dropReply):
            let response = handleAPI(request)
            requestLog.record(request, status: response.status, outcome: dropReply ? .dropped : .answered)
            return dropReply ? .dropReply : .respond(response)
        }
    }

    /// `/api/v2/boxes/1` under `/api/v2` is `boxes/1`; nil when the path is not under the prefix.
    static func relativePath(_ path: String, under prefix: String) -> String? {
        guard path == prefix || path.hasPrefix(prefix + "/") else { return nil }
        var rest = path.dropFirst(prefix.count)
        while rest.hasPrefix("/") { rest = rest.dropFirst() }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        return String(rest)
    }

    /// Converts thrown errors into JSON error responses.
    static func answering(_ body: () throws -> APIResponse) -> APIResponse {
        do {
            return try body()
        } catch let error as SimulatorError {
            return .error(error)
        } catch {
            return .error(status: 500, "internal simulator error: \(error)")
        }
    }
}
