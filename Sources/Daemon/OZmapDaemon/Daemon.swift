import Foundation
import Logging
import OZmapRPC
import OZmapServer
import OZmapWire
import ServiceLifecycle

/// ozmapd assembled: the state directory, the handlers, the socket server,
/// and the service group that starts them and drains them on SIGTERM/SIGINT.
public struct Daemon: Sendable {
    public static let version = "0.1.0"

    public let configuration: DaemonConfiguration
    public let server: UnixSocketServer
    /// The handlers behind the socket, callable in process (benchmarks, tests).
    public let dispatcher: RPCDispatcher
    private let logger: Logger

    public init(configuration: DaemonConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try StateDirectory.prepare(configuration.stateDirectory, logger: logger)

        let codec = ProtobufCCodec.ozmap
        let stats = ServerStats()
        var router = RPCRouter()
        StatusHandlers.registerGetStatus(into: &router, version: Self.version, socketPath: configuration.socketPath, stats: stats)
        StatusHandlers.registerListMethods(into: &router, service: codec.service)

        dispatcher = RPCDispatcher(service: codec.service, router: router, codec: codec,
                                   defaultTimeout: .milliseconds(configuration.callTimeoutMs))
        server = UnixSocketServer(configuration: configuration.serverConfiguration, dispatcher: dispatcher,
                                  stats: stats, logger: logger)
    }

    /// Runs until SIGTERM or SIGINT (or cancellation), then shuts down gracefully.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        logger.info("ozmapd starting", metadata: ["version": "\(Self.version)", "state_dir": "\(configuration.stateDirectory)"])
        try await group.run()
    }
}

/// The directory holding everything ozmapd persists: created 0700, and
/// tightened to 0700 when found looser.
enum StateDirectory {
    static func prepare(_ path: String, logger: Logger) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw DaemonConfiguration.Error(description: "state directory \(path) exists and is not a directory")
            }
        } else {
            do {
                try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw DaemonConfiguration.Error(description: "cannot create state directory \(path): \(error.localizedDescription)")
            }
        }
        let mode = (try? manager.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        if mode & 0o777 != 0o700 {
            do {
                try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
                logger.notice("tightened state directory permissions to 0700", metadata: ["state_dir": "\(path)", "was": "\(String(mode & 0o777, radix: 8))"])
            } catch {
                throw DaemonConfiguration.Error(description: "cannot set state directory \(path) to mode 0700: \(error.localizedDescription)")
            }
        }
        guard manager.isWritableFile(atPath: path) else {
            throw DaemonConfiguration.Error(description: "state directory \(path) is not writable by this user")
        }
    }
}
