import Synchronization

/// Counters the transport keeps and `GetStatus` reports.
public final class ServerStats: Sendable {
    public struct Snapshot: Sendable, Hashable {
        public var connectionsOpen = 0
        public var connectionsAccepted = 0
        public var callsServed = 0
        public var callsInFlight = 0
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func connectionOpened() { state.withLock { $0.connectionsOpen += 1; $0.connectionsAccepted += 1 } }
    public func connectionClosed() { state.withLock { $0.connectionsOpen -= 1 } }
    public func callStarted() { state.withLock { $0.callsInFlight += 1 } }
    /// A call counted as started that was refused instead (shutting down): neither in flight nor served.
    public func callWithdrawn() { state.withLock { $0.callsInFlight -= 1 } }
    public func callFinished() { state.withLock { $0.callsInFlight -= 1; $0.callsServed += 1 } }
}
