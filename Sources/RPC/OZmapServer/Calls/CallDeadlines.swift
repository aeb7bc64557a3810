import Dispatch
import Synchronization

/// The deadlines of the calls running, on one Dispatch timer armed for the earliest.
/// A call registers its deadline when it starts and removes it when it ends: two short
/// locked steps, no task and no timer of its own (a per-call deadline task and timer cost
/// two task hand-offs a call, a third of a no-work call's time). Most calls share the
/// server's default timeout, so a new deadline is rarely the earliest and the timer is
/// rarely re-armed; a call that ends does not disarm it: the timer then fires early, finds
/// nothing due and re-arms for the next.
final class CallDeadlines: Sendable {
    private struct Entry {
        var id: UInt64
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }

    private struct State {
        /// Few: at most the running calls.
        var entries: [Entry] = []
        var nextID: UInt64 = 0
        var armedFor: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    // Dispatch sources are thread-safe; the overlay does not say Sendable. Armed only under `state`'s lock.
    private nonisolated(unsafe) let timer = DispatchSource.makeTimerSource(queue: .global())

    init() {
        timer.setEventHandler { [weak self] in self?.expireDue() }
        timer.activate()
    }

    deinit {
        timer.cancel()
    }

    /// Registers a deadline; `expire` runs once it passes, unless `remove` came first. It runs
    /// under this object's lock, so `remove` returning means it is not running and never will:
    /// what it touches lives until then. It must not call back into this object, nor block:
    /// every call's `add` and `remove` wait behind it.
    func add(_ deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.entries.append(Entry(id: id, deadline: deadline, expire: expire))
            if state.armedFor.map({ deadline < $0 }) ?? true { arm(&state, for: deadline) }
            return id
        }
    }

    /// Takes a deadline out, whether or not it expired.
    func remove(_ id: UInt64) {
        state.withLock { state in
            guard let index = state.entries.firstIndex(where: { $0.id == id }) else { return }
            state.entries.swapAt(index, state.entries.count - 1)
            state.entries.removeLast()
        }
    }

    private func expireDue() {
        state.withLock { state in
            let now = ContinuousClock.now
            state.armedFor = nil
            var index = 0
            while index < state.entries.count {
                if state.entries[index].deadline <= now {
                    let entry = state.entries[index]
                    state.entries.swapAt(index, state.entries.count - 1)
                    state.entries.removeLast()
                    entry.expire()
                } else {
                    index += 1
                }
            }
            if let earliest = state.entries.map(\.deadline).min() { arm(&state, for: earliest) }
        }
    }

    private func arm(_ state: inout State, for deadline: ContinuousClock.Instant) {
        state.armedFor = deadline
        let (seconds, attoseconds) = max(deadline - .now, .zero).components
        timer.schedule(deadline: .now() + .nanoseconds(Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)),
                       leeway: .milliseconds(1))
    }
}
