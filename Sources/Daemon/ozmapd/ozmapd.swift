import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import OZmapDaemon

@main
struct OZmapd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ozmapd",
        abstract: "The ArchOLT ↔ OZmap integration daemon.",
        discussion: """
        Settings come from the config file, then OZMAPD_<KEY> environment variables \
        (OZMAPD_SOCKET, OZMAPD_STATE_DIR, ...), then these flags. Config file keys: \
        \(DaemonConfiguration.keys.joined(separator: ", ")).
        """,
        version: Daemon.version
    )

    @Option(help: "Unix socket path (default /run/ozmapd/ozmapd.sock).")
    var socket: String?

    @Option(help: "Directory for everything ozmapd persists, created 0700 (default /var/lib/ozmapd).")
    var stateDir: String?

    @Option(help: "Config file of 'key = value' lines.")
    var config: String?

    @Option(help: "Group that owns the socket file (name or gid).")
    var socketGroup: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func run() async throws {
        #if canImport(Glibc)
        // glibc gives each thread that meets contention an arena of its own, up to 8 a core; with
        // BlockingWorkExecutor's 16 threads a full sync pass cost 2,230 bytes a box in peak RSS
        // against 1,060 with two arenas (SyncMemoryTests), and 25 MiB more before any box.
        // No fastbins (M_MXFAST 0): with them, every free of a block of 64 KiB or more (each page
        // OZmap sends) first merged every small block freed since, 6% of a 200,000-box pass's CPU
        // (malloc_consolidate) and a quarter of its malloc time; small blocks still come from
        // each thread's cache.
        // (mallopt is in malloc.h, which Glibc's module does not bring in; M_ARENA_MAX is -8, M_MXFAST 1.)
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
            _ = mallopt(-8, 2)
            _ = mallopt(1, 0)
        }
        #endif
        var settings = DaemonConfiguration()
        do {
            if let config { try settings.apply(file: config) }
            try settings.apply(environment: ProcessInfo.processInfo.environment)
            let flags: [(String, String?, String)] = [
                ("socket", socket, "--socket"), ("state_dir", stateDir, "--state-dir"),
                ("socket_group", socketGroup, "--socket-group"), ("log_level", logLevel, "--log-level"),
            ]
            for (key, value, flag) in flags {
                if let value { try settings.set(key, to: value, source: flag) }
            }
        } catch let error as DaemonConfiguration.Error {
            throw ValidationError(error.description)
        }

        let level = settings.logLevel
        let format = settings.logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "ozmapd")
        do {
            // systemd's socket (LISTEN_FDS) and NOTIFY_SOCKET: docs/INSTALL.md.
            try await Daemon(configuration: settings, logger: logger, systemd: SystemdEnvironment.takeFromProcess()).run()
        } catch {
            logger.critical("ozmapd cannot run: \(error)")
            throw ExitCode.failure
        }
    }
}
