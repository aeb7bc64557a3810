import Logging
import ServiceLifecycle

/// The drift check after each full pass (`reconcile_every_full_pass`), as a lifecycle
/// `Service`: a pass asks for one and this service runs it, one at a time (asks that come
/// meanwhile make one more check, not several). A graceful shutdown cancels the check running
/// and waits for it; as a detached task it could still be mid-line when the process exited.
public final class DriftCheckService: Service, Sendable {
    private let provisioning: Provisioning
    private let logger: Logger
    private let requests: AsyncStream<Void>
    private let asks: AsyncStream<Void>.Continuation

    public init(provisioning: Provisioning, logger: Logger) {
        (requests, asks) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.provisioning = provisioning
        self.logger = logger
    }

    /// Asks for a check once the running one (if any) has ended.
    public func request() {
        asks.yield()
    }

    public func run() async throws {
        for await _ in requests.cancelOnGracefulShutdown() {
            let (provisioning, logger) = (provisioning, logger)
            await cancelWhenGracefulShutdown {
                // Reconcile reads SQLite synchronously: off the cooperative pool.
                await withTaskExecutorPreference(BlockingWorkExecutor.shared) { await provisioning.checkDrift(logger: logger) }
            }
        }
    }
}
