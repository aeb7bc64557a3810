import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// When box sync runs on its own.
public struct BoxSyncSchedule: Sendable {
    public var interval: Duration = .seconds(15 * 60)
    /// Each wait is the interval ± this share of it, so fleets of ozmapd do not poll OZmap in step.
    public var jitter = 0.1
    /// Every how many passes one is full (and finds deleted boxes); 4 × 15 min = hourly.
    public var fullEvery = 4

    public init() {}
}

/// The sync timer, as a lifecycle `Service`: a refresh at start-up (the
/// persisted cache is served meanwhile), then one pass per interval.
public final class BoxSyncService: Service, Sendable {
    private let synchronizer: BoxSynchronizer
    private let schedule: BoxSyncSchedule
    private let hasCredentials: @Sendable () -> Bool
    private let logger: Logger
    private let next = Mutex<String?>(nil)

    public init(synchronizer: BoxSynchronizer, schedule: BoxSyncSchedule, logger: Logger,
                hasCredentials: @escaping @Sendable () -> Bool) {
        self.synchronizer = synchronizer
        self.schedule = schedule
        self.logger = logger
        self.hasCredentials = hasCredentials
    }

    /// When the next scheduled pass starts; nil before the first wait.
    public var nextSyncAt: String? { next.withLock { $0 } }

    public func run() async throws {
        if hasCredentials() { _ = await synchronizer.run(.incremental) }
        var cycle = 0
        while true {
            let factor = 1 + Double.random(in: -schedule.jitter...schedule.jitter)
            let wait = schedule.interval * factor
            next.withLock { $0 = Timestamp.format(Date().addingTimeInterval(Double(wait.components.seconds))) }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                return // shutting down
            }
            cycle += 1
            guard hasCredentials() else { continue }
            _ = await synchronizer.run(cycle % max(1, schedule.fullEvery) == 0 ? .full : .incremental)
        }
    }
}
