@testable import OZmapDomain
import Testing

/// The outbox's waits: a wake-up between a waiter's check and its suspension is kept,
/// the deadline ends a wait, other keys do not wake it, and cancelling the waiting task does.
@Suite(.timeLimit(.minutes(1))) struct WakeUpsTests {
    /// True when `body` returns within 20 s; false if it is still waiting then.
    func returnsPromptly(_ body: @escaping @Sendable () async -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await body(); return true }
            group.addTask { try? await Task.sleep(for: .seconds(20)); return false }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    @Test func aWakeUpBeforeTheWaitIsKept() async {
        let wakeUps = WakeUps<Int>()
        let registration = wakeUps.register(1)
        wakeUps.wake(1)
        #expect(await returnsPromptly { await wakeUps.wait(registration, until: .now + .seconds(3600)) })
    }

    @Test func aWakeUpDuringTheWaitEndsIt() async throws {
        let wakeUps = WakeUps<Int>()
        let registration = wakeUps.register(1)
        let waker = Task {
            try await Task.sleep(for: .milliseconds(20))
            wakeUps.wake(2)   // another key: no effect
            wakeUps.wake(1)
        }
        #expect(await returnsPromptly { await wakeUps.wait(registration, until: .now + .seconds(3600)) })
        try await waker.value
    }

    @Test func theDeadlineEndsAWaitNobodyWakes() async {
        let wakeUps = WakeUps<Int>()
        let registration = wakeUps.register(1)
        #expect(await returnsPromptly { await wakeUps.wait(registration, until: .now + .milliseconds(50)) })
        // The registration is gone: a later wake-up finds nobody, and a new wait is not woken by it.
        wakeUps.wake(1)
        let next = wakeUps.register(1)
        let start = ContinuousClock.now
        await wakeUps.wait(next, until: .now + .milliseconds(200))
        #expect(ContinuousClock.now - start >= .milliseconds(200))
    }

    @Test func cancellingTheWaiterEndsTheWait() async {
        let wakeUps = WakeUps<Int>()
        let registration = wakeUps.register(1)
        #expect(await returnsPromptly {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await wakeUps.wait(registration, until: .now + .seconds(3600)) }
                group.cancelAll()
            }
        })
    }
}
