// `make bench-import` (`ozmap-bench import`): onboarding an existing fleet with ImportONUs
// against a large simulated OZmap, with a baseline measured in the same run (docs/PERFORMANCE.md,
// "Importing the existing fleet").
//
// ozmap-sim runs as a child process (the binary beside this one), ozmapd in process, as in
// `make bench`. Before the import, 40% of the ONUs already exist in OZmap: half filed under
// the ONU's code, half filed by "the ERP" (plain HTTP to the simulator) under a code of its own
// with the ONU's serial, a quarter of those at another box than the row names. The rest are
// created. Then: dry-run, apply, drain, the check of the result in the simulator's state
// (no duplicate, no lost row, each at its CTO), a second apply that must write nothing, and the
// baseline (ProvisionONU one by one against one ImportONUs call, the same number of new ONUs).
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapTestSupport
import ServiceLifecycle

/// The sizes of a run: `ozmap-bench import [--boxes N] [--olts N] [--rows N] [--occupied X] [--baseline N]`.
struct ImportBenchmarkSettings: Sendable {
    var boxes = 20_000
    var olts = 20
    var rows = 10_000
    /// The simulator's own background clients: round(8 × occupied) ports of each box.
    var occupied = 0.125
    /// ONUs of each side of the baseline (ProvisionONU one by one, and one ImportONUs call).
    var baseline = 1_000

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let name = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BenchmarkFailure("\(name) needs a value") }
            switch name {
            case "--boxes": boxes = try Self.number(name, value)
            case "--olts": olts = try Self.number(name, value)
            case "--rows": rows = try Self.number(name, value)
            case "--baseline": baseline = try Self.number(name, value)
            case "--occupied":
                guard let share = Double(value), (0...1).contains(share) else { throw BenchmarkFailure("--occupied takes 0...1") }
                occupied = share
            default: throw BenchmarkFailure("unknown option \(name) (known: --boxes --olts --rows --occupied --baseline)")
            }
        }
        guard rows % 4 == 0, rows >= 40, baseline >= 1, baseline <= Self.batch else {
            throw BenchmarkFailure("--rows must be a multiple of 4 (at least 40), --baseline within 1...\(Self.batch)")
        }
    }

    /// Rows a call: the RPC's limit.
    static let batch = 1_000
    /// Rows whose client exists by code (20%), by serial under the ERP's code (20%, a quarter of those elsewhere).
    var byCode: Range<Int> { 0..<(rows / 5) }
    var bySerial: Range<Int> { (rows / 5)..<(rows * 2 / 5) }
    func isMove(_ row: Int) -> Bool { bySerial.contains(row) && row % 4 == 3 }
    var moves: Int { bySerial.filter(isMove).count }

    private static func number(_ name: String, _ value: String) throws -> Int {
        guard let number = Int(value), number > 0 else { throw BenchmarkFailure("\(name) takes a positive whole number") }
        return number
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Plain HTTP to the simulator: its API as the ERP sends it, and its control API (`/__sim/`).
struct SimulatorHTTP: Sendable {
    let root: String
    let apiKey: String
    let session: URLSession

    init(root: String, apiKey: String) {
        self.root = root
        self.apiKey = apiKey
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 8
        configuration.timeoutIntervalForRequest = 900
        configuration.timeoutIntervalForResource = 1_800
        session = URLSession(configuration: configuration)
    }

    func send(_ method: String, _ path: String, json body: Data? = nil) async throws -> (status: Int, body: Data) {
        guard let url = URL(string: root + path) else { throw BenchmarkFailure("bad URL \(root + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue(apiKey, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let (data, response) = try await session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// `GET /__sim/...` as a JSON object.
    func control(_ path: String) async throws -> [String: Any] {
        let (status, data) = try await send("GET", "/__sim/" + path)
        guard status == 200, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BenchmarkFailure("GET /__sim/\(path) answered \(status)")
        }
        return object
    }

    func clearRequestLog() async throws {
        let (status, _) = try await send("DELETE", "/__sim/requests")
        guard status == 204 else { throw BenchmarkFailure("DELETE /__sim/requests answered \(status)") }
    }

    /// The ERP files a client with its property at the box (auto-connected), as ERPSupport.swift does.
    func fileClient(code: String, serial: String, box: Box) async throws {
        let body = try JSONSerialization.data(withJSONObject: [
            "project": box.project, "box": box.id, "auto_connect": true, "address": "Rua das Flores, 10",
            "client": ["code": code, "name": "Cliente \(code)", "implanted": true, "status": 0,
                       "onu": ["serial_number": serial, "mac_address": "", "user_PPPoE": ""]] as [String: Any],
        ] as [String: Any])
        let (status, answer) = try await send("POST", "/api/v2/properties", json: body)
        guard status == 201 else {
            throw BenchmarkFailure("the ERP's POST properties for \(code) answered \(status): \(String(decoding: answer, as: UTF8.self))")
        }
    }
}

/// ozmap-sim (the binary beside ozmap-bench) in a process of its own, once it listens: the
/// process, its API URL, plain HTTP to it, and how long it took to generate its network.
func startSimulator(binDirectory: String, apiKey: String, directory: String,
                    _ arguments: [String]) async throws -> (ChildProcess, String, SimulatorHTTP, Duration) {
    let simulatorBinary = binDirectory + "/ozmap-sim"
    guard FileManager.default.isExecutableFile(atPath: simulatorBinary) else {
        throw BenchmarkFailure("no ozmap-sim beside ozmap-bench (\(simulatorBinary)): swift build -c release --product ozmap-sim")
    }
    let generationStart = ContinuousClock.now
    let simulator = try ChildProcess(simulatorBinary, ["--port", "0", "--api-key", apiKey, "--log-level", "warning"] + arguments,
                                     directory: directory)
    try await waitUntil("ozmap-sim listens", timeout: .seconds(600)) {
        guard simulator.process.isRunning else { throw BenchmarkFailure("ozmap-sim exited: \(simulator.errorOutput)") }
        return simulator.output.contains("listening on")
    }
    let generation = ContinuousClock.now - generationStart
    guard let listening = simulator.output.split(separator: "\n").first(where: { $0.contains("listening on") }),
          let urlStart = listening.range(of: "http://") else { throw BenchmarkFailure("no URL in: \(simulator.output)") }
    let apiURL = String(listening[urlStart.lowerBound...]).trimmingCharacters(in: .whitespaces)
    return (simulator, apiURL, SimulatorHTTP(root: String(apiURL.dropLast("/api/v2".count)), apiKey: apiKey), generation)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Requests ozmapd has made to OZmap so far (GetStatus): all, and those that write.
func ozmapRequestTotals(_ client: OZmapIntegrationConnection) async throws -> (all: UInt64, writes: UInt64, byRoute: [String: UInt64]) {
    let counts = try await client.rpc.getStatus(GetStatusRequest()).ozmapRequests
    let byRoute = counts.reduce(into: [String: UInt64]()) { $0["\($1.httpMethod) \($1.route)", default: 0] += $1.count }
    return (counts.reduce(0) { $0 + $1.count }, counts.filter { $0.httpMethod != "GET" }.reduce(0) { $0 + $1.count }, byRoute)
}

/// "GET ftth-clients 0.98, POST properties 0.60, ...": requests a row between two GetStatus totals, busiest first.
func perRowByRoute(_ before: [String: UInt64], _ after: [String: UInt64], rows: Int) -> String {
    after.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
        .map { "\($0.0) \(String(format: "%.2f", Double($0.1) / Double(rows)))" }.joined(separator: ", ")
}

/// Polls GetStatus (every 100 ms, no blind sleep) until the outbox has nothing pending; returns operations failed.
func waitForDrain(_ client: OZmapIntegrationConnection, deadline: Duration) async throws -> UInt32 {
    let end = ContinuousClock.now + deadline
    while true {
        let status = try await client.rpc.getStatus(GetStatusRequest())
        if status.operationsPending == 0 { return status.operationsFailed }
        guard ContinuousClock.now < end else {
            throw BenchmarkFailure("the outbox did not drain within \(deadline): \(status.operationsPending) pending")
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// One ONU the run expects in OZmap at the end: one client (by its code, or the ERP's with its serial) at its CTO.
struct ExpectedONU {
    var onuID: String
    var serial: String
    var box: String
}

struct FleetCheck {
    var onus = 0
    var duplicates = 0
    var lost = 0
    var misplaced = 0
    var examples: [String] = []
}

/// Counts, from the simulator's full state, the ONUs with more than one client, none, or one not at its CTO.
func checkFleet(_ expected: [ExpectedONU], state: [String: Any]) -> FleetCheck {
    let clients = state["ftth-clients"] as? [[String: Any]] ?? []
    let properties = state["properties"] as? [[String: Any]] ?? []
    var byCode: [String: [String]] = [:]
    var bySerial: [String: [String]] = [:]
    for client in clients {
        guard let id = client["id"] as? String else { continue }
        if let code = client["code"] as? String { byCode[code, default: []].append(id) }
        if let serial = (client["onu"] as? [String: Any])?["serial_number"] as? String, !serial.isEmpty {
            bySerial[serial.uppercased(), default: []].append(id)
        }
    }
    var boxesOfClient: [String: [String]] = [:]
    for property in properties {
        if let client = property["client"] as? String, let box = property["box"] as? String { boxesOfClient[client, default: []].append(box) }
    }
    var check = FleetCheck()
    for onu in expected {
        check.onus += 1
        let found = Set((byCode[onu.onuID] ?? []) + (bySerial[onu.serial] ?? []))
        if found.isEmpty {
            check.lost += 1
            if check.examples.count < 5 { check.examples.append("\(onu.onuID): no client") }
        } else if found.count > 1 {
            check.duplicates += found.count - 1
            if check.examples.count < 5 { check.examples.append("\(onu.onuID): \(found.count) clients") }
        } else if let id = found.first, boxesOfClient[id] != [onu.box] {
            check.misplaced += 1
            if check.examples.count < 5 { check.examples.append("\(onu.onuID): client \(id) at \(boxesOfClient[id] ?? []), not \(onu.box)") }
        }
    }
    return check
}

enum ImportBenchmark {
    static let apiKey = "bench-key-6d2f0a"

    static func run(arguments: [String]) async throws -> Bool {
        let settings = try ImportBenchmarkSettings(arguments: arguments)
        var logger = Logger(label: "ozmap-bench")
        logger.logLevel = .warning
        let directory = try makeTemporaryDirectory(prefix: "ozmap-bench-import")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path

        // The simulator, in a process of its own.
        let (simulator, apiURL, http, generation) = try await startSimulator(binDirectory: binDirectory, apiKey: apiKey, directory: directory, [
            "--olts", "\(settings.olts)", "--boxes", "\(settings.boxes)", "--occupied", "\(settings.occupied)",
        ])
        defer { if simulator.process.isRunning { simulator.signal(SIGTERM) } }

        // ozmapd in process, as `make bench` runs it; timed syncs far away.
        var configuration = DaemonConfiguration()
        configuration.socketPath = directory + "/ozmapd.sock"
        configuration.stateDirectory = directory + "/state"
        configuration.syncIntervalSeconds = 86_400
        let daemon = try Daemon(configuration: configuration, logger: logger)
        let services = ServiceGroup(services: daemon.services, logger: logger)
        let running = Task { try await services.run() }
        try await daemon.server.waitUntilListening()
        let client = try await OZmapIntegrationConnection.connect(socketPath: configuration.socketPath)

        // Box load: credentials set, the initial full sync.
        _ = try await client.rpc.setCredentials(SetCredentialsRequest(apiUrl: apiURL, apiKey: apiKey))
        let loadStart = ContinuousClock.now
        let load = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true), options: .timeout(.seconds(3_600))).report
        let boxLoad = ContinuousClock.now - loadStart
        guard let load, load.error.isEmpty else { throw BenchmarkFailure("the box load failed: \(load?.error ?? "no report")") }

        // Each OZmap OLT linked to an ArchOLT OLT.
        let olts = try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts.sorted { $0.name < $1.name }
        var archoltOLT: [String: String] = [:]
        for (index, olt) in olts.enumerated() {
            let name = String(format: "olt-%02d", index + 1)
            _ = try await client.rpc.linkOLT(LinkOLTRequest(archoltOltId: name, ozmapOltId: olt.id, requireCtoOnActivation: false))
            archoltOLT[olt.id] = name
        }

        // Boxes with room, the OLTs interleaved (CTO-01-001, CTO-02-001, ...); each takes one row.
        var boxes: [Box] = []
        var request = ListBoxesRequest(pageSize: 1000)
        repeat {
            let page = try await client.rpc.listBoxes(request)
            boxes += page.boxes
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        let byOLT = Dictionary(grouping: boxes.filter { $0.portsFree >= 2 && archoltOLT[$0.ozmapOltId] != nil }, by: \.ozmapOltId)
            .mapValues { $0.sorted { $0.name < $1.name } }
        var pool: [Box] = []
        for position in 0..<(byOLT.values.map(\.count).max() ?? 0) {
            for olt in olts.map(\.id) { if let list = byOLT[olt], position < list.count { pool.append(list[position]) } }
        }
        let needed = settings.rows + settings.moves + 2 * settings.baseline
        guard pool.count >= needed else {
            throw BenchmarkFailure("\(pool.count) boxes with room; the run needs \(needed) (rows, move sources, baseline)")
        }
        let rowBox = Array(pool[0..<settings.rows])
        var moveSources = Array(pool[settings.rows..<(settings.rows + settings.moves)]).makeIterator()
        let baselineBoxes = Array(pool[(settings.rows + settings.moves)..<needed])

        func onuID(_ row: Int) -> String { String(format: "onu-%05d", row) }
        func serial(_ row: Int) -> String { String(format: "BNCH%08d", row) }
        let rows = (0..<settings.rows).map { index in
            let box = rowBox[index]
            return ImportRow(archoltOltId: archoltOLT[box.ozmapOltId]!, onuId: onuID(index), serialNumber: serial(index), cto: box.name,
                             macAddress: String(format: "02:00:00:%02X:%02X:%02X", (index >> 16) & 0xFF, (index >> 8) & 0xFF, index & 0xFF),
                             pppoeUser: "user-\(onuID(index))")
        }

        // The fleet as OZmap already has it: 40% of the ONUs, filed over HTTP, 8 at a time.
        var filings: [(code: String, serial: String, box: Box)] = []
        for index in settings.byCode { filings.append((onuID(index), serial(index), rowBox[index])) }
        for index in settings.bySerial {
            filings.append((String(format: "ERP-%05d", index), serial(index), settings.isMove(index) ? moveSources.next()! : rowBox[index]))
        }
        let seedStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { [filings] group in
            for lane in 0..<8 {
                group.addTask {
                    for filing in stride(from: lane, to: filings.count, by: 8).map({ filings[$0] }) {
                        try await http.fileClient(code: filing.code, serial: filing.serial, box: filing.box)
                    }
                }
            }
            try await group.waitForAll()
        }
        let seeding = ContinuousClock.now - seedStart
        let simulatorCounts = try await http.control("state")["counts"] as? [String: Any] ?? [:]

        let batches = stride(from: 0, to: rows.count, by: ImportBenchmarkSettings.batch).map {
            Array(rows[$0..<min($0 + ImportBenchmarkSettings.batch, rows.count)])
        }
        func importAll(dryRun: Bool) async throws -> (responses: [ImportONUsResponse], elapsed: Duration) {
            let start = ContinuousClock.now
            var responses: [ImportONUsResponse] = []
            for batch in batches {
                responses.append(try await client.rpc.importONUs(ImportONUsRequest(dryRun: dryRun, rows: batch),
                                                       options: .timeout(.seconds(600))))
            }
            return (responses, ContinuousClock.now - start)
        }
        func actions(_ responses: [ImportONUsResponse]) -> [ImportAction: Int] {
            responses.flatMap(\.results).reduce(into: [:]) { $0[$1.action, default: 0] += 1 }
        }
        func callRequests(_ responses: [ImportONUsResponse]) -> Int { responses.reduce(0) { $0 + Int($1.ozmapRequests) } }

        // Dry run: what an apply would do; nothing written.
        try await http.clearRequestLog()
        let (dry, dryTime) = try await importAll(dryRun: true)
        let dryWrites = try await simulatorWrites(http)
        let dryActions = actions(dry)
        let dryErrors = dry.flatMap(\.results).filter { $0.action == .error }.prefix(3).map { "row \($0.row) \($0.onuId): \($0.error)" }

        // Apply, then the outbox drains.
        let beforeApply = try await ozmapRequestTotals(client)
        let applyStart = ContinuousClock.now
        let (applied, applyTime) = try await importAll(dryRun: false)
        let failedAfterApply = try await waitForDrain(client, deadline: .seconds(3_600))
        let applyUntilDrained = ContinuousClock.now - applyStart
        let afterDrain = try await ozmapRequestTotals(client)
        let applyActions = actions(applied)
        let applyCallRequests = callRequests(applied)
        let applyAllRequests = Int(afterDrain.all - beforeApply.all)

        // The same rows again: nothing to write.
        try await http.clearRequestLog()
        let beforeAgain = try await ozmapRequestTotals(client)
        let againStart = ContinuousClock.now
        let (again, _) = try await importAll(dryRun: false)
        let failedAfterAgain = try await waitForDrain(client, deadline: .seconds(600))
        let againTime = ContinuousClock.now - againStart
        let againWrites = try await simulatorWrites(http)
        let afterAgain = try await ozmapRequestTotals(client)
        let againActions = actions(again)

        // Baseline: the same number of new ONUs, ProvisionONU one by one (each answered once OZmap
        // has it) against one ImportONUs apply call and the drain.
        func baselineRequest(_ index: Int, prefix: String, serialPrefix: String, box: Box) -> (id: String, serial: String, box: Box) {
            (String(format: "%@-%04d", prefix, index), String(format: "%@%08d", serialPrefix, index), box)
        }
        let provisioned = (0..<settings.baseline).map { baselineRequest($0, prefix: "bp", serialPrefix: "BASP", box: baselineBoxes[$0]) }
        let imported = (0..<settings.baseline).map {
            baselineRequest($0, prefix: "bi", serialPrefix: "BASI", box: baselineBoxes[settings.baseline + $0])
        }
        let beforeProvision = try await ozmapRequestTotals(client)
        let provisionStart = ContinuousClock.now
        var provisionNotDone = 0
        for onu in provisioned {
            let answer = try await client.rpc.provisionONU(ProvisionONURequest(
                archoltOltId: archoltOLT[onu.box.ozmapOltId]!, onuId: onu.id, serialNumber: onu.serial, macAddress: "",
                pppoeUser: "user-\(onu.id)", cto: onu.box.name, implanted: true), options: .timeout(.seconds(120)))
            if answer.operation.map({ $0.state != .done }) ?? true { provisionNotDone += 1 }
        }
        let failedAfterProvision = try await waitForDrain(client, deadline: .seconds(1_800))
        let provisionTime = ContinuousClock.now - provisionStart
        let afterProvision = try await ozmapRequestTotals(client)

        let importStart = ContinuousClock.now
        let baselineImport = try await client.rpc.importONUs(ImportONUsRequest(dryRun: false, rows: imported.map { onu in
            ImportRow(archoltOltId: archoltOLT[onu.box.ozmapOltId]!, onuId: onu.id, serialNumber: onu.serial, cto: onu.box.name,
                      pppoeUser: "user-\(onu.id)", implanted: .implanted)
        }), options: .timeout(.seconds(600)))
        let importCallTime = ContinuousClock.now - importStart
        let failedAfterBaselineImport = try await waitForDrain(client, deadline: .seconds(1_800))
        let importTime = ContinuousClock.now - importStart
        let afterBaselineImport = try await ozmapRequestTotals(client)

        // The result, from the simulator's own state.
        var expected = (0..<settings.rows).map { ExpectedONU(onuID: onuID($0), serial: serial($0), box: rowBox[$0].id) }
        expected += (provisioned + imported).map { ExpectedONU(onuID: $0.id, serial: $0.serial, box: $0.box.id) }
        let fleet = checkFleet(expected, state: try await http.control("state?full=1"))

        await client.close()
        await services.triggerGracefulShutdown()
        try await running.value
        simulator.signal(SIGTERM)
        _ = try? await simulator.exitStatus(timeout: .seconds(60))

        // Figures.
        func actionText(_ map: [ImportAction: Int]) -> String {
            ImportAction.allCases.filter { map[$0] != nil }.map { "\($0.shortName) \(map[$0]!)" }.joined(separator: ", ")
        }
        let expectedActions = "adopt \(settings.byCode.count + settings.bySerial.count - settings.moves), move \(settings.moves), create \(settings.rows * 3 / 5)"
        let pad = { (text: String, width: Int) in text.padding(toLength: width, withPad: " ", startingAt: 0) }
        let ratio = { (value: Duration, base: Duration) in seconds(value) / max(seconds(base), 1e-9) }

        print("ozmapd import benchmark — ImportONUs, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("[figures] network: \(settings.olts) OZmap OLTs each linked to an ArchOLT OLT, \(load.boxes) boxes in the cache, "
              + "simulator counts \(countsText(simulatorCounts)) (generated in \(String(format: "%.1f", seconds(generation))) s)")
        print("[figures] box load (initial full sync): \(load.boxes) boxes in \(String(format: "%.1f", seconds(boxLoad))) s")
        print("[figures] fleet already in OZmap: \(settings.byCode.count) under the ONU's code, \(settings.bySerial.count) under the ERP's code "
              + "with the ONU's serial (\(settings.moves) of them at another box); filed over HTTP in \(String(format: "%.1f", seconds(seeding))) s")
        print("[figures] dry-run actions: \(actionText(dryActions)) (designed: \(expectedActions)); writes to OZmap during the dry-run: \(dryWrites)")
        if !dryErrors.isEmpty { print("[figures] dry-run errors, first: \(dryErrors.joined(separator: " | "))") }
        print("[figures] apply actions: \(actionText(applyActions)); second apply: \(actionText(againActions))")
        print("")
        print(pad("case", 46) + pad("rows", 8) + pad("seconds", 10) + pad("rows/s", 10) + "OZmap requests/row")
        func line(_ name: String, rows: Int, _ elapsed: Duration, requests: Int?) {
            print(pad(name, 46) + pad("\(rows)", 8) + pad(String(format: "%.1f", seconds(elapsed)), 10)
                  + pad(String(format: "%.0f", Double(rows) / max(seconds(elapsed), 1e-9)), 10)
                  + (requests.map { String(format: "%.2f", Double($0) / Double(rows)) } ?? "-"))
        }
        line("dry-run (\(batches.count) calls of ≤1,000)", rows: settings.rows, dryTime, requests: callRequests(dry))
        line("apply: the \(batches.count) calls", rows: settings.rows, applyTime, requests: applyCallRequests)
        line("apply: calls + outbox drained", rows: settings.rows, applyUntilDrained, requests: applyAllRequests)
        line("second apply (calls + drained)", rows: settings.rows, againTime, requests: Int(afterAgain.all - beforeAgain.all))
        print("")
        print("[figures] apply: the outbox drained \(String(format: "%.1f", seconds(applyUntilDrained - applyTime))) s after the last call; "
              + "outbox requests \(applyAllRequests - applyCallRequests), of which writes \(afterDrain.writes - beforeApply.writes); "
              + "operations failed \(failedAfterApply)")
        print("[figures] apply: OZmap requests a row by route: \(perRowByRoute(beforeApply.byRoute, afterDrain.byRoute, rows: settings.rows))")
        print("[figures] result in OZmap (simulator state), \(fleet.onus) ONUs: duplicates \(fleet.duplicates), lost \(fleet.lost), "
              + "not at their CTO \(fleet.misplaced)\(fleet.examples.isEmpty ? "" : " — e.g. " + fleet.examples.joined(separator: "; "))")
        print("[figures] second apply: \(againWrites) writes to OZmap (non-GET requests in the simulator's log), "
              + "\(afterAgain.all - beforeAgain.all) requests, \(String(format: "%.1f", seconds(againTime))) s; operations failed \(failedAfterAgain)")
        print("")
        print("baseline, same run: \(settings.baseline) new ONUs into OZmap, until OZmap has them all")
        print(pad("case", 46) + pad("ONUs", 8) + pad("seconds", 10) + pad("ms/ONU", 10) + pad("req/ONU", 10) + "× baseline time")
        let provisionRequests = Int(afterProvision.all - beforeProvision.all)
        let importRequests = Int(afterBaselineImport.all - afterProvision.all)
        for (name, elapsed, requests) in [("ProvisionONU one by one (baseline)", provisionTime, provisionRequests),
                                          ("ImportONUs, 1 call + drain", importTime, importRequests)] {
            print(pad(name, 46) + pad("\(settings.baseline)", 8) + pad(String(format: "%.1f", seconds(elapsed)), 10)
                  + pad(String(format: "%.1f", seconds(elapsed) * 1000 / Double(settings.baseline)), 10)
                  + pad(String(format: "%.2f", Double(requests) / Double(settings.baseline)), 10)
                  + String(format: "%.2f", ratio(elapsed, provisionTime)))
        }
        print("[figures] baseline: ImportONUs call alone \(String(format: "%.1f", seconds(importCallTime))) s "
              + "(\(actionText(actions([baselineImport])))); ProvisionONU answers not yet done \(provisionNotDone); "
              + "operations failed \(failedAfterProvision + failedAfterBaselineImport)")

        var failures: [String] = []
        if fleet.duplicates > 0 { failures.append("\(fleet.duplicates) duplicate clients") }
        if fleet.lost > 0 { failures.append("\(fleet.lost) lost rows") }
        if fleet.misplaced > 0 { failures.append("\(fleet.misplaced) ONUs not at their CTO") }
        if againWrites > 0 { failures.append("the second apply wrote \(againWrites) times to OZmap") }
        if dryWrites > 0 { failures.append("the dry-run wrote \(dryWrites) times to OZmap") }
        if failedAfterApply + failedAfterAgain + failedAfterProvision + failedAfterBaselineImport > 0 { failures.append("failed operations") }
        if !failures.isEmpty { print("FAILED: " + failures.joined(separator: ", ")) }
        return failures.isEmpty
    }

    /// Non-GET requests in the simulator's request log (cleared before the step measured).
    static func simulatorWrites(_ http: SimulatorHTTP) async throws -> Int {
        let log = try await http.control("requests")
        return (log["requests"] as? [[String: Any]] ?? []).filter { ($0["method"] as? String) != "GET" }.count
    }

    static func countsText(_ counts: [String: Any]) -> String {
        ["boxes", "connected_boxes", "splitters", "clients", "properties", "free_customer_ports"]
            .map { "\($0) \(counts[$0] as? Int ?? 0)" }.joined(separator: ", ")
    }
}

extension ImportAction {
    var shortName: String {
        switch self {
        case .unspecified: "unspecified"
        case .adopt: "adopt"
        case .attach: "attach"
        case .move: "move"
        case .create: "create"
        case .update: "update"
        case .nothing: "nothing"
        case .error: "error"
        case .unrecognized(let number): "\(number)"
        }
    }
}
