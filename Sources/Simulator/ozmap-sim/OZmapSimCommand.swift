import ArgumentParser
import Dispatch
import Foundation
import Logging
import OZmapSimulator

/// `ozmap-sim`: serves a simulated OZmap API v2 on loopback until SIGTERM/SIGINT.
@main
struct OZmapSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ozmap-sim",
        abstract: "A simulator of the OZmap REST API v2, with a control API under /__sim/.")

    @Option(help: "Address to bind; loopback only unless --allow-remote.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 = ephemeral).")
    var port = 9994

    @Option(name: .customLong("api-key"), help: "The API key to accept (raw, as sent in Authorization).")
    var apiKey: String?

    @Option(name: .customLong("api-key-file"), help: "A file holding the API key (surrounding whitespace ignored).")
    var apiKeyFile: String?

    @Option(help: "Number of generated OLTs.")
    var olts = 2

    @Option(help: "Number of generated boxes connected to an OLT.")
    var boxes = 300

    @Option(name: .customLong("splitter-outputs"), help: "Customer splitter ratio 1:N.")
    var splitterOutputs = 8

    @Option(help: "Share of customer ports occupied by generated clients (0...1).")
    var occupied = 0.4

    @Option(help: "Seed of the deterministic generation.")
    var seed: UInt64 = 1

    @Option(name: .customLong("seed-file"), help: "A JSON file describing the network instead of generating it.")
    var seedFile: String?

    @Option(name: .customLong("max-page-size"), help: "Cap of the limit query parameter.")
    var maxPageSize = 500

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Flag(name: .customLong("allow-remote"), help: "Allow binding a non-loopback address.")
    var allowRemote = false

    @Flag(
        name: .customLong("sdk-forms"), inversion: .prefixedNo,
        help: "Accept the request forms only the SDK's schemas document (string client, PATCH box/client); --no-sdk-forms answers them 400.")
    var sdkForms = true

    func validate() throws {
        guard (apiKey == nil) != (apiKeyFile == nil) else {
            throw ValidationError("give exactly one of --api-key and --api-key-file")
        }
        guard allowRemote || Self.isLoopback(host) else {
            throw ValidationError("\(host) is not a loopback address; pass --allow-remote to bind it anyway")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "ozmap-sim")

        var configuration = SimulatorConfiguration(apiKey: try readAPIKey())
        configuration.olts = olts
        configuration.boxes = boxes
        configuration.splitterOutputs = splitterOutputs
        configuration.occupiedPortRatio = occupied
        configuration.seed = seed
        configuration.seedFile = seedFile
        configuration.maxPageSize = maxPageSize
        configuration.sdkForms = sdkForms

        let simulator = try OZmapSimulator(configuration: configuration, logger: logger)
        let signals = SignalWaiter(signals: [SIGTERM, SIGINT])
        let boundPort = try await simulator.start(host: host, port: port)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        // One line on stdout, unbuffered, for scripts waiting for readiness.
        FileHandle.standardOutput.write(Data("ozmap-sim listening on http://\(shownHost):\(boundPort)/api/v2\n".utf8))

        let received = await signals.wait()
        logger.info("stopping", metadata: ["signal": "\(received)"])
        try await simulator.stop()
    }

    private func readAPIKey() throws -> String {
        if let apiKey { return apiKey }
        guard let apiKeyFile else { throw ValidationError("no API key") }
        let key = try String(contentsOfFile: apiKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { throw ValidationError("\(apiKeyFile) is empty") }
        return key
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// Waits for the first of some signals, through Dispatch sources (the default action is
/// disabled so that the process can stop cleanly).
final class SignalWaiter {
    private let sources: [DispatchSourceSignal]
    private let stream: AsyncStream<Int32>

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "ozmap-sim.signals")
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        self.stream = stream
    }

    func wait() async -> Int32 {
        for await number in stream {
            return number
        }
        return 0
    }
}
