/// Exponential backoff with full jitter: attempt n waits a random time in
/// [0, min(cap, base·2ⁿ)], so clients that failed together do not retry together.
public struct Backoff: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .milliseconds(200), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The wait before retry number `attempt` (0 for the first retry).
    public func delay<R: RandomNumberGenerator>(attempt: Int, using generator: inout R) -> Duration {
        let ceiling = min(cap, base * (1 << min(attempt, 30)))
        let milliseconds = Int64(ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000)
        return .milliseconds(milliseconds <= 0 ? 0 : Int64.random(in: 0...milliseconds, using: &generator))
    }

    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
