import Synchronization

/// Wake-ups for tasks that check something, then wait for it to change or for a
/// deadline. A waiter registers *before* it checks, so a wake-up between the check and
/// the suspension is kept, not lost; the wait ends at the wake-up or the deadline,
/// whichever is first, and the other is cancelled (no timer outlives its wait).
final class WakeUps<Key: Hashable & Sendable>: Sendable {
    struct Registration: Sendable {
        fileprivate let key: Key
        fileprivate let token: Int
    }

    private struct Waiter {
        var woken = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex<(next: Int, waiters: [Key: [Int: Waiter]])>((0, [:]))

    /// Call before checking what the wait is for; pass the result to `wait`.
    func register(_ key: Key) -> Registration {
        state.withLock { state in
            state.next += 1
            state.waiters[key, default: [:]][state.next] = Waiter()
            return Registration(key: key, token: state.next)
        }
    }

    /// Wakes every waiter registered for `key`, suspended or not yet.
    func wake(_ key: Key) {
        let suspended = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var waiters = state.waiters[key] else { return [] }
            var suspended: [CheckedContinuation<Void, Never>] = []
            for token in waiters.keys {
                waiters[token]!.woken = true
                if let continuation = waiters[token]!.continuation { suspended.append(continuation) }
                waiters[token]!.continuation = nil
            }
            state.waiters[key] = waiters
            return suspended
        }
        suspended.forEach { $0.resume() }
    }

    /// Returns when woken (at once if it was since `register`) or at `deadline`; unregisters.
    func wait(_ registration: Registration, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.suspend(registration) }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
        unregister(registration)
    }

    /// Drops a registration (again: nothing happens).
    func unregister(_ registration: Registration) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            let waiter = state.waiters[registration.key]?.removeValue(forKey: registration.token)
            if state.waiters[registration.key]?.isEmpty == true { state.waiters[registration.key] = nil }
            return waiter?.continuation
        }
        continuation?.resume()
    }

    private func suspend(_ registration: Registration) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    guard let waiter = state.waiters[registration.key]?[registration.token], !waiter.woken else { return true }
                    state.waiters[registration.key]![registration.token]!.continuation = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            // The deadline came first (or the waiting task went away): end the suspension.
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard state.waiters[registration.key]?[registration.token] != nil else { return nil }
                state.waiters[registration.key]![registration.token]!.woken = true
                defer { state.waiters[registration.key]![registration.token]!.continuation = nil }
                return state.waiters[registration.key]![registration.token]!.continuation
            }
            continuation?.resume()
        }
    }
}
