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

    /// When the call must be answered: the socket call's deadline (its `timeout_ms`).
    func deadline(_ context: ServerContext) -> ContinuousClock.Instant {
        context.socketCall?.deadline ?? .now + defaultTimeout
    }

    func getMetrics(request: GetMetricsRequest, context: ServerContext) async throws -> GetMetricsResponse {
        GetMetricsResponse(prometheusText: metrics.render())
    }

    func runDoctor(request: RunDoctorRequest, context: ServerContext) async throws -> RunDoctorResponse {
        RunDoctorResponse(checks: await doctor.run())
    }
}
