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

/// Polls `condition` until it holds, or throws once `timeout` passes: a wait with a deadline, not a guess.
public func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(try await condition()) {
        guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}
