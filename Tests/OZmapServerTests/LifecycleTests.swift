import Foundation
import GRPCCore
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapServer
import OZmapWire
import OZmapTestSupport
import Testing

/// Start-up, shutdown, the socket file and who may connect.
@Suite(.timeLimit(.minutes(3))) struct LifecycleTests {
    @Test func gracefulShutdownLetsCallsInFlightFinishAndRemovesTheSocket() async throws {
        let gate = Gate()
        let server = try await TestServer(handlers: { router in
            router.register(OZmapIntegration.Method.GetStatus.self) { _, _ in
                await gate.wait()
                return GetStatusResponse(version: "finished")
            }
        })
        let client = try await server.connect()
        let calls = Task {
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<5 { group.addTask { try await client.rpc.getStatus(GetStatusRequest()).version } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        try await waitUntil("five calls are running") { gate.waiting == 5 }
        await server.shutDown()
        // New calls are refused while the running ones drain...
        try await waitUntil("new calls are refused") {
            do {
                _ = try await client.rpc.listMethods(ListMethodsRequest())
                return false
            } catch let error as GRPCCore.RPCError {
                return error.code == .unavailable
            }
        }
        // Accepting has stopped: the socket file is gone, so new clients fail fast.
        try await waitUntil("the socket file is removed") { !FileManager.default.fileExists(atPath: server.socketPath) }
        await #expect(throws: GRPCCore.RPCError.self) { try await server.connect() }
        #expect(gate.waiting == 5, "the running calls are still running")
        // ...and those finish with their answers.
        gate.open()
        #expect(try await calls.value == Array(repeating: "finished", count: 5))
        try await server.stopped()
        await client.close()
    }

    /// Shutdown closes connections once no call is in flight; a call counts until its
    /// answer is written, or closing would drop answers still waiting to go out.
    @Test func gracefulShutdownClosesAConnectionOnlyOnceItsAnswersAreWritten() async throws {
        let gate = Gate()
        let calls = 10
        // 10 answers of 100 KB: far more than a Unix socket buffers for a client that does not read.
        let large = String(repeating: "x", count: 100_000)
        let server = try await TestServer(configure: { $0.shutdownGracePeriod = .seconds(120) }) { router in
            router.register(OZmapIntegration.Method.GetStatus.self) { _, _ in
                await gate.wait()
                return GetStatusResponse(version: large, startedAt: "", uptimeMs: 0, socketPath: "",
                                         connectionsOpen: 0, connectionsAccepted: 0, callsServed: 0, callsInFlight: 0)
            }
        }
        let connection = try await RawConnection.connect(server.socketPath, reading: false)
        try await connection.send((1...calls).map { RequestEnvelope(callId: UInt64($0), method: getStatusPath) })
        try await waitUntil("every call is running") { gate.waiting == calls }
        await server.shutDown()
        gate.open()
        try await waitUntil("every handler has answered") { server.server.stats.snapshot.callsInFlight == 0 }
        // The answers are now queued behind a full socket. Reading lets them out.
        try await connection.startReading()
        var answered = Set<UInt64>()
        for _ in 1...calls {
            let response = try await connection.next()
            #expect(response.outcome.grpcCode == .ok && response.payload.count > 100_000)
            answered.insert(response.callId)
        }
        #expect(answered == Set(1...UInt64(calls)))
        try await server.stopped()
        await connection.close()
    }

    @Test func socketFileIsMode0660WithTheConfiguredGroup() async throws {
        let group = getgrnam("daemon") != nil ? "daemon" : "\(getgid())"
        let expectedGID = getgrnam("daemon")?.pointee.gr_gid ?? getgid()
        let server = try await TestServer(configure: { $0.socketGroup = group })
        var info = stat()
        #expect(lstat(server.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_gid == expectedGID)
        try await server.stop()
    }

    @Test func peerNotInTheAllowlistIsDenied() async throws {
        let me = getuid()
        let server = try await TestServer(configure: { $0.peerPolicy = PeerPolicy(allowedUIDs: [me &+ 4242]) })
        let client = try await server.connect()
        do {
            _ = try await client.rpc.getStatus(GetStatusRequest())
            Issue.record("a peer outside the allowlist was served")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("uid \(me)"))
        }
        await client.close()
        try await server.stop()

        let allowed = try await TestServer(configure: { $0.peerPolicy = PeerPolicy(allowedUIDs: [me]) })
        let allowedClient = try await allowed.connect()
        #expect(try await allowedClient.rpc.getStatus(GetStatusRequest()).version == "test")
        await allowedClient.close()
        try await allowed.stop()
    }

    @Test func oneConnectionOverTheMaximumIsRefusedAndTheOthersCarryOn() async throws {
        let server = try await TestServer(configure: { $0.maximumConnections = 3 })
        var clients: [OZmapIntegrationConnection] = []
        for _ in 0..<4 { clients.append(try await server.connect()) }
        // The server admits in the order it sets connections up, which need not be the connect order.
        var served: [OZmapIntegrationConnection] = []
        var refusals: [GRPCCore.RPCError] = []
        for client in clients {
            do {
                #expect(try await client.rpc.getStatus(GetStatusRequest()).version == "test")
                served.append(client)
            } catch let error as GRPCCore.RPCError {
                refusals.append(error)
            }
        }
        #expect(served.count == 3)
        #expect(refusals.count == 1)
        #expect(refusals.first?.code == .resourceExhausted)
        #expect(refusals.first?.message.contains("at most 3 connections") == true)
        // Once one closes, a new connection is admitted.
        await served[0].close()
        try await waitUntil("a slot frees up") { server.server.stats.snapshot.connectionsOpen <= 2 }
        let next = try await server.connect()
        #expect(try await next.rpc.getStatus(GetStatusRequest()).version == "test")
        for client in clients + [next] { await client.close() }
        try await server.stop()
    }

    @Test func staleSocketFileIsReplaced() async throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/ozmapd.sock"
        try makeStaleSocket(at: path)
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", path, "--state-dir", directory + "/state"], directory: directory)
        let client = try await connectWhenUp(path)
        #expect(try await client.rpc.getStatus(GetStatusRequest()).socketPath == path)
        await client.close()
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
        #expect(!FileManager.default.fileExists(atPath: path), "SIGTERM removes the socket file")
    }

    @Test func liveSocketMakesASecondDaemonRefuseToStart() async throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/ozmapd.sock"
        let first = try ChildProcess(binary("ozmapd"), ["--socket", path, "--state-dir", directory + "/state"], directory: directory)
        let client = try await connectWhenUp(path)
        let (status, _, errors) = try await runProcess(binary("ozmapd"), ["--socket", path, "--state-dir", directory + "/state2"], directory: directory)
        #expect(status != 0)
        #expect(errors.contains("another ozmapd is already serving \(path)"))
        // The first one is untouched.
        #expect(try await client.rpc.getStatus(GetStatusRequest()).socketPath == path)
        await client.close()
        first.signal(SIGTERM)
        #expect(try await first.exitStatus() == 0)
    }

    @Test func aFileThatIsNotASocketIsNeverReplaced() async throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/ozmapd.sock"
        try "precious".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, _, errors) = try await runProcess(binary("ozmapd"), ["--socket", path, "--state-dir", directory + "/state"], directory: directory)
        #expect(status != 0)
        #expect(errors.contains("is not a socket"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
    }

    @Test func stateDirectoryIsCreated0700AndTightened() async throws {
        let directory = try makeTemporaryDirectory()
        var configuration = DaemonConfiguration()
        configuration.socketPath = directory + "/ozmapd.sock"
        configuration.stateDirectory = directory + "/state/nested"
        _ = try Daemon(configuration: configuration, logger: testLogger)
        #expect(try mode(configuration.stateDirectory) == 0o700)
        chmod(configuration.stateDirectory, 0o755)
        _ = try Daemon(configuration: configuration, logger: testLogger)
        #expect(try mode(configuration.stateDirectory) == 0o700)
    }

    @Test func configurationLayersFileThenEnvironmentThenFlags() async throws {
        let directory = try makeTemporaryDirectory()
        let file = directory + "/ozmapd.conf"
        try """
        # ozmapd configuration
        socket = /from/file.sock
        state_dir = "/from/file"
        max_calls_in_flight = 64
        allowed_uids = 0, 1000
        """.write(toFile: file, atomically: true, encoding: .utf8)
        var configuration = DaemonConfiguration()
        try configuration.apply(file: file)
        try configuration.apply(environment: ["OZMAPD_SOCKET": "/from/env.sock", "UNRELATED": "x"])
        try configuration.set("state_dir", to: "/from/flag", source: "--state-dir")
        #expect(configuration.socketPath == "/from/env.sock")
        #expect(configuration.stateDirectory == "/from/flag")
        #expect(configuration.maximumCallsInFlight == 64)
        #expect(configuration.allowedUIDs == [0, 1000])

        try "max_calls_in_flight = lots\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            try configuration.apply(file: file)
        } throws: { error in
            "\(error)".contains("\(file):1: max_calls_in_flight must be a whole number")
        }
        #expect {
            try configuration.apply(environment: ["OZMAPD_SOCKET_MODE": "999"])
        } throws: { error in
            "\(error)".contains("OZMAPD_SOCKET_MODE: socket_mode must be an octal mode")
        }
        #expect {
            try configuration.set("sockett", to: "x", source: "test")
        } throws: { error in
            "\(error)".contains("unknown setting 'sockett'")
        }
    }
}

/// Binds a Unix socket at `path` and closes it without unlinking: what a killed process leaves behind.
func makeStaleSocket(at path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        buffer.copyBytes(from: path.utf8)
        buffer[path.utf8.count] = 0
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    close(fd)
    guard bound == 0 else { throw GRPCCore.RPCError(code: .internalError, message: "bind failed: \(errno)") }
}

/// Connects once the daemon is listening.
func connectWhenUp(_ path: String) async throws -> OZmapIntegrationConnection {
    var client: OZmapIntegrationConnection?
    try await waitUntil("ozmapd listens on \(path)", timeout: .seconds(30)) {
        client = try? await OZmapIntegrationConnection.connect(socketPath: path)
        return client != nil
    }
    return client!
}

func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0) & 0o777
}
