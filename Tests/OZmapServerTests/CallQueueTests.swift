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
}
