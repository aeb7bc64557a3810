import Logging
import Synchronization

/// A faithful simulator of the OZmap REST API v2 (see docs/SIMULATOR.md), served over
/// HTTP/1.1 on loopback, with a control API and in-process controls for tests.
public final class OZmapSimulator: Sendable {
    public let configuration: SimulatorConfiguration
    let engine: SimulatorEngine
    private let server: HTTPServer
    private let address = Mutex<(host: String, port: Int)>((host: "127.0.0.1", port: 0))

    /// Generates (or loads from `seedFile`) the network. Throws on an invalid configuration.
    public init(configuration: SimulatorConfiguration, logger: Logger) throws {
        self.configuration = configuration
        engine = try SimulatorEngine(configuration: configuration, logger: logger)
        server = HTTPServer(engine: engine)
    }

    /// The same, logging nothing (for tests, which need not depend on swift-log).
    public convenience init(configuration: SimulatorConfiguration) throws {
        try self.init(configuration: configuration, logger: Logger(label: "ozmap-sim", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Binds an HTTP/1.1 server on host:port (port 0 = ephemeral); returns the bound port.
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws -> Int {
        let bound = try await server.start(host: host, port: port)
        address.withLock { $0 = (host: host, port: bound) }
        engine.logger.info("listening", metadata: ["url": "\(baseURL)"])
        return bound
    }

    /// The bound port (0 before `start`).
    public var port: Int {
        address.withLock { $0.port }
    }

    /// `http://127.0.0.1:<port>/api/v2`
    public var baseURL: String {
        let (host, port) = address.withLock { ($0.host, $0.port) }
        let shownHost: String
        switch host {
        case "0.0.0.0", "": shownHost = "127.0.0.1"
        case "::": shownHost = "[::1]"
        default: shownHost = host.contains(":") ? "[\(host)]" : host
        }
        return "http://\(shownHost):\(port)" + SimulatorEngine.apiPrefix
    }

    /// Stops listening and closes every connection.
    public func stop() async throws {
        try await server.stop()
    }

    /// Refuses connections (and closes open ones), as an OZmap that is down or
    /// unreachable; `resumeListening` serves again on the same port.
    public func stopListening() async {
        await server.suspend()
    }

    /// Listens again on the port of the last `start`.
    public func resumeListening() async throws {
        let (host, port) = address.withLock { ($0.host, $0.port) }
        _ = try await server.start(host: host, port: port)
    }

    // MARK: faults and request log

    /// Replaces the current faults (`.none` clears them).
    public func setFaults(_ faults: SimulatorFaults) {
        engine.faults.set(faults)
    }

    public var faults: SimulatorFaults {
        engine.faults.faults
    }

    /// Every API request received, oldest first (test aid: it holds the API key in clear).
    public func requestLog() -> [LoggedRequest] {
        engine.requestLog.entries
    }

    /// API requests received and still held by a latency fault, oldest first.
    public func heldRequests() -> [HeldRequest] {
        engine.requestLog.held
    }

    public func clearRequestLog() {
        engine.requestLog.clear()
    }

    // MARK: settings

    /// Accept (true, the default) or refuse with 400 the SDK-only request forms, as a
    /// stricter server would: see `SimulatorConfiguration.sdkForms`.
    public func setSDKForms(_ accepted: Bool) {
        engine.sdkForms.store(accepted, ordering: .relaxed)
    }

    public var sdkForms: Bool {
        engine.sdkForms.load(ordering: .relaxed)
    }

    // MARK: changes made "in the OZmap UI"

    /// Renames a box; its `updatedAt` moves.
    public func renameBox(id: String, to name: String) throws {
        try engine.withNetwork { try $0.renameBox(id: id, to: name) }
    }

    /// Re-points the `olt`/`slot`/`pon` of the box's splitters at another OLT; their `updatedAt` moves.
    public func moveBox(id: String, toOLT oltID: String) throws {
        try engine.withNetwork { try $0.moveBox(id: id, toOLT: oltID) }
    }

    /// Removes the OLT trace of the box's splitters: the box is no longer connected.
    public func disconnectBox(id: String) throws {
        try engine.withNetwork { try $0.moveBox(id: id, toOLT: nil) }
    }

    /// Removes the box, its splitters and its properties (their clients stay).
    public func deleteBox(id: String) throws {
        try engine.withNetwork { try $0.deleteBox(id: id) }
    }

    /// Removes a splitter; properties connected to it lose that connection.
    public func deleteSplitter(id: String) throws {
        try engine.withNetwork { try $0.deleteSplitter(id: id) }
    }

    /// Adds a box with free ports, traced to `oltID` when given; returns its id.
    @discardableResult
    public func addBox(name: String, toOLT oltID: String?, lat: Double? = nil, lng: Double? = nil) throws -> String {
        let outputs = configuration.splitterOutputs
        let box = try engine.withNetwork {
            try $0.addBox(name: name, oltID: oltID, lat: lat, lng: lng, splitterOutputs: outputs)
        }
        return box["id"]?.string ?? ""
    }

    /// Counts and every object, for assertions.
    public func snapshot() -> SimulatorSnapshot {
        engine.readNetwork { SimulatorSnapshot($0) }
    }
}
