import Foundation
import Logging
import NIOConcurrencyHelpers
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapWire
import OZmapSimulator
import OZmapTestSupport
import ServiceLifecycle
import Testing

let simulatorKey = "sim-key-4f1c2a9e7b"

// The generated response envelope (ArcholtOZmapV1, which OZmapClient exports), for the tests of raw payloads.
typealias ResponseEnvelope = ArcholtOZmapV1.ResponseEnvelope

/// Every log line, kept in memory so tests can search them.
final class LogCapture: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var all: [String] { lines.withLockedValue { $0 } }

    func logger(label: String = "ozmapd") -> Logger {
        var logger = Logger(label: label) { label in CapturingHandler(label: label, capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) {
        lines.withLockedValue { $0.append(line) }
    }
}

private struct CapturingHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append("\(event.level) \(event.message) \(merged.map { "\($0)=\($1)" }.sorted().joined(separator: " "))")
    }
}

/// The simulator and an in-process ozmapd (its real socket, database and libcurl adapter) pointed at it.
final class TestRig: Sendable {
    let directory: String
    let simulator: OZmapSimulator
    let logs = LogCapture()
    private let daemonState = NIOLockedValueBox<(group: ServiceGroup, task: Task<Void, any Error>, daemon: Daemon)?>(nil)

    /// `occupied`: the share of customer ports the generated network fills with clients
    /// (fewer clients make the simulator's lookups by client code cheaper).
    init(boxes: Int = 300, olts: Int = 2, occupied: Double = 0.4, directory: String? = nil) async throws {
        self.directory = try directory ?? makeTemporaryDirectory(prefix: "ozmapd-it")
        var configuration = SimulatorConfiguration(apiKey: simulatorKey)
        configuration.boxes = boxes
        configuration.olts = olts
        configuration.occupiedPortRatio = occupied
        simulator = try OZmapSimulator(configuration: configuration, logger: Logger(label: "ozmap-sim"))
        _ = try await simulator.start()
    }

    var socketPath: String { directory + "/ozmapd.sock" }
    var stateDirectory: String { directory + "/state" }

    var daemon: Daemon {
        get throws {
            guard let state = daemonState.withLockedValue({ $0 }) else { throw GRPCCore.RPCError(code: .failedPrecondition, message: "ozmapd is not running") }
            return state.daemon
        }
    }

    /// Starts ozmapd on the rig's state directory; timed syncs are left far in the future.
    func startDaemon(configure: (inout DaemonConfiguration) -> Void = { _ in }) async throws {
        var configuration = DaemonConfiguration()
        configuration.socketPath = socketPath
        configuration.stateDirectory = stateDirectory
        configuration.syncIntervalSeconds = 86_400
        configuration.ozmapConnectTimeoutMs = 2_000
        configuration.ozmapTimeoutMs = 3_000
        configuration.outboxBackoffBaseMs = 20
        configuration.outboxBackoffCapMs = 300
        configure(&configuration)
        let daemon = try Daemon(configuration: configuration, logger: logs.logger())
        let group = ServiceGroup(services: daemon.services, logger: logs.logger(label: "lifecycle"))
        let task = Task { try await group.run() }
        daemonState.withLockedValue { $0 = (group, task, daemon) }
        try await daemon.server.waitUntilListening()
    }

    func stopDaemon() async throws {
        guard let state = daemonState.withLockedValue({ current in defer { current = nil }; return current }) else { return }
        await state.group.triggerGracefulShutdown()
        try await state.task.value
    }

    /// The generated client on a connection of its own.
    func client() async throws -> OZmapIntegrationConnection {
        try await OZmapIntegrationConnection.connect(socketPath: socketPath)
    }

    /// Sets the simulator's credentials and waits for the initial full load.
    func connect(_ client: OZmapIntegrationConnection, timeout: Duration = .seconds(60)) async throws -> SyncReport {
        _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: simulator.baseURL, apiKey: simulatorKey))
        let response = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: .timeout(timeout))
        return try #require(response.report)
    }

    /// Every box of a listing, following page tokens.
    func allBoxes(_ client: OZmapIntegrationConnection, _ request: ListBoxesRequest = ListBoxesRequest(pageSize: 1000)) async throws -> [Box] {
        var request = request
        var boxes: [Box] = []
        repeat {
            let page = try await client.rpc.listBoxes(request)
            boxes += page.boxes
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        return boxes
    }

    func tearDown() async throws {
        try await stopDaemon()
        try await simulator.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// What the cache should hold for a box, read straight from the simulator.
struct ExpectedBox {
    var name: String
    var olt: String
    var lat: Double
    var lng: Double
    var freePorts: UInt32
    var totalPorts: UInt32
}

/// The simulator's boxes tied to an OLT, by id: the truth the cache is compared with.
func connectedBoxes(_ simulator: OZmapSimulator) -> [String: ExpectedBox] {
    let snapshot = simulator.snapshot()
    let splittersByBox = Dictionary(grouping: snapshot.splitters, by: \.box)
    var boxes: [String: ExpectedBox] = [:]
    for box in snapshot.boxes {
        guard let olt = box.connectedOLT else { continue }
        let drops = (splittersByBox[box.id] ?? []).filter(\.isDrop)
        boxes[box.id] = ExpectedBox(name: box.name, olt: olt, lat: box.lat, lng: box.lng,
                                    freePorts: UInt32(drops.reduce(0) { $0 + $1.freePorts.count }),
                                    totalPorts: UInt32(drops.reduce(0) { $0 + $1.outputs.count }))
    }
    return boxes
}
