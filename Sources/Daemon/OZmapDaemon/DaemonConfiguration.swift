import Foundation
import Logging
import OZmapDomain
import OZmapServer
import OZmapWire

/// Everything ozmapd can be told. Sources, later ones winning: the built-in
/// defaults, the config file (`key = value` lines), `OZMAPD_<KEY>` environment
/// variables, command-line flags.
public struct DaemonConfiguration: Sendable {
    public var socketPath = "/run/ozmapd/ozmapd.sock"
    /// `grpc_socket`: where standard gRPC (HTTP/2, no TLS) is served beside the framed socket; nil (the default) serves none.
    public var grpcSocketPath: String?
    public var stateDirectory = "/var/lib/ozmapd"
    public var socketGroup: String?
    public var socketMode: UInt32 = 0o660
    public var maximumFrameBytes = Framing.defaultMaxFrameLength
    public var maximumCallsInFlight = 128
    public var maximumConnections = 256
    public var maximumRunningCalls = ServerConfiguration.defaultRunningCalls
    public var frameTimeoutMs = 10_000
    /// 0 keeps idle connections for ever.
    public var idleTimeoutMs = 900_000
    public var allowedUIDs: Set<UInt32> = []
    public var allowedGIDs: Set<UInt32> = []
    public var callTimeoutMs = 30_000
    public var shutdownGraceMs = 10_000
    public var logLevel: Logger.Level = .info
    /// text, or json: one JSON object per line (journald-friendly).
    public var logFormat: LogFormat = .text

    // OZmap
    public var ozmapAPIURL: String?
    /// "config" or "environment": where ozmapAPIURL came from.
    public var ozmapCredentialsSource = "config"
    /// A file holding the API key (so the key never sits in a config file or a process listing).
    public var ozmapAPIKeyFile: String?
    public var ozmapConcurrency = 4
    public var ozmapConnectTimeoutMs = 5_000
    public var ozmapTimeoutMs = 30_000
    public var ozmapCAFile: String?
    public var ozmapInsecureSkipTLSVerify = false
    public var ozmapPageSize = 500
    /// Attempts of an OZmap read before it fails (429/5xx/no answer are retried).
    public var ozmapReadAttempts = 4
    public var syncIntervalSeconds = 900
    public var syncJitter = 0.1
    public var syncFullEvery = 4
    /// Full-jitter backoff of outbox retries.
    public var outboxBackoffBaseMs = 500
    public var outboxBackoffCapMs = 60_000
    /// How long ProvisionONU & co. wait for OZmap before answering "pending".
    public var outboxWaitMs = 10_000
    /// What DeprovisionONU does with a client ozmapd adopted from the ERP or a person.
    public var adoptedOnDeprovision: AdoptedClientPolicy = .delete
    /// A reconcile dry-run after each full box pass, its counts in GetStatus `drift`.
    public var reconcileEveryFullPass = true
    /// `metrics_listen`: where GET /metrics is served over HTTP; nil (the default) serves none.
    public var metricsListen: MetricsListenAddress?
    /// `ozmap_web_port`: the port of OZmap's web front end, which on-premises OZmap must open to
    /// this server beside the API port; `ozmapctl doctor` checks a TCP connection to it. 80.
    public var ozmapWebPort = 80

    public init() {}

    /// A setting that could not be applied, naming where it came from.
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// The settings, by the name used in the config file.
    public static let keys = [
        "socket", "grpc_socket", "state_dir", "socket_group", "socket_mode", "max_frame_bytes", "max_calls_in_flight", "max_running_calls", "max_connections",
        "frame_timeout_ms", "idle_timeout_ms",
        "allowed_uids", "allowed_gids", "call_timeout_ms", "shutdown_grace_ms", "log_level", "log_format",
        "ozmap_api_url", "ozmap_api_key_file", "ozmap_concurrency", "ozmap_connect_timeout_ms", "ozmap_timeout_ms",
        "ozmap_ca_file", "ozmap_insecure_skip_tls_verify", "ozmap_page_size", "ozmap_read_attempts", "ozmap_web_port",
        "sync_interval_s", "sync_jitter", "sync_full_every", "outbox_backoff_base_ms", "outbox_backoff_cap_ms",
        "outbox_wait_ms", "adopted_on_deprovision", "reconcile_every_full_pass", "metrics_listen",
    ]

    /// Applies one setting; `source` names it in errors ("ozmapd.conf:3", "OZMAPD_SOCKET", "--socket").
    public mutating func set(_ key: String, to value: String, source: String) throws {
        func fail(_ expected: String) -> Error {
            Error(description: "\(source): \(key) must be \(expected), not '\(value)'")
        }
        func integer(_ range: ClosedRange<Int>) throws -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw fail("a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        func ids() throws -> Set<UInt32> {
            let parts = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let numbers = parts.compactMap { UInt32($0) }
            guard numbers.count == parts.count else { throw fail("a comma-separated list of numeric ids") }
            return Set(numbers)
        }
        switch key {
        case "socket":
            guard !value.isEmpty else { throw fail("a path") }
            socketPath = value
        case "grpc_socket":
            // sockaddr_un's sun_path holds 107 bytes and the NUL.
            guard value.utf8.count < 108, !value.hasSuffix("/") else {
                throw fail("the path of a Unix socket file (at most 107 bytes; empty: off)")
            }
            grpcSocketPath = value.isEmpty ? nil : value
        case "state_dir":
            guard !value.isEmpty else { throw fail("a directory path") }
            stateDirectory = value
        case "socket_group":
            socketGroup = value.isEmpty ? nil : value
        case "socket_mode":
            guard let mode = UInt32(value, radix: 8), mode <= 0o777 else { throw fail("an octal mode such as 660") }
            socketMode = mode
        case "max_frame_bytes": maximumFrameBytes = try integer(64...(256 << 20))
        case "max_calls_in_flight": maximumCallsInFlight = try integer(1...65_536)
        case "max_connections": maximumConnections = try integer(1...65_536)
        case "max_running_calls": maximumRunningCalls = try integer(1...4096)
        case "frame_timeout_ms": frameTimeoutMs = try integer(10...600_000)
        case "idle_timeout_ms": idleTimeoutMs = try integer(0...86_400_000)
        case "allowed_uids": allowedUIDs = try ids()
        case "allowed_gids": allowedGIDs = try ids()
        case "call_timeout_ms": callTimeoutMs = try integer(1...3_600_000)
        case "shutdown_grace_ms": shutdownGraceMs = try integer(0...600_000)
        case "log_level":
            guard let level = Logger.Level(rawValue: value.lowercased()) else {
                throw fail("one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        case "log_format":
            guard let format = LogFormat(rawValue: value.lowercased()) else { throw fail("text or json") }
            logFormat = format
        case "ozmap_api_url":
            ozmapAPIURL = value.isEmpty ? nil : value
            ozmapCredentialsSource = source.hasPrefix("OZMAP") ? "environment" : "config"
        case "ozmap_api_key_file": ozmapAPIKeyFile = value.isEmpty ? nil : value
        case "ozmap_concurrency": ozmapConcurrency = try integer(1...64)
        case "ozmap_connect_timeout_ms": ozmapConnectTimeoutMs = try integer(100...600_000)
        case "ozmap_timeout_ms": ozmapTimeoutMs = try integer(100...3_600_000)
        case "ozmap_ca_file": ozmapCAFile = value.isEmpty ? nil : value
        case "ozmap_insecure_skip_tls_verify":
            guard let flag = Bool(value.lowercased()) else { throw fail("true or false") }
            ozmapInsecureSkipTLSVerify = flag
        case "ozmap_page_size": ozmapPageSize = try integer(1...1000)
        case "ozmap_read_attempts": ozmapReadAttempts = try integer(1...20)
        case "ozmap_web_port": ozmapWebPort = try integer(1...65_535)
        case "sync_interval_s": syncIntervalSeconds = try integer(10...86_400)
        case "sync_jitter":
            guard let share = Double(value), (0...0.5).contains(share) else { throw fail("a share from 0 to 0.5") }
            syncJitter = share
        case "sync_full_every": syncFullEvery = try integer(1...1000)
        case "outbox_backoff_base_ms": outboxBackoffBaseMs = try integer(1...600_000)
        case "outbox_backoff_cap_ms": outboxBackoffCapMs = try integer(1...3_600_000)
        case "outbox_wait_ms": outboxWaitMs = try integer(0...600_000)
        case "adopted_on_deprovision":
            guard let policy = AdoptedClientPolicy(rawValue: value) else {
                throw fail(AdoptedClientPolicy.allCases.map(\.rawValue).joined(separator: ", ").replacingOccurrences(of: ", keep", with: " or keep"))
            }
            adoptedOnDeprovision = policy
        case "reconcile_every_full_pass":
            guard let flag = Bool(value.lowercased()) else { throw fail("true or false") }
            reconcileEveryFullPass = flag
        case "metrics_listen":
            if value.isEmpty { metricsListen = nil; break }
            guard let address = MetricsListenAddress(parsing: value) else {
                throw fail("an IP address and port to serve GET /metrics on, such as 127.0.0.1:9464 or [::1]:9464 (empty: off)")
            }
            metricsListen = address
        default:
            throw Error(description: "\(source): unknown setting '\(key)' (known: \(Self.keys.joined(separator: ", ")))")
        }
    }

    /// Applies a config file of `key = value` lines; `#` starts a comment.
    public mutating func apply(file path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Error(description: "cannot read config file \(path): \(error.localizedDescription)")
        }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw Error(description: "\(path):\(number + 1): expected 'key = value', found '\(line)'")
            }
            var value = parts[1]
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            try set(parts[0], to: value, source: "\(path):\(number + 1)")
        }
    }

    /// Applies `OZMAPD_<KEY>` variables (e.g. OZMAPD_SOCKET, OZMAPD_STATE_DIR), and
    /// `OZMAP_API_URL` / `OZMAP_API_KEY_FILE` for the OZmap credentials.
    public mutating func apply(environment: [String: String]) throws {
        for key in Self.keys {
            let name = "OZMAPD_\(key.uppercased())"
            if let value = environment[name] { try set(key, to: value, source: name) }
        }
        for (name, key) in [("OZMAP_API_URL", "ozmap_api_url"), ("OZMAP_API_KEY_FILE", "ozmap_api_key_file")] {
            if let value = environment[name] { try set(key, to: value, source: name) }
        }
    }

    /// The standard gRPC listener's settings, when `grpc_socket` is set: the framed socket's file
    /// mode, group, allowlist, grace period, and the limits HTTP/2 has a counterpart of.
    public func grpcServerConfiguration() throws -> GRPCSocketServer.Configuration? {
        guard let grpcSocketPath else { return nil }
        guard grpcSocketPath != socketPath else {
            throw Error(description: "grpc_socket must differ from socket (both are \(socketPath))")
        }
        var server = GRPCSocketServer.Configuration(socketPath: grpcSocketPath)
        server.socketMode = socketMode
        server.socketGroup = socketGroup
        server.peerPolicy = PeerPolicy(allowedUIDs: allowedUIDs, allowedGIDs: allowedGIDs)
        server.shutdownGracePeriod = .milliseconds(shutdownGraceMs)
        server.maximumRequestBytes = maximumFrameBytes
        server.maximumCallsInFlightPerConnection = maximumCallsInFlight
        server.idleTimeout = idleTimeoutMs == 0 ? nil : .milliseconds(idleTimeoutMs)
        return server
    }

    public var serverConfiguration: ServerConfiguration {
        var server = ServerConfiguration(socketPath: socketPath)
        server.socketMode = socketMode
        server.socketGroup = socketGroup
        server.maximumFrameLength = maximumFrameBytes
        server.maximumCallsInFlightPerConnection = maximumCallsInFlight
        server.maximumConnections = maximumConnections
        server.maximumRunningCalls = maximumRunningCalls
        server.incompleteFrameTimeout = .milliseconds(frameTimeoutMs)
        server.idleTimeout = idleTimeoutMs == 0 ? nil : .milliseconds(idleTimeoutMs)
        server.peerPolicy = PeerPolicy(allowedUIDs: allowedUIDs, allowedGIDs: allowedGIDs)
        server.shutdownGracePeriod = .milliseconds(shutdownGraceMs)
        return server
    }
}
