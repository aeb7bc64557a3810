import Synchronization

/// Calls in flight across every connection, so that shutdown can stop taking
/// new calls and wait for the running ones.
final class CallTracker: Sendable {
    private struct State {
        var inFlight = 0
        var draining = false
        var nextWaiter = 0
        var idleWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        /// Each waiter's timeout, cancelled when the calls end first.
        var timers: [Int: Task<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// False once draining: the call must be refused.
    func begin() -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.inFlight += 1
            return true
        }
    }

    func end() {
        let (waiters, timers) = state.withLock { state -> ([CheckedContinuation<Bool, Never>], [Task<Void, Never>]) in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return ([], []) }
            defer { state.idleWaiters.removeAll(); state.timers.removeAll() }
            return (Array(state.idleWaiters.values), Array(state.timers.values))
        }
        timers.forEach { $0.cancel() }
        waiters.forEach { $0.resume(returning: true) }
    }

    /// Refuses new calls from now on; returns true once none is in flight, or
    /// false when `timeout` passes first.
    func drain(within timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let waiter = state.withLock { state -> Int? in
                state.draining = true
                if state.inFlight == 0 { return nil }
                state.nextWaiter += 1
                state.idleWaiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let waiter else { return continuation.resume(returning: true) }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                let expired = self.state.withLock { state in
                    state.timers[waiter] = nil
                    return state.idleWaiters.removeValue(forKey: waiter)
                }
                expired?.resume(returning: false)
            }
            let waiting = state.withLock { state -> Bool in
                guard state.idleWaiters[waiter] != nil else { return false }
                state.timers[waiter] = timer
                return true
            }
            if !waiting { timer.cancel() }
        }
    }
}
