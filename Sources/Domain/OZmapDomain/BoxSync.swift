import Foundation
import Logging
import Synchronization

public enum SyncPassKind: String, Sendable, Codable {
    case full, incremental
}

/// What one sync pass did, or is doing.
public struct SyncPassReport: Sendable, Hashable, Codable {
    public var kind: SyncPassKind
    public var running = true
    public var startedAt: String
    public var finishedAt = ""
    public var durationMs = 0
    /// Boxes in the cache after the pass.
    public var boxes = 0
    public var added = 0
    public var updated = 0
    public var removed = 0
    /// Empty when the pass succeeded.
    public var error = ""
    /// What failed, when the pass failed with an `IntegrationError`: the edge says its kind as a
    /// status name ahead of `error`. Not persisted (a report read back after a restart has the text).
    public var failure: IntegrationError?
    /// What the pass is doing: "splitters", "boxes", "saving".
    public var phase = ""
    public var progressDone = 0
    public var progressTotal = 0
    /// OZmap requests the pass has sent (pages, lookups, retries).
    public var ozmapRequests = 0

    public init(kind: SyncPassKind, startedAt: String) {
        self.kind = kind
        self.startedAt = startedAt
    }

    private enum CodingKeys: String, CodingKey {
        case kind, running, startedAt, finishedAt, durationMs, boxes, added, updated, removed, error, phase
        case progressDone, progressTotal, ozmapRequests
    }

    /// Reads the reports saved before `ozmapRequests` existed (the sync state of an older version).
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        kind = try values.decode(SyncPassKind.self, forKey: .kind)
        running = try values.decode(Bool.self, forKey: .running)
        startedAt = try values.decode(String.self, forKey: .startedAt)
        finishedAt = try values.decode(String.self, forKey: .finishedAt)
        durationMs = try values.decode(Int.self, forKey: .durationMs)
        boxes = try values.decode(Int.self, forKey: .boxes)
        added = try values.decode(Int.self, forKey: .added)
        updated = try values.decode(Int.self, forKey: .updated)
        removed = try values.decode(Int.self, forKey: .removed)
        error = try values.decode(String.self, forKey: .error)
        phase = try values.decode(String.self, forKey: .phase)
        progressDone = try values.decode(Int.self, forKey: .progressDone)
        progressTotal = try values.decode(Int.self, forKey: .progressTotal)
        ozmapRequests = try values.decodeIfPresent(Int.self, forKey: .ozmapRequests) ?? 0
    }
}

/// What sync remembers between passes and restarts.
public struct SyncState: Sendable, Hashable, Codable {
    /// The newest OZmap `updatedAt` seen: incremental passes ask for changes from here on.
    public var watermark: String?
    public var lastReport: SyncPassReport?
    public var lastFullAt: String?

    public init(watermark: String? = nil, lastReport: SyncPassReport? = nil, lastFullAt: String? = nil) {
        self.watermark = watermark
        self.lastReport = lastReport
        self.lastFullAt = lastFullAt
    }
}

/// Where the box cache is persisted (SQLite, in OZmapStore).
public protocol BoxCacheStore: Sendable {
    func loadBoxes() throws -> [CachedBox]
    func loadSyncState() throws -> SyncState
    /// Replaces every box (emptying the cache), atomically with the state.
    func replaceBoxes(with boxes: [CachedBox], state: SyncState) throws
    /// A full pass begins: forgets what unfinished passes staged.
    func beginStagingBoxes() throws
    /// Keeps full pass `pass`'s boxes as they arrive, out of sight of `loadBoxes` until committed.
    /// Called from several tasks at once.
    func stageBoxes(_ boxes: [CachedBox], pass: Int) throws
    /// Replaces every box with those pass `pass` staged (then `upserting` over them), atomically
    /// with the state; forgets everything staged.
    func commitStagedBoxes(pass: Int, upserting boxes: [CachedBox], state: SyncState) throws
    /// Applies an incremental pass, atomically with the state.
    func applyChanges(upserting boxes: [CachedBox], deleting ids: [String], state: SyncState) throws
    func saveSyncState(_ state: SyncState) throws
}

/// Runs sync passes, one at a time: a pass asked for while one runs joins it.
/// A failed pass leaves the cache as it was and records its error.
public actor BoxSynchronizer {
    /// Ids per OZmap list request: the reference's `id in [...]` recipe takes up to 100.
    static let chunkSize = 100
    /// A full pass applies at most this many boxes added, removed or renamed to the serving
    /// snapshot in place (under its lock, ~0.3 ms each at 200,000 boxes); more build a new one.
    static let inPlaceChangeLimit = 256

    public nonisolated let cache: BoxCache
    private let store: any BoxCacheStore
    private let directory: @Sendable () -> (any OZmapDirectory)?
    private let logger: Logger
    private var state: SyncState
    private var running: Task<SyncPassReport, Never>?
    /// Why the running pass was cancelled, told to it before the cancellation (its report says it).
    private var runningCancellation: PassCancellation?
    /// Set by `stop`: ozmapd is stopping, no pass starts any more.
    private var stopped = false
    /// The pass `stop` cancelled.
    private var stoppedPass: Task<SyncPassReport, Never>?
    private var progress: SyncPassReport?
    /// Boxes `refresh` re-read while a pass runs: newer than what the pass fetched.
    private var refreshedDuringPass: [String: CachedBox] = [:]
    /// Told of every pass that ends (succeeded, failed or cancelled): the daemon's metrics, the drift check.
    private nonisolated let passObservers = Mutex<[@Sendable (SyncPassReport) -> Void]>([])
    /// Moves at each `reset`: a refresh that began before it holds another tenant's boxes.
    private var tenantGeneration = 0
    /// The running pass's OZmap requests, for its progress report.
    private var passTally: OZmapRequestTally?
    /// Numbers the full passes' staged boxes.
    private var passNumber = 0

    /// Loads the persisted cache into `cache` at once, so it is served before any pass.
    public init(cache: BoxCache, store: any BoxCacheStore, logger: Logger,
                directory: @escaping @Sendable () -> (any OZmapDirectory)?) throws {
        self.cache = cache
        self.store = store
        self.logger = logger
        self.directory = directory
        state = try store.loadSyncState()
        // Boxes saved by a finished full pass (it set the watermark, atomically with them) count as loaded.
        let fullPassFinished = [state.watermark, state.lastFullAt].contains { $0 != nil }
        cache.replace(with: BoxCacheSnapshot(boxes: try store.loadBoxes()), loaded: fullPassFinished)
    }

    /// The running pass's progress, else the last finished pass.
    public var currentReport: SyncPassReport? { progress ?? state.lastReport }

    /// Re-reads these boxes and their splitters after ozmapd's own writes, so their free ports
    /// are right at once (a request or two instead of a pass). The cache and the store get them;
    /// a pass running meanwhile keeps them over what it fetched earlier. A failure leaves the
    /// cache as it was: the next pass brings it right.
    public func refresh(boxIDs: [String]) async -> [String: CachedBox] {
        let ids = Array(Set(boxIDs.filter { !$0.isEmpty }))
        guard !ids.isEmpty, let directory = directory() else { return [:] }
        let generation = tenantGeneration
        do {
            async let infos = directory.boxes(ids: ids)
            async let splitters = directory.splitters(inBoxes: ids)
            let (boxInfos, boxSplitters) = try await (infos, splitters)
            guard generation == tenantGeneration else { return [:] }
            let boxes = Self.cachedBoxes(boxInfos, boxSplitters)
            try store.applyChanges(upserting: boxes, deleting: [], state: state)
            for box in boxes {
                cache.upsert(box)
                if running != nil { refreshedDuringPass[box.id] = box }
            }
            return Dictionary(boxes.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        } catch {
            logger.notice("cannot re-read boxes after a write; the next sync brings their ports right",
                          metadata: ["boxes": "\(ids.joined(separator: ","))", "error": "\(error)"])
            return [:]
        }
    }

    /// Calls `observer` with the report of each pass that ends, whatever its outcome
    /// (`error` empty: succeeded; starting "cancelled": superseded by new credentials, or ozmapd stopping).
    public nonisolated func afterEachPass(_ observer: @escaping @Sendable (SyncPassReport) -> Void) {
        passObservers.withLock { $0.append(observer) }
    }

    private func notifyPassEnded(_ report: SyncPassReport) {
        for observer in passObservers.withLock({ $0 }) { observer(report) }
    }

    /// Starts a pass (or joins the running one) and returns at once.
    public func start(_ kind: SyncPassKind) -> (report: SyncPassReport, started: Bool) {
        if running != nil { return (progress!, false) }
        guard !stopped else { return (stoppedReport(kind), false) }
        launch(kind)
        return (progress!, true)
    }

    /// Runs a pass (or joins the running one) and returns its report.
    public func run(_ kind: SyncPassKind) async -> (report: SyncPassReport, started: Bool) {
        if let running { return (await running.value, false) }
        guard !stopped else { return (stoppedReport(kind), false) }
        let task = launch(kind)
        return (await task.value, true)
    }

    /// ozmapd is stopping: cancels the running pass (it installs nothing; the next start's pass
    /// does its work) and waits for it to end, so that nothing writes to the store after this.
    /// No pass starts afterwards.
    public func stop() async {
        stopped = true
        if let pass = running {
            cancelRunning(because: "ozmapd is stopping")
            stoppedPass = pass
        }
        _ = await stoppedPass?.value // every caller of `stop` waits for it, not just the first
    }

    private func stoppedReport(_ kind: SyncPassKind) -> SyncPassReport {
        var report = SyncPassReport(kind: kind, startedAt: Timestamp.now())
        report.running = false
        report.error = "not started: ozmapd is stopping"
        report.finishedAt = report.startedAt
        return report
    }

    @discardableResult
    private func launch(_ requested: SyncPassKind) -> Task<SyncPassReport, Never> {
        // Without a watermark an incremental pass has nothing to start from.
        let kind: SyncPassKind = state.watermark == nil ? .full : requested
        progress = SyncPassReport(kind: kind, startedAt: Timestamp.now())
        refreshedDuringPass = [:]
        let cancellation = PassCancellation()
        let task = Task(executorPreference: BlockingWorkExecutor.shared) { await self.pass(kind, cancellation: cancellation) }
        running = task
        runningCancellation = cancellation
        return task
    }

    private func pass(_ kind: SyncPassKind, cancellation: PassCancellation) async -> SyncPassReport {
        let started = ContinuousClock.now
        var report = progress!
        let tally = OZmapRequestTally()
        passTally = tally
        defer { passTally = nil }
        do {
            guard let directory = directory() else {
                throw IntegrationError(.credentialsMissing, "no OZmap credentials: set them with SetCredentials (ozmapctl credentials set)")
            }
            try await OZmapRequestTally.$current.withValue(tally) {
                switch kind {
                case .full: try await fullPass(directory, report: &report)
                case .incremental: try await incrementalPass(directory, report: &report)
                }
            }
            report.ozmapRequests = tally.count
            logger.info("box sync finished", metadata: [
                "kind": "\(kind.rawValue)", "boxes": "\(report.boxes)", "added": "\(report.added)",
                "updated": "\(report.updated)", "removed": "\(report.removed)", "ozmap_requests": "\(report.ozmapRequests)",
                "ms": "\((ContinuousClock.now - started) / .milliseconds(1))",
            ])
        } catch {
            report.ozmapRequests = tally.count
            report.error = "\(error)"
            report.failure = error as? IntegrationError
            report.boxes = cache.snapshot.count
            if Task.isCancelled { // superseded (`restart`, `reset`) or stopped: it installed nothing and touches nothing
                report.error = "cancelled: " + cancellation.reason
                report.running = false
                report.finishedAt = Timestamp.now()
                notifyPassEnded(report)
                return report
            }
            logger.warning("box sync failed; keeping the last good cache",
                           metadata: ["kind": "\(kind.rawValue)", "error": "\(report.error)", "ozmap_requests": "\(report.ozmapRequests)"])
        }
        report.running = false
        report.phase = ""
        report.finishedAt = Timestamp.now()
        report.durationMs = Int((ContinuousClock.now - started) / .milliseconds(1))
        state.lastReport = report
        if kind == .full, report.error.isEmpty { state.lastFullAt = report.finishedAt }
        do {
            try store.saveSyncState(state)
        } catch {
            logger.error("cannot save the sync state", metadata: ["error": "\(error)"])
        }
        progress = nil
        running = nil
        runningCancellation = nil
        notifyPassEnded(report)
        return report
    }

    private func setProgress(_ report: SyncPassReport) {
        guard !Task.isCancelled else { return } // a cancelled pass no longer speaks for the running one
        progress = report
        progress?.ozmapRequests = passTally?.count ?? report.ozmapRequests
    }

    /// Cancels the running pass, if any: it installs nothing (it checks before saving), and
    /// callers that joined it get its report with an error saying `reason`.
    private func cancelRunning(because reason: String) {
        guard let running else { return }
        runningCancellation?.reason = reason
        running.cancel()
        self.running = nil
        runningCancellation = nil
        progress = nil
        logger.notice("box sync pass cancelled: \(reason)")
    }

    /// Cancels the running pass and starts a full one with the directory now current
    /// (SetCredentials: a pass under the old credentials must not install its result).
    public func restart() -> SyncPassReport {
        guard !stopped else { return stoppedReport(.full) }
        cancelRunning(because: "the OZmap credentials changed; a full pass with the new ones runs")
        launch(.full)
        return progress!
    }

    /// Forgets every box and the watermark, in the store and in memory, and cancels the
    /// running pass: the credentials now point at another tenant, whose boxes are not these.
    public func reset() {
        cancelRunning(because: "the OZmap credentials point at another tenant; a full pass with the new ones runs")
        state = SyncState()
        refreshedDuringPass = [:]
        do {
            try store.replaceBoxes(with: [], state: state)
        } catch {
            logger.error("cannot empty the stored box cache", metadata: ["error": "\(error)"])
        }
        tenantGeneration += 1
        cache.reset()
        logger.notice("box cache emptied: the OZmap credentials point at another tenant")
    }

    /// The boxes traced to an OLT, then each with all its splitters, by chunks of ids. Nothing
    /// but the box ids is held from the splitter pages; each chunk goes into the store's staging
    /// as it arrives, and what differs from the serving snapshot is kept. At the end the store
    /// and the cache take the pass at once (readers see the old cache or the new one, never part
    /// of one): the changes under the cache's lock when they are few, else a new snapshot.
    private func fullPass(_ directory: any OZmapDirectory, report: inout SyncPassReport) async throws {
        cache.loadStarted()
        defer { if !Task.isCancelled { cache.loadEnded() } } // a cancelled pass no longer speaks for the cache
        report.phase = "splitters"
        setProgress(report)
        var boxIDs: [String] = []
        var newestSplitter: String?
        do {
            // A box the serving snapshot holds is marked by its place there and listed with the
            // snapshot's own id string; only new ids are kept whole (200,000 boxes: a set of the
            // ids plus a string each was ~16 MiB of a periodic pass's peak).
            let old = cache.snapshot
            var listedOld = [Bool](repeating: false, count: old.count)
            var listedNew = Set<String>()
            for try await page in directory.connectedSplitterPages() {
                for splitter in page {
                    if let position = old.boxesByID.position(ofID: splitter.boxID) {
                        if !listedOld[position] { boxIDs.append(old.boxesByID.values[position].id) }
                        listedOld[position] = true
                    } else if listedNew.insert(splitter.boxID).inserted {
                        boxIDs.append(splitter.boxID)
                    }
                    newestSplitter = max(newestSplitter ?? splitter.updatedAt, splitter.updatedAt)
                }
                setProgress(report)
            }
        }
        try store.beginStagingBoxes()
        passNumber += 1
        let pass = passNumber
        // What the pass found, against the snapshot serving meanwhile: which old boxes it saw, and
        // the boxes new or changed. A pass that finds few changes that move a box in the indexes
        // (the periodic one) applies them to that snapshot in place and never holds a second copy
        // of the cache (200,000 boxes: 408 MiB at its peak with a second copy, 315 without); one
        // that finds many (the first load) builds a new snapshot and swaps it in.
        var changed = BoxTable()
        var (kept, added, updated, moved) = (0, 0, 0, 0)
        var pool = StringPool()
        let newestBox: String?
        let oldCount: Int
        // The serving snapshot's boxes the pass did not see (gone from OZmap, or no longer wired).
        var gone: [String] = []
        do {
            let old = cache.snapshot // let go before the changes go in: a copy held then would be copied whole
            oldCount = old.count
            if old.count == 0 { changed.reserveCapacity(boxIDs.count) } // the first load: every box is new
            // Which of the old boxes the pass saw, by their place in the snapshot: a bit each, not a set of ids.
            var seenOld = [Bool](repeating: false, count: old.count)
            // Each chunk is staged by the task that fetched it (encoding it is most of a chunk's cost),
            // under this pass's number: a late chunk of a pass superseded meanwhile is never committed.
            newestBox = try await fetchBoxes(boxIDs, directory, report: &report, stage: { [store] in try store.stageBoxes($0, pass: pass) }) { chunk in
                // Taken out of the chunk, so that interning changes each box in place.
                while let box = chunk.popLast() {
                    guard let position = old.boxesByID.position(ofID: box.id) else {
                        added += 1
                        changed[box.id] = pool.intern(box)
                        continue
                    }
                    let before = old.boxesByID.values[position]
                    if !seenOld[position] { kept += 1 }
                    seenOld[position] = true
                    guard before != box else { continue }
                    updated += 1
                    if before.name != box.name || before.oltID != box.oltID { moved += 1 }
                    changed[box.id] = pool.intern(box)
                }
            }
            gone = seenOld.indices.filter { !seenOld[$0] }.map { old.boxesByID.values[$0].id }
            boxIDs = [] // fetched: on a first load its strings are the boxes' ids a second time
        }
        (report.added, report.updated, report.removed) = (added, updated, oldCount - kept)
        let goneIDs = Set(gone)
        // Boxes `refresh` re-read during the pass are newer than what the pass fetched.
        var refreshed: [CachedBox] = []
        do { // scoped: a copy of the serving boxes still held at `apply` would make it copy them all
            let serving = cache.snapshot.boxesByID
            for (id, box) in refreshedDuringPass where changed[id] != nil || (serving[id] != nil && !goneIDs.contains(id)) {
                changed[id] = box
                refreshed.append(box)
            }
        }
        var newState = state
        newState.watermark = [state.watermark, newestBox, newestSplitter].compactMap { $0 }.max()
        report.phase = "saving"
        setProgress(report)
        try Task.checkCancellation()
        try store.commitStagedBoxes(pass: pass, upserting: refreshed, state: newState)
        state = newState
        // Each box added, removed or renamed in place moves the paging order's ids (O(n) each).
        if oldCount > 0, added + moved + gone.count <= Self.inPlaceChangeLimit {
            cache.apply(upserting: changed.values, deleting: gone, loaded: true)
        } else {
            // The changed boxes, and the unchanged ones from the serving snapshot (none on a first load).
            var boxes = changed
            changed = BoxTable() // `boxes` is then the only owner: it grows in place
            let current = cache.snapshot
            for box in current.boxesByID.values where boxes[box.id] == nil && !goneIDs.contains(box.id) {
                boxes[box.id] = box
            }
            cache.replace(with: BoxCacheSnapshot(boxesByID: boxes), loaded: true)
        }
        report.boxes = cache.snapshot.count
    }

    /// What changed since the watermark: splitters (wiring, ports) and boxes (names, places).
    /// The changes go into the current snapshot in place, under the cache's lock.
    private func incrementalPass(_ directory: any OZmapDirectory, report: inout SyncPassReport) async throws {
        guard let watermark = state.watermark else { return try await fullPass(directory, report: &report) }
        report.phase = "splitters"
        setProgress(report)
        async let splittersChanged = directory.splitters(updatedSince: watermark)
        async let boxesChanged = directory.boxes(updatedSince: watermark)
        let (changedSplitters, changedBoxes) = try await (splittersChanged, boxesChanged)
        var affected: [String] = []
        var seen = Set<String>()
        for id in changedSplitters.map(\.boxID) + changedBoxes.map(\.id) where seen.insert(id).inserted { affected.append(id) }
        var upserts: [CachedBox] = []
        let newestBox = try await fetchBoxes(affected, directory, report: &report) { upserts += $0 }
        upserts = upserts.map { refreshedDuringPass[$0.id] ?? $0 }
        // Counted against the current snapshot in a scope of its own: a copy of it still held
        // when the changes go in would make `apply` copy the whole cache.
        let deletions = { () -> [String] in
            let old = cache.snapshot
            let upserted = Set(upserts.map(\.id))
            report.added = upserts.filter { old.boxesByID[$0.id] == nil }.count
            report.updated = upserts.filter { box in old.boxesByID[box.id].map { $0 != box } ?? false }.count
            // Affected boxes that are gone, or no longer tied to an OLT, leave the cache.
            return affected.filter { !upserted.contains($0) && old.boxesByID[$0] != nil }
        }()
        report.removed = deletions.count
        var newState = state
        newState.watermark = ([watermark, newestBox] + changedSplitters.map(\.updatedAt) + changedBoxes.map(\.updatedAt))
            .compactMap { $0 }.max()
        report.phase = "saving"
        setProgress(report)
        try Task.checkCancellation()
        try store.applyChanges(upserting: upserts, deleting: deletions, state: newState)
        state = newState
        cache.apply(upserting: upserts, deleting: deletions)
        report.boxes = cache.snapshot.count
    }

    /// The cache entries of these boxes, each with its splitters (those not tied to an OLT left
    /// out). The splitters are moved into their boxes, not copied (a copy is seven strings retained).
    private static func cachedBoxes(_ infos: [OZmapBoxInfo], _ splitters: consuming [OZmapSplitter]) -> [CachedBox] {
        var byBox: [String: [OZmapSplitter]] = [:]
        byBox.reserveCapacity(infos.count)
        while let splitter = splitters.popLast() { byBox[splitter.boxID, default: []].append(splitter) }
        return infos.compactMap { CachedBox(box: $0, splitters: byBox.removeValue(forKey: $0.id) ?? []) }
    }

    /// The boxes with these ids and all their splitters, by chunks of `chunkSize` ids (two
    /// requests each, in turn), twice `directory.requestConcurrency` chunks at once so that the
    /// HTTP client always has the next request queued; `stage` runs in the task that fetched a
    /// chunk, then the chunk's boxes go to `receive` (in any order). Those not tied to an OLT are
    /// left out.
    /// Returns the newest `updatedAt` among them.
    private func fetchBoxes(_ ids: [String], _ directory: any OZmapDirectory, report: inout SyncPassReport,
                            stage: (@Sendable ([CachedBox]) throws -> Void)? = nil,
                            receive: (inout [CachedBox]) throws -> Void) async throws -> String? {
        report.phase = "boxes"
        report.progressTotal = ids.count
        report.progressDone = 0
        cache.loadProgressed(done: 0, total: ids.count)
        setProgress(report)
        var newest: String?
        try await withThrowingTaskGroup(of: (count: Int, boxes: [CachedBox]).self) { group in
            var start = 0
            var inFlight = 0
            func refill() {
                while start < ids.count, inFlight < 2 * max(1, directory.requestConcurrency) {
                    let chunk = Array(ids[start..<min(start + Self.chunkSize, ids.count)])
                    group.addTask {
                        // One after the other: a task of its own for each (`async let`) was two
                        // more tasks a chunk, each a hand-off between threads.
                        let boxInfos = try await directory.boxes(ids: chunk)
                        let boxSplitters = try await directory.splitters(inBoxes: chunk)
                        let boxes = Self.cachedBoxes(boxInfos, boxSplitters)
                        try Task.checkCancellation()
                        try stage?(boxes)
                        return (chunk.count, boxes)
                    }
                    start += chunk.count
                    inFlight += 1
                }
            }
            refill()
            while inFlight > 0 {
                guard var done = try await group.next() else { break }
                inFlight -= 1
                // A pass superseded meanwhile takes nothing more in.
                try Task.checkCancellation()
                refill()
                for box in done.boxes { newest = max(newest ?? box.updatedAt, box.updatedAt) }
                try receive(&done.boxes)
                report.progressDone += done.count
                cache.loadProgressed(done: report.progressDone, total: ids.count)
                setProgress(report)
            }
        }
        return newest
    }
}

/// Why a pass was cancelled: set before its task is cancelled, read by the pass as it ends.
private final class PassCancellation: Sendable {
    private let text = Mutex("superseded")

    var reason: String {
        get { text.withLock { $0 } }
        set { text.withLock { $0 = newValue } }
    }
}
