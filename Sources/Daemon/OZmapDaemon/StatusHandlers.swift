import Foundation
import OZmapAPI
import OZmapDomain
import OZmapRPC

/// What GetStatus reports on.
struct StatusSources: Sendable {
    var version: String
    var socketPath: String
    var stats: ServerStats
    var connection: OZmapConnection
    var metrics: OZmapRequestMetrics
    var synchronizer: BoxSynchronizer
    var boxSync: BoxSyncService
    var outbox: any ProvisioningStore
    var drift: DriftMonitor
}

/// GetStatus and ListMethods: what ozmapd says about itself.
enum StatusHandlers {
    static func registerGetStatus(into router: inout RPCRouter, sources: StatusSources) {
        let startedAt = Timestamp.now()
        let started = ContinuousClock.now
        router.register(OZmapIntegration.getStatus) { _, _ in
            let snapshot = sources.stats.snapshot
            var status = GetStatusResponse(
                version: sources.version,
                startedAt: startedAt,
                uptimeMs: UInt64((ContinuousClock.now - started) / .milliseconds(1)),
                socketPath: sources.socketPath,
                connectionsOpen: UInt32(clamping: snapshot.connectionsOpen),
                connectionsAccepted: UInt64(snapshot.connectionsAccepted),
                callsServed: UInt64(snapshot.callsServed),
                callsInFlight: UInt32(clamping: snapshot.callsInFlight)
            )
            let credentials = sources.connection.state
            status.credentialsSet = credentials != .unset
            status.credentialsState = credentials.name
            status.credentialsError = credentials.reason
            // OZmap answering 401/403 is no OZmap ozmapd can use.
            status.ozmapReachable = credentials == .ok && sources.metrics.reachable ?? false
            status.lastSync = await sources.synchronizer.currentReport.map(OZmapAPI.SyncReport.init)
            status.nextSyncAt = sources.boxSync.nextSyncAt ?? ""
            status.boxCount = UInt32(clamping: sources.synchronizer.cache.snapshot.count)
            status.ozmapRequests = sources.metrics.counts.map {
                OZmapRequestCount(httpMethod: $0.key.method, route: $0.key.route, httpStatus: Int32($0.key.status), count: UInt64($0.count))
            }
            if let counts = try? sources.outbox.operationCounts() {
                status.operationsPending = UInt32(clamping: counts.pending)
                status.operationsFailed = UInt32(clamping: counts.failed)
            }
            if let drift = sources.drift.latest {
                status.drift = OZmapDomain.DriftKind.allCases.map { DriftCount(kind: .init($0), count: UInt32(clamping: drift.counts[$0] ?? 0)) }
                status.driftCheckedAt = drift.at
            }
            return status
        }
    }

    /// Registers ListMethods last, so that it knows which methods have handlers.
    static func registerListMethods(into router: inout RPCRouter, service: ServiceDescriptor) {
        var implemented = Set(router.handlers.keys)
        implemented.insert(OZmapIntegration.listMethods.name)
        let methods = service.methods.map {
            MethodInfo(name: $0.name, path: $0.path, requestType: $0.requestType, responseType: $0.responseType,
                       implemented: implemented.contains($0.name))
        }
        router.register(OZmapIntegration.listMethods) { _, _ in ListMethodsResponse(methods: methods) }
    }
}
