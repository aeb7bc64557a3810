import Foundation
import OZmapDomain
import Synchronization
import Testing

/// Work that blocks a thread (SQLite through GRDB) runs on the blocking-work executor, so the
/// cooperative pool stays free: a task there finishes while more blocked calls than the pool
/// has threads are still blocked. With the blockers on the cooperative pool instead
/// (`blockersPreferExecutor: false`) the probe waits for them and the test fails: checked,
/// and not kept as a test because it stalls the pool under every test running beside it.
@Suite struct BlockingWorkExecutorTests {
    private final class Counts: Sendable {
        let blocked = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let probed = Atomic<Bool>(false)
    }

    /// Whether a probe on the cooperative pool finished while every blocker was still blocked.
    private func probeFinishesFirst(blockersPreferExecutor: Bool) async -> Bool {
        let blockers = ProcessInfo.processInfo.activeProcessorCount + 2
        let counts = Counts()
        // An executor of its own: the shared one also runs the handlers of the suites beside this one.
        let executor = BlockingWorkExecutor(threads: blockers)
        return await withTaskGroup(of: Bool?.self) { group in
            for _ in 0..<blockers {
                group.addTask(executorPreference: blockersPreferExecutor ? executor : nil) {
                    counts.blocked.add(1, ordering: .relaxed)
                    // A synchronous SQLite call that takes its time: until the probe has looked, or
                    // 10 s (a probe kept waiting that long by the suites beside it still comes first).
                    let deadline = ContinuousClock.now + .seconds(10)
                    while !counts.probed.load(ordering: .acquiring), ContinuousClock.now < deadline { usleep(1_000) }
                    counts.finished.add(1, ordering: .relaxed)
                    return nil
                }
            }
            group.addTask(executorPreference: globalConcurrentExecutor) {
                // Once every blocker is in (all at once on the executor; on the pool, behind them).
                while counts.blocked.load(ordering: .relaxed) < blockers { await Task.yield() }
                let noneFinished = counts.finished.load(ordering: .relaxed) == 0
                counts.probed.store(true, ordering: .releasing)
                return noneFinished
            }
            var result = false
            for await outcome in group { if let outcome { result = outcome } }
            return result
        }
    }

    @Test func blockedWorkLeavesTheCooperativePoolFree() async {
        #expect(await probeFinishesFirst(blockersPreferExecutor: true))
    }
}
