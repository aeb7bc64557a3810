import Foundation
import NIOConcurrencyHelpers
import GRPCCore
import OZmapClient
import OZmapRPC
import OZmapWire
import OZmapTestSupport
import Testing

/// Pipelining, backpressure and timeouts over a real socket.
@Suite(.timeLimit(.minutes(3))) struct ConcurrencyTests {
    @Test func sixtyFourConnectionsOfAThousandPipelinedCallsEachAnsweredOnce() async throws {
        let server = try await TestServer()
        // Under AddressSanitizer GRPCCore's unspecialised generics make each call ~5× the debug cost:
        // 64,000 calls passed 180 s there (13 s before the switch to GRPCCore).
        let connections = 64, calls = runningUnderAddressSanitizer ? 200 : 1000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let connection = try await server.rawConnection()
                    // Deadlines count from acceptance, queueing included: 64,000 calls on a slow (debug,
                    // sanitized, shared) machine may queue past the 30 s default; this test is about answers.
                    try await connection.send((1...calls).map { RequestEnvelope(callId: UInt64($0), method: getStatusPath, timeoutMs: 600_000) })
                    var seen = Set<UInt64>()
                    for _ in 1...calls {
                        let response = try await connection.next(timeout: .seconds(60))
                        #expect(response.outcome.grpcCode == .ok)
                        #expect(seen.insert(response.callId).inserted, "call \(response.callId) answered twice")
                    }
                    #expect(seen == Set((1...calls).map(UInt64.init)))
                    // Nothing else is on its way: the next frame is the answer to a new call.
                    try await connection.send([RequestEnvelope(callId: 5000, method: getStatusPath)])
                    #expect(try await connection.next().callId == 5000)
                    await connection.close()
                }
            }
            try await group.waitForAll()
        }
        #expect(server.server.stats.snapshot.callsServed == connections * (calls + 1))
        try await server.stop()
    }

    @Test func callsBeyondTheInFlightLimitWaitInsteadOfBeingDropped() async throws {
        let gate = Gate()
        let limit = 8
        let server = try await TestServer(configure: { $0.maximumCallsInFlightPerConnection = limit }) { router in
            router.register(OZmapIntegration.Method.SyncBoxes.self) { _, _ in
                await gate.wait()
                throw GRPCCore.RPCError(code: .aborted, message: "released")
            }
        }
        let connection = try await server.rawConnection()
        let syncPath = "/\(OZmapIntegration.descriptor.fullyQualifiedService)/SyncBoxes"
        try await connection.send((1...30).map { RequestEnvelope(callId: UInt64($0), method: syncPath) })
        try await waitUntil("the limit is reached") { gate.waiting == limit }
        #expect(server.server.stats.snapshot.callsInFlight == limit)
        gate.open()
        var seen = Set<UInt64>()
        for _ in 1...30 { seen.insert(try await connection.next().callId) }
        #expect(seen.count == 30)
        #expect(gate.peak == limit, "never more than \(limit) calls ran at once")
        await connection.close()
        try await server.stop()
    }

    /// A server running at most `maximumRunningCalls` calls, whose GetONU logs the ONU id it
    /// was called with and waits on the gate, then answers NOT_FOUND.
    private static func gatedGetONU(maximumRunningCalls: Int) async throws -> (TestServer, Gate, NIOLockedValueBox<[String]>) {
        let gate = Gate()
        let started = NIOLockedValueBox<[String]>([])
        let server = try await TestServer(configure: { $0.maximumRunningCalls = maximumRunningCalls }) { router in
            router.register(OZmapIntegration.Method.GetONU.self) { request, _ in
                started.withLockedValue { $0.append(request.onuId) }
                await gate.wait()
                throw GRPCCore.RPCError(code: .notFound, message: "released")
            }
        }
        return (server, gate, started)
    }

    /// With every running slot held by one connection's calls, a call from another connection
    /// takes the next free slot, ahead of the first connection's queue (max_running_calls).
    @Test func aFreeSlotGoesToTheConnectionRunningFewest() async throws {
        let (server, gate, started) = try await Self.gatedGetONU(maximumRunningCalls: 2)
        func call(_ id: Int, _ onu: String) throws -> RequestEnvelope {
            RequestEnvelope(callId: UInt64(id), method: OZmapIntegration.Method.GetONU.path,
                            payload: try GetONURequest(onuId: onu).serializedBytes())
        }
        let flood = try await server.rawConnection()
        let other = try await server.rawConnection()
        try await flood.send((1...20).map { try call($0, "flood-\($0)") })
        try await waitUntil("two of the flood run and the rest wait") {
            gate.waiting == 2 && server.server.stats.snapshot.callsInFlight == 20
        }
        try await other.send([try call(1, "other")])
        try await waitUntil("the other call waits too") { server.server.stats.snapshot.callsInFlight == 21 }
        // One slot freed: the other connection's call takes it. The gate stays shut, so no call
        // of the flood can run on that slot first, however slowly the other call's handler starts.
        gate.releaseOne()
        try await waitUntil("a third call started") { started.withLockedValue { $0.count } == 3 }
        let order = started.withLockedValue { $0 }
        #expect(order.last == "other", "started in the order \(order)")
        gate.open()
        for _ in 1...20 { #expect(try await flood.next().outcome.grpcCode == .notFound) }
        #expect(try await other.next().outcome.grpcCode == .notFound)
        #expect(started.withLockedValue { $0 }.count == 21)
        await flood.close()
        await other.close()
        try await server.stop()
    }

    /// Calls of the methods that wait on OZmap start at once, outside max_running_calls: three
    /// held calls run with a limit of one, and a status call is still answered beside them.
    @Test func waitingMethodsHoldNoRunningSlot() async throws {
        let gate = Gate()
        let syncPath = "/\(OZmapIntegration.descriptor.fullyQualifiedService)/SyncBoxes"
        let server = try await TestServer(configure: { $0.maximumRunningCalls = 1; $0.waitingMethods = [syncPath] }) { router in
            router.register(OZmapIntegration.Method.SyncBoxes.self) { _, _ in
                await gate.wait()
                throw GRPCCore.RPCError(code: .aborted, message: "released")
            }
        }
        let held = try await server.rawConnection()
        try await held.send((1...3).map { RequestEnvelope(callId: UInt64($0), method: syncPath) })
        try await waitUntil("all three run") { gate.waiting == 3 }
        let client = try await server.connect()
        #expect(try await client.rpc.getStatus(GetStatusRequest()).version == "test")
        gate.open()
        for _ in 1...3 { #expect(try await held.next().outcome.grpcCode == .aborted) }
        await client.close()
        await held.close()
        try await server.stop()
    }

    /// A graceful shutdown with calls still waiting for a running slot starts them, answers
    /// them, and stops (it hung: the starting loop was never told the queue had emptied).
    @Test func shutdownWithCallsWaitingForASlotAnswersThemAndStops() async throws {
        let (server, gate, _) = try await Self.gatedGetONU(maximumRunningCalls: 1)
        let connection = try await server.rawConnection()
        try await connection.send((1...4).map { RequestEnvelope(callId: UInt64($0), method: OZmapIntegration.Method.GetONU.path) })
        try await waitUntil("one runs, three wait") { gate.waiting == 1 && server.server.stats.snapshot.callsInFlight == 4 }
        await server.shutDown()
        gate.open()
        for _ in 1...4 { #expect(try await connection.next().outcome.grpcCode == .notFound) }
        try await server.stopped()
        await connection.close()
    }

    /// A connection that closes with calls waiting for a slot takes them out of the queue:
    /// the next caller's call runs as soon as the slot frees, not after them.
    @Test func aClosedConnectionsWaitingCallsAreDropped() async throws {
        let (server, gate, started) = try await Self.gatedGetONU(maximumRunningCalls: 1)
        let leaving = try await server.rawConnection()
        try await leaving.send((1...10).map { RequestEnvelope(callId: UInt64($0), method: OZmapIntegration.Method.GetONU.path) })
        try await waitUntil("one runs, nine wait") { gate.waiting == 1 && server.server.stats.snapshot.callsInFlight == 10 }
        await leaving.close()
        try await waitUntil("the nine are dropped") { server.server.stats.snapshot.callsInFlight == 1 }
        gate.open()
        let client = try await server.connect()
        #expect(try await client.rpc.getStatus(GetStatusRequest()).version == "test")
        #expect(started.withLockedValue { $0.count } == 1, "only the running call ran")
        await client.close()
        try await server.stop()
    }

    @Test func serverEnforcesTheCallTimeout() async throws {
        let server = try await TestServer(handlers: { router in
            router.register(OZmapIntegration.Method.SyncBoxes.self) { _, _ in
                try await Task.sleep(for: .seconds(3600))
                throw GRPCCore.RPCError(code: .internalError, message: "unreachable")
            }
        })
        let connection = try await server.rawConnection()
        try await connection.send([RequestEnvelope(callId: 1, method: "/\(OZmapIntegration.descriptor.fullyQualifiedService)/SyncBoxes", timeoutMs: 100)])
        let response = try await connection.next()
        #expect(response.outcome.grpcCode == .deadlineExceeded)
        #expect(response.outcome.message.contains("100 ms"))
        await connection.close()
        try await server.stop()
    }

    /// A call past its deadline is answered DEADLINE_EXCEEDED and its handler cancelled; the
    /// slot it held goes on: with one running slot, the calls behind it still run.
    @Test func aCallPastItsDeadlineIsCancelledAndTheNextCallsRun() async throws {
        let (stuck, cancelled) = (NIOLockedValueBox(0), NIOLockedValueBox(0))
        let ranCancelled = NIOLockedValueBox(0) // calls that started on a task already cancelled
        let server = try await TestServer(configure: { $0.maximumRunningCalls = 1 }) { router in
            router.register(OZmapIntegration.Method.GetONU.self) { request, _ in
                if request.onuId == "stuck" {
                    stuck.withLockedValue { $0 += 1 }
                    do { try await Task.sleep(for: .seconds(3600)) } catch { cancelled.withLockedValue { $0 += 1 } }
                } else if Task.isCancelled {
                    ranCancelled.withLockedValue { $0 += 1 }
                }
                throw GRPCCore.RPCError(code: .notFound, message: "no ONU \(request.onuId)")
            }
        }
        let connection = try await server.rawConnection()
        func call(_ id: UInt64, _ onu: String, timeoutMs: UInt32 = 0) throws -> RequestEnvelope {
            RequestEnvelope(callId: id, method: OZmapIntegration.Method.GetONU.path, timeoutMs: timeoutMs,
                            payload: try GetONURequest(onuId: onu).serializedBytes())
        }
        for round in 0..<3 {
            let base = UInt64(round * 10)
            try await connection.send([try call(base + 1, "stuck", timeoutMs: 300)] + (2...4).map { try call(base + UInt64($0), "onu-\($0)") })
            var answers: [UInt64: GRPCCore.Status.Code] = [:]
            for _ in 1...4 {
                let response = try await connection.next()
                answers[response.callId] = response.outcome.grpcCode
            }
            #expect(answers == [base + 1: .deadlineExceeded, base + 2: .notFound, base + 3: .notFound, base + 4: .notFound])
        }
        // A stuck call that waited out its deadline for the slot (a loaded machine) never started.
        #expect(stuck.withLockedValue { $0 } > 0)
        #expect(ranCancelled.withLockedValue { $0 } == 0, "a call behind a timed-out one ran on its cancelled task")
        try await waitUntil("each stuck handler saw its cancellation") { cancelled.withLockedValue { $0 } == stuck.withLockedValue { $0 } }
        await connection.close()
        try await server.stop()
    }

    /// With a call executor, a call's handler and its answer run there (ozmapd's is the
    /// blocking-work executor: handlers call SQLite synchronously).
    @Test func callsRunOnTheCallExecutor() async throws {
        let executor = QueueExecutor()
        let onExecutor = NIOLockedValueBox<[Bool]>([])
        let server = try await TestServer(callExecutor: executor, handlers: { router in
            router.register(OZmapIntegration.Method.GetONU.self) { _, _ in
                onExecutor.withLockedValue { $0.append(executor.isCurrent) }
                throw GRPCCore.RPCError(code: .notFound, message: "none")
            }
        })
        let client = try await server.connect()
        for _ in 1...5 {
            await #expect(throws: GRPCCore.RPCError.self) { _ = try await client.rpc.getONU(GetONURequest(onuId: "x")) }
        }
        #expect(onExecutor.withLockedValue { $0 } == Array(repeating: true, count: 5))
        #expect(executor.jobs > 0)
        await client.close()
        try await server.stop()
    }

    @Test func clientGivesUpAtItsTimeoutAndTheConnectionStaysUsable() async throws {
        let gate = Gate()
        let server = try await TestServer(handlers: { router in
            router.register(OZmapIntegration.Method.SyncBoxes.self) { _, _ in
                // Ignores cancellation, as a stuck handler would: only the client's own timer can end the call.
                await gate.wait()
                throw GRPCCore.RPCError(code: .aborted, message: "released")
            }
        })
        let client = try await server.connect()
        await #expect(throws: GRPCCore.RPCError.self) {
            _ = try await client.rpc.syncBoxes(SyncBoxesRequest(), options: .timeout(.milliseconds(200)))
        }
        do {
            _ = try await client.rpc.syncBoxes(SyncBoxesRequest(), options: .timeout(.milliseconds(200)))
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .deadlineExceeded)
        }
        let status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.version == "test")
        gate.open()
        await client.close()
        try await server.stop()
    }
}

/// A task executor on one Dispatch queue that can tell whether the code asking runs on it.
final class QueueExecutor: TaskExecutor, @unchecked Sendable {
    private let key = DispatchSpecificKey<Bool>()
    private let queue = DispatchQueue(label: "test-call-executor")
    private let count = NIOLockedValueBox(0)

    init() { queue.setSpecific(key: key, value: true) }

    var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }
    var jobs: Int { count.withLockedValue { $0 } }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        count.withLockedValue { $0 += 1 }
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
