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

let usage = """
    usage: ozmap-bench [CALLS]                  in-process GetCredentials and GetStatus (default 20000 calls)
           ozmap-bench codec [ROUNDS]           message coding
           ozmap-bench scale [--boxes N] [--olts N] [--concurrency N] [--changed N] [--rounds N] [--results FILE]
           ozmap-bench import [--boxes N] [--olts N] [--rows N] [--occupied 0...1] [--baseline N]
    """

/// A subcommand's outcome as the exit status: 0 done, 1 a figure failed its check, 2 it could not
/// run (a bad option, a child that would not start), its reason on stderr rather than a crash report.
func finish(_ subcommand: () async throws -> Bool) async -> Never {
    do {
        exit(try await subcommand() ? 0 : 1)
    } catch {
        FileHandle.standardError.write(Data("ozmap-bench: \(error)\n".utf8))
        exit(2)
    }
}

let subcommandArguments = Array(CommandLine.arguments.dropFirst(2))
if CommandLine.arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
    print(usage)
    exit(0)
}
switch CommandLine.arguments.dropFirst().first {
case "codec": await finish { try CodecBenchmark.run(arguments: subcommandArguments) }
case "scale": await finish { try await ScaleBenchmark.run(arguments: subcommandArguments) }
case "import": await finish { try await ImportBenchmark.run(arguments: subcommandArguments) }
case let calls? where Int(calls) == nil:
    FileHandle.standardError.write(Data("ozmap-bench: unknown subcommand '\(calls)'\n\(usage)\n".utf8))
    exit(2)
default: break
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
