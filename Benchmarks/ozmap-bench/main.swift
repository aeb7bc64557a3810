// `ozmap-bench` (run by `make bench`, scripts/bench-rpc.py, beside its socket figures): what
// GetCredentials and GetStatus cost through GRPCCore's in-process transport — the daemon's
// service and interceptors, typed client and server coding, no socket, framing or envelope
// (TypedCalls.swift) — to say how much of a socket call is the transport's.
// `make bench-import` (`ozmap-bench import`): ImportONUs of an existing fleet (ImportBenchmark.swift).
// `make bench-scale NETWORK=N` (`ozmap-bench scale`): a network at scale (ScaleBenchmark.swift).
// `make bench-codec` (`ozmap-bench codec`): message coding, old path against generated (CodecBenchmark.swift).
import Foundation
import Logging
import OZmapClient
import OZmapDaemon
import ServiceLifecycle

struct Measurement {
    let name: String
    let calls: Int
    let seconds: Double
    var perSecond: Double { Double(calls) / seconds }
    var microsecondsPerCall: Double { seconds * 1e6 / Double(calls) }
}

func measure(_ name: String, calls: Int, _ body: () async throws -> Void) async rethrows -> Measurement {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Measurement(name: name, calls: calls, seconds: seconds)
}

if CommandLine.arguments.dropFirst().first == "codec" {
    exit(try CodecBenchmark.run(arguments: Array(CommandLine.arguments.dropFirst(2))) ? 0 : 1)
}

if CommandLine.arguments.dropFirst().first == "scale" {
    exit(try await ScaleBenchmark.run(arguments: Array(CommandLine.arguments.dropFirst(2))) ? 0 : 1)
}

if CommandLine.arguments.dropFirst().first == "import" {
    exit(try await ImportBenchmark.run(arguments: Array(CommandLine.arguments.dropFirst(2))) ? 0 : 1)
}

var logger = Logger(label: "ozmap-bench")
logger.logLevel = .warning
let directory = NSTemporaryDirectory() + "ozmap-bench-\(getpid())"
var configuration = DaemonConfiguration()
configuration.socketPath = directory + "/ozmapd.sock"
configuration.stateDirectory = directory + "/state"
let daemon = try Daemon(configuration: configuration, logger: logger)
let calls = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20_000
for figure in try await inProcessCalls(daemon, calls: calls) {
    print(String(format: "in process: %@ %.1f µs/call %.0f calls/s", figure.name, figure.microsecondsPerCall, figure.perSecond))
}
try? FileManager.default.removeItem(atPath: directory)
