import Logging
import OZmapDomain
import Testing

@Suite struct BoxSynchronizerStopTests {
    /// Once ozmapd is stopping, no pass starts, whichever way it is asked for: a pass begun then
    /// would outlive the stop (the shutdown waits only for the pass it cancelled).
    @Test func noPassStartsAfterStop() async throws {
        let synchronizer = try BoxSynchronizer(cache: BoxCache(), store: MemoryBoxStore(boxes: [], state: SyncState()),
                                               logger: Logger(label: "test")) { nil }
        // Before: a pass starts (and fails at once: no credentials).
        let before = await synchronizer.run(.full)
        #expect(before.started && before.report.error.contains("no OZmap credentials"), "\(before.report.error)")

        await synchronizer.stop()
        let run = await synchronizer.run(.full)
        let start = await synchronizer.start(.incremental)
        let restart = await synchronizer.restart()
        #expect(!run.started && !start.started)
        for report in [run.report, start.report, restart] {
            #expect(report.error == "not started: ozmapd is stopping" && !report.running, "\(report)")
        }
        #expect(await synchronizer.currentReport?.error == before.report.error, "the last pass's report stays the last")
    }
}
