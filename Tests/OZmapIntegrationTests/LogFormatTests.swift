import Foundation
import Logging
import NIOConcurrencyHelpers
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapTestSupport
import Testing

/// `log_format = json`: one JSON object per line, the key in none.
@Suite(.timeLimit(.minutes(2))) struct LogFormatTests {
    @Test func jsonLinesCarryTheMessageAndTheMetadataAsFields() throws {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "ozmapd") { label in JSONLogHandler(label: label) { line in lines.withLockedValue { $0.append(line) } } }
        logger.logLevel = .debug
        logger[metadataKey: "tenant"] = "acme"
        logger.info("box sync \"finished\"\nsecond line", metadata: [
            "boxes": "12", "message": "a clash", "nested": .dictionary(["list": .array(["a", "\u{1}"])]),
        ])
        logger.trace("below the level")

        let written = lines.withLockedValue { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("}\n") && line.dropLast().allSatisfy { $0 != "\n" }, "one line: \(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "box sync \"finished\"\nsecond line")
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "ozmapd")
        #expect((object["time"] as? String).flatMap { try? Date($0, strategy: .iso8601) } != nil, "\(object["time"] ?? "")")
        #expect(object["boxes"] as? String == "12")
        #expect(object["tenant"] as? String == "acme")
        #expect(object["metadata.message"] as? String == "a clash")
        #expect(((object["nested"] as? [String: Any])?["list"] as? [String]) == ["a", "\u{1}"])
    }

    @Test func theSettingTakesTextOrJSONAndNamesItselfOtherwise() throws {
        var configuration = DaemonConfiguration()
        #expect(configuration.logFormat == .text)
        try configuration.apply(environment: ["OZMAPD_LOG_FORMAT": "json"])
        #expect(configuration.logFormat == .json)
        #expect { try configuration.set("log_format", to: "xml", source: "ozmapd.conf:4") } throws: { error in
            "\(error)" == "ozmapd.conf:4: log_format must be text or json, not 'xml'"
        }
    }

    /// The ozmapd binary with OZMAPD_LOG_FORMAT=json at trace level: every line of its standard error
    /// is a JSON object, and the key it was given (file and SetCredentials) is in none.
    @Test func ozmapdWritesJSONLinesWithoutTheKey() async throws {
        let rig = try await TestRig(boxes: 5, olts: 1)
        let keyFile = rig.directory + "/ozmap.key"
        try simulatorKey.write(toFile: keyFile, atomically: false, encoding: .utf8)
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", rig.socketPath, "--state-dir", rig.stateDirectory], environment: [
            "OZMAPD_LOG_FORMAT": "json", "OZMAPD_LOG_LEVEL": "trace",
            "OZMAP_API_URL": rig.simulator.baseURL, "OZMAP_API_KEY_FILE": keyFile,
        ], directory: rig.directory)
        var client: OZmapIntegrationConnection?
        try await waitUntil("ozmapd listens", timeout: .seconds(20)) {
            guard daemon.process.isRunning else { throw TimedOut(description: "ozmapd exited: \(daemon.errorOutput)") }
            client = try? await OZmapIntegrationConnection.connect(socketPath: rig.socketPath)
            return client != nil
        }
        _ = try await rig.connect(try #require(client))
        await client?.close()
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)

        let lines = daemon.errorOutput.split(separator: "\n").map(String.init)
        #expect(lines.count > 3)
        var messages: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["time"] is String && object["level"] is String && object["label"] is String, "\(line)")
            messages.append(try #require(object["message"] as? String))
            if object["message"] as? String == "ozmapd starting" { #expect(object["version"] as? String == Daemon.version) }
        }
        #expect(messages.contains("ozmapd starting"))
        #expect(messages.contains("box sync finished"))
        #expect(!daemon.errorOutput.contains(simulatorKey))
        #expect(!daemon.output.contains(simulatorKey))
        try await rig.tearDown()
    }
}
