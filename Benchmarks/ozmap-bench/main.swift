// `make bench`: what a call costs, end to end over the Unix socket, against a
// baseline measured in the same run — the same GetStatus call through GRPCCore's
// in-process transport, with no socket, framing or envelope; both with the generated
// client (TypedCalls.swift).
// `make bench-import` (`ozmap-bench import`): ImportONUs of an existing fleet (ImportBenchmark.swift).
// `make bench-scale NETWORK=N` (`ozmap-bench scale`): a network at scale (ScaleBenchmark.swift).
// `make bench-codec` (`ozmap-bench codec`): message coding, old path against generated (CodecBenchmark.swift).
import Foundation
import Logging
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapTestSupport
import OZmapWire
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
let services = ServiceGroup(services: daemon.services, logger: logger)
let running = Task { try await services.run() }
try await daemon.server.waitUntilListening()

let calls = 20_000
let request = RequestEnvelope(callId: 1, method: OZmapIntegration.Method.GetStatus.path)

// Warm up both paths.
try await socketRun(configuration.socketPath, connections: 1, depth: 16, perConnection: 2000)

var results: [Measurement] = []
results.append(try await inProcessGetStatus(daemon, calls: calls))
results.append(try await measure("envelope encode+decode only", calls: calls) {
    for _ in 0..<calls {
        let bytes = try request.serializedBytes()
        _ = try RequestEnvelope(serializedBytes: bytes)
    }
})
results.append(try await measure("socket, 1 connection, 1 in flight", calls: 5000) {
    try await socketRun(configuration.socketPath, connections: 1, depth: 1, perConnection: 5000)
})
results.append(try await measure("socket, 1 connection, 64 in flight", calls: calls) {
    try await socketRun(configuration.socketPath, connections: 1, depth: 64, perConnection: calls)
})
results.append(try await measure("socket, 8 connections, 64 in flight", calls: calls) {
    try await socketRun(configuration.socketPath, connections: 8, depth: 64, perConnection: calls / 8)
})

// Fairness: one caller's latency while 64 other connections keep 128 calls each in
// flight (the per-connection limit), against the same caller alone.
let alone = percentiles(try await loneCallLatencies(configuration.socketPath, count: 2000))
let flood = Task { try await socketRun(configuration.socketPath, connections: 64, depth: 128, perConnection: 4000) }
try await waitUntil("the flood fills its connections") { daemon.server.stats.snapshot.callsInFlight >= 64 * 64 }
let besideFlood = percentiles(try await loneCallLatencies(configuration.socketPath, count: 200))
try await flood.value

let baseline = results[0]
print("ozmapd benchmark — GetStatus, \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("case".padding(toLength: 40, withPad: " ", startingAt: 0) + "calls/s".padding(toLength: 12, withPad: " ", startingAt: 0)
      + "µs/call".padding(toLength: 10, withPad: " ", startingAt: 0) + "× baseline µs")
for result in results {
    print(result.name.padding(toLength: 40, withPad: " ", startingAt: 0)
          + String(format: "%-12.0f%-10.1f%.2f", result.perSecond, result.microsecondsPerCall,
                   result.microsecondsPerCall / baseline.microsecondsPerCall))
}

print("")
print("one caller's GetStatus, alone and beside 64 connections x 128 calls in flight")
print("case".padding(toLength: 40, withPad: " ", startingAt: 0) + "p50 µs".padding(toLength: 12, withPad: " ", startingAt: 0)
      + "p99 µs".padding(toLength: 10, withPad: " ", startingAt: 0) + "× alone p99")
for (name, figures) in [("alone (baseline)", alone), ("beside the flood", besideFlood)] {
    print(name.padding(toLength: 40, withPad: " ", startingAt: 0)
          + String(format: "%-12d%-10d%.1f", microseconds(figures.p50), microseconds(figures.p99),
                   Double(microseconds(figures.p99)) / Double(max(1, microseconds(alone.p99)))))
}

await services.triggerGracefulShutdown()
try await running.value
try? FileManager.default.removeItem(atPath: directory)
