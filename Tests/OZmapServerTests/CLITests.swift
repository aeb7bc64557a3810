import Foundation
import ArcholtOZmapV1
import OZmapDaemon
import GRPCCore
import OZmapRPC
import OZmapTestSupport
import Testing

/// ozmapctl against a real ozmapd process.
@Suite(.timeLimit(.minutes(3))) struct CLITests {
    @Test func genericCallAndTheExitCodeIsTheStatusCode() async throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/ozmapd.sock"
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", path, "--state-dir", directory + "/state"], directory: directory)
        await (try connectWhenUp(path)).close()
        let ctl = binary("ozmapctl")
        let environment = ["OZMAPD_SOCKET": path]

        let (status, output, _) = try await runProcess(ctl, ["call", "GetStatus", "--data", "{}"], environment: environment, directory: directory)
        #expect(status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(json["version"] as? String == Daemon.version)
        #expect(json["socket_path"] as? String == path)

        let (methodsStatus, methods, _) = try await runProcess(ctl, ["call", "/archolt.ozmap.v1.OZmapIntegration/ListMethods"], environment: environment, directory: directory)
        #expect(methodsStatus == 0)
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(methods.utf8)) as? [String: Any])
        let names = (listed["methods"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.count == 23)
        #expect(names.contains("ProvisionONU") && names.contains("ListAuditLog") && names.contains("Reconcile") && names.contains("ImportONUs"))

        let (missing, _, message) = try await runProcess(ctl, ["call", "ProvisionONU", "--data", #"{"onu_id": "1", "serial_number": "ZTEG12345678"}"#],
                                                         environment: environment, directory: directory)
        #expect(missing == Int32(RPCError.Code.invalidArgument.rawValue))
        #expect(message.contains("INVALID_ARGUMENT: archolt_olt_id: is required"))
        let (unknown, _, _) = try await runProcess(ctl, ["call", "Teleport"], environment: environment, directory: directory)
        #expect(unknown == Int32(RPCError.Code.unimplemented.rawValue))

        let (invalid, invalidJSON, _) = try await runProcess(ctl, ["call", "ProvisionONU", "--json", "--data", #"{"implanted": "yes"}"#],
                                                             environment: environment, directory: directory)
        #expect(invalid == Int32(RPCError.Code.invalidArgument.rawValue))
        #expect(invalidJSON.contains(#""field": "implanted""#))

        let (human, table, _) = try await runProcess(ctl, ["status"], environment: environment, directory: directory)
        #expect(human == 0)
        #expect(table.contains("version      \(Daemon.version)"))

        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
        let (down, _, downMessage) = try await runProcess(ctl, ["status"], environment: environment, directory: directory)
        #expect(down == Int32(RPCError.Code.unavailable.rawValue))
        #expect(downMessage.contains("cannot connect to ozmapd at \(path)"))
    }
}


/// docs/examples/get_status.py, the plain-Python client of docs/PROTOCOL.md, against a real ozmapd.
@Suite(.timeLimit(.minutes(3))) struct ProtocolDocumentationTests {
    @Test func thePythonExampleClientWorks() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let server = try await TestServer()
        let (status, output, errors) = try await runProcess("/usr/bin/env", ["python3", root.appendingPathComponent("docs/examples/get_status.py").path, server.socketPath],
                                                           directory: server.directory)
        #expect(status == 0, "\(errors)")
        #expect(output.hasPrefix("call_id 1 status 0"))
        #expect(output.contains("1 test"), "field 1 (version) of GetStatusResponse")
        try await server.stop()
    }
}
