import GRPCCore
import OZmapDomain

/// Runs each handler on the blocking-work executor: handlers read and write SQLite
/// synchronously, which must not hold a thread of the cooperative pool (BlockingWorkExecutor).
/// The framed socket's transport starts each call there already (`callExecutor`, one hop less
/// before the answer); this keeps the rule for the other transports (standard gRPC, in process).
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
