#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOConcurrencyHelpers
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapTestSupport
import Testing

/// systemd integration without systemd (docs/INSTALL.md): what ozmapd reads from its
/// environment, the sd_notify messages it sends, and socket activation on an inherited fd.
@Suite struct SystemdEnvironmentTests {
    @Test func listenFDsCountOnlyForThisProcess() throws {
        let mine = try SystemdEnvironment.parse(["LISTEN_PID": "42", "LISTEN_FDS": "1"], pid: 42)
        #expect(mine.listenSocket == 3)
        #expect(try SystemdEnvironment.parse(["LISTEN_PID": "41", "LISTEN_FDS": "1"], pid: 42).listenSocket == nil)
        #expect(try SystemdEnvironment.parse(["LISTEN_FDS": "1"], pid: 42).listenSocket == nil)
        #expect(try SystemdEnvironment.parse(["LISTEN_PID": "42", "LISTEN_FDS": "0"], pid: 42).listenSocket == nil)
        #expect(throws: DaemonConfiguration.Error.self) {
            try SystemdEnvironment.parse(["LISTEN_PID": "42", "LISTEN_FDS": "many"], pid: 42)
        }
        #expect(try SystemdEnvironment.parse([:], pid: 42) == SystemdEnvironment())
    }

    @Test func notifySocketAndWatchdog() throws {
        let parsed = try SystemdEnvironment.parse(["NOTIFY_SOCKET": "@ozmapd/notify", "WATCHDOG_USEC": "30000000"], pid: 7)
        #expect(parsed.notifySocket == "@ozmapd/notify")
        #expect(parsed.watchdogTimeout == .seconds(30))
        #expect(try SystemdEnvironment.parse(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"], pid: 7).watchdogTimeout == .seconds(30))
        #expect(try SystemdEnvironment.parse(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"], pid: 7).watchdogTimeout == nil)
        #expect(try SystemdEnvironment.parse(["WATCHDOG_USEC": "0"], pid: 7).watchdogTimeout == nil)
        #expect(throws: DaemonConfiguration.Error.self) { try SystemdEnvironment.parse(["NOTIFY_SOCKET": "relative"], pid: 7) }
    }

    @Test func theNotifierReachesAPathAndAnAbstractSocket() async throws {
        let directory = try makeTemporaryDirectory()
        let byPath = try NotifyListener(directory + "/notify")
        #expect(SystemdNotifier(socket: byPath.name).send("READY=1\nSTATUS=x"))
        try await byPath.waitFor("READY=1")
        #expect(byPath.messages.contains("STATUS=x"))

        let abstract = try NotifyListener("@ozmapd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        #expect(SystemdNotifier(socket: abstract.name).send("WATCHDOG=1"))
        try await abstract.waitFor("WATCHDOG=1")
        #expect(!SystemdNotifier(socket: directory + "/nobody-listens").send("READY=1"))
    }
}

@Suite(.timeLimit(.minutes(3))) struct SystemdNotifyTests {
    /// READY=1 only once the socket answers; STOPPING=1 when SIGTERM starts the drain.
    @Test func readyWhenTheSocketAnswersAndStoppingOnDrain() async throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/ozmapd.sock"
        let notify = try NotifyListener(directory + "/notify")
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", path, "--state-dir", directory + "/state"],
                                      environment: ["NOTIFY_SOCKET": notify.name], directory: directory)
        try await notify.waitFor("READY=1")
        // Sent after the server listens: a connection made now is accepted and answered.
        let client = try await OZmapIntegrationConnection.connect(socketPath: path)
        let status = try await client.rpc.getStatus(GetStatusRequest(), options: .timeout(.seconds(10)))
        #expect(status.socketPath == path)
        await client.close()
        #expect(!notify.messages.contains("STOPPING=1"))
        #expect(!notify.messages.contains("WATCHDOG=1"), "no WATCHDOG_USEC, no watchdog")

        daemon.signal(SIGTERM)
        try await notify.waitFor("STOPPING=1")
        #expect(try await daemon.exitStatus() == 0, "\(daemon.errorOutput)")
        #expect(notify.messages.filter { $0 == "READY=1" }.count == 1)
    }

    /// WATCHDOG=1 every half WATCHDOG_USEC, to an abstract socket; none when WATCHDOG_PID is another process.
    @Test func watchdogPingsEveryHalfPeriod() async throws {
        let directory = try makeTemporaryDirectory()
        let notify = try NotifyListener("@ozmapd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", directory + "/ozmapd.sock", "--state-dir", directory + "/state"],
                                      environment: ["NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "200000"], directory: directory)
        try await notify.waitFor("READY=1")
        try await waitUntil("three WATCHDOG=1 pings", timeout: .seconds(20)) {
            notify.messages.filter { $0 == "WATCHDOG=1" }.count >= 3
        }
        daemon.signal(SIGTERM)
        try await notify.waitFor("STOPPING=1")
        #expect(try await daemon.exitStatus() == 0)

        let other = try NotifyListener(directory + "/notify-other")
        let quiet = try ChildProcess(binary("ozmapd"), ["--socket", directory + "/other.sock", "--state-dir", directory + "/state-other"],
                                     environment: ["NOTIFY_SOCKET": other.name, "WATCHDOG_USEC": "20000", "WATCHDOG_PID": "1"],
                                     directory: directory)
        try await other.waitFor("READY=1")
        let client = try await OZmapIntegrationConnection.connect(socketPath: directory + "/other.sock")
        _ = try await client.rpc.getStatus(GetStatusRequest(), options: .timeout(.seconds(10)))
        await client.close()
        quiet.signal(SIGTERM)
        try await other.waitFor("STOPPING=1")
        #expect(try await quiet.exitStatus() == 0)
        #expect(!other.messages.contains("WATCHDOG=1"), "WATCHDOG_PID names another process")
    }
}

@Suite(.timeLimit(.minutes(3))) struct SocketActivationTests {
    /// The test plays systemd: it owns the listening socket and hands it to ozmapd as fd 3 with
    /// LISTEN_FDS=1 and LISTEN_PID=<ozmapd's pid>. ozmapd accepts on it, leaves the file alone,
    /// and a restart on the same socket refuses no connection: they wait in the backlog.
    @Test func ozmapdAcceptsOnTheInheritedSocketAndARestartRefusesNoConnection() async throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/ozmapd.sock"
        let listener = try listeningUnixSocket(path)
        defer { close(listener) }
        #expect(chmod(path, 0o600) == 0) // ozmapd, binding, would make it 0660 (socket_mode)
        let arguments = ["--socket", path, "--state-dir", directory + "/state"]

        let first = try ActivatedProcess(binary("ozmapd"), arguments, listening: listener, directory: directory)
        let client = try await OZmapIntegrationConnection.connect(socketPath: path)
        let status = try await client.rpc.getStatus(GetStatusRequest(), options: .timeout(.seconds(30)))
        #expect(status.socketPath == path, "GetStatus reports the configured path")
        await client.close()
        #expect(first.errorOutput.contains("inherited from systemd"), "\(first.errorOutput)")

        // A caller that keeps calling, a new connection each time, through the restart.
        let calls = CallLog()
        let caller = Task {
            while !Task.isCancelled {
                let client: OZmapIntegrationConnection
                do {
                    client = try await OZmapIntegrationConnection.connect(socketPath: path)
                } catch {
                    calls.failed("\(error)")
                    continue
                }
                do {
                    _ = try await client.rpc.getStatus(GetStatusRequest(), options: .timeout(.seconds(30)))
                    calls.answered()
                } catch {
                    calls.failed("\(error)")
                }
                await client.close()
            }
        }
        defer { caller.cancel() }
        // Few calls and a long deadline: beside the rest of the suite on 2 cores a call can take a second or more.
        try await waitUntil("calls answered by the first ozmapd", timeout: .seconds(90)) { calls.answeredCount >= 5 }

        first.signal(SIGTERM)
        #expect(try await first.exitStatus() == 0, "\(first.errorOutput)")
        #expect(try mode(path) == 0o600, "the socket file is systemd's: not removed, not chmod-ed")
        let answeredBeforeRestart = calls.answeredCount
        let second = try ActivatedProcess(binary("ozmapd"), arguments, listening: listener, directory: directory)
        try await waitUntil("calls answered by the second ozmapd", timeout: .seconds(90)) {
            calls.answeredCount >= answeredBeforeRestart + 5
        }
        caller.cancel()
        _ = await caller.result

        let refused = calls.failures.filter { $0.contains("cannot connect") }
        #expect(refused.isEmpty, "connection attempts refused across the restart: \(refused.prefix(3))")
        second.signal(SIGTERM)
        #expect(try await second.exitStatus() == 0, "\(second.errorOutput)")
        #expect(FileManager.default.fileExists(atPath: path))
    }

    /// The same with systemd's own tool (Debian's systemd package): it binds, and on the first
    /// connection execs ozmapd with LISTEN_FDS/LISTEN_PID set (same pid).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate"),
                   "systemd-socket-activate is not installed"))
    func underSystemdSocketActivate() async throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/ozmapd.sock"
        // systemd-socket-activate gives its child only what -E names: the sanitizer settings of
        // `make test-asan` (LeakSanitizer's suppressions) must be passed on like that.
        let sanitizer = ["ASAN_OPTIONS", "LSAN_OPTIONS"].flatMap { ["-E", $0] }
        let activator = try ChildProcess("/usr/bin/systemd-socket-activate",
                                         ["-l", path] + sanitizer + [binary("ozmapd"), "--socket", path, "--state-dir", directory + "/state"],
                                         directory: directory)
        // The file appears at bind(), before listen(): a connection until then is refused.
        var connection: OZmapIntegrationConnection?
        try await waitUntil("systemd-socket-activate listens on \(path)") {
            connection = try? await OZmapIntegrationConnection.connect(socketPath: path)
            return connection != nil
        }
        let client = connection!
        let status = try await client.rpc.getStatus(GetStatusRequest(), options: .timeout(.seconds(30)))
        #expect(status.socketPath == path)
        #expect(status.connectionsAccepted == 1)
        await client.close()
        #expect(activator.errorOutput.contains("listening on the socket inherited from systemd"), "\(activator.errorOutput)")
        activator.signal(SIGTERM)
        #expect(try await activator.exitStatus() == 0, "\(activator.errorOutput)")
    }

    /// What ozmapd refuses to adopt: a descriptor that is not a listening Unix stream socket.
    @Test func aDescriptorThatIsNotAListeningSocketIsRefused() async throws {
        let directory = try makeTemporaryDirectory()
        let notSocket = open(directory + "/plain-file", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        defer { close(notSocket) }
        let daemon = try ActivatedProcess(binary("ozmapd"), ["--socket", directory + "/ozmapd.sock", "--state-dir", directory + "/state"],
                                          listening: notSocket, directory: directory)
        #expect(try await daemon.exitStatus() != 0)
        #expect(daemon.errorOutput.contains("LISTEN_FDS: descriptor 3 is not a socket"), "\(daemon.errorOutput)")
    }
}

// MARK: helpers

/// Successes and failures of a caller that runs beside the test.
final class CallLog: Sendable {
    private let state = NIOLockedValueBox((answered: 0, failures: [String]()))
    func answered() { state.withLockedValue { $0.answered += 1 } }
    func failed(_ description: String) { state.withLockedValue { $0.failures.append(description) } }
    var answeredCount: Int { state.withLockedValue { $0.answered } }
    var failures: [String] { state.withLockedValue { $0.failures } }
}

/// A Unix datagram socket standing in for systemd's NOTIFY_SOCKET: a path, or `@name` (abstract).
final class NotifyListener: Sendable {
    let name: String
    private let fd: CInt
    private let received = NIOLockedValueBox([String]())

    init(_ name: String) throws {
        self.name = name
        fd = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TimedOut(description: "socket: errno \(errno)") }
        var (address, length) = unixAddress(name)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else { close(fd); throw TimedOut(description: "bind \(name): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Every line received so far (one message may hold several).
    var messages: [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        return received.withLockedValue { lines in
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                lines += String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").map(String.init)
            }
            return lines
        }
    }

    func waitFor(_ line: String, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("\(line) arrives on \(name)", timeout: timeout) { messages.contains(line) }
    }
}

func unixAddress(_ name: String) -> (sockaddr_un, socklen_t) {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var bytes = Array(name.utf8)
    let abstract = bytes.first == UInt8(ascii: "@")
    if abstract { bytes[0] = 0 }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1)
    return (address, socklen_t(length))
}

/// What systemd does for ozmapd.socket: a Unix stream socket bound at `path`, listening.
func listeningUnixSocket(_ path: String) throws -> CInt {
    let fd = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TimedOut(description: "socket: errno \(errno)") }
    var (address, length) = unixAddress(path)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0, listen(fd, 256) == 0 else { close(fd); throw TimedOut(description: "bind/listen \(path): errno \(errno)") }
    return fd
}

/// ozmapd started as systemd starts a socket-activated service: `listening` as fd 3, LISTEN_FDS=1 and
/// LISTEN_PID set to the child's own pid (by `sh`, which then execs ozmapd, keeping the pid).
/// posix_spawn, since Foundation.Process closes every descriptor above 2.
final class ActivatedProcess: Sendable {
    let pid: pid_t
    let errorPath: String
    private let exit = NIOLockedValueBox<Int32?>(nil)

    init(_ executable: String, _ arguments: [String], listening: CInt, directory: String) throws {
        errorPath = directory + "/ozmapd-activated-\(UUID().uuidString.prefix(8)).err"
        // Off fd 3 first: dup2 onto itself would leave close-on-exec set.
        let source = fcntl(listening, F_DUPFD_CLOEXEC, 10)
        guard source >= 0 else { throw TimedOut(description: "fcntl: errno \(errno)") }
        defer { close(source) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, source, 3)

        var environment = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_PID", "LISTEN_FDNAMES"] { environment[name] = nil }
        environment["LISTEN_FDS"] = "1"
        if let options = environment["OZMAPD_CHILD_ASAN_OPTIONS"] { environment["ASAN_OPTIONS"] = options }
        let argv = ["/bin/sh", "-c", #"LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@""#, executable] + arguments
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, "/bin/sh", &actions, nil, cArguments, cEnvironment)
        guard result == 0 else { throw TimedOut(description: "posix_spawn: \(result)") }
        pid = child
    }

    deinit {
        if exit.withLockedValue({ $0 }) == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process to exit: its exit code, or 128 + the signal that ended it.
    func exitStatus(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await waitUntil("ozmapd (pid \(pid)) exits", timeout: timeout) {
            try exit.withLockedValue { code in
                if code != nil { return true }
                var status: Int32 = 0
                let reaped = waitpid(pid, &status, WNOHANG)
                guard reaped == pid else {
                    if reaped < 0 { throw TimedOut(description: "waitpid: errno \(errno)") }
                    return false
                }
                let signal = status & 0x7f
                code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
                return true
            }
        }
        return exit.withLockedValue { $0! }
    }
}
