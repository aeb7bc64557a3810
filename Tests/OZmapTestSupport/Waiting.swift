import Foundation

/// What every test suite needs: temporary directories and waiting on a condition with a deadline.

/// A fresh directory under /tmp, short enough for a Unix socket path (108 bytes at most).
public func makeTemporaryDirectory(prefix: String = "ozmapd-test") throws -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else { throw TimedOut(description: "mkdtemp failed: errno \(errno)") }
    return String(cString: path)
}

public struct TimedOut: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

/// How many times longer than usual a wait may take before it counts as failed:
/// `OZMAPD_TEST_TIME_SCALE`, 1 unless set. `make test-asan` sets it, since everything runs
/// about 3x slower under AddressSanitizer on 2 cores. It only moves deadlines: a wait whose
/// condition holds returns as soon as it does, and one that never holds still fails.
public let testTimeScale: Int = {
    guard let text = ProcessInfo.processInfo.environment["OZMAPD_TEST_TIME_SCALE"] else { return 1 }
    guard let scale = Int(text), scale >= 1 else { fatalError("OZMAPD_TEST_TIME_SCALE must be a whole number ≥ 1, not '\(text)'") }
    return scale
}()

/// Polls `condition` until it holds, or throws once `timeout` (× `testTimeScale`) passes:
/// a wait with a deadline, not a guess.
public func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout * testTimeScale
    while !(try await condition()) {
        guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A reproducible random number generator (SplitMix64): a failing run can be replayed from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
