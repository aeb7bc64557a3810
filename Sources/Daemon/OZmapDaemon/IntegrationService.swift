import ArcholtOZmapV1
import GRPCCore
import OZmapDomain
import OZmapServer

/// The service behind the socket: one method per RPC of proto/archolt/ozmap/v1/service.proto,
/// generated as `OZmapIntegration.SimpleServiceProtocol` — a method the proto declares and
/// this type lacks is a compile error. The methods live beside their subject:
/// StatusHandlers, OZmapHandlers, ProvisioningHandlers, and the two below.
struct IntegrationService: OZmapIntegration.SimpleServiceProtocol {
    let status: StatusSources
    let connection: OZmapConnection
    let synchronizer: BoxSynchronizer
    let links: OLTLinks
    let provisioning: Provisioning
    let provisioningStore: any ProvisioningStore
    let doctor: Doctor
    let metrics: DaemonMetrics
    /// A call's deadline when the transport carries none (in process).
    let defaultTimeout: Duration

    /// The methods whose calls may wait on OZmap (a request, a provision's outcome, a sync pass):
    /// they run outside `max_running_calls`, which is for the calls answered from ozmapd's own state.
    static let waitingOnOZmap: Set<String> = Set([
        OZmapIntegration.Method.SetCredentials.self, OZmapIntegration.Method.ListOZmapOLTs.self,
        OZmapIntegration.Method.LinkOLT.self, OZmapIntegration.Method.SyncBoxes.self,
        OZmapIntegration.Method.ProvisionONU.self, OZmapIntegration.Method.AssignCTO.self,
        OZmapIntegration.Method.DeprovisionONU.self, OZmapIntegration.Method.RetryOperation.self,
        OZmapIntegration.Method.Reconcile.self, OZmapIntegration.Method.ImportONUs.self,
        OZmapIntegration.Method.RunDoctor.self,
    ].map { (method: any WireMethod.Type) in method.path })

    /// When the call must be answered: the framed socket's `timeout_ms`, gRPC's `grpc-timeout`.
    func deadline(_ context: ServerContext) -> ContinuousClock.Instant {
        context.callDeadline ?? .now + defaultTimeout
    }

    func getMetrics(request: GetMetricsRequest, context: ServerContext) async throws -> GetMetricsResponse {
        GetMetricsResponse(prometheusText: metrics.render())
    }

    func runDoctor(request: RunDoctorRequest, context: ServerContext) async throws -> RunDoctorResponse {
        RunDoctorResponse(checks: await doctor.run())
    }
}
