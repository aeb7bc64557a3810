import Foundation

/// Where `swift build` put ozmapd and ozmapctl: $OZMAPD_BIN_DIR (the Makefile sets it), else .build/debug.
public func binary(_ name: String) -> String {
    if let directory = ProcessInfo.processInfo.environment["OZMAPD_BIN_DIR"], !directory.isEmpty {
        return directory + "/" + name
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() // Tests/OZmapTestSupport/…
    return root.appendingPathComponent(".build/debug/\(name)").path
}

/// A child process with its output captured to files.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let outputPath: String
    public let errorPath: String

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String) throws {
        outputPath = directory + "/\(URL(fileURLWithPath: executable).lastPathComponent)-\(UUID().uuidString.prefix(8)).out"
        errorPath = outputPath.replacingOccurrences(of: ".out", with: ".err")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // `make test-asan`: LeakSanitizer for the processes a test starts, not for the test runner.
        if let options = environment["OZMAPD_CHILD_ASAN_OPTIONS"] { environment["ASAN_OPTIONS"] = options }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// A test that fails half-way must not leave a daemon running. SIGKILL: a child may start
    /// with SIGTERM blocked (systemd-socket-activate keeps the mask it inherits until it execs).
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    public var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit and returns its status (for a signal, its number).
    public func exitStatus(timeout: Duration = .seconds(30)) async throws -> Int32 {
        var exited: Int32?
        try await waitUntil("\(process.executableURL!.lastPathComponent) exits", timeout: timeout) {
            exited = process.isRunning ? peekExitStatus() : process.terminationStatus
            return exited != nil
        }
        return exited!
    }

    /// The status of a child that has exited, without reaping it (Foundation does): Foundation
    /// learns of an exit when a socket it gave the child closes, and a sibling started at the same
    /// moment can inherit that socket and keep it open (swift-corelibs-foundation #4795), so that
    /// `isRunning` stays true until the sibling exits too.
    private func peekExitStatus() -> Int32? {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(process.processIdentifier), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
              info._sifields._sigchld.si_pid == process.processIdentifier else { return nil }
        return info._sifields._sigchld.si_status
    }

    public func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }
}

/// Runs a command to completion: (exit status, standard output, standard error).
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String) async throws -> (Int32, String, String) {
    let child = try ChildProcess(executable, arguments, environment: environment, directory: directory)
    let status = try await child.exitStatus()
    return (status, child.output, child.errorOutput)
}
