/// A store that can say why the outbox is held while OZmap may not be written to (no
/// credentials, or a key OZmap rejected). Only the reason changes: each operation keeps
/// its due time, so the waits that guard against duplicates (after a write whose answer
/// was lost, after a crash, a `Retry-After`) still hold when the outbox resumes.
public protocol OutboxHoldStore: Sendable {
    /// Every pending operation (not one in flight) gets `lastError`. Returns how many changed.
    @discardableResult
    func holdPendingOperations(lastError: String) throws -> Int
}
