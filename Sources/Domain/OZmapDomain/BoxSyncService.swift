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

    /// On a graceful shutdown the running pass, whoever started it (this timer or a SyncBoxes
    /// call), is cancelled and waited for: a pass of a large network takes minutes.
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await schedulePasses()
        } onCancelOrGracefulShutdown: { [synchronizer] in
            Task { await synchronizer.stop() } // ends a pass `schedulePasses` waits for
        }
        await synchronizer.stop() // and one a call started
    }

    private func schedulePasses() async {
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
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
            cycle += 1
            guard hasCredentials() else { continue }
            _ = await synchronizer.run(cycle % max(1, schedule.fullEvery) == 0 ? .full : .incremental)
        }
    }
}

/// What SetCredentials does to the box cache and the OLT links: a pass running under the old
/// credentials is cancelled (it installs nothing) and a full pass with the new ones starts; when
/// the new credentials point at another tenant (another host, port or path), the box cache and
/// the watermark are emptied before the new credentials are used, and OLT links whose OZmap OLT
/// the new tenant does not have are flagged (`LinkedOLT.problem`, shown by ListOLTLinks, and logged).
public struct CredentialsSwitch: CredentialsSwitchObserver {
    private let synchronizer: BoxSynchronizer
    private let links: OLTLinks
    private let logger: Logger

    public init(synchronizer: BoxSynchronizer, links: OLTLinks, logger: Logger) {
        self.synchronizer = synchronizer
        self.links = links
        self.logger = logger
    }

    private static func newTenant(_ previous: StoredCredentials?, _ credentials: OZmapCredentials) -> Bool {
        previous.map { $0.credentials.tenant != credentials.tenant } ?? false
    }

    public func willSwitch(from previous: StoredCredentials?, to credentials: OZmapCredentials) async {
        guard Self.newTenant(previous, credentials) else { return }
        logger.notice("the OZmap credentials point at another tenant: the box cache starts again from nothing",
                      metadata: ["from": "\(previous?.credentials.apiURL ?? "")", "to": "\(credentials.apiURL)"])
        await synchronizer.reset()
    }

    public func didSwitch(from previous: StoredCredentials?, to stored: StoredCredentials, directory: any OZmapDirectory) async {
        let newTenant = Self.newTenant(previous, stored.credentials)
        // A pass under the old credentials that finished between the reset and now leaves too.
        if newTenant, !synchronizer.cache.snapshot.boxesByID.isEmpty { await synchronizer.reset() }
        _ = await synchronizer.restart()
        guard newTenant else { return }
        do {
            // Read in a task of its own: the caller's deadline would cut it short, and nothing checks again.
            let olts = try await Task { try await directory.olts() }.value
            let flagged = try links.recheck(against: olts, tenant: stored.credentials.tenant)
            for link in flagged {
                logger.warning("OLT link points at an OZmap OLT the new tenant does not have: link the OLT again or unlink it", metadata: [
                    "archolt_olt": "\(link.archoltOLTID)", "ozmap_olt": "\(link.ozmapOLTID)", "ozmap_olt_name": "\(link.ozmapOLTName)",
                    "tenant": "\(stored.credentials.tenant)",
                ])
            }
        } catch {
            logger.warning("cannot check the OLT links against the new tenant's OLTs (ListOZmapOLTs shows them)",
                           metadata: ["error": "\(error)"])
        }
    }
}
