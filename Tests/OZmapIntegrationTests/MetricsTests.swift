import Foundation
import OZmapAdapter
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Testing

/// GetMetrics (`ozmapctl metrics`) and the `metrics_listen` HTTP listener: Prometheus text that a
/// strict parser accepts, with the series the calls, the sync and the outbox should have moved.
@Suite(.timeLimit(.minutes(5))) struct MetricsTests {
    @Test func getMetricsAndTheHTTPListenerServeStrictPrometheusTextThatFollowsTheCalls() async throws {
        let rig = try await TestRig(boxes: 40)
        try await rig.startDaemon { $0.metricsListen = MetricsListenAddress(host: "127.0.0.1", port: 0) }
        let client = try await rig.client()
        let report = try await rig.connect(client)
        #expect(report.error.isEmpty, "\(report.error)")
        // The reconcile check after the full pass runs in DriftCheckService, after the pass: its drift series follow it.
        try await waitUntil("the drift check after the full pass has run", timeout: .seconds(20)) {
            try await !client.rpc.getStatus(GetStatusRequest()).driftCheckedAt.isEmpty
        }
        let statusCallsBefore = try PrometheusText(try await client.rpc.getMetrics(GetMetricsRequest()).prometheusText)
            .value("ozmapd_rpc_calls_total", ["method": "GetStatus", "code": "OK"]) ?? 0
        for _ in 0..<3 { _ = try await client.rpc.getStatus(GetStatusRequest()) }
        await #expect(throws: GRPCCore.RPCError.self) { _ = try await client.rpc.getONU(GetONURequest(onuId: "no-such-onu")) }

        let first = try PrometheusText(try await client.rpc.getMetrics(GetMetricsRequest()).prometheusText)
        // RPC calls by method and status code, with their latency.
        #expect(first.value("ozmapd_rpc_calls_total", ["method": "GetStatus", "code": "OK"]) == statusCallsBefore + 3)
        #expect(first.value("ozmapd_rpc_calls_total", ["method": "SyncBoxes", "code": "OK"]) == 1)
        #expect(first.value("ozmapd_rpc_calls_total", ["method": "GetONU", "code": "NOT_FOUND"]) == 1)
        #expect(first.value("ozmapd_rpc_call_duration_seconds_count", ["method": "GetStatus"]) == statusCallsBefore + 3)
        #expect(first.types["ozmapd_rpc_call_duration_seconds"] == "histogram")
        // OZmap requests by route and HTTP status; their latency counts every one of them.
        let requests = first.samples.filter { $0.name == "ozmapd_ozmap_requests_total" }
        #expect(requests.contains { $0.labels["status"] == "200" && $0.labels["route"] == "authenticated" }, "\(requests)")
        #expect(requests.contains { $0.labels["status"] == "200" && $0.labels["route"]?.hasPrefix("boxes") == true }, "\(requests)")
        for (route, method) in Set(requests.map { [$0.labels["route"] ?? "", $0.labels["method"] ?? ""] }).map({ ($0[0], $0[1]) }) {
            let counted = requests.filter { $0.labels["route"] == route && $0.labels["method"] == method }.reduce(0) { $0 + $1.value }
            #expect(first.value("ozmapd_ozmap_request_duration_seconds_count", ["method": method, "route": route]) == counted, "\(method) \(route)")
        }
        // The sync pass, the cache, the outbox, the credentials.
        // SetCredentials starts a full pass, and SyncBoxes joins it or runs one more.
        #expect((1...2).contains(first.value("ozmapd_sync_passes_total", ["kind": "full", "outcome": "ok"]) ?? 0))
        #expect((first.value("ozmapd_sync_last_duration_seconds", [:]) ?? -1) >= 0)
        let status = try await client.rpc.getStatus(GetStatusRequest())
        #expect(status.boxCount > 0)
        #expect(first.value("ozmapd_box_cache_boxes", [:]) == Double(status.boxCount))
        #expect(first.value("ozmapd_outbox_operations", ["state": "pending"]) == 0)
        #expect(first.value("ozmapd_outbox_operations", ["state": "failed"]) == 0)
        #expect(first.value("ozmapd_outbox_oldest_pending_age_seconds", [:]) == 0)
        #expect(first.value("ozmapd_credentials_state", ["state": "ok"]) == 1)
        #expect(first.value("ozmapd_credentials_state", ["state": "unset"]) == 0)
        #expect(first.value("ozmapd_credentials_state", ["state": "rejected"]) == 0)
        #expect(first.value("ozmapd_build_info", ["version": Daemon.version]) == 1)
        for kind in ["missing-in-ozmap", "at-other-box", "data-differs", "property-without-client", "unknown-to-ozmapd", "duplicate"] {
            #expect(first.value("ozmapd_drift_onus", ["kind": kind]) == 0, "\(kind)")
        }
        for family in first.types.keys { #expect(first.help[family]?.isEmpty == false, "\(family) has a HELP line") }

        // The counts grow with the calls.
        for _ in 0..<5 { _ = try await client.rpc.getStatus(GetStatusRequest()) }
        let incremental = try #require(try await client.rpc.syncBoxes(SyncBoxesRequest(full: false, wait: true)).report)
        #expect(incremental.kind == .incremental && incremental.error.isEmpty, "\(incremental)")
        let second = try PrometheusText(try await client.rpc.getMetrics(GetMetricsRequest()).prometheusText)
        #expect(second.value("ozmapd_rpc_calls_total", ["method": "GetStatus", "code": "OK"]) == statusCallsBefore + 9)
        #expect(second.value("ozmapd_rpc_calls_total", ["method": "GetMetrics", "code": "OK"]) == 2,
                "the call being answered is counted when it ends")
        #expect(second.value("ozmapd_sync_passes_total", ["kind": "incremental", "outcome": "ok"])
                == (first.value("ozmapd_sync_passes_total", ["kind": "incremental", "outcome": "ok"]) ?? 0) + 1)

        // The HTTP listener answers the same series over loopback; anything but GET /metrics is 404.
        let daemon = try rig.daemon
        let port = try await #require(daemon.metricsServer).waitUntilListening()
        let http = daemon.ozmapHTTP
        let scraped = try await http.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics"))
        #expect(scraped.status == 200)
        #expect(scraped.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true, "\(scraped.headers)")
        let scrapedText = String(decoding: scraped.body, as: UTF8.self)
        let overHTTP = try PrometheusText(scrapedText)
        #expect(Set(overHTTP.types.keys) == Set(second.types.keys))
        #expect((overHTTP.value("ozmapd_rpc_calls_total", ["method": "GetMetrics", "code": "OK"]) ?? 0) >= 2)
        #expect(overHTTP.value("ozmapd_box_cache_boxes", [:]) == Double(status.boxCount))
        for path in ["/", "/metrics/x", "/other"] {
            #expect(try await http.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)\(path)")).status == 404, "\(path)")
        }
        #expect(try await http.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/metrics", body: [])).status == 404)

        // `ozmapctl metrics` prints the same text.
        let (code, printed, errors) = try await runProcess(binary("ozmapctl"), ["metrics", "--socket", rig.socketPath], directory: rig.directory)
        #expect(code == 0, "\(errors)")
        let overCLI = try PrometheusText(printed)
        #expect(Set(overCLI.types.keys) == Set(second.types.keys))
        #expect((overCLI.value("ozmapd_rpc_calls_total", ["method": "GetMetrics", "code": "OK"]) ?? 0) >= 3)

        // The key is in no metric, whichever way they are read.
        for text in [first.text, second.text, scrapedText, printed] { #expect(!text.contains(simulatorKey)) }
        try await rig.tearDown()
    }

    @Test func theOutboxDepthAndTheAgeOfItsOldestOperationFollowAnOZmapOutage() async throws {
        let rig = try await TestRig(boxes: 40)
        let (client, olt) = try await rig.provisioningReady { $0.outboxWaitMs = 200 }
        let box = try #require(try await rig.boxesWithRoom(on: olt, client: client).first)
        func metrics() async throws -> PrometheusText {
            try PrometheusText(try await client.rpc.getMetrics(GetMetricsRequest()).prometheusText)
        }

        rig.simulator.setFaults(.forcedStatus(503))
        let queued = try await client.rpc.provisionONU(provision("8101", cto: box.name))
        #expect(queued.onu?.state == .pending)
        try await waitUntil("the pending operation has an age", timeout: .seconds(20)) {
            let text = try await metrics()
            return text.value("ozmapd_outbox_operations", ["state": "pending"]) == 1
                && (text.value("ozmapd_outbox_oldest_pending_age_seconds", [:]) ?? 0) > 0
        }
        let during = try await metrics()
        let unavailable = during.samples.filter { $0.name == "ozmapd_ozmap_requests_total" && $0.labels["status"] == "503" }
        #expect(!unavailable.isEmpty, "the 503s are counted by route")

        rig.simulator.setFaults(.none)
        try await rig.outboxDrained(client)
        let after = try await metrics()
        #expect(after.value("ozmapd_outbox_operations", ["state": "pending"]) == 0)
        #expect(after.value("ozmapd_outbox_oldest_pending_age_seconds", [:]) == 0)
        #expect(!after.text.contains(simulatorKey))
        try await rig.tearDown()
    }

    @Test func metricsListenIsOffByDefaultAndABadValueNamesTheKey() throws {
        var configuration = DaemonConfiguration()
        #expect(configuration.metricsListen == nil)
        try configuration.set("metrics_listen", to: "127.0.0.1:9464", source: "ozmapd.conf:1")
        #expect(configuration.metricsListen == MetricsListenAddress(host: "127.0.0.1", port: 9464))
        try configuration.set("metrics_listen", to: "[::1]:9464", source: "ozmapd.conf:2")
        #expect(configuration.metricsListen == MetricsListenAddress(host: "::1", port: 9464))
        try configuration.set("metrics_listen", to: "", source: "ozmapd.conf:3")
        #expect(configuration.metricsListen == nil)
        for bad in ["9464", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "prometheus.example:9464", "::1:9464", "[::1]9464", "127.0.0.1:-1"] {
            let error = #expect(throws: DaemonConfiguration.Error.self) {
                try configuration.set("metrics_listen", to: bad, source: "ozmapd.conf:4")
            }
            #expect(error?.description.hasPrefix("ozmapd.conf:4: metrics_listen must be") == true, "\(bad): \(String(describing: error))")
            #expect(error?.description.contains(bad) == true)
        }
    }

    @Test func theParserRejectsMalformedText() {
        let good = """
        # HELP a_total A counter.
        # TYPE a_total counter
        a_total{method="x\\"y\\\\z\\n"} 3
        # TYPE h histogram
        h_bucket{le="0.5"} 1
        h_bucket{le="+Inf"} 2
        h_sum 0.7
        h_count 2

        """
        #expect(throws: Never.self) { try PrometheusText(good) }
        let bad = [
            "# TYPE a counter\na{method=\"x\"} 1 2 3\n",                                     // trailing garbage
            "# TYPE a counter\n1a 1\n",                                                      // bad name
            "# TYPE a counter\na{method=\"x} 1\n",                                           // unterminated label value
            "# TYPE a counter\na{method=\"x\\q\"} 1\n",                                     // bad escape
            "# TYPE a counter\na one\n",                                                     // not a number
            "b 1\n",                                                                         // no TYPE
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n", // not monotonic
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",                     // +Inf != count
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",                                             // no +Inf
        ]
        for text in bad {
            #expect(throws: PrometheusText.Malformed.self, "\(text)") { try PrometheusText(text) }
        }
    }
}

/// A strict reader of the Prometheus text exposition format 0.0.4: HELP and TYPE lines, metric
/// and label names, escaped label values, numeric values, and histograms whose buckets are
/// cumulative (monotonic in `le`) with `+Inf` equal to `_count` and a `_sum`, per label set.
struct PrometheusText {
    struct Sample: CustomStringConvertible {
        var name: String
        var labels: [String: String]
        var value: Double
        var description: String { "\(name)\(labels.sorted { $0.key < $1.key }) \(value)" }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    let text: String
    private(set) var samples: [Sample] = []
    private(set) var types: [String: String] = [:]
    private(set) var help: [String: String] = [:]

    init(_ text: String) throws {
        self.text = text
        var lineNumber = 0
        func fail(_ why: String) -> Malformed { Malformed(description: "line \(lineNumber): \(why)") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            lineNumber += 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE"].contains(parts[1]) else { continue } // a comment
                let name = parts[2]
                guard Self.isMetricName(name) else { throw fail("bad metric name '\(name)'") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("bad TYPE line '\(line)'")
                    }
                    guard types[name] == nil else { throw fail("a second TYPE for \(name)") }
                    guard !samples.contains(where: { Self.family(of: $0.name, in: [name: parts[3]]) == name }) else {
                        throw fail("TYPE of \(name) after its samples")
                    }
                    types[name] = parts[3]
                } else {
                    guard help[name] == nil else { throw fail("a second HELP for \(name)") }
                    help[name] = parts.count == 4 ? parts[3] : ""
                }
                continue
            }
            var scanner = Scanner(line)
            let name = scanner.take { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
            guard Self.isMetricName(name) else { throw fail("bad metric name in '\(line)'") }
            var labels: [String: String] = [:]
            if scanner.peek == "{" {
                scanner.advance()
                while scanner.peek != "}" {
                    let label = scanner.take { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                    guard Self.isLabelName(label) else { throw fail("bad label name in '\(line)'") }
                    guard scanner.peek == "=" else { throw fail("no '=' after label \(label)") }
                    scanner.advance()
                    guard scanner.peek == "\"" else { throw fail("label \(label) has no quoted value") }
                    scanner.advance()
                    var value = ""
                    while true {
                        guard let character = scanner.peek else { throw fail("unterminated value of label \(label)") }
                        scanner.advance()
                        if character == "\"" { break }
                        if character == "\\" {
                            switch scanner.peek {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw fail("bad escape in the value of label \(label)")
                            }
                            scanner.advance()
                        } else {
                            value.append(character)
                        }
                    }
                    guard labels.updateValue(value, forKey: label) == nil else { throw fail("label \(label) twice") }
                    if scanner.peek == "," { scanner.advance() } else if scanner.peek != "}" { throw fail("expected ',' or '}' in '\(line)'") }
                }
                scanner.advance()
            }
            guard scanner.peek == " " else { throw fail("no space before the value in '\(line)'") }
            scanner.advance()
            let fields = scanner.rest.split(separator: " ", omittingEmptySubsequences: false)
            guard (1...2).contains(fields.count), let value = Self.number(String(fields[0])) else { throw fail("bad value in '\(line)'") }
            if fields.count == 2, Int64(fields[1]) == nil { throw fail("bad timestamp in '\(line)'") }
            guard Self.family(of: name, in: types) != nil else { throw fail("\(name) has no TYPE line before it") }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        try checkHistograms()
    }

    /// The value of the one sample with exactly these labels, nil when there is none.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    private func checkHistograms() throws {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: (buckets: [(le: Double, count: Double)], sum: Double?, count: Double?)] = [:]
            for sample in samples {
                var labels = sample.labels
                switch sample.name {
                case family + "_bucket":
                    guard let le = labels.removeValue(forKey: "le").flatMap(Self.number) else {
                        throw Malformed(description: "\(family)_bucket without a numeric le: \(sample)")
                    }
                    series[labels, default: ([], nil, nil)].buckets.append((le, sample.value))
                case family + "_sum": series[labels, default: ([], nil, nil)].sum = sample.value
                case family + "_count": series[labels, default: ([], nil, nil)].count = sample.value
                case family: throw Malformed(description: "histogram \(family) with a bare sample")
                default: continue
                }
            }
            for (labels, histogram) in series {
                guard let count = histogram.count, histogram.sum != nil else {
                    throw Malformed(description: "\(family)\(labels) lacks _sum or _count")
                }
                let buckets = histogram.buckets.sorted { $0.le < $1.le }
                guard let last = buckets.last, last.le == .infinity else { throw Malformed(description: "\(family)\(labels) has no +Inf bucket") }
                guard last.count == count else { throw Malformed(description: "\(family)\(labels): +Inf bucket \(last.count) != _count \(count)") }
                for (lower, upper) in zip(buckets, buckets.dropFirst()) where lower.count > upper.count {
                    throw Malformed(description: "\(family)\(labels): buckets not cumulative at le=\(upper.le)")
                }
            }
        }
    }

    /// The family a sample belongs to (a histogram's `_bucket`, `_sum`, `_count` belong to it).
    private static func family(of name: String, in types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if let type = types[base], type == "histogram" || type == "summary" { return base }
        }
        return nil
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// A Go-style float: digits, sign, exponent, or +Inf, -Inf, NaN.
    static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ "0123456789.eE+-".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    private struct Scanner {
        private let characters: [Character]
        private var index = 0
        init(_ text: String) { characters = Array(text) }
        var peek: Character? { index < characters.count ? characters[index] : nil }
        mutating func advance() { index += 1 }
        mutating func take(while predicate: (Character) -> Bool) -> String {
            let start = index
            while let character = peek, predicate(character) { advance() }
            return String(characters[start..<index])
        }
        var rest: String { String(characters[index...]) }
    }
}
