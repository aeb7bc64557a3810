import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Applies the outbox, as a lifecycle `Service`: operations of one ONU strictly
/// in order, different ONUs in parallel (up to `concurrency`), retryable
/// failures again after a full-jitter backoff (and no sooner than OZmap's
/// `Retry-After`), until they succeed. State lives in the store: after a
/// restart, pending and interrupted operations resume, each re-checked against OZmap.
public final class OutboxWorker: Service, Sendable {
    public struct Configuration: Sendable {
        public var concurrency = 4
        public var backoff = Backoff(base: .milliseconds(500), cap: .seconds(60))
        /// Wake up at least this often to look for due operations.
        public var idlePoll: Duration = .seconds(5)
        /// After a write whose answer was lost, the least wait before the client is looked
        /// up again: OZmap may still be applying it, and a look too early would create it twice.
        public var settleAfterUnknownOutcome: Duration = .seconds(30)
        /// What Deprovision does with a client ozmapd adopted (setting `adopted_on_deprovision`).
        public var adoptedPolicy: AdoptedClientPolicy = .delete

        public init() {}
    }

    private let store: any ProvisioningStore
    private let provisioner: @Sendable () -> (any OZmapProvisioner)?
    private let boxRefresher: @Sendable ([String]) async -> [String: CachedBox]
    private let configuration: Configuration
    private let logger: Logger
    /// The worker loop waits on `.loop`; an RPC for an operation's outcome on `.outcome(id)`.
    private let wakeUps = WakeUps<WakeUp>()
    /// Attempts under way, by ONU.
    private let running = Mutex<[String: Task<Void, Never>]>([:])
    private let pauseCheck: @Sendable () -> String?
    /// The reason the outbox was last held for; nil when it is not held.
    private let heldFor = Mutex<String?>(nil)

    /// `boxRefresher` re-reads boxes' splitters into the box cache after ozmapd's own writes.
    public init(store: any ProvisioningStore, configuration: Configuration, logger: Logger,
                boxRefresher: @escaping @Sendable ([String]) async -> [String: CachedBox] = { _ in [:] },
                pausedReason: @escaping @Sendable () -> String? = { nil },
                provisioner: @escaping @Sendable () -> (any OZmapProvisioner)?) {
        self.pauseCheck = pausedReason
        self.boxRefresher = boxRefresher
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.provisioner = provisioner
    }

    /// Something was queued, or may be due: look now.
    public func wake() { wakeUps.wake(.loop) }

    /// Nil when the worker can send to OZmap; else why it cannot (no credentials, or OZmap
    /// rejected the key), so a caller can answer at once instead of waiting for an attempt.
    /// While it is set no attempt starts, and pending operations stay pending with it as
    /// their last error; they resume by themselves once it clears (the worker is woken).
    public var pausedReason: String? { pauseCheck() }

    /// While paused: pending operations say why (their due times stay as they are).
    /// Returns true when paused.
    private func holdWhilePaused() -> Bool {
        guard let reason = pausedReason else {
            if heldFor.withLock({ held in defer { held = nil }; return held }) != nil {
                logger.notice("outbox resumes")
            }
            return false
        }
        let first = heldFor.withLock { held in defer { held = reason }; return held != reason }
        do {
            let count = try (store as? any OutboxHoldStore)?.holdPendingOperations(lastError: reason) ?? 0
            if first { logger.notice("outbox paused: nothing is sent to OZmap", metadata: ["reason": "\(reason)", "operations": "\(count)"]) }
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
        }
        return true
    }

    /// The operation once it is finished or has been attempted, or as it is at `deadline`.
    public func outcome(of id: Int64, by deadline: ContinuousClock.Instant) async throws -> OutboxOperation {
        let registration = wakeUps.register(.outcome(id))
        defer { wakeUps.unregister(registration) }
        if let current = try store.operation(id: id), current.state.isFinished || current.attempts > 0 && current.state == .pending {
            return current
        }
        await wakeUps.wait(registration, until: deadline)
        guard let latest = try store.operation(id: id) else { throw IntegrationError(.internalFailure, "operation \(id) vanished from the outbox") }
        return latest
    }

    public func run() async throws {
        // The loop reads the outbox from SQLite: off the cooperative pool.
        await withTaskExecutorPreference(BlockingWorkExecutor.shared) { await self.loop() }
    }

    private func loop() async {
        postponeInterruptedAttempts()
        await withTaskCancellationOrGracefulShutdownHandler {
            while true {
                // Registered before the checks: a wake-up while they run is not lost.
                let registration = self.wakeUps.register(.loop)
                guard !Task.isShuttingDownGracefully, !Task.isCancelled else {
                    self.wakeUps.unregister(registration)
                    break
                }
                self.startDueOperations()
                // Paused, due operations wait for a wake-up (new credentials) or the idle poll.
                let nextDue = self.pausedReason != nil ? nil : (try? self.store.nextAttemptTime()).flatMap(Timestamp.parse)
                let untilDue = nextDue.map { Duration.milliseconds(Int64(max(0, $0.timeIntervalSinceNow) * 1000) + 1) }
                await self.wakeUps.wait(registration, until: .now + min(untilDue ?? self.configuration.idlePoll, self.configuration.idlePoll))
            }
        } onCancelOrGracefulShutdown: {
            self.wakeUps.wake(.loop)
        }
        // Let attempts under way finish (their HTTP timeouts bound them): an attempt
        // abandoned mid-write would be re-checked at the next start, but must never
        // overlap one made by the next worker on the same database.
        for attempt in running.withLock({ Array($0.values) }) { await attempt.value }
        logger.info("outbox worker stopped; unfinished operations resume at the next start")
    }

    /// An attempt cut short by a crash may have sent a write OZmap has not applied yet:
    /// looking the client up at once could miss it and create it twice (seen in the
    /// kill -9 test). Such operations wait as long as a write whose answer was lost.
    private func postponeInterruptedAttempts() {
        let until = Date().addingTimeInterval(Double(configuration.settleAfterUnknownOutcome / .milliseconds(1)) / 1000)
        do {
            let count = try store.postponeInterrupted(until: Timestamp.format(until))
            if count > 0 {
                logger.notice("operations interrupted by the last stop resume once their writes would have landed",
                              metadata: ["operations": "\(count)", "resume_at": "\(Timestamp.format(until))"])
            }
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
        }
    }

    private func startDueOperations() {
        if holdWhilePaused() { return }
        let busy = running.withLock { Set($0.keys) }
        let room = configuration.concurrency - busy.count
        guard room > 0 else { return }
        let due: [OutboxOperation]
        do {
            due = try store.dueOperations(now: Timestamp.now(), excluding: busy, limit: room)
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
            return
        }
        guard !due.isEmpty, let provisioner = provisioner() else { return }
        for operation in due {
            running.withLock { running in
                running[operation.onuID] = Task(executorPreference: BlockingWorkExecutor.shared) {
                    await self.attempt(operation, provisioner)
                    self.running.withLock { _ = $0.removeValue(forKey: operation.onuID) }
                    self.wakeUps.wake(.loop)
                }
            }
        }
    }

    private func attempt(_ queued: OutboxOperation, _ provisioner: any OZmapProvisioner) async {
        var operation: OutboxOperation
        do {
            guard let started = try store.beginAttempt(id: queued.id, at: Timestamp.now()) else { return }
            operation = started
            // What OZmap holds for the ONU as of now: an operation applied after this one was
            // queued (an adoption, say) may have linked another client.
            if let onu = try store.onu(id: operation.onuID), !onu.ozmapClientID.isEmpty || !onu.ozmapPropertyID.isEmpty {
                var linked = operation.linked ?? onu.linked
                (linked.clientID, linked.propertyID, linked.clientCode, linked.adopted)
                    = (onu.ozmapClientID, onu.ozmapPropertyID, onu.ozmapClientCode, onu.adopted)
                operation.linked = linked
            }
        } catch {
            logger.error("cannot start an outbox operation", metadata: ["operation": "\(queued.id)", "error": "\(error)"])
            return
        }
        let store = self.store
        let logger = self.logger
        let writes = Mutex(0)
        let applier = OperationApplier(provisioner: provisioner, adoptedPolicy: configuration.adoptedPolicy,
                                       refreshBoxes: boxRefresher, audit: { entry in
            do { try store.appendAudit(entry) } catch { logger.error("cannot write the audit log", metadata: ["error": "\(error)"]) }
        }, willWrite: { writes.withLock { $0 += 1 } })
        do {
            let placement = try await applier.apply(operation)
            let now = Timestamp.now()
            operation.mutationsSent += writes.withLock { $0 }
            operation.state = .done
            operation.ozmapClientID = placement.clientID
            operation.ozmapPropertyID = placement.propertyID
            operation.lastError = ""
            operation.updatedAt = now
            try save(operation) { operation, onu, laterUnfinished in
                onu.place(placement)
                onu.lastError = ""
                if let box = operation.box, !laterUnfinished {
                    onu.ctoBoxID = box.id
                    onu.ctoBoxName = box.name
                }
                if !laterUnfinished { onu.state = operation.kind == .createClient ? .synced : .deprovisioned }
            }
            logger.info("applied to OZmap", metadata: ["onu": "\(operation.onuID)", "operation": "\(operation.id)", "kind": "\(operation.kind.rawValue)"])
        } catch {
            let now = Timestamp.now()
            operation.mutationsSent += writes.withLock { $0 }
            // A cancelled attempt (nothing cancels one today) is tried again, not failed: its
            // reads were cut short, its writes ran to their answers.
            let failure = error as? OZmapCallError
                ?? (error is CancellationError
                    ? OZmapCallError(error: IntegrationError(.ozmapUnreachable, "the attempt was cancelled before it ended"), httpStatus: 0)
                    : OZmapCallError(error: IntegrationError(.internalFailure, "\(error)"), httpStatus: 0))
            operation.lastError = failure.error.description
            operation.lastHTTPStatus = failure.httpStatus
            operation.ctoFull = failure.ctoFull ? true : nil
            operation.keptInPlace = failure.keptInPlace ? true : nil
            operation.updatedAt = now
            if failure.isRetryable {
                var wait = configuration.backoff.delay(attempt: operation.attempts - 1)
                if let retryAfter = failure.retryAfter { wait = max(wait, retryAfter) }
                if failure.outcomeUnknown { wait = max(wait, configuration.settleAfterUnknownOutcome) }
                operation.state = .pending
                operation.nextAttemptAt = Timestamp.format(Date().addingTimeInterval(Double(wait / .milliseconds(1)) / 1000))
                logger.notice("OZmap change postponed", metadata: [
                    "onu": "\(operation.onuID)", "operation": "\(operation.id)", "attempt": "\(operation.attempts)",
                    "retry_at": "\(operation.nextAttemptAt)", "error": "\(failure.error.description)",
                ])
            } else {
                operation.state = .failed
                logger.warning("OZmap refused a change", metadata: [
                    "onu": "\(operation.onuID)", "operation": "\(operation.id)", "error": "\(failure.error.description)",
                ])
            }
            let message = operation.lastError
            operation = (try? save(operation) { operation, onu, laterUnfinished in
                onu.lastError = message
                // Superseded while in flight, and it wrote nothing: the newer operation decides.
                if operation.state == .pending, operation.mutationsSent == 0, laterUnfinished { operation.state = .collapsed }
                guard operation.state == .failed, !laterUnfinished else { return }
                // A refused move leaves the client where it was: so does the record, still synced there.
                if operation.keptInPlace == true, let linked = operation.linked, !linked.boxID.isEmpty {
                    onu.ctoBoxID = linked.boxID
                    onu.ctoBoxName = linked.boxName
                    onu.state = .synced
                } else {
                    onu.state = .failed
                }
            }) ?? operation
        }
        wakeUps.wake(.outcome(operation.id))
    }

    @discardableResult
    private func save(_ operation: OutboxOperation, _ update: (inout OutboxOperation, inout ONURecord, Bool) -> Void) throws -> OutboxOperation {
        do {
            return try store.record(operation, update: update)
        } catch {
            logger.error("cannot record an outbox outcome; the operation will be re-checked", metadata: ["operation": "\(operation.id)", "error": "\(error)"])
            throw error
        }
    }
}

/// What the outbox's waiters wait for.
enum WakeUp: Hashable, Sendable {
    /// The worker loop: new work, new credentials, shutdown.
    case loop
    /// An RPC waiting for an operation's outcome.
    case outcome(Int64)
}
