import Foundation
import OZmapDaemon
@testable import OZmapServer
import OZmapTestSupport
import Testing

/// `grpc_socket`: the real ozmapd serving standard gRPC over HTTP/2 on a second Unix socket,
/// called by Python's stock `grpcio` on stubs generated from proto/ here by `grpcio-tools`
/// (docs/examples/grpc_client.py --check). `make clients` (which `make test` runs first)
/// installs both from PyPI into .build-clients/grpc-venv ($OZMAPD_CLIENTS_DIR overrides the directory).
@Suite(.timeLimit(.minutes(3))) struct StandardGRPCTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's Python, and a directory of stubs it generated from proto/.
    func pythonWithStubs(in directory: String) async throws -> (python: String, stubs: String) {
        let clients = ProcessInfo.processInfo.environment["OZMAPD_CLIENTS_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.root.appendingPathComponent(".build-clients").path
        let python = clients + "/grpc-venv/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python),
                     "\(python) is missing: `make clients` installs grpcio and grpcio-tools (`make test` does it before the suite)")
        let stubs = directory + "/stubs"
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        let proto = Self.root.appendingPathComponent("proto").path
        let (status, _, errors) = try await runProcess(python, [
            "-m", "grpc_tools.protoc", "-I", proto, "--python_out=\(stubs)", "--grpc_python_out=\(stubs)",
            proto + "/archolt/ozmap/v1/wire.proto", proto + "/archolt/ozmap/v1/service.proto",
        ], directory: directory)
        try #require(status == 0, "grpc_tools.protoc: \(errors)")
        return (python, stubs)
    }

    /// ozmapd with `grpc_socket` set in its config file, once both sockets listen.
    func startDaemon(_ directory: String, config: String) async throws -> (ChildProcess, grpcSocket: String) {
        let grpcSocket = directory + "/grpc.sock"
        try "grpc_socket = \(grpcSocket)\n\(config)".write(toFile: directory + "/ozmapd.conf", atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(binary("ozmapd"), ["--socket", directory + "/ozmapd.sock", "--state-dir", directory + "/state",
                                                         "--config", directory + "/ozmapd.conf"], directory: directory)
        await (try connectWhenUp(directory + "/ozmapd.sock")).close()
        // Logged once the file has its mode and group (the file itself appears at bind, a moment before).
        try await waitUntil("the gRPC socket listens") { daemon.errorOutput.contains("listening (gRPC over HTTP/2)") }
        return (daemon, grpcSocket)
    }

    @Test func grpcioCallsTheServiceOnTheGRPCSocket() async throws {
        let directory = try makeTemporaryDirectory()
        let (python, stubs) = try await pythonWithStubs(in: directory)
        // The allowlist holds this test's uid: the listener's admission check runs, and lets it in.
        let (daemon, grpcSocket) = try await startDaemon(directory, config: "allowed_uids = \(getuid())\n")
        let mode = try FileManager.default.attributesOfItem(atPath: grpcSocket)[.posixPermissions] as? Int
        #expect(mode == 0o660, "the gRPC socket file takes socket_mode like the framed one")

        let example = Self.root.appendingPathComponent("docs/examples/grpc_client.py").path
        let (status, output, errors) = try await runProcess(python, [example, "--check", grpcSocket],
                                                           environment: ["PYTHONPATH": stubs], directory: directory)
        #expect(status == 0, "\(output)\n\(errors)")
        #expect(output.contains("ozmapd \(Daemon.version), up") && output.contains("framed socket \(directory)/ozmapd.sock"), "\(output)")
        #expect(output.contains("/archolt.ozmap.v1.OZmapIntegration/ProvisionONU"), "\(output)")
        #expect(output.contains("ok: an empty api_url is INVALID_ARGUMENT naming api_url: INVALID_ARGUMENT 'api_url:"), "\(output)")
        #expect(output.contains("ok: a control character is INVALID_ARGUMENT naming onu_id"), "\(output)")
        #expect(output.contains("ok: GetCredentials under a 500 ms deadline"), "\(output)")
        #expect(output.contains("ok: a 5 MiB request is refused (max_frame_bytes)"), "\(output)")
        #expect(!output.contains("FAIL"), "\(output)")

        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0, "\(daemon.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: grpcSocket), "the gRPC socket file is removed at stop")
    }

    @Test func aPeerNotOnTheAllowlistIsDisconnected() async throws {
        let directory = try makeTemporaryDirectory()
        let (python, stubs) = try await pythonWithStubs(in: directory)
        let (daemon, grpcSocket) = try await startDaemon(directory, config: "allowed_uids = \(getuid() + 1)\n")
        let example = Self.root.appendingPathComponent("docs/examples/grpc_client.py").path
        let (status, output, errors) = try await runProcess(python, [example, grpcSocket],
                                                           environment: ["PYTHONPATH": stubs], directory: directory)
        #expect(status != 0 && errors.contains("StatusCode.UNAVAILABLE"), "\(output)\n\(errors)")
        #expect(!output.contains("ozmapd \(Daemon.version)"), "\(output)")
        try await waitUntil("ozmapd logs the refusal", timeout: .seconds(10)) {
            daemon.errorOutput.contains("refused a gRPC connection") && daemon.errorOutput.contains("uid=\(getuid())")
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0, "\(daemon.errorOutput)")
    }

    /// gRPC's `grpc-timeout` header, which becomes the handlers' `context.callDeadline`.
    @Test func grpcTimeoutHeadersAreRead() {
        #expect(GRPCTimeoutCall.parse("500m") == .milliseconds(500))
        #expect(GRPCTimeoutCall.parse("10S") == .seconds(10))
        #expect(GRPCTimeoutCall.parse("2M") == .seconds(120))
        #expect(GRPCTimeoutCall.parse("1H") == .seconds(3600))
        #expect(GRPCTimeoutCall.parse("99999999u") == .microseconds(99_999_999))
        #expect(GRPCTimeoutCall.parse("7n") == .nanoseconds(7))
        for bad in ["", "m", "10", "10s", "123456789S", "-1S", "1.5S"] {
            #expect(GRPCTimeoutCall.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func grpcSocketIsValidatedNamingTheKey() throws {
        var configuration = DaemonConfiguration()
        #expect(configuration.grpcSocketPath == nil, "off by default")
        #expect(try configuration.grpcServerConfiguration() == nil)
        try configuration.set("grpc_socket", to: "/run/ozmapd/grpc.sock", source: "ozmapd.conf:1")
        try configuration.set("max_frame_bytes", to: "65536", source: "ozmapd.conf:3")
        try configuration.set("idle_timeout_ms", to: "0", source: "ozmapd.conf:4")
        try configuration.set("allowed_gids", to: "998", source: "ozmapd.conf:5")
        let server = try #require(try configuration.grpcServerConfiguration())
        #expect(server.socketPath == "/run/ozmapd/grpc.sock" && server.socketMode == 0o660)
        #expect(server.maximumRequestBytes == 65536 && server.idleTimeout == nil && server.maximumCallsInFlightPerConnection == 128)
        #expect(server.peerPolicy == PeerPolicy(allowedGIDs: [998]))
        for bad in [String(repeating: "x", count: 108), "/run/ozmapd/"] {
            #expect {
                try configuration.set("grpc_socket", to: bad, source: "ozmapd.conf:2")
            } throws: { error in
                "\(error)".hasPrefix("ozmapd.conf:2: grpc_socket must be the path of a Unix socket file")
            }
        }
        configuration.socketPath = "/run/ozmapd/grpc.sock"
        #expect {
            try configuration.grpcServerConfiguration()
        } throws: { error in
            "\(error)".contains("grpc_socket must differ from socket")
        }
        try configuration.set("grpc_socket", to: "", source: "OZMAPD_GRPC_SOCKET")
        #expect(configuration.grpcSocketPath == nil, "empty: off")
    }
}
