import Foundation
import ArcholtOZmapV1
import GRPCCore
import OZmapDomain
import OZmapRPC

/// What GetStatus reports on beyond the service's own parts (connection, cache, outbox, drift).
struct StatusSources: Sendable {
    var version: String
    var socketPath: String
    var stats: ServerStats
    var metrics: OZmapRequestMetrics
    var boxSync: BoxSyncService
    var startedAt = Timestamp.now()
    var started = ContinuousClock.now
}

/// GetStatus and ListMethods: what ozmapd says about itself.
extension IntegrationService {
    func getStatus(request: GetStatusRequest, context: ServerContext) async throws -> GetStatusResponse {
        let sources = status
        let snapshot = sources.stats.snapshot
        var status = GetStatusResponse(
            version: sources.version,
            startedAt: sources.startedAt,
            uptimeMs: UInt64((ContinuousClock.now - sources.started) / .milliseconds(1)),
            socketPath: sources.socketPath,
            connectionsOpen: UInt32(clamping: snapshot.connectionsOpen),
            connectionsAccepted: UInt64(snapshot.connectionsAccepted),
            callsServed: UInt64(snapshot.callsServed),
            callsInFlight: UInt32(clamping: snapshot.callsInFlight)
        )
        let credentials = connection.state
        status.credentialsSet = credentials != .unset
        status.credentialsState = credentials.name
        status.credentialsError = credentials.reason
        // OZmap answering 401/403 is no OZmap ozmapd can use.
        status.ozmapReachable = credentials == .ok && sources.metrics.reachable ?? false
        status.lastSync = await synchronizer.currentReport.map(SyncReport.init)
        status.nextSyncAt = sources.boxSync.nextSyncAt ?? ""
        status.boxCount = UInt32(clamping: synchronizer.cache.snapshot.count)
        status.ozmapRequests = sources.metrics.counts.map {
            OZmapRequestCount(httpMethod: $0.key.method, route: $0.key.route, httpStatus: Int32($0.key.status), count: UInt64($0.count))
        }
        if let counts = try? provisioningStore.operationCounts() {
            status.operationsPending = UInt32(clamping: counts.pending)
            status.operationsFailed = UInt32(clamping: counts.failed)
        }
        if let drift = provisioning.drift.latest {
            status.drift = DriftCategory.allCases.map { DriftCount(kind: .init($0), count: UInt32(clamping: drift.counts[$0] ?? 0)) }
            status.driftCheckedAt = drift.at
        }
        return status
    }

    /// Every method of the service: the generated service has a handler for each.
    func listMethods(request: ListMethodsRequest, context: ServerContext) async throws -> ListMethodsResponse {
        ListMethodsResponse(methods: OZmapIntegration.Method.all.map { Self.info($0) })
    }

    private static func info<Method: WireMethod>(_ method: Method.Type) -> MethodInfo {
        MethodInfo(name: method.name, path: method.path, requestType: Method.Input.protoName,
                   responseType: Method.Output.protoName, implemented: true)
    }
}
