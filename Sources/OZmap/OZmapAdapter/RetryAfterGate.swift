import Synchronization

/// OZmap's `Retry-After`, honoured by every request: once OZmap has asked to be
/// left alone until some time, nothing is sent to it before then — not the
/// request that was told, nor any other (box sync, other ONUs' operations).
public final class RetryAfterGate: Sendable {
    private let until = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// OZmap asked for `delay`; a later deadline already set is kept.
    func hold(for delay: Duration) {
        let deadline = ContinuousClock.now + delay
        until.withLock { current in
            if current.map({ $0 < deadline }) ?? true { current = deadline }
        }
    }

    /// How long requests must still wait, or nil when they may go now.
    func remaining() -> Duration? {
        until.withLock { current in
            guard let deadline = current else { return nil }
            let left = deadline - ContinuousClock.now
            if left <= .zero { current = nil; return nil }
            return left
        }
    }
}
