import Synchronization

/// Counts of requests made to OZmap by method, route and HTTP status (0 when
/// no status came back), and whether the last one reached OZmap.
public final class OZmapRequestMetrics: Sendable {
    public struct Key: Sendable, Hashable, Comparable {
        public var method: String
        /// The route template, e.g. `boxes/{id}`: ids would make every count 1.
        public var route: String
        public var status: Int

        public static func < (a: Key, b: Key) -> Bool { (a.route, a.method, a.status) < (b.route, b.method, b.status) }
    }

    private let state = Mutex((counts: [Key: Int](), reachable: Bool?.none))
    /// Told of every request with how long it took (nil when not measured): the daemon's
    /// Prometheus metrics, so that this domain type knows no metrics library.
    private let observer: (@Sendable (Key, Duration?) -> Void)?

    public init(observer: (@Sendable (_ request: Key, _ duration: Duration?) -> Void)? = nil) {
        self.observer = observer
    }

    public func record(method: String, route: String, status: Int, duration: Duration? = nil) {
        let key = Key(method: method, route: route, status: status)
        state.withLock { state in
            state.counts[key, default: 0] += 1
            // An answer other than 5xx/429 means OZmap is there and serving.
            state.reachable = status != 0 && status != 429 && status < 500
        }
        observer?(key, duration)
    }

    public var counts: [(key: Key, count: Int)] {
        state.withLock { $0.counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// Nil until the first request.
    public var reachable: Bool? { state.withLock { $0.reachable } }
}
