import Foundation
import GRPCCore
import OZmapClient
import OZmapRPC
import OZmapTestSupport
import OZmapWire
import Testing

/// A real ozmapd's resident memory over 100,000 calls stays flat once warm.
/// Every call unpacks two protobuf-c messages (the envelope and the payload)
/// and packs the answer: one of them leaked per call would be megabytes here.
/// `make test` runs this suite on its own, after the others: its load would
/// disturb their latency and timeout checks.
///
/// Under AddressSanitizer (`make test-asan`) RSS says nothing (freed memory
/// waits in ASan's quarantine) and calls are ten times slower: 5,000 calls
/// run, and the leak check is LeakSanitizer's when ozmapd exits, which
/// reports even one lost allocation.
@Suite(.timeLimit(.minutes(10))) struct MemoryTests {
    static let scale = runningUnderAddressSanitizer ? 20 : 1
    static let warmUpCalls = 20_000 / scale
    static let measuredCalls = 80_000 / scale
    static let connections = 4
    static let callsInFlightPerConnection = 32
    /// One unpacked envelope alone is two malloc chunks (its 64-byte struct,
    /// its method string) of about 128 bytes: 10 MiB over 80,000 calls.
    /// Measured: a codec that never frees what it unpacks grows 15.5 MiB here
    /// (about 200 bytes a call), a correct one 0.1 MiB. 4 MiB (52 bytes a call)
    /// tells them apart with room for allocator and SQLite page-cache noise.
    static let maximumGrowth = 4 << 20

    @Test func residentMemoryIsFlatOver100000Calls() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ozmapd.sock"
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", path, "--state-dir", directory + "/state"], directory: directory)
        let pid = daemon.process.processIdentifier
        var clients: [OZmapIntegrationConnection] = []
        for _ in 0..<Self.connections { clients.append(try await connectWhenUp(path)) }

        let mix = [
            MixedCall(OZmapIntegration.Method.GetStatus.path, [], .ok),
            MixedCall(OZmapIntegration.Method.ListMethods.path, [], .ok),
            MixedCall(OZmapIntegration.Method.ListOLTLinks.path, [], .ok),
            MixedCall(OZmapIntegration.Method.GetONU.path,
                      try GetONURequest(onuId: "no-such-onu").serializedBytes(), .notFound),
            // A field the handler refuses: operation ids are numbers.
            MixedCall(OZmapIntegration.Method.RetryOperation.path,
                      try RetryOperationRequest(operationId: "not-a-number").serializedBytes(),
                      .invalidArgument),
            // Not a protobuf message at all: a tag with wire type 7.
            MixedCall(OZmapIntegration.Method.GetONU.path, [0xff, 0xff, 0x07], .invalidArgument),
        ]

        let start = ContinuousClock.now
        let warmUp = try await Self.run(mix, 0..<Self.warmUpCalls, on: clients)
        let warm = try residentBytes(pid)
        let measured = try await Self.run(mix, Self.warmUpCalls..<Self.warmUpCalls + Self.measuredCalls, on: clients)
        let end = try residentBytes(pid)
        let elapsed = ContinuousClock.now - start

        let growth = end - warm
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print("""
            MemoryTests: ozmapd VmRSS \(mib(warm)) after \(Self.warmUpCalls) calls, \(mib(end)) after \
            \(Self.warmUpCalls + Self.measuredCalls): growth \(mib(growth)) over \(Self.measuredCalls) calls \
            (\(growth / Self.measuredCalls) bytes a call; bound \(mib(Self.maximumGrowth))), \
            \(Int(Double(Self.warmUpCalls + Self.measuredCalls) / elapsed.seconds)) calls/s\
            \(runningUnderAddressSanitizer ? " under AddressSanitizer" : "")
            """)

        for tally in [warmUp, measured] {
            #expect(tally.wrong.isEmpty, "calls answered with the wrong status: \(tally.wrong.prefix(5))")
        }
        #expect(warmUp.answered == Self.warmUpCalls && measured.answered == Self.measuredCalls)
        if !runningUnderAddressSanitizer {
            #expect(growth < Self.maximumGrowth, "ozmapd grew \(mib(growth)) over \(Self.measuredCalls) calls")
        }

        let status = try await clients[0].rpc.getStatus(GetStatusRequest())
        #expect(status.callsServed >= UInt64(Self.warmUpCalls + Self.measuredCalls))
        for client in clients { await client.close() }
        daemon.signal(SIGTERM)
        // Under ASan with detect_leaks=1, LeakSanitizer makes a leaking ozmapd exit non-zero.
        let exit = try await daemon.exitStatus(timeout: .seconds(120))
        #expect(exit == 0, "ozmapd exited \(exit): \(daemon.errorOutput.suffix(4000))")
    }

    /// Runs calls `range` of the endless `mix`, `callsInFlightPerConnection` at a time on each connection.
    private static func run(_ mix: [MixedCall], _ range: Range<Int>, on clients: [OZmapIntegrationConnection]) async throws -> CallTally {
        let workers = clients.count * callsInFlightPerConnection
        return try await withThrowingTaskGroup(of: CallTally.self) { group in
            for worker in 0..<workers {
                let client = clients[worker % clients.count]
                group.addTask {
                    var tally = CallTally()
                    for index in stride(from: range.lowerBound + worker, to: range.upperBound, by: workers) {
                        let call = mix[index % mix.count]
                        let response = try await client.connection.call(path: call.path, payload: call.payload)
                        tally.answered += 1
                        if response.outcome.grpcCode != call.expected {
                            tally.wrong.append("\(call.path): \(response.outcome.grpcCode) \(response.outcome.message)")
                        }
                    }
                    return tally
                }
            }
            return try await group.reduce(into: CallTally()) { total, tally in
                total.answered += tally.answered
                total.wrong += tally.wrong
            }
        }
    }
}

private struct MixedCall: Sendable {
    let path: String
    let payload: [UInt8]
    let expected: GRPCCore.Status.Code

    init(_ path: String, _ payload: [UInt8], _ expected: GRPCCore.Status.Code) {
        self.path = path
        self.payload = payload
        self.expected = expected
    }
}

private struct CallTally: Sendable {
    var answered = 0
    var wrong: [String] = []
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
