/// The simulator's clock: wall time, but never going backwards and advancing at least
/// one millisecond per mutation, so `updatedAt` always moves when an object changes and an
/// incremental query `updatedAt >= t` never misses a change.
struct SimulatedClock: Sendable {
    private(set) var lastMilliseconds: Int64

    init(startingAt milliseconds: Int64 = ISOTime.nowMilliseconds()) {
        lastMilliseconds = milliseconds
    }

    /// The timestamp of a new mutation.
    mutating func tick() -> String {
        lastMilliseconds = max(ISOTime.nowMilliseconds(), lastMilliseconds + 1)
        return ISOTime.format(milliseconds: lastMilliseconds)
    }

    /// The current time without consuming a tick (for objects generated together).
    var current: String {
        ISOTime.format(milliseconds: lastMilliseconds)
    }
}
