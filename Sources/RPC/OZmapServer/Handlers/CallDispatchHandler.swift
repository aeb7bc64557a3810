import ArcholtOZmapV1
import NIOCore
import OZmapRPC

/// Hands each request to the server's calls (`submit`: the transport's task group)
/// and writes its response as soon as it is ready (completion order). At most `maximumInFlight` calls of the
/// connection run at once: further requests wait here, and reading from the
/// socket pauses until a call finishes — backpressure, not dropped calls.
final class CallDispatchHandler: ChannelDuplexHandler {
    typealias InboundIn = RequestEnvelope
    typealias OutboundIn = ResponseEnvelope
    typealias OutboundOut = ResponseEnvelope

    private let submit: @Sendable (AcceptedCall) -> Bool
    private let dropQueued: @Sendable (ObjectIdentifier) -> Void
    private let peer: PeerIdentity?
    private let maximumInFlight: Int
    private let tracker: CallTracker
    private let stats: ServerStats

    private var inFlight = 0
    private var waiting = CircularBuffer<RequestEnvelope>()
    private var readHeld = false
    private var active = true
    private var flushScheduled = false

    /// `submit` returns false once the server takes no more calls; `dropQueued` answers the
    /// connection's calls still waiting for a running slot once it has closed.
    init(submit: @escaping @Sendable (AcceptedCall) -> Bool, dropQueued: @escaping @Sendable (ObjectIdentifier) -> Void,
         peer: PeerIdentity?, maximumInFlight: Int, tracker: CallTracker, stats: ServerStats) {
        self.submit = submit
        self.dropQueued = dropQueued
        self.peer = peer
        self.maximumInFlight = maximumInFlight
        self.tracker = tracker
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        if inFlight < maximumInFlight {
            start(request, context: context)
        } else {
            waiting.append(request)
        }
    }

    func read(context: ChannelHandlerContext) {
        if inFlight >= maximumInFlight || !waiting.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        waiting.removeAll()
        dropQueued(ObjectIdentifier(context.channel)) // nobody reads their answers: free the queue of them
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        active = false
    }

    private func start(_ request: RequestEnvelope, context: ChannelHandlerContext) {
        guard tracker.begin() else {
            context.writeAndFlush(wrapOutboundOut(Self.shuttingDown(request.callId)), promise: nil)
            return
        }
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let call = AcceptedCall(request: request, peer: peer, connection: ObjectIdentifier(context.channel)) { response in
            loopBound.eventLoop.execute {
                loopBound.value.handler.finish(response, context: loopBound.value.context)
            }
        }
        // Counted before it is handed over: the call may run at once on another thread, and
        // a GetStatus must see itself in flight.
        stats.callStarted()
        guard submit(call) else {
            stats.callWithdrawn()
            // Answered here, not through `finish`: a backlog of refusals must not recurse.
            let tracker = self.tracker
            context.writeAndFlush(wrapOutboundOut(Self.shuttingDown(request.callId))).whenComplete { _ in tracker.end() }
            return
        }
        inFlight += 1
    }

    private static func shuttingDown(_ callID: UInt64) -> ResponseEnvelope {
        ResponseEnvelope(callId: callID, status: ArcholtOZmapV1.Status(.unavailable, "ozmapd is shutting down; retry against the next instance"))
    }

    /// One flush for the responses finished in the same event-loop tick: fewer syscalls under pipelining.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            loopBound.value.handler.flushScheduled = false
            if loopBound.value.handler.active { loopBound.value.context.flush() }
        }
    }

    private func finish(_ response: ResponseEnvelope, context: ChannelHandlerContext) {
        inFlight -= 1
        stats.callFinished()
        guard active else { return tracker.end() }
        // The call counts as in flight until its answer is on the socket: a graceful
        // shutdown closes connections once none is, and closing drops unflushed
        // writes (the last answers were lost that way under ASan, LifecycleTests).
        let tracker = self.tracker
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in tracker.end() }
        context.write(wrapOutboundOut(response), promise: written)
        scheduleFlush(context: context)
        while inFlight < maximumInFlight, let next = waiting.popFirst() {
            start(next, context: context)
        }
        if readHeld, inFlight < maximumInFlight, waiting.isEmpty {
            readHeld = false
            context.read()
        }
    }
}
