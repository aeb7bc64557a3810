import Dispatch
import Synchronization

/// Suspends until `timeout` has passed (true), or until the task is cancelled (false).
/// A Dispatch timer source rather than `Task.sleep`: every call has one, and on Linux a
/// cancelled sleep stays queued until its deadline, holding its memory for the whole
/// timeout (MemoryTests saw ~200 bytes a call); cancelling a source frees it at once.
func deadlinePassed(after timeout: Duration) async -> Bool {
    let wait = DeadlineWait()
    // Dispatch sources are thread-safe; the overlay does not say Sendable.
    nonisolated(unsafe) let timer = DispatchSource.makeTimerSource(queue: .global())
    let (seconds, attoseconds) = max(timeout, .zero).components
    timer.schedule(deadline: .now() + .nanoseconds(Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
    timer.setEventHandler { wait.finish(true) }
    timer.resume()
    return await withTaskCancellationHandler {
        await withCheckedContinuation { wait.start($0) }
    } onCancel: {
        timer.cancel()
        wait.finish(false)
    }
}

/// The outcome of a `deadlinePassed` wait: the first of the timer and cancellation decides it.
private final class DeadlineWait: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Bool, Never>?, outcome: Bool?)>((nil, nil))

    func start(_ continuation: CheckedContinuation<Bool, Never>) {
        let outcome = state.withLock { state -> Bool? in
            if state.outcome == nil { state.continuation = continuation }
            return state.outcome
        }
        if let outcome { continuation.resume(returning: outcome) }
    }

    func finish(_ passed: Bool) {
        state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = passed
            defer { state.continuation = nil }
            return state.continuation
        }?.resume(returning: passed)
    }
}
