import NIOCore
import ArcholtOZmapV1
import OZmapRPC
import Synchronization

/// Which accepted call starts next, and when. At most `limit` calls run at once across the
/// server. A free slot goes to the connection with the fewest calls outstanding (running and
/// waiting), the one granted least recently among equals: a caller with one call in flight
/// goes ahead of a pipelined flood, which waits behind its own calls (issue 12, fairness).
/// Every `roundRobinEvery`-th slot goes to the connection granted least recently whatever it
/// has outstanding, so a heavy connection still starts a call within that many slots per
/// connection waiting. A value type; `CallScheduler` holds it under a lock.
struct CallQueue {
    static let roundRobinEvery: UInt64 = 8

    let limit: Int
    /// The connections with calls waiting or running.
    private var lanes: [ObjectIdentifier: Lane] = [:]
    /// Slots granted so far; a lane's `lastGranted` is this count at its latest grant.
    private var grants: UInt64 = 0
    private(set) var runningTotal = 0
    private var waitingTotal = 0
    /// No more calls arrive; the ones waiting still run.
    var closed = false

    private struct Lane {
        var waiting = CircularBuffer<AcceptedCall>()
        var running = 0
        /// For a connection that had nothing outstanding, the count when its first call came:
        /// a caller that comes and goes does not take the round-robin turns from one waiting.
        var lastGranted: UInt64
        var outstanding: Int { waiting.count + running }
    }

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var isDone: Bool { closed && waitingTotal == 0 }

    mutating func removeAllWaiting() -> [AcceptedCall] {
        var removed: [AcceptedCall] = []
        for connection in Array(lanes.keys) { removed += removeWaiting(of: connection) }
        return removed
    }

    mutating func append(_ call: AcceptedCall) {
        lanes[call.connection, default: Lane(lastGranted: grants)].waiting.append(call)
        waitingTotal += 1
    }

    /// The next call to start, counted as running; nil at the limit or with none waiting.
    mutating func popNext() -> AcceptedCall? {
        guard runningTotal < limit else { return nil }
        let roundRobin = grants % Self.roundRobinEvery == Self.roundRobinEvery - 1
        var chosen: ObjectIdentifier?
        var best = (outstanding: Int.max, lastGranted: UInt64.max)
        for (connection, lane) in lanes where !lane.waiting.isEmpty {
            let key = (outstanding: roundRobin ? 0 : lane.outstanding, lastGranted: lane.lastGranted)
            if key < best { (chosen, best) = (connection, key) }
        }
        guard let connection = chosen, let call = lanes[connection]?.waiting.popFirst() else { return nil }
        grants += 1
        waitingTotal -= 1
        lanes[connection]?.running += 1
        lanes[connection]?.lastGranted = grants
        runningTotal += 1
        return call
    }

    /// Takes a closed connection's calls out of the queue.
    mutating func removeWaiting(of connection: ObjectIdentifier) -> [AcceptedCall] {
        guard let lane = lanes[connection], !lane.waiting.isEmpty else { return [] }
        if lane.running == 0 { lanes[connection] = nil } else { lanes[connection]?.waiting.removeAll() }
        waitingTotal -= lane.waiting.count
        return Array(lane.waiting)
    }

    mutating func ended(_ connection: ObjectIdentifier) {
        runningTotal -= 1
        guard let lane = lanes[connection] else { return }
        if lane.running <= 1 && lane.waiting.isEmpty {
            lanes[connection] = nil
        } else {
            lanes[connection]?.running = max(0, lane.running - 1)
        }
    }
}

/// The calls the connections accept, handed to the transport's task group in `CallQueue`'s
/// order: `submit` from the event loops, `next` from the loop that starts workers, and
/// `ended` from a worker, which gets its next call there — under load a worker runs call
/// after call without a trip through the starting loop (one wake-up per call would queue
/// behind every other runnable task in the process).
final class CallScheduler: Sendable {
    private struct State {
        var queue: CallQueue
        var consumer: CheckedContinuation<AcceptedCall?, Never>?
        /// Calls of the waiting methods, started in arrival order without a slot.
        var unlimited = CircularBuffer<AcceptedCall>()

        mutating func popNext() -> AcceptedCall? {
            unlimited.popFirst() ?? queue.popNext()
        }

        var isDone: Bool { unlimited.isEmpty && queue.isDone }

        /// The waiting consumer, once closed and every accepted call has started: it gets nil.
        mutating func takeConsumerIfDone() -> CheckedContinuation<AcceptedCall?, Never>? {
            guard isDone else { return nil }
            defer { consumer = nil }
            return consumer
        }

        /// The waiting consumer and the call to give it, if both are there.
        mutating func handOff() -> (CheckedContinuation<AcceptedCall?, Never>, AcceptedCall)? {
            guard let consumer, let call = popNext() else { return nil }
            self.consumer = nil
            return (consumer, call)
        }
    }

    private let state: Mutex<State>
    private let waitingMethods: Set<String>

    /// `waitingMethods` start at once, outside the limit (`ServerConfiguration.waitingMethods`).
    init(limit: Int, waitingMethods: Set<String>) {
        state = Mutex(State(queue: CallQueue(limit: limit)))
        self.waitingMethods = waitingMethods
    }

    /// False once the server takes no more calls.
    func submit(_ call: AcceptedCall) -> Bool {
        let (accepted, resume) = state.withLock { state -> (Bool, (CheckedContinuation<AcceptedCall?, Never>, AcceptedCall)?) in
            guard !state.queue.closed else { return (false, nil) }
            if waitingMethods.contains(call.request.method) {
                state.unlimited.append(call)
            } else {
                state.queue.append(call)
            }
            return (true, state.handOff())
        }
        if let (consumer, call) = resume { consumer.resume(returning: call) }
        return accepted
    }

    /// The next call to start; nil once closed and every accepted call has started, or on cancellation.
    func next() async -> AcceptedCall? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> AcceptedCall?? in
                    if let call = state.popNext() { return .some(call) }
                    if state.isDone || Task.isCancelled { return .some(nil) }
                    state.consumer = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.consumer = nil }
                return state.consumer
            }?.resume(returning: nil)
        }
    }

    /// A started call has ended. Returns the call this worker runs next (its slot passes
    /// to it), or nil when the worker is done: a waiting method's call held no slot, or
    /// the worker stops (`takingNext` false: its task was cancelled) and the next call
    /// goes to `next()`'s caller instead.
    func ended(_ call: AcceptedCall, takingNext: Bool = true) -> AcceptedCall? {
        let holdsSlot = !waitingMethods.contains(call.request.method)
        let (next, resume) = state.withLock { state -> (AcceptedCall?, (CheckedContinuation<AcceptedCall?, Never>, AcceptedCall?)?) in
            guard holdsSlot else { return (nil, nil) }
            state.queue.ended(call.connection)
            if takingNext, let next = state.queue.popNext() { return (next, nil) }
            if let (consumer, next) = state.handOff() { return (nil, (consumer, next)) }
            return (nil, state.takeConsumerIfDone().map { ($0, nil) })
        }
        if let (consumer, call) = resume { consumer.resume(returning: call) }
        return next
    }

    /// The calls of a closed connection still waiting for a slot, out of the queue: each is
    /// answered CANCELLED (nobody reads it; the answer ends its accounting).
    func dropWaiting(of connection: ObjectIdentifier) {
        let (dropped, consumer) = state.withLock { state in
            (state.queue.removeWaiting(of: connection), state.takeConsumerIfDone())
        }
        consumer?.resume(returning: nil)
        for call in dropped {
            call.respond(ResponseEnvelope(callId: call.request.callId,
                                          status: ArcholtOZmapV1.Status(.cancelled, "the connection closed before the call started")))
        }
    }

    /// Closes the queue and answers every call still waiting UNAVAILABLE (the transport stopped
    /// without a graceful shutdown: nothing will start them).
    func abandon() {
        let (dropped, consumer) = state.withLock { state -> ([AcceptedCall], CheckedContinuation<AcceptedCall?, Never>?) in
            state.queue.closed = true
            var dropped = Array(state.unlimited)
            state.unlimited.removeAll()
            dropped += state.queue.removeAllWaiting()
            return (dropped, state.takeConsumerIfDone())
        }
        consumer?.resume(returning: nil)
        for call in dropped {
            call.respond(ResponseEnvelope(callId: call.request.callId,
                                          status: ArcholtOZmapV1.Status(.unavailable, "ozmapd is shutting down; retry against the next instance")))
        }
    }

    /// No more calls are taken; those accepted still start.
    func close() {
        let consumer = state.withLock { state -> CheckedContinuation<AcceptedCall?, Never>? in
            state.queue.closed = true
            return state.takeConsumerIfDone()
        }
        consumer?.resume(returning: nil)
    }
}
