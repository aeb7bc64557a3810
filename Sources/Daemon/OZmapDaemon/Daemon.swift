import Foundation
import GRPCCore
import Logging
import OZmapAdapter
import OZmapDomain
import OZmapRPC
import OZmapServer
import OZmapStore
import OZmapWire
import ServiceLifecycle

/// ozmapd assembled: the state directory and database, the OZmap adapter, the
/// box cache and its sync timer, the handlers, the socket server, and the
/// service group that starts them and drains them on SIGTERM/SIGINT.
public struct Daemon: Sendable {
    public static let version = "0.2.0"

    public let configuration: DaemonConfiguration
    public let server: UnixSocketServer
    /// Standard gRPC over HTTP/2 on `grpc_socket`, when it is set: the same service and interceptors.
    public let grpcServer: GRPCSocketServer?
    /// The service behind the socket, to serve in process too (tests, benchmarks: GRPCCore's in-process transport).
    public let service: any RegistrableRPCService
    /// The interceptors to serve `service` through on any other transport (standard gRPC, in process).
    public var interceptors: [any ServerInterceptor] { ServerInterceptors.standard + Self.ownInterceptors }
    /// After the standard ones, next to the handler: the handler runs on the blocking-work executor.
    /// Not on the framed socket, whose transport starts each call there already (`callExecutor`).
    static let ownInterceptors: [any ServerInterceptor] = [OnBlockingWorkExecutor()]
    public let boxSync: BoxSyncService
    public let outbox: OutboxWorker
    /// nil unless `reconcile_every_full_pass`.
    public let driftCheck: DriftCheckService?
    /// The libcurl client every OZmap request goes through.
    public let ozmapHTTP: CurlHTTPClient
    private let logger: Logger
    /// The metrics GetMetrics and `metrics_listen` serve (DaemonMetrics.swift), this daemon's own.
    public let metrics: DaemonMetrics
    /// GET /metrics over HTTP, when `metrics_listen` is set.
    public let metricsServer: MetricsHTTPServer?
    /// READY=1 / WATCHDOG=1 / STOPPING=1 to systemd, when it set NOTIFY_SOCKET (Systemd.swift).
    private let systemdNotify: SystemdNotifyService?

    /// `systemd`: what systemd passed (`SystemdEnvironment.takeFromProcess()`); none by default.
    public init(configuration: DaemonConfiguration, logger: Logger, systemd: SystemdEnvironment = SystemdEnvironment()) throws {
        self.configuration = configuration
        self.logger = logger
        try StateDirectory.prepare(configuration.stateDirectory, logger: logger)

        let database = try StateDatabase(stateDirectory: configuration.stateDirectory)
        let daemonMetrics = DaemonMetrics(version: Self.version)
        self.metrics = daemonMetrics
        let metrics = OZmapRequestMetrics { request, duration in daemonMetrics.recordOZmapRequest(request, duration: duration) }
        if let caFile = configuration.ozmapCAFile, !FileManager.default.isReadableFile(atPath: caFile) {
            // Found now rather than as a TLS error on the first request to OZmap.
            throw DaemonConfiguration.Error(description: "ozmap_ca_file \(caFile) cannot be read (a PEM bundle of the CA that signed OZmap's certificate)")
        }
        if configuration.ozmapInsecureSkipTLSVerify {
            logger.critical("TLS verification of OZmap is OFF (ozmap_insecure_skip_tls_verify): anyone on the path can read the API key. Use ozmap_ca_file instead.")
        }
        let http = CurlHTTPClient(configuration: configuration.httpClientConfiguration)
        ozmapHTTP = http
        let clientConfiguration = configuration.ozmapClientConfiguration
        let retryAfter = RetryAfterGate()
        let connection = try OZmapConnection(
            store: CredentialFile(stateDirectory: configuration.stateDirectory),
            configured: try configuration.configuredCredentials(),
            logger: logger
        ) { credentials, onStatus in
            OZmapAPIClient(credentials: credentials, http: http, metrics: metrics, configuration: clientConfiguration,
                           retryAfter: retryAfter, logger: logger, onStatus: onStatus)
        }
        let synchronizer = try BoxSynchronizer(cache: BoxCache(), store: database, logger: logger) { connection.directory }
        boxSync = BoxSyncService(synchronizer: synchronizer, schedule: configuration.syncSchedule, logger: logger) {
            connection.directory != nil
        }
        let links = OLTLinks(store: database, connection: connection)
        // Nothing is written to OZmap without credentials it accepts: while they are unset or
        // rejected the worker starts no attempt, and it is woken when they are accepted again.
        let worker = OutboxWorker(store: database, configuration: configuration.outboxConfiguration, logger: logger,
                                  boxRefresher: { ids in await synchronizer.refresh(boxIDs: ids) },
                                  pausedReason: { connection.pausedReason }) {
            connection.state == .ok ? connection.directory as? any OZmapProvisioner : nil
        }
        outbox = worker
        connection.onStateChange { _ in worker.wake() }
        connection.addSwitchObserver(CredentialsSwitch(synchronizer: synchronizer, links: links, logger: logger))
        let provisioning = Provisioning(store: database, cache: synchronizer.cache, links: links, worker: outbox,
                                        maximumWait: .milliseconds(configuration.outboxWaitMs),
                                        requestCount: { metrics.counts.reduce(0) { $0 + $1.count } }) {
            connection.state == .ok ? connection.directory as? any OZmapProvisioner : nil
        }
        if configuration.reconcileEveryFullPass {
            let driftCheck = DriftCheckService(provisioning: provisioning, logger: logger)
            synchronizer.afterEachPass { report in
                guard report.kind == .full, report.error.isEmpty else { return }
                driftCheck.request()
            }
            self.driftCheck = driftCheck
        } else {
            driftCheck = nil
        }

        let stats = ServerStats()
        synchronizer.afterEachPass { daemonMetrics.recordSyncPass($0) }
        daemonMetrics.observe(.init(connection: connection, cache: synchronizer.cache, database: database, drift: provisioning.drift))
        service = IntegrationService(
            status: StatusSources(version: Self.version, socketPath: configuration.socketPath, stats: stats, metrics: metrics, boxSync: boxSync),
            connection: connection, synchronizer: synchronizer, links: links, provisioning: provisioning, provisioningStore: database,
            doctor: Doctor(sources: DoctorSources(configuration: configuration, connection: connection, synchronizer: synchronizer,
                                                  syncStore: database, outbox: database)),
            metrics: daemonMetrics, defaultTimeout: .milliseconds(configuration.callTimeoutMs))
        metricsServer = configuration.metricsListen.map {
            MetricsHTTPServer(address: $0, logger: logger) { daemonMetrics.render() }
        }
        var serverConfiguration = configuration.serverConfiguration
        serverConfiguration.inheritedSocket = systemd.listenSocket
        serverConfiguration.defaultCallTimeout = .milliseconds(configuration.callTimeoutMs)
        serverConfiguration.waitingMethods = IntegrationService.waitingOnOZmap
        let server = UnixSocketServer(configuration: serverConfiguration, services: [service],
                                      stats: stats, logger: logger,
                                      observer: { daemonMetrics.recordCall(method: $0, code: $1, duration: $2) },
                                      callExecutor: BlockingWorkExecutor.shared)
        self.server = server
        if let grpcConfiguration = try configuration.grpcServerConfiguration() {
            grpcServer = GRPCSocketServer(configuration: grpcConfiguration, services: [service],
                                          interceptors: Self.ownInterceptors, logger: logger)
        } else {
            grpcServer = nil
        }
        systemdNotify = systemd.notifySocket.map {
            SystemdNotifyService(notifier: SystemdNotifier(socket: $0), watchdogTimeout: systemd.watchdogTimeout, server: server, logger: logger)
        }
    }

    /// Every long-running part, in start order (shutdown drains them in reverse).
    public var services: [any Service] {
        [outbox, boxSync] + (driftCheck.map { [$0] } ?? []) + [server] + (grpcServer.map { [$0] } ?? []) + (metricsServer.map { [$0] } ?? []) + (systemdNotify.map { [$0] } ?? [])
    }

    /// Runs until SIGTERM or SIGINT (or cancellation), then shuts down gracefully.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            // A metrics listener that cannot bind shuts the rest down gracefully (the socket
            // server drains on graceful shutdown, not on cancellation), and ozmapd exits with its error.
            services: services.map {
                .init(service: $0, failureTerminationBehavior: $0 is MetricsHTTPServer ? .gracefullyShutdownGroup : .cancelGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        logger.info("ozmapd starting", metadata: ["version": "\(Self.version)", "state_dir": "\(configuration.stateDirectory)"])
        try await group.run()
    }
}

extension DaemonConfiguration {
    var httpClientConfiguration: HTTPClientConfiguration {
        var http = HTTPClientConfiguration()
        http.concurrency = ozmapConcurrency
        http.connectTimeoutMs = ozmapConnectTimeoutMs
        http.timeoutMs = ozmapTimeoutMs
        http.caFile = ozmapCAFile
        http.insecureSkipTLSVerify = ozmapInsecureSkipTLSVerify
        return http
    }

    var ozmapClientConfiguration: OZmapClientConfiguration {
        var client = OZmapClientConfiguration()
        client.pageSize = ozmapPageSize
        client.readAttempts = ozmapReadAttempts
        return client
    }

    var outboxConfiguration: OutboxWorker.Configuration {
        var outbox = OutboxWorker.Configuration()
        outbox.concurrency = ozmapConcurrency
        outbox.backoff = Backoff(base: .milliseconds(outboxBackoffBaseMs), cap: .milliseconds(outboxBackoffCapMs))
        // A write that timed out may still land: look again only once it would have.
        outbox.settleAfterUnknownOutcome = .milliseconds(ozmapTimeoutMs)
        outbox.adoptedPolicy = adoptedOnDeprovision
        return outbox
    }

    var syncSchedule: BoxSyncSchedule {
        var schedule = BoxSyncSchedule()
        schedule.interval = .seconds(syncIntervalSeconds)
        schedule.jitter = syncJitter
        schedule.fullEvery = syncFullEvery
        return schedule
    }

    /// The credentials from configuration (`ozmap_api_url` and the key file), if both are set.
    func configuredCredentials() throws -> StoredCredentials? {
        guard let url = ozmapAPIURL else { return nil }
        guard let keyFile = ozmapAPIKeyFile else {
            throw Error(description: "ozmap_api_url is set but ozmap_api_key_file is not: the key is read from a file")
        }
        guard let data = FileManager.default.contents(atPath: keyFile) else {
            throw Error(description: "cannot read the OZmap API key file \(keyFile)")
        }
        do {
            let credentials = try OZmapCredentials(apiURL: url, apiKey: String(decoding: data, as: UTF8.self))
            return StoredCredentials(credentials: credentials, source: ozmapCredentialsSource, updatedAt: "")
        } catch let error as IntegrationError {
            throw Error(description: "OZmap credentials from configuration: \(error.message)")
        }
    }
}

/// The directory holding everything ozmapd persists: created 0700, and
/// tightened to 0700 when found looser.
enum StateDirectory {
    static func prepare(_ path: String, logger: Logger) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw DaemonConfiguration.Error(description: "state directory \(path) exists and is not a directory")
            }
        } else {
            do {
                try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw DaemonConfiguration.Error(description: "cannot create state directory \(path): \(error.localizedDescription)")
            }
        }
        let mode = (try? manager.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        if mode & 0o777 != 0o700 {
            do {
                try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
                logger.notice("tightened state directory permissions to 0700", metadata: ["state_dir": "\(path)", "was": "\(String(mode & 0o777, radix: 8))"])
            } catch {
                throw DaemonConfiguration.Error(description: "cannot set state directory \(path) to mode 0700: \(error.localizedDescription)")
            }
        }
        guard manager.isWritableFile(atPath: path) else {
            throw DaemonConfiguration.Error(description: "state directory \(path) is not writable by this user")
        }
    }
}
