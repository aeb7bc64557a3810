import Foundation
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapTestSupport
import Testing

/// `ozmapctl doctor` (the ozmapctl binary) and RunDoctor against the simulator healthy, a closed
/// port, a wrong key, an HTTPS server whose CA ozmapd does not know, and a refused caller.
/// The simulator listens on a loopback port of its own, not 80: the port-80 check is pointed
/// at a port of the test's choosing through `ozmap_web_port` (`DaemonConfiguration.ozmapWebPort`).
@Suite(.timeLimit(.minutes(2)), .serialized) struct DoctorTests {
    static let serverChecks = ["credentials", "api url", "dns", "tcp api port", "tls", "api key", "clock",
                               "box cache", "last sync", "outbox", "state directory", "key file"]
    /// `ozmapctl doctor`'s exit code when a check fails: EX_UNAVAILABLE, apart from the status codes (0–16).
    static let checkFailed: Int32 = 69

    @Test func healthyAgainstTheSimulatorEveryCheckPasses() async throws {
        let rig = try await TestRig(boxes: 10, olts: 1)
        let web = try LoopbackListener()
        try await rig.startDaemon { $0.ozmapWebPort = web.port }
        let client = try await rig.client()
        _ = try await rig.connect(client)
        await client.close()

        let (status, output, errors) = try await runProcess(binary("ozmapctl"), ["doctor", "--socket", rig.socketPath], directory: rig.directory)
        #expect(status == 0, "\(output)\(errors)")
        for name in ["socket", "permitted", "tcp port \(web.port)"] + Self.serverChecks {
            #expect(output.contains("✔ \(name): "), "\(name) missing or failing:\n\(output)")
        }
        #expect(!output.contains("✘"), "\(output)")
        #expect(output.contains("✔ api key: accepted"))
        #expect(output.contains("✔ clock: within"), "the simulator sends Date")
        #expect(!output.contains(simulatorKey) && !errors.contains(simulatorKey))

        let (jsonStatus, json, _) = try await runProcess(binary("ozmapctl"), ["doctor", "--json", "--socket", rig.socketPath], directory: rig.directory)
        #expect(jsonStatus == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(Set(checks.compactMap { $0["name"] as? String }).isSuperset(of: Self.serverChecks + ["socket", "permitted"]))
        #expect(checks.allSatisfy { $0["ok"] as? Bool == true })
        #expect(!json.contains(simulatorKey))
        try await rig.tearDown()
    }

    /// `ozmap_web_port`: 80 unless set, from the file or OZMAPD_OZMAP_WEB_PORT; a bad value names the key.
    @Test func theWebPortIsASettingAndABadValueNamesIt() throws {
        var configuration = DaemonConfiguration()
        #expect(configuration.ozmapWebPort == 80)
        try configuration.set("ozmap_web_port", to: "8080", source: "ozmapd.conf:1")
        #expect(configuration.ozmapWebPort == 8080)
        try configuration.apply(environment: ["OZMAPD_OZMAP_WEB_PORT": "81"])
        #expect(configuration.ozmapWebPort == 81)
        for bad in ["0", "65536", "http", "-80", ""] {
            let error = #expect(throws: DaemonConfiguration.Error.self) {
                try configuration.set("ozmap_web_port", to: bad, source: "ozmapd.conf:2")
            }
            #expect(error?.description.hasPrefix("ozmapd.conf:2: ozmap_web_port must be a whole number from 1 to 65535") == true,
                    "\(bad): \(String(describing: error))")
        }
        #expect(configuration.ozmapWebPort == 81, "a refused value changes nothing")
    }

    @Test func aClosedPortFailsTheTCPChecksWithTheFirewallAdvice() async throws {
        let rig = try await TestRig(boxes: 1, olts: 1)
        let closed = try LoopbackListener(listening: false)
        let keyFile = try writeKeyFile(rig.directory, key: simulatorKey, mode: 0o600)
        try await rig.startDaemon {
            $0.ozmapAPIURL = "http://127.0.0.1:\(closed.port)/api/v2"
            $0.ozmapAPIKeyFile = keyFile
            $0.ozmapWebPort = closed.port
        }
        let (status, output, _) = try await runProcess(binary("ozmapctl"), ["doctor", "--socket", rig.socketPath], directory: rig.directory)
        #expect(status == Self.checkFailed, "\(output)")
        #expect(output.contains("✔ credentials: "))
        #expect(output.contains("✔ dns: 127.0.0.1"))
        #expect(output.contains("✘ tcp api port: cannot connect to 127.0.0.1 port \(closed.port)"), "\(output)")
        #expect(output.contains("Connection refused"), "\(output)")
        #expect(output.contains("✘ tcp port \(closed.port): "))
        #expect(output.contains("fix: on-premises OZmap must allow the ArchOLT server's IP on ports 80 and 9994; OZmap-hosted tenants have them open"))
        #expect(output.contains("✘ api key: not checked"))
        #expect(output.contains("✔ key file: \(keyFile) mode 0600"))
        #expect(output.contains("✔ state directory: "))
        #expect(!output.contains(simulatorKey))
        try await rig.tearDown()
    }

    @Test func aWrongKeyAndAKeyFileOthersCanReadFail() async throws {
        let rig = try await TestRig(boxes: 1, olts: 1)
        let wrongKey = "wrong-key-\(UUID().uuidString.prefix(8))"
        let keyFile = try writeKeyFile(rig.directory, key: wrongKey, mode: 0o644)
        try await rig.startDaemon {
            $0.ozmapAPIURL = rig.simulator.baseURL
            $0.ozmapAPIKeyFile = keyFile
            $0.ozmapWebPort = rig.simulator.port
        }
        let checks = try await runDoctor(rig)
        #expect(checks["tcp api port"]?.ok == true)
        #expect(checks["api key"]?.ok == false)
        #expect(checks["api key"]?.detail.contains("401") == true, "\(checks["api key"]?.detail ?? "")")
        #expect(checks["api key"]?.fix.contains("ozmapctl credentials set") == true)
        #expect(checks["key file"]?.ok == false)
        #expect(checks["key file"]?.fix == "chmod 600 \(keyFile)")
        #expect(!checks.values.contains { "\($0)".contains(wrongKey) })
        try await rig.tearDown()
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "openssl is not installed: no certificate to test TLS with"))
    func aCertificateFromAnUnknownCAFailsTLSWithLibcurlsReason() async throws {
        let rig = try await TestRig(boxes: 1, olts: 1)
        let https = try await HTTPSServer(directory: rig.directory)
        let keyFile = try writeKeyFile(rig.directory, key: simulatorKey, mode: 0o600)
        try await rig.startDaemon {
            $0.ozmapAPIURL = "https://127.0.0.1:\(https.port)/api/v2"
            $0.ozmapAPIKeyFile = keyFile
            $0.ozmapWebPort = https.port
        }
        let checks = try await runDoctor(rig)
        #expect(checks["tcp api port"]?.ok == true)
        let tls = try #require(checks["tls"])
        #expect(!tls.ok)
        // libcurl's own reason (CURLOPT_ERRORBUFFER), not its generic "SSL peer certificate ... was not OK".
        #expect(tls.detail.contains("SSL certificate problem"), "\(tls.detail)")
        #expect(tls.fix.contains("ozmap_ca_file"))
        #expect(checks["api key"]?.ok == false)
        https.stop()
        try await rig.tearDown()
    }

    @Test func aRefusedCallerAndAMissingSocketAreReportedByOzmapctl() async throws {
        let rig = try await TestRig(boxes: 1, olts: 1)
        try await rig.startDaemon { $0.allowedUIDs = [getuid() &+ 4242] }
        let (status, output, _) = try await runProcess(binary("ozmapctl"), ["doctor", "--socket", rig.socketPath], directory: rig.directory)
        #expect(status == Self.checkFailed)
        #expect(output.contains("✔ socket: "))
        #expect(output.contains("✘ permitted: PERMISSION_DENIED"), "\(output)")
        #expect(output.contains("allowed_uids"))

        let missing = rig.directory + "/nothing.sock"
        let (down, downOutput, _) = try await runProcess(binary("ozmapctl"), ["doctor", "--json", "--socket", missing], directory: rig.directory)
        #expect(down == Self.checkFailed, "an unreachable ozmapd fails the socket check: 69, not UNAVAILABLE's 14")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(downOutput.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        let socket = try #require((object["checks"] as? [[String: Any]])?.first)
        #expect(socket["name"] as? String == "socket")
        #expect(socket["ok"] as? Bool == false)
        #expect((socket["fix"] as? String)?.contains("start ozmapd") == true)
        let (_, help, _) = try await runProcess(binary("ozmapctl"), ["doctor", "--help"], directory: rig.directory)
        #expect(help.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("69 (EX_UNAVAILABLE) when any fails"), "\(help)")
        try await rig.tearDown()
    }

    /// RunDoctor in process, by check name.
    private func runDoctor(_ rig: TestRig) async throws -> [String: DoctorCheck] {
        let client = try await rig.client()
        let response = try await client.rpc.runDoctor(RunDoctorRequest(), options: .timeout(.seconds(30)))
        await client.close()
        return Dictionary(response.checks.map { ($0.name, $0) }) { first, _ in first }
    }
}

/// A key file with the given mode.
private func writeKeyFile(_ directory: String, key: String, mode: Int) throws -> String {
    let path = directory + "/ozmap.key"
    try key.write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    return path
}
