import Foundation
@testable import OZmapServer
import OZmapRPC
import Testing

/// The scheduler's state machine on its own: the limit, and who gets a free slot.
@Suite struct CallQueueTests {
    private let first = NSObject(), second = NSObject()

    private func call(_ on: NSObject, _ id: UInt64) -> AcceptedCall {
        AcceptedCall(request: RequestEnvelope(callId: id, method: "/s/M"), peer: nil, connection: ObjectIdentifier(on)) { _ in }
    }

    @Test func noMoreThanTheLimitRun() {
        var queue = CallQueue(limit: 2)
        for id in 1...3 { queue.append(call(first, UInt64(id))) }
        #expect(queue.popNext()?.request.callId == 1)
        #expect(queue.popNext()?.request.callId == 2)
        #expect(queue.popNext() == nil, "two running: the third waits")
        queue.ended(ObjectIdentifier(first))
        #expect(queue.popNext()?.request.callId == 3)
        #expect(queue.runningTotal == 2)
    }

    /// A lone caller's call takes the next free slot among many connections with nothing
    /// running (it starved: ties went to whichever connection the dictionary listed first).
    @Test func aLoneCallerGoesAheadOfEveryFloodingConnection() {
        var queue = CallQueue(limit: 4)
        let flood = (0..<64).map { _ in NSObject() }
        for (index, connection) in flood.enumerated() {
            for id in 0..<16 { queue.append(call(connection, UInt64(index * 100 + id))) }
        }
        var running: [AcceptedCall] = (0..<4).compactMap { _ in queue.popNext() }
        for round in 1...200 {
            queue.append(call(first, UInt64(1_000_000 + round)))
            if round % 5 == 0 {  // now and then the flood tops its queues up again
                for (index, connection) in flood.enumerated() { queue.append(call(connection, UInt64(index * 100))) }
            }
            // One running call ends, its slot freed: the lone caller's call starts on it,
            // or on the next one when this slot is a round-robin turn.
            var started: [AcceptedCall] = []
            for _ in 0..<2 where !started.contains(where: { $0.connection == ObjectIdentifier(first) }) {
                queue.ended(running.removeFirst().connection)
                if let next = queue.popNext() { started.append(next); running.append(next) }
            }
            #expect(started.contains { $0.connection == ObjectIdentifier(first) }, "round \(round)")
            if let index = running.firstIndex(where: { $0.connection == ObjectIdentifier(first) }) {
                queue.ended(running.remove(at: index).connection)
                if let next = queue.popNext() { running.append(next) }
            }
        }
    }

    /// Light callers arriving all the time do not starve a heavy connection: every
    /// `roundRobinEvery`-th slot goes to the connection granted least recently.
    @Test func aHeavyConnectionStillGetsSlotsBesideLightCallers() {
        var queue = CallQueue(limit: 1)
        for id in 1...10 { queue.append(call(second, UInt64(id))) }
        let light = (0..<3).map { _ in NSObject() }
        var heavyStarted = 0
        for round in 0..<(Int(CallQueue.roundRobinEvery) * 4 * 10) {
            queue.append(call(light[round % light.count], UInt64(100 + round)))
            guard let next = queue.popNext() else { Issue.record("no call started"); return }
            if next.connection == ObjectIdentifier(second) { heavyStarted += 1 }
            queue.ended(next.connection)
        }
        #expect(heavyStarted == 10, "the heavy connection started \(heavyStarted) of its 10 calls")
    }

    @Test func aFreeSlotGoesToTheConnectionRunningFewestInArrivalOrder() {
        var queue = CallQueue(limit: 3)
        for id in 1...4 { queue.append(call(first, UInt64(id))) }
        #expect(queue.popNext()?.request.callId == 1)
        #expect(queue.popNext()?.request.callId == 2)
        queue.append(call(second, 10))
        queue.append(call(second, 11))
        // first runs two, second none: second's oldest call goes next.
        #expect(queue.popNext()?.request.callId == 10)
        #expect(queue.popNext() == nil)
        queue.ended(ObjectIdentifier(first))
        // first runs one, second one: either may go; then the other.
        let next = queue.popNext()?.request.callId
        #expect(next == 3 || next == 11)
    }

    @Test func closedIsDoneOnlyOnceTheWaitingHaveStarted() {
        var queue = CallQueue(limit: 1)
        queue.append(call(first, 1))
        queue.closed = true
        #expect(!queue.isDone)
        #expect(queue.popNext()?.request.callId == 1)
        #expect(queue.isDone)
    }

    /// A worker whose task a deadline cancelled stops: the next call goes to the loop that
    /// starts workers (a fresh task), not to the stopping worker.
    @Test func aStoppingWorkerHandsTheNextCallToTheStartingLoop() async {
        let scheduler = CallScheduler(limit: 1, waitingMethods: [])
        #expect(scheduler.submit(call(first, 1)))
        let running = await scheduler.next()
        #expect(running?.request.callId == 1)
        #expect(scheduler.submit(call(first, 2)), "accepted; waits for the one slot")
        #expect(scheduler.submit(call(first, 3)))
        #expect(running.map { scheduler.ended($0, takingNext: false) == nil } == true, "the stopping worker takes nothing")
        let started = await scheduler.next()
        #expect(started?.request.callId == 2, "the starting loop gets the freed slot's call")
        #expect(started.flatMap { scheduler.ended($0) }?.request.callId == 3, "a worker that goes on takes the next itself")
    }
}
