// `make bench-scale NETWORK=N` (`ozmap-bench scale --boxes N`): ozmapd's initial load of an
// N-box network against the transfer floor, its peak RSS, an incremental pass, lookups and a
// restart (docs/PERFORMANCE.md, "A network at scale").
import Foundation
import FoundationNetworking
import Logging
import OZmapClient
import OZmapDomain
import OZmapStore
import OZmapTestSupport

enum ScaleBenchmark {
    static let apiKey = "bench-scale-key"

    struct Settings {
        var boxes = 10_000
        var olts = 20
        var concurrency = 4
        var changed = 100
        /// Initial loads and floors timed in turn; the figures are their medians (one pair
        /// moves ±0.25 in ratio with how busy the machine's cores are).
        var rounds = 3
        /// Where the result line is appended (the chart's data), when given.
        var results: String?

        init(arguments: [String]) throws {
            var rest = arguments[...]
            while let flag = rest.popFirst() {
                guard let value = rest.popFirst() else { throw BenchmarkFailure("\(flag) needs a value") }
                switch flag {
                case "--boxes": boxes = try Self.number(flag, value)
                case "--olts": olts = try Self.number(flag, value)
                case "--concurrency": concurrency = try Self.number(flag, value)
                case "--changed": changed = try Self.number(flag, value)
                case "--rounds": rounds = try Self.number(flag, value)
                case "--results": results = value
                default: throw BenchmarkFailure("unknown option \(flag) (--boxes, --olts, --concurrency, --changed, --rounds, --results)")
                }
            }
        }

        private static func number(_ name: String, _ value: String) throws -> Int {
            guard let number = Int(value), number > 0 else { throw BenchmarkFailure("\(name) takes a positive whole number") }
            return number
        }
    }

    static func run(arguments: [String]) async throws -> Bool {
        let settings = try Settings(arguments: arguments)
        let directory = try makeTemporaryDirectory(prefix: "ozmap-bench-scale")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        for product in ["ozmap-sim", "ozmapd"] where !FileManager.default.isExecutableFile(atPath: binDirectory + "/" + product) {
            throw BenchmarkFailure("no \(product) beside ozmap-bench (\(binDirectory)): swift build -c release --product \(product)")
        }
        print("== ozmap-bench scale: \(settings.boxes) boxes on \(settings.olts) OLTs, ozmap_concurrency \(settings.concurrency); load average \(loadAverage())")

        // The simulator, in a process of its own.
        let (simulator, apiURL, http, generation) = try await startSimulator(binDirectory: binDirectory, apiKey: apiKey, directory: directory, [
            "--olts", "\(settings.olts)", "--boxes", "\(settings.boxes)",
        ])
        defer { if simulator.process.isRunning { simulator.signal(SIGTERM) } }
        let root = http.root
        let simulatorPID = simulator.process.processIdentifier
        let simulatorRSS = try residentBytes(simulatorPID)
        print(String(format: "simulator ready in %.1f s, RSS %.0f MiB", seconds(generation), Double(simulatorRSS) / 1_048_576))

        // ozmapd, a process of its own (its RSS is its own), timed syncs far away.
        let socket = directory + "/ozmapd.sock"
        let state = directory + "/state"
        let environment = ["OZMAPD_SYNC_INTERVAL_S": "86400", "OZMAPD_OZMAP_CONCURRENCY": "\(settings.concurrency)",
                           "OZMAPD_LOG_LEVEL": "info", "OZMAPD_OZMAP_TIMEOUT_MS": "120000"]
        func startDaemon(socket: String = socket, state: String = state) throws -> ChildProcess {
            try ChildProcess(binDirectory + "/ozmapd", ["--socket", socket, "--state-dir", state], environment: environment, directory: directory)
        }
        /// The initial load: credentials set (they start a full pass), joined until it ends.
        func initialLoad(_ client: OZmapIntegrationConnection) async throws -> (report: SyncReport, time: Duration, simulatorCPU: Double) {
            try await http.clearRequestLog()
            let simulatorBefore = try cpuSeconds(simulatorPID)
            let start = ContinuousClock.now
            _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: apiURL, apiKey: apiKey))
            guard let report = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: .timeout(.seconds(7_200))).report else {
                throw BenchmarkFailure("SyncBoxes answered no report")
            }
            let time = ContinuousClock.now - start
            guard report.error.isEmpty else { throw BenchmarkFailure("the initial load failed: \(report.error)") }
            return (report, time, try cpuSeconds(simulatorPID) - simulatorBefore)
        }
        var daemon = try startDaemon()
        var client = try await connect(socket, daemon)

        let (load, firstLoadTime, firstLoadSimulatorCPU) = try await initialLoad(client)
        let pass = try await passRequests(http)
        /// The floor, with the CPU the simulator and this plain client spent on it.
        func measuredFloor() async throws -> (elapsed: Duration, bytes: Int, simulatorCPU: Double, clientCPU: Double) {
            let (simulatorBefore, clientBefore) = (try cpuSeconds(simulatorPID), try cpuSeconds(getpid()))
            let (elapsed, bytes) = try await transferFloor(root: root, paths: pass, concurrency: settings.concurrency)
            return (elapsed, bytes, try cpuSeconds(simulatorPID) - simulatorBefore, try cpuSeconds(getpid()) - clientBefore)
        }
        let peakAfterLoad = try peakResidentBytes(daemon.process.processIdentifier)
        // ozmapd's own CPU for the load (it started idle): what the load ratio is made of on a busy machine.
        let firstLoadCPU = try cpuSeconds(daemon.process.processIdentifier)

        // The transfer floor: the same list requests, fetched by a plain client as many at once, same run.
        let firstFloor = try await measuredFloor()

        // An incremental pass after `changed` boxes were renamed.
        let boxes = try await client.rpc.listBoxes(ListBoxesRequest(pageSize: UInt32(settings.changed))).boxes
        for box in boxes {
            let body = try JSONSerialization.data(withJSONObject: ["name": box.name + "-R"])
            let (status, _) = try await http.send("POST", "/__sim/boxes/\(box.id)/rename", json: body)
            guard status == 200 || status == 204 else { throw BenchmarkFailure("rename answered \(status)") }
        }
        let incrementalStart = ContinuousClock.now
        guard let incremental = try await client.rpc.syncBoxes(SyncBoxesRequest(full: false, wait: true), options: .timeout(.seconds(600))).report else {
            throw BenchmarkFailure("SyncBoxes answered no report")
        }
        let incrementalTime = ContinuousClock.now - incrementalStart
        guard incremental.error.isEmpty, incremental.boxesUpdated == UInt32(boxes.count) else {
            throw BenchmarkFailure("the incremental pass: \(incremental.error), \(incremental.boxesUpdated) of \(boxes.count) boxes updated")
        }
        let peakAfterIncremental = try peakResidentBytes(daemon.process.processIdentifier)

        // A full pass again, over the cache it replaces: both snapshots live until the swap.
        let refullStart = ContinuousClock.now
        guard let refull = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: .timeout(.seconds(7_200))).report,
              refull.error.isEmpty else {
            throw BenchmarkFailure("the second full pass failed")
        }
        let refullTime = ContinuousClock.now - refullStart
        let peak = try peakResidentBytes(daemon.process.processIdentifier)

        // Over the socket: GetBox by name against GetStatus (a call doing no work), same run.
        let names = try await client.rpc.listBoxes(ListBoxesRequest(pageSize: 200)).boxes.map(\.name)
        let socketGetBox = try await timed(400) { _ = try await client.rpc.getBox(GetBoxRequest(name: names[$0 % names.count])) }
        let socketStatus = try await timed(400) { _ in _ = try await client.rpc.getStatus(GetStatusRequest()) }

        // Restart: until ListBoxes answers rows from the cache on disk.
        await client.close()
        daemon.signal(SIGTERM)
        guard try await daemon.exitStatus(timeout: .seconds(60)) == 0 else { throw BenchmarkFailure("ozmapd did not stop cleanly: \(daemon.errorOutput)") }
        let restartStart = ContinuousClock.now
        daemon = try startDaemon()
        client = try await connect(socket, daemon) { client in
            ((try? await client.rpc.listBoxes(ListBoxesRequest(pageSize: 1)))?.boxes.count ?? 0) > 0
        }
        let restart = ContinuousClock.now - restartStart
        await client.close()
        daemon.signal(SIGTERM)
        _ = try await daemon.exitStatus(timeout: .seconds(60))

        // More rounds of load and floor, each pair timed back to back, the floor first in every
        // other one: a fresh ozmapd with an empty state directory loads the network each time.
        var rounds = [Round(load: firstLoadTime, floor: firstFloor.elapsed, cpu: firstLoadCPU, peak: peakAfterLoad,
                            loadSimulatorCPU: firstLoadSimulatorCPU, floorSimulatorCPU: firstFloor.simulatorCPU, floorClientCPU: firstFloor.clientCPU)]
        for round in stride(from: 2, through: settings.rounds, by: 1) {
            let floorFirst = round % 2 == 0
            let floorBefore = floorFirst ? try await measuredFloor() : nil
            let roundState = directory + "/state-\(round)", roundSocket = directory + "/ozmapd-\(round).sock"
            let roundDaemon = try startDaemon(socket: roundSocket, state: roundState)
            let roundClient = try await connect(roundSocket, roundDaemon)
            let (roundLoad, roundTime, roundSimulatorCPU) = try await initialLoad(roundClient)
            guard roundLoad.boxes == load.boxes else { throw BenchmarkFailure("round \(round) loaded \(roundLoad.boxes) boxes, round 1 \(load.boxes)") }
            let cpu = try cpuSeconds(roundDaemon.process.processIdentifier)
            let roundPeak = try peakResidentBytes(roundDaemon.process.processIdentifier)
            await roundClient.close()
            roundDaemon.signal(SIGTERM)
            _ = try await roundDaemon.exitStatus(timeout: .seconds(60))
            try? FileManager.default.removeItem(atPath: roundState)
            let floorAfter = floorFirst ? nil : try await measuredFloor()
            let roundFloor = (floorBefore ?? floorAfter)!
            rounds.append(Round(load: roundTime, floor: roundFloor.elapsed, cpu: cpu, peak: roundPeak, loadSimulatorCPU: roundSimulatorCPU,
                                floorSimulatorCPU: roundFloor.simulatorCPU, floorClientCPU: roundFloor.clientCPU))
        }
        func median<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        let loadTime = median(rounds.map(\.load)), floorTime = median(rounds.map(\.floor)), loadCPU = median(rounds.map(\.cpu))
        let ratios = rounds.map { seconds($0.load) / seconds($0.floor) }
        let ratio = median(ratios)

        // Lookups in process, on the cache as ozmapd loads it from its state directory.
        let database = try StateDatabase(stateDirectory: state)
        let cache = BoxCache()
        let (readStart, rssBefore) = (ContinuousClock.now, try residentBytes(getpid()))
        let stored = try database.loadBoxes()
        let (indexStart, rssBoxes) = (ContinuousClock.now, try residentBytes(getpid()))
        cache.replace(with: BoxCacheSnapshot(boxes: stored), loaded: true)
        let (read, index) = (indexStart - readStart, ContinuousClock.now - indexStart)
        let rssIndexed = try residentBytes(getpid())
        let snapshot = cache.snapshot
        let sample = (0..<2_000).map { _ in snapshot.boxesByID.values.randomElement()! }
        let resolver = CTOResolver(cache: cache)
        let byName = try await timed(sample.count) { _ = snapshot.boxes(named: sample[$0].name) }
        let cto = try await timed(sample.count) { _ = try resolver.resolve(sample[$0].name, oltID: sample[$0].oltID, oltName: "") }
        let prefix = try await timed(sample.count) {
            let name = CachedBox.normalize(sample[$0].name)
            _ = snapshot.boxes(oltID: nil, query: String(name.prefix(name.count - 1)), match: .prefix)
        }

        func ms(_ duration: Duration) -> String { String(format: "%.1f", seconds(duration) * 1000) }
        func mib(_ bytes: Int) -> String { String(format: "%.0f", Double(bytes) / 1_048_576) }
        func us(_ duration: Duration) -> String { String(format: "%.1f", seconds(duration) * 1e6) }
        func list<T>(_ values: [T], _ format: (T) -> String) -> String { values.map(format).joined(separator: " / ") }
        func s1(_ value: Double) -> String { String(format: "%.1f", value) }
        print("""
            initial load:   \(load.boxes) boxes, \(load.ozmapRequests) requests (simulator log \(pass.count)); \
            \(rounds.count) rounds: \(list(rounds) { s1(seconds($0.load)) }) s, ozmapd CPU \(list(rounds) { s1($0.cpu) }) s, \
            simulator CPU \(list(rounds) { s1($0.loadSimulatorCPU) }) s
            transfer floor: the same \(pass.count) requests, \(settings.concurrency) at a time, plain client, \(mib(firstFloor.bytes)) MiB: \
            \(list(rounds) { s1(seconds($0.floor)) }) s, simulator CPU \(list(rounds) { s1($0.floorSimulatorCPU) }) s, \
            plain client CPU \(list(rounds) { s1($0.floorClientCPU) }) s
            load/floor:     \(list(ratios) { String(format: "×%.2f", $0) }) → median ×\(String(format: "%.2f", ratio)) \
            (median load \(s1(seconds(loadTime))) s, floor \(s1(seconds(floorTime))) s)
            ozmapd peak RSS: \(list(rounds) { mib($0.peak) }) MiB after each round's load, \(mib(peakAfterIncremental)) MiB after the incremental pass, \
            \(mib(peak)) MiB after a second full pass (\(String(format: "%.1f", seconds(refullTime))) s, \(refull.boxesUpdated) boxes updated)
            incremental:    \(incremental.boxesUpdated) boxes renamed, \(ms(incrementalTime)) ms, \(incremental.ozmapRequests) requests
            in process (p50 / p99 µs): GetBox by name \(us(byName.p50)) / \(us(byName.p99)), CTO resolution \(us(cto.p50)) / \(us(cto.p99)), \
            ListBoxes prefix \(us(prefix.p50)) / \(us(prefix.p99))
            over the socket (p50 µs): GetBox by name \(us(socketGetBox.p50)), GetStatus \(us(socketStatus.p50)) (×\(String(format: "%.2f", seconds(socketGetBox.p50) / seconds(socketStatus.p50))))
            restart to the first ListBoxes rows: \(ms(restart)) ms (in process: the boxes read from SQLite \(ms(read)) ms, \
            +\((rssBoxes - rssBefore) / max(1, stored.count)) bytes a box resident; indexed \(ms(index)) ms, +\((rssIndexed - rssBoxes) / max(1, stored.count)) bytes a box)
            load average after: \(loadAverage())
            """)
        let line = [
            "boxes=\(load.boxes)", "load_s=\(String(format: "%.2f", seconds(loadTime)))", "floor_s=\(String(format: "%.2f", seconds(floorTime)))",
            "ratio=\(String(format: "%.2f", ratio))", "rounds=\(rounds.count)", "ratios=\(list(ratios) { String(format: "%.2f", $0) }.replacingOccurrences(of: " ", with: ""))", "load_cpu_s=\(String(format: "%.1f", loadCPU))",
            "load_simulator_cpu_s=\(String(format: "%.1f", median(rounds.map(\.loadSimulatorCPU))))",
            "floor_simulator_cpu_s=\(String(format: "%.1f", median(rounds.map(\.floorSimulatorCPU))))",
            "floor_client_cpu_s=\(String(format: "%.1f", median(rounds.map(\.floorClientCPU))))", "requests=\(load.ozmapRequests)", "peak_rss_mib=\(mib(peak))", "peak_first_rss_mib=\(mib(peakAfterIncremental))", "refull_s=\(String(format: "%.1f", seconds(refullTime)))",
            "incremental_ms=\(ms(incrementalTime))", "incremental_requests=\(incremental.ozmapRequests)",
            "getbox_us=\(us(byName.p50))", "cto_us=\(us(cto.p50))", "prefix_us=\(us(prefix.p50))", "restart_ms=\(ms(restart))", "restart_read_ms=\(ms(read))", "restart_index_ms=\(ms(index))",
            "simulator_ready_s=\(String(format: "%.1f", seconds(generation)))", "simulator_rss_mib=\(mib(simulatorRSS))",
            "loadavg=\(loadAverage().split(separator: " ").first ?? "")",
        ].joined(separator: " ")
        print("scale-result " + line)
        if let results = settings.results {
            if !FileManager.default.fileExists(atPath: results) {
                guard FileManager.default.createFile(atPath: results, contents: nil) else { throw BenchmarkFailure("cannot create \(results)") }
            }
            guard let handle = FileHandle(forWritingAtPath: results) else { throw BenchmarkFailure("cannot write \(results)") }
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try handle.close()
        }
        return true
    }

    /// Connects once ozmapd answers (and `ready` holds), with a deadline.
    static func connect(_ socket: String, _ daemon: ChildProcess,
                        ready: @escaping (OZmapIntegrationConnection) async -> Bool = { _ in true }) async throws -> OZmapIntegrationConnection {
        var connected: OZmapIntegrationConnection?
        try await waitUntil("ozmapd answers on \(socket)", timeout: .seconds(120)) {
            guard daemon.process.isRunning else { throw BenchmarkFailure("ozmapd exited: \(daemon.errorOutput)") }
            guard let client = try? await OZmapIntegrationConnection.connect(socketPath: socket) else { return false }
            if await ready(client) { connected = client; return true }
            await client.close()
            return false
        }
        return connected!
    }

    /// The paths (with their queries) of the list requests the pass sent, from the simulator's log.
    static func passRequests(_ http: SimulatorHTTP) async throws -> [String] {
        let log = try await http.control("requests")
        let entries = log["requests"] as? [[String: Any]] ?? []
        return entries.compactMap { entry in
            guard entry["method"] as? String == "GET", let path = entry["path"] as? String,
                  path.hasSuffix("/splitters") || path.hasSuffix("/boxes") else { return nil }
            return (entry["query"] as? String).map { path + "?" + $0 } ?? path
        }
    }

    /// One load and its floor: times, the CPU of ozmapd, of the simulator and of the plain client, ozmapd's peak RSS.
    struct Round {
        var load: Duration
        var floor: Duration
        var cpu: Double
        var peak: Int
        var loadSimulatorCPU: Double
        var floorSimulatorCPU: Double
        var floorClientCPU: Double
    }

    /// Fetches every path with `concurrency` requests in flight, reading each body and nothing more.
    static func transferFloor(root: String, paths: [String], concurrency: Int) async throws -> (elapsed: Duration, bytes: Int) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = concurrency
        let session = URLSession(configuration: configuration)
        let start = ContinuousClock.now
        let bytes = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<concurrency {
                group.addTask {
                    var read = 0
                    for index in stride(from: lane, to: paths.count, by: concurrency) {
                        guard let url = URL(string: root + paths[index]) else { throw BenchmarkFailure("bad URL \(paths[index])") }
                        var request = URLRequest(url: url)
                        request.setValue(apiKey, forHTTPHeaderField: "Authorization")
                        let (data, response) = try await session.data(for: request)
                        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw BenchmarkFailure("the floor's GET \(paths[index]) failed") }
                        read += data.count
                    }
                    return read
                }
            }
            return try await group.reduce(0, +)
        }
        return (ContinuousClock.now - start, bytes)
    }

    /// p50 and p99 of `count` runs of `body`.
    static func timed(_ count: Int, _ body: (Int) async throws -> Void) async throws -> (p50: Duration, p99: Duration) {
        var samples: [Duration] = []
        samples.reserveCapacity(count)
        for index in 0..<count {
            let start = ContinuousClock.now
            try await body(index)
            samples.append(ContinuousClock.now - start)
        }
        return percentiles(samples)
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }
}
