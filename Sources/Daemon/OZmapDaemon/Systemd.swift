#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import OZmapServer
import ServiceLifecycle

/// What systemd hands ozmapd through its environment (docs/INSTALL.md), read without libsystemd:
/// `NOTIFY_SOCKET` (Type=notify), `WATCHDOG_USEC`/`WATCHDOG_PID` (WatchdogSec=) and
/// `LISTEN_FDS`/`LISTEN_PID` (socket activation, the listening socket on fd 3).
public struct SystemdEnvironment: Sendable, Equatable {
    /// The first descriptor systemd passes (SD_LISTEN_FDS_START).
    public static let listenFDsStart: CInt = 3

    /// Where READY=1, STOPPING=1 and WATCHDOG=1 go: a path, or `@name` for an abstract socket.
    public var notifySocket: String?
    /// WatchdogSec: ozmapd sends WATCHDOG=1 every half of it.
    public var watchdogTimeout: Duration?
    /// The inherited listening socket (fd 3), when systemd passed one to this process.
    public var listenSocket: CInt?

    public init(notifySocket: String? = nil, watchdogTimeout: Duration? = nil, listenSocket: CInt? = nil) {
        self.notifySocket = notifySocket
        self.watchdogTimeout = watchdogTimeout
        self.listenSocket = listenSocket
    }

    /// The variables as they apply to process `pid`: LISTEN_FDS and WATCHDOG_USEC count only when
    /// their LISTEN_PID / WATCHDOG_PID is this process (unset WATCHDOG_PID: any process), as sd_listen_fds(3)
    /// and sd_watchdog_enabled(3) read them. Nothing here touches a descriptor.
    public static func parse(_ environment: [String: String], pid: pid_t) throws -> SystemdEnvironment {
        var result = SystemdEnvironment()
        if let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty {
            guard socket.hasPrefix("/") || socket.hasPrefix("@") else {
                throw DaemonConfiguration.Error(description: "NOTIFY_SOCKET \(socket) is neither an absolute path nor an abstract @name")
            }
            result.notifySocket = socket
        }
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0,
           environment["WATCHDOG_PID"].map({ pid_t($0) == pid }) ?? true {
            result.watchdogTimeout = .microseconds(Int64(clamping: usec))
        }
        if let listenPID = environment["LISTEN_PID"], pid_t(listenPID) == pid {
            guard let text = environment["LISTEN_FDS"], let count = Int(text), count >= 0 else {
                throw DaemonConfiguration.Error(description: "LISTEN_FDS is '\(environment["LISTEN_FDS"] ?? "")': not a count of descriptors")
            }
            if count >= 1 { result.listenSocket = listenFDsStart }
        }
        return result
    }

    /// This process's systemd environment. An inherited socket is checked (a listening Unix stream
    /// socket), marked close-on-exec, and LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset so a
    /// child never takes them for its own. Call it once, early.
    public static func takeFromProcess() throws -> SystemdEnvironment {
        let result = try parse(ProcessInfo.processInfo.environment, pid: getpid())
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        if let fd = result.listenSocket {
            try checkListeningUnixSocket(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        return result
    }

    private static func checkListeningUnixSocket(_ fd: CInt) throws {
        func option(_ name: CInt) -> CInt? {
            var value: CInt = 0
            var length = socklen_t(MemoryLayout<CInt>.size)
            return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        #if canImport(Glibc)
        let stream = CInt(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        guard let type = option(SO_TYPE) else {
            throw DaemonConfiguration.Error(description: "LISTEN_FDS: descriptor \(fd) is not a socket (\(String(cString: strerror(errno))))")
        }
        guard type == stream, option(SO_DOMAIN) == AF_UNIX, option(SO_ACCEPTCONN) == 1 else {
            throw DaemonConfiguration.Error(description: "LISTEN_FDS: descriptor \(fd) is not a listening Unix stream socket (ozmapd.socket needs ListenStream=/path)")
        }
    }
}

/// sd_notify(3) without libsystemd: one datagram per message to $NOTIFY_SOCKET.
public struct SystemdNotifier: Sendable {
    /// A path, or `@name` for an abstract socket.
    public let socket: String

    public init(socket: String) {
        self.socket = socket
    }

    /// Sends `state` (newline-separated VAR=value lines); false when it could not be sent
    /// (systemd gone, no permission): ozmapd keeps running either way.
    @discardableResult
    public func send(_ state: String) -> Bool {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socket.utf8)
        let abstract = name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        // An abstract name's length counts exactly its bytes; a path's, its terminating NUL too.
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + name.count + (abstract ? 0 : 1)
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bytes.withUnsafeBytes { buffer in
                    sendto(fd, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL), address, socklen_t(length))
                }
            }
        }
        return sent == bytes.count
    }
}

/// Tells systemd how ozmapd is doing, as a lifecycle `Service` started after the socket server:
/// READY=1 once the socket accepts (the box cache was loaded from disk before any service
/// started), WATCHDOG=1 every half WatchdogSec while running, STOPPING=1 when the drain begins
/// (graceful shutdown reaches this service first: shutdown runs in reverse start order).
public struct SystemdNotifyService: Service {
    public let notifier: SystemdNotifier
    public let watchdogTimeout: Duration?
    private let server: UnixSocketServer
    private let logger: Logger

    public init(notifier: SystemdNotifier, watchdogTimeout: Duration?, server: UnixSocketServer, logger: Logger) {
        self.notifier = notifier
        self.watchdogTimeout = watchdogTimeout
        self.server = server
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await server.waitUntilListening()
        } catch {
            return // the server failed to start and fails the group; never READY
        }
        let path = server.configuration.socketPath
        if !notifier.send("READY=1\nSTATUS=serving on \(path)") {
            logger.warning("cannot notify systemd (NOTIFY_SOCKET)", metadata: ["notify_socket": "\(notifier.socket)"])
        }
        if let timeout = watchdogTimeout {
            let notifier = self.notifier
            let period = timeout / 2
            logger.debug("systemd watchdog on", metadata: ["interval": "\(period)"])
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    notifier.send("WATCHDOG=1")
                    try? await Task.sleep(for: period)
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.send("STOPPING=1\nSTATUS=draining calls in flight")
    }
}
