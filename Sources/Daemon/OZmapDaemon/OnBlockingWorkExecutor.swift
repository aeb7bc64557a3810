import GRPCCore
import OZmapDomain

/// Runs each handler on the blocking-work executor: handlers read and write SQLite
/// synchronously, which must not hold a thread of the cooperative pool (BlockingWorkExecutor).
/// For the transports that cannot start a call there (standard gRPC, in process); the framed
/// socket's transport does (`callExecutor`: its answer leaves before the hop back).
struct OnBlockingWorkExecutor: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        try await withTaskExecutorPreference(BlockingWorkExecutor.shared) {
            try await next(request, context)
        }
    }
}
