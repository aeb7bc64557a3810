@testable import OZmapServer
import OZmapTestSupport
import Synchronization
import Testing

/// The server's one timer for every running call's deadline, on its own.
@Suite struct CallDeadlinesTests {
    /// Due deadlines expire, in any order of registration; removed ones never do, and an
    /// earlier deadline registered after a later one still fires first.
    @Test func dueDeadlinesExpireAndRemovedOnesNever() async throws {
        let deadlines = CallDeadlines()
        let expired = Mutex<[String]>([])
        let now = ContinuousClock.now
        _ = deadlines.add(now + .seconds(3600)) { expired.withLock { $0.append("late") } }
        let removed = deadlines.add(now + .milliseconds(50)) { expired.withLock { $0.append("removed") } }
        _ = deadlines.add(now + .milliseconds(200)) { expired.withLock { $0.append("second") } }
        _ = deadlines.add(now + .milliseconds(100)) { expired.withLock { $0.append("first") } }
        deadlines.remove(removed)
        try await waitUntil("both due deadlines expire", timeout: .seconds(10)) { expired.withLock { $0.count } == 2 }
        #expect(expired.withLock { $0 } == ["first", "second"])
        #expect(ContinuousClock.now - now >= .milliseconds(200), "none expires early")
    }

    /// Removing a deadline after it expired is harmless, and the timer re-arms for deadlines
    /// added once it has fired.
    @Test func theTimerServesDeadlinesAfterOneExpired() async throws {
        let deadlines = CallDeadlines()
        let expired = Mutex(0)
        for round in 1...3 {
            let id = deadlines.add(.now + .milliseconds(20)) { expired.withLock { $0 += 1 } }
            try await waitUntil("deadline \(round) expires", timeout: .seconds(10)) { expired.withLock { $0 } == round }
            deadlines.remove(id)
        }
    }
}
