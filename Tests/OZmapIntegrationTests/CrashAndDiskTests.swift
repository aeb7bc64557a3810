import Foundation
import OZmapClient
import OZmapRPC
import OZmapSimulator
import OZmapStore
import OZmapTestSupport
import Testing

extension TestRig {
    /// ozmapd as its own process on the rig's socket and state directory, so it can be killed.
    func spawnDaemon(_ environment: [String: String] = [:]) async throws -> (daemon: ChildProcess, client: OZmapIntegrationConnection) {
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", socketPath, "--state-dir", stateDirectory], environment: [
            "OZMAPD_SYNC_INTERVAL_S": "86400", "OZMAPD_OUTBOX_BACKOFF_BASE_MS": "20", "OZMAPD_OUTBOX_BACKOFF_CAP_MS": "300",
            "OZMAPD_OZMAP_TIMEOUT_MS": "3000", "OZMAPD_OZMAP_CONNECT_TIMEOUT_MS": "2000", "OZMAPD_LOG_LEVEL": "warning",
        ].merging(environment) { $1 }, directory: directory)
        var connected: OZmapIntegrationConnection?
        try await waitUntil("ozmapd answers on \(socketPath)", timeout: .seconds(30)) {
            guard daemon.process.isRunning else { throw TimedOut(description: "ozmapd exited: \(daemon.errorOutput)") }
            guard let client = try? await OZmapIntegrationConnection.connect(socketPath: socketPath) else { return false }
            if (try? await client.rpc.getStatus(GetStatusRequest())) != nil { connected = client; return true }
            await client.close()
            return false
        }
        return (daemon, connected!)
    }
}

@Suite(.timeLimit(.minutes(30)), .serialized) struct CrashTests {
    /// kill -9 at a random moment of a burst, then restart: every acknowledged change is applied
    /// once, none twice, and SQLite passes its integrity check.
    @Test func killedDuringBurstsLosesNothing() async throws {
        let rig = try await TestRig(boxes: 400, occupied: 0.05)
        // Every line at trace level, so the key can be looked for in everything a killed daemon wrote.
        let tracing = ["OZMAPD_LOG_LEVEL": "trace"]
        var (daemon, client) = try await rig.spawnDaemon(tracing)
        let olt = try await rig.prepareForProvisioning(client)
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        let rounds = 20 * soakFactor
        var random = SeededGenerator(seed: 17)
        var expected: [String: Set<WorkloadRunner.Placement>] = [:]
        var figures = (sent: 0, acknowledged: 0, unknown: 0, killedWithPending: 0)
        let started = ContinuousClock.now
        for round in 0..<rounds {
            let workload = MixedWorkload(operations: 40, onus: 15, boxes: boxes, prefix: "crash\(round)", seed: UInt64(round))
            let runner = WorkloadRunner()
            let burstClient = client
            let traffic = Task { await runner.run(workload, client: burstClient, concurrency: 8) }
            let killAt = Int.random(in: 1...workload.count, using: &random)
            try await waitUntil("\(killAt) calls are sent", timeout: .seconds(60)) { runner.sent >= killAt || traffic.isCancelled }
            if try await client.rpc.getStatus(GetStatusRequest()).operationsPending > 0 { figures.killedWithPending += 1 }
            daemon.signal(SIGKILL)
            _ = try await daemon.exitStatus()
            await traffic.value
            await client.close()
            expected.merge(runner.expected) { $1 }
            figures.sent += runner.sent
            figures.acknowledged += runner.acknowledged
            figures.unknown += runner.unknown
            #expect(runner.refused.isEmpty, "round \(round): \(runner.refused.prefix(3))")

            let integrity = try StateDatabase(stateDirectory: rig.stateDirectory).integrityCheck()
            #expect(integrity == "ok", "round \(round): PRAGMA integrity_check says \(integrity)")
            (daemon, client) = try await rig.spawnDaemon(tracing)
            try await rig.outboxDrained(client)
            let tally = Tally(expected: expected, snapshot: rig.simulator.snapshot())
            #expect(tally.lost == 0 && tally.duplicated == 0 && tally.orphans == 0, "round \(round): \(tally.problems.prefix(5))")
            if tally.lost + tally.duplicated + tally.orphans > 0 { break }
        }
        let tally = Tally(expected: expected, snapshot: rig.simulator.snapshot())
        report("kill -9", ["rounds": rounds, "calls": figures.sent, "acknowledged": figures.acknowledged,
                           "calls_cut_by_kill": figures.unknown, "killed_with_work_pending": figures.killedWithPending,
                           "onus": tally.onus, "lost": tally.lost, "duplicated": tally.duplicated, "orphans": tally.orphans,
                           "total_s": seconds(ContinuousClock.now - started)])
        #expect(figures.killedWithPending > 0, "some kills hit a daemon with work in its outbox")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
        // The key is in its own file and nowhere else: not in what the killed daemons printed, nor in SQLite or its WAL.
        let written = try FileManager.default.subpathsOfDirectory(atPath: rig.directory).filter { !$0.hasSuffix("ozmap-credentials.json") }
        var searched = 0
        for path in written {
            guard let bytes = FileManager.default.contents(atPath: rig.directory + "/" + path) else { continue }
            searched += bytes.count
            #expect(bytes.range(of: Data(simulatorKey.utf8)) == nil, "the key is in \(path)")
        }
        #expect(searched > 100_000, "the daemons' trace output and state were searched")
        await client.close()
        try await rig.tearDown()
    }
}

extension CrashTests {
    /// OZmap still applying a create when ozmapd is killed: the restarted daemon must
    /// not look the client up before that create would have landed, or it creates it again.
    @Test func aCreateStillInOZmapWhenKilledIsNotRepeated() async throws {
        let rig = try await TestRig(boxes: 40, occupied: 0.05)
        var (daemon, client) = try await rig.spawnDaemon()
        let olt = try await rig.prepareForProvisioning(client)
        let box = try await rig.boxesWithRoom(on: olt, client: client)[0]
        // Creates take OZmap 1.5 s, within ozmapd's 3 s timeout: they are applied after it dies.
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 1_500, routes: [FaultRoute("POST properties")]))
        var proven = false
        for attempt in 0..<5 where !proven {
            let onu = "inflight-\(attempt)"
            let serial = "ZTEGK111000\(attempt)"
            _ = try? await client.rpc.provisionONU(provision(onu, cto: box.id, serial: serial), options: .timeout(.milliseconds(200)))
            // Killed while OZmap holds the create (received, not yet applied).
            try await waitUntil("OZmap received the create of \(onu)") {
                rig.simulator.heldRequests().contains { $0.method == "POST" && $0.body.contains("\"\(onu)\"") }
            }
            daemon.signal(SIGKILL)
            let killedAt = Date()
            _ = try await daemon.exitStatus()
            await client.close()
            (daemon, client) = try await rig.spawnDaemon()
            try await rig.outboxDrained(client)
            let posts = rig.simulator.requestLog().filter { $0.method == "POST" && $0.body.contains("\"\(onu)\"") }
            // Only a create sent before the kill tests anything; otherwise try again.
            guard posts.contains(where: { $0.receivedAt < killedAt }) else { continue }
            proven = true
            #expect(rig.ozmapClients(code: onu).clients == 1, "one client, not one per daemon")
            #expect(posts.count == 1, "the restarted daemon found the create instead of sending another")
        }
        #expect(proven, "a create was in OZmap's hands when ozmapd was killed")
        daemon.signal(SIGTERM)
        _ = try await daemon.exitStatus()
        await client.close()
        try await rig.tearDown()
    }
}

/// The state directory on its own small tmpfs, so it can really fill up or be read-only.
/// Mounting needs root, which CI has; elsewhere these tests are skipped.
@Suite(.timeLimit(.minutes(5)), .serialized, .enabled(if: getuid() == 0, "mounting a tmpfs needs root (CI runs as root)"))
struct StateDirectoryFaultTests {
    @Test func aFullDiskRefusesChangesAndLosesNone() async throws {
        let rig = try await TestRig(boxes: 200)
        try mountTmpfs(at: rig.stateDirectory, megabytes: 8)
        defer { unmount(rig.stateDirectory) }
        let (daemon, client) = try await rig.spawnDaemon()
        let olt = try await rig.prepareForProvisioning(client)
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 3)
        _ = try await client.rpc.provisionONU(provision("disk-0", cto: boxes[0].id))

        let filler = rig.stateDirectory + "/filler"
        fillUp(filler)
        var acknowledged: [String] = ["disk-0"]
        var refusals: [GRPCCore.RPCError] = []
        var refused: [String] = []
        // The WAL may still have room for a few changes; sooner or later a write needs a new block.
        for index in 1...300 where refusals.count < 3 {
            let onu = "disk-\(index)"
            do {
                _ = try await client.rpc.provisionONU(provision(onu, cto: boxes[index % boxes.count].id))
                acknowledged.append(onu)
            } catch let error as GRPCCore.RPCError {
                refusals.append(error)
                refused.append(onu)
            }
        }
        let status = try await client.rpc.getStatus(GetStatusRequest())
        try FileManager.default.removeItem(atPath: filler)
        report("full state directory", ["acknowledged": acknowledged.count, "refused": refused.count,
                                        "first_refusal": "\"\(refusals.first.map { "\($0.code): \($0.message)" } ?? "none")\""])
        #expect(!refusals.isEmpty, "a full disk was noticed")
        for refusal in refusals {
            #expect([.unavailable, .internalError].contains(refusal.code))
            #expect(refusal.message.contains("state directory") || refusal.message.contains("full"), "\(refusal.message)")
        }
        #expect(status.version.isEmpty == false, "GetStatus answers while the disk is full")

        // Space again: the same daemon takes changes, applies every acknowledged one and none of the refused.
        _ = try await client.rpc.provisionONU(provision("disk-after", cto: boxes[1].id))
        acknowledged.append("disk-after")
        try await rig.outboxDrained(client)
        for onu in acknowledged { #expect(rig.ozmapClients(code: onu).clients == 1, "\(onu) acknowledged and applied") }
        for onu in refused {
            #expect(rig.ozmapClients(code: onu).clients == 0, "\(onu) refused and not applied")
            await #expect(throws: GRPCCore.RPCError.self) { try await client.rpc.getONU(GetONURequest(onuId: onu)) }
        }
        #expect(daemon.process.isRunning)
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
        await client.close()
        #expect(try StateDatabase(stateDirectory: rig.stateDirectory).integrityCheck() == "ok")
        try await rig.tearDown()
    }

    @Test func aReadOnlyStateDirectoryStopsTheStartWithAClearMessage() async throws {
        let rig = try await TestRig(boxes: 20)
        try mountTmpfs(at: rig.stateDirectory, megabytes: 1, options: "ro")
        defer { unmount(rig.stateDirectory) }
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", rig.socketPath, "--state-dir", rig.stateDirectory], directory: rig.directory)
        #expect(try await daemon.exitStatus() != 0)
        #expect(daemon.errorOutput.contains(rig.stateDirectory), "\(daemon.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: rig.socketPath), "nothing listens without a place to store changes")
        try await rig.tearDown()
    }
}

private func mountTmpfs(at path: String, megabytes: Int, options: String = "rw") throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let status = try runSync("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700,\(options)", "tmpfs", path])
    guard status == 0 else { throw TimedOut(description: "mount tmpfs on \(path) failed (\(status))") }
}

private func unmount(_ path: String) {
    _ = try? runSync("/bin/umount", ["-l", path])
}

private func runSync(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Writes until the file system says no more.
private func fillUp(_ path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    guard let handle = FileHandle(forWritingAtPath: path) else { return }
    let chunk = Data(repeating: 0x5A, count: 64 * 1024)
    while (try? handle.write(contentsOf: chunk)) != nil {}
    try? handle.close()
}

extension CrashTests {
    /// kill -9 while the outbox applies an import (some rows created in OZmap, some not), restart,
    /// run the same import again: every row ends with exactly one client, at its CTO.
    @Test func anImportKilledMidwayAndRunAgainAppliesEveryRowOnce() async throws {
        let rig = try await TestRig(boxes: 80, occupied: 0.05)
        var (daemon, client) = try await rig.spawnDaemon()
        let olt = try await rig.prepareForProvisioning(client)
        let boxes = try await rig.boxesWithRoom(on: olt, client: client, free: 4)
        var ctos: [Box] = []
        for box in boxes { ctos += Array(repeating: box, count: Int(box.portsFree) - 2) }
        let count = min(200, ctos.count)
        try #require(count >= 100, "room for the import")
        func serial(_ index: Int) -> String { "ZTEGK\(String(format: "%07d", index))" }
        // Some of the fleet is in OZmap already: under the ONU's code, and under the ERP's code with the ONU's serial.
        let erp = ERP(rig.simulator)
        for index in 0..<20 {
            try await erp.fileClient(code: index < 10 ? "k-\(index)" : "ERP-\(index)", name: "Cliente \(index)", serial: serial(index),
                                     at: ctos[index].id, project: ctos[index].project)
        }
        _ = try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true))
        let rows = (0..<count).map {
            ImportRow(archoltOltId: "olt-a", onuId: "k-\($0)", serialNumber: serial($0), cto: ctos[$0].id)
        }
        // Creates take a while, so the kill finds the outbox part-way through.
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 40, routes: [FaultRoute("POST properties")]))
        let first = try await client.rpc.importONUs(ImportONUsRequest(dryRun: false, rows: rows))
        #expect(first.errors == 0, "\(first.results.filter { $0.action == .error }.prefix(3))")
        try await waitUntil("the outbox is part-way") { rig.propertyCreates() >= 20 }
        daemon.signal(SIGKILL)
        _ = try await daemon.exitStatus()
        await client.close()
        let createdBeforeKill = rig.propertyCreates()
        rig.simulator.setFaults(.none)

        (daemon, client) = try await rig.spawnDaemon()
        let again = try await client.rpc.importONUs(ImportONUsRequest(dryRun: false, rows: rows))
        #expect(again.errors == 0)
        try await rig.outboxDrained(client)
        let snapshot = rig.simulator.snapshot()
        var duplicated: [String] = [], lost: [String] = [], misplaced: [String] = []
        for index in 0..<count {
            let code = index >= 10 && index < 20 ? "ERP-\(index)" : "k-\(index)"
            let clients = snapshot.clients.filter { $0.code == code || $0.serialNumber == serial(index) }
            if clients.count > 1 { duplicated.append(code) }
            if clients.isEmpty { lost.append(code) }
            if rig.ozmapClients(code: code).boxes != [ctos[index].id] { misplaced.append(code) }
        }
        report("import killed midway", ["rows": count, "created_before_kill": createdBeforeKill, "duplicated": duplicated.count,
                                        "lost": lost.count, "misplaced": misplaced.count])
        #expect(createdBeforeKill < count - 20, "the kill came with rows still to apply")
        #expect(duplicated.isEmpty && lost.isEmpty && misplaced.isEmpty, "dup \(duplicated.prefix(3)) lost \(lost.prefix(3)) misplaced \(misplaced.prefix(3))")
        #expect(snapshot.clients(code: "k-10").isEmpty, "the ERP's client was adopted, not doubled under the ONU's code")
        daemon.signal(SIGTERM)
        _ = try await daemon.exitStatus()
        await client.close()
        try await rig.tearDown()
    }
}
