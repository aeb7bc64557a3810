import CoreMetrics
import ArcholtOZmapV1
import Foundation
import GRPCCore
import OZmapDomain
import OZmapRPC
import OZmapStore
import Prometheus
import Synchronization

/// ozmapd's metrics, as Prometheus text (GetMetrics, `ozmapctl metrics`, and the optional
/// `metrics_listen` HTTP listener).
///
/// Recorded through swift-metrics' API (`CoreMetrics.Counter`, `Timer`, `Gauge`) with an explicit
/// `factory:`, a `PrometheusMetricsFactory` over a `PrometheusCollectorRegistry` that this object,
/// and so each Daemon, owns. Not `MetricsSystem.bootstrap`: that is process-global and may be
/// called once, so several daemons in one process (the tests, the benchmarks) would share and
/// mix their counts, and a second bootstrap would trap. The domain records nothing itself: the
/// edges tell this object (the RPC dispatcher's call observer, the OZmap adapter's
/// `OZmapRequestMetrics` observer, the box synchronizer's pass observer), and the gauges that
/// mirror state (cache size, outbox, credentials, drift) are read when the text is rendered.
///
/// Nothing here carries the OZmap API key: labels are method names, status codes, route
/// templates, sync kinds, outbox states, credential state names and drift kinds.
public final class DaemonMetrics: Sendable {
    /// What the mirrored gauges are read from.
    struct Sources: Sendable {
        var connection: OZmapConnection
        var cache: BoxCache
        var database: StateDatabase
        var drift: DriftMonitor
    }

    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let sources = Mutex<Sources?>(nil)
    /// Handles by their labels, so the hot paths (every RPC call) skip the registry's lookup.
    private let calls = Mutex<[CallKey: (counter: CoreMetrics.Counter, timer: CoreMetrics.Timer)]>([:])

    private struct CallKey: Hashable {
        var method: String
        var code: GRPCCore.Status.Code
    }
    private let ozmapRequests = Mutex<[OZmapRequestMetrics.Key: (counter: CoreMetrics.Counter, timer: CoreMetrics.Timer)]>([:])

    private let syncLastDuration: CoreMetrics.Gauge
    private let boxes: CoreMetrics.Gauge
    private let outboxPending: CoreMetrics.Gauge
    private let outboxFailed: CoreMetrics.Gauge
    private let outboxOldestAge: CoreMetrics.Gauge
    private let credentials: [(name: String, gauge: CoreMetrics.Gauge)]

    /// The HELP line of each family: the factory gives swift-metrics handles no help text, so it
    /// is added when rendering (one `# HELP` before each family's `# TYPE`).
    static let help: [String: String] = [
        "ozmapd_build_info": "ozmapd's version (the value is always 1).",
        "ozmapd_rpc_calls_total": "RPC calls answered, by method and status code.",
        "ozmapd_rpc_call_duration_seconds": "Time to answer an RPC call, by method (decode, handler, encode).",
        "ozmapd_ozmap_requests_total": "HTTP requests sent to OZmap, by method, route template and HTTP status (0: no answer).",
        "ozmapd_ozmap_request_duration_seconds": "Time OZmap took to answer a request (or to fail), by method and route template.",
        "ozmapd_sync_passes_total": "Box sync passes that ended, by kind (full, incremental) and outcome (ok, error, cancelled).",
        "ozmapd_sync_last_duration_seconds": "Duration of the last box sync pass that ran to its end (ok or error).",
        "ozmapd_box_cache_boxes": "Boxes (CTOs) in the cache.",
        "ozmapd_outbox_operations": "Outbox operations not done, by state (pending includes in flight; failed waits for a person).",
        "ozmapd_outbox_oldest_pending_age_seconds": "Age of the oldest pending outbox operation (0 when none is pending).",
        "ozmapd_credentials_state": "The OZmap credentials' state: 1 for the current one of unset, ok, rejected.",
        "ozmapd_drift_onus": "Differences between ozmapd and OZmap by kind, as the last reconcile check counted them.",
    ]

    init(version: String) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // RPC calls mostly take well under 5 ms; OZmap requests and sync passes take seconds.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .microseconds(2_500_000), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.factory = factory
        CoreMetrics.Gauge(label: "ozmapd_build_info", dimensions: [("version", version)], factory: factory).record(1)
        syncLastDuration = CoreMetrics.Gauge(label: "ozmapd_sync_last_duration_seconds", factory: factory)
        boxes = CoreMetrics.Gauge(label: "ozmapd_box_cache_boxes", factory: factory)
        outboxPending = CoreMetrics.Gauge(label: "ozmapd_outbox_operations", dimensions: [("state", "pending")], factory: factory)
        outboxFailed = CoreMetrics.Gauge(label: "ozmapd_outbox_operations", dimensions: [("state", "failed")], factory: factory)
        outboxOldestAge = CoreMetrics.Gauge(label: "ozmapd_outbox_oldest_pending_age_seconds", factory: factory)
        credentials = ["unset", "ok", "rejected"].map {
            ($0, CoreMetrics.Gauge(label: "ozmapd_credentials_state", dimensions: [("state", $0)], factory: factory))
        }
    }

    /// Where the mirrored gauges come from; set once the Daemon has built them.
    func observe(_ sources: Sources) {
        self.sources.withLock { $0 = sources }
    }

    /// The RPC dispatcher's observer.
    func recordCall(method: String, code: GRPCCore.Status.Code, duration: Duration) {
        let key = CallKey(method: method, code: code)
        let factory = self.factory
        let handles = calls.withLock { calls in
            if let handles = calls[key] { return handles }
            let handles = (
                counter: CoreMetrics.Counter(label: "ozmapd_rpc_calls_total", dimensions: [("method", method), ("code", code.wireName)], factory: factory),
                timer: CoreMetrics.Timer(label: "ozmapd_rpc_call_duration_seconds", dimensions: [("method", method)], factory: factory)
            )
            calls[key] = handles
            return handles
        }
        handles.counter.increment()
        handles.timer.recordNanoseconds(duration.wholeNanoseconds)
    }

    /// `OZmapRequestMetrics`' observer (the OZmap adapter records every request there).
    func recordOZmapRequest(_ request: OZmapRequestMetrics.Key, duration: Duration?) {
        let factory = self.factory
        let handles = ozmapRequests.withLock { handles in
            if let found = handles[request] { return found }
            let made = (
                counter: CoreMetrics.Counter(label: "ozmapd_ozmap_requests_total",
                                             dimensions: [("method", request.method), ("route", request.route), ("status", "\(request.status)")],
                                             factory: factory),
                timer: CoreMetrics.Timer(label: "ozmapd_ozmap_request_duration_seconds",
                                         dimensions: [("method", request.method), ("route", request.route)], factory: factory)
            )
            handles[request] = made
            return made
        }
        handles.counter.increment()
        if let duration { handles.timer.recordNanoseconds(duration.wholeNanoseconds) }
    }

    /// The box synchronizer's observer: every pass that ended.
    func recordSyncPass(_ report: SyncPassReport) {
        let outcome = report.error.isEmpty ? "ok" : report.error.hasPrefix("cancelled") ? "cancelled" : "error"
        CoreMetrics.Counter(label: "ozmapd_sync_passes_total", dimensions: [("kind", report.kind.rawValue), ("outcome", outcome)],
                            factory: factory).increment()
        if outcome != "cancelled" { syncLastDuration.record(Double(report.durationMs) / 1000) }
    }

    /// Reads the mirrored gauges, then renders every series as Prometheus text format 0.0.4.
    public func render() -> String {
        refreshGauges()
        return Self.withHelp(registry.emitToString())
    }

    private func refreshGauges() {
        guard let sources = sources.withLock({ $0 }) else { return }
        boxes.record(sources.cache.snapshot.count)
        if let counts = try? sources.database.operationCounts() {
            outboxPending.record(counts.pending)
            outboxFailed.record(counts.failed)
        }
        if let queuedAt = try? sources.database.oldestUnfinishedOperationQueuedAt() {
            let age = Timestamp.parse(queuedAt).map { max(0, Date().timeIntervalSince($0)) } ?? 0
            outboxOldestAge.record(age)
        } else {
            outboxOldestAge.record(0)
        }
        let state = sources.connection.state.name
        for (name, gauge) in credentials { gauge.record(name == state ? 1 : 0) }
        // Drift series appear once a reconcile check has counted (none exist before the first).
        if let drift = sources.drift.latest {
            for kind in DriftCategory.allCases {
                CoreMetrics.Gauge(label: "ozmapd_drift_onus", dimensions: [("kind", kind.rawValue)], factory: factory)
                    .record(drift.counts[kind] ?? 0)
            }
        }
    }

    /// The registry's text with the families in name order, each preceded by its HELP line.
    static func withHelp(_ text: String) -> String {
        var families: [(name: String, lines: [Substring])] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst("# TYPE ".count).split(separator: " ").first.map(String.init) ?? ""
                families.append((name, []))
                if let help = Self.help[name] { families[families.count - 1].lines.append("# HELP \(name) \(help)") }
            }
            if families.isEmpty { families.append(("", [])) }
            families[families.count - 1].lines.append(line)
        }
        return families.sorted { $0.name < $1.name }.flatMap(\.lines).map { $0 + "\n" }.joined()
    }
}

extension Duration {
    /// Whole nanoseconds, clamped (swift-metrics timers take Int64 nanoseconds).
    fileprivate var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
