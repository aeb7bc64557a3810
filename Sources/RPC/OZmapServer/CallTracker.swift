import NIOConcurrencyHelpers

/// Calls in flight across every connection, so that shutdown can stop taking
/// new calls and wait for the running ones.
final class CallTracker: Sendable {
    private struct State {
        var inFlight = 0
        var draining = false
        var nextWaiter = 0
        var idleWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// False once draining: the call must be refused.
    func begin() -> Bool {
        state.withLockedValue { state in
            guard !state.draining else { return false }
            state.inFlight += 1
            return true
        }
    }

    func end() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return [] }
            defer { state.idleWaiters.removeAll() }
            return Array(state.idleWaiters.values)
        }
        waiters.forEach { $0.resume(returning: true) }
    }

    /// Refuses new calls from now on; returns true once none is in flight, or
    /// false when `timeout` passes first.
    func drain(within timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let waiter = state.withLockedValue { state -> Int? in
                state.draining = true
                if state.inFlight == 0 { return nil }
                state.nextWaiter += 1
                state.idleWaiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let waiter else { return continuation.resume(returning: true) }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLockedValue { $0.idleWaiters.removeValue(forKey: waiter) }
                expired?.resume(returning: false)
            }
        }
    }
}
