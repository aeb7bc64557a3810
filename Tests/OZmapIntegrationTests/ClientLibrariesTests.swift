import Foundation
import OZmapClient
import OZmapRPC
import OZmapTestSupport
import Testing

/// The C and Python clients of `clients/` (docs/CLIENTS.md) as child processes against ozmapd and
/// ozmap-sim: each provisions an ONU at one CTO, moves it to another and deprovisions it, the
/// simulator checked after each step; a bad request surfaces as INVALID_ARGUMENT (the C example's
/// exit status, the Python client's InvalidArgument). `make clients` (which `make test` runs first)
/// builds what they run under .build-clients/ ($OZMAPD_CLIENTS_DIR overrides the directory).
@Suite(.timeLimit(.minutes(5))) struct ClientLibrariesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var clientsDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["OZMAPD_CLIENTS_DIR"], !directory.isEmpty { return directory }
        return root.appendingPathComponent(".build-clients").path
    }

    /// A built client program, or a failure that says how to build it.
    func built(_ path: String) throws -> String {
        try #require(FileManager.default.isExecutableFile(atPath: path),
                     "\(path) is missing: `make clients` builds the C and Python clients (`make test` does it before the suite)")
        return path
    }

    /// Runs one step of a client, then expects the simulator to hold the ONU's client at `box` (nil: none).
    func step(_ rig: TestRig, _ executable: String, _ arguments: [String], onu: String, box: String?,
              _ comment: Comment) async throws {
        let (status, output, errors) = try await runProcess(executable, arguments, directory: rig.directory)
        #expect(status == 0, "\(comment): exit \(status): \(errors)")
        let ozmap = rig.ozmapClients(code: onu)
        if let box {
            #expect(output.contains("state ONU_STATE_SYNCED"), "\(comment): \(output)")
            #expect(ozmap.clients == 1 && ozmap.boxes == [box], "\(comment): OZmap holds \(ozmap)")
        } else {
            #expect(output.contains("state ONU_STATE_DEPROVISIONED"), "\(comment): \(output)")
            #expect(ozmap.clients == 0 && ozmap.boxes.isEmpty, "\(comment): OZmap holds \(ozmap)")
        }
    }

    @Test func theCClientProvisionsMovesAndDeprovisionsAnONU() async throws {
        let example = try built(Self.clientsDirectory + "/c/bin/ozmap-example")
        let rig = try await TestRig(boxes: 40)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let (first, second) = (boxes[0], boxes[1])
        let socket = rig.socketPath

        try await step(rig, example, [socket, "provision", "olt-a", "c-1001", "ZTEGC0001001", first.name.lowercased()],
                       onu: "c-1001", box: first.id, "provision at \(first.name), by name")
        try await step(rig, example, [socket, "assign", "c-1001", second.id], onu: "c-1001", box: second.id,
                       "assign \(second.name), by id")
        try await step(rig, example, [socket, "deprovision", "c-1001"], onu: "c-1001", box: nil, "deprovision")

        // A bad request: the status code is the example's exit status, its name and message on stderr.
        let (status, _, errors) = try await runProcess(example, [socket, "provision", "olt-a", "c-1002", "x!", first.name],
                                                       directory: rig.directory)
        #expect(status == Int32(RPCError.Code.invalidArgument.rawValue), "\(errors)")
        #expect(errors.contains("INVALID_ARGUMENT") && errors.contains("serial_number"), "\(errors)")
        #expect(rig.ozmapClients(code: "c-1002").clients == 0)
        let (missing, _, notFound) = try await runProcess(example, [socket, "get", "c-never-seen"], directory: rig.directory)
        #expect(missing == Int32(RPCError.Code.notFound.rawValue), "\(notFound)")

        // The example as written: the three calls on one connection.
        let (demo, output, demoErrors) = try await runProcess(
            example, [socket, "demo", "olt-a", "c-1003", "ZTEGC0001003", first.name, second.name], directory: rig.directory)
        #expect(demo == 0, "\(demoErrors)")
        #expect(output.split(separator: "\n").count == 3, "\(output)")
        #expect(rig.ozmapClients(code: "c-1003").clients == 0)
        try await rig.tearDown()
    }

    @Test func thePythonClientProvisionsMovesAndDeprovisionsAnONU() async throws {
        let python = try built(Self.clientsDirectory + "/venv/bin/python")
        let example = Self.root.appendingPathComponent("clients/python/examples/onu_lifecycle.py").path
        let checks = Self.root.appendingPathComponent("clients/python/tests/check_client.py").path
        // The installed package, not the source tree: the scripts' directory is all that is on sys.path.
        let (installed, _, importErrors) = try await runProcess(python, ["-c", "import ozmap_client"], directory: NSTemporaryDirectory())
        #expect(installed == 0, "ozmap_client is not installed in the venv: `make clients` installs it: \(importErrors)")
        let rig = try await TestRig(boxes: 40)
        let (client, olt) = try await rig.provisioningReady()
        let boxes = try await rig.boxesWithRoom(on: olt, client: client)
        let (first, second) = (boxes[0], boxes[1])
        let socket = rig.socketPath

        try await step(rig, python, [example, socket, "provision", "olt-a", "py-1001", "ZTEGB0001001", first.name],
                       onu: "py-1001", box: first.id, "provision at \(first.name)")
        try await step(rig, python, [example, socket, "assign", "py-1001", second.name.lowercased()], onu: "py-1001",
                       box: second.id, "assign \(second.name), by name")
        try await step(rig, python, [example, socket, "deprovision", "py-1001"], onu: "py-1001", box: nil, "deprovision")

        let (status, _, errors) = try await runProcess(python, [example, socket, "provision", "olt-a", "py-1002", "x!", first.name],
                                                       directory: rig.directory)
        #expect(status == Int32(RPCError.Code.invalidArgument.rawValue), "\(errors)")
        #expect(errors.contains("InvalidArgument"), "\(errors)")

        // Pipelining, deadlines and every status as its exception (a fake server), then against ozmapd:
        // InvalidArgument raised for a bad request, pipelined calls matched by call_id.
        let (checked, output, checkErrors) = try await runProcess(python, [checks, socket, "olt-a"], directory: rig.directory)
        #expect(checked == 0, "\(output)\n\(checkErrors)")
        #expect(output.contains("ok: ozmapd: a bad serial number raises InvalidArgument"), "\(output)")
        #expect(output.contains("all checks passed"), "\(output)")
        #expect(rig.ozmapClients(code: "py-bad-1").clients == 0)
        try await rig.tearDown()
    }
}
