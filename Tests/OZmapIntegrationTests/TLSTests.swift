import Foundation
import OZmapClient
import OZmapDaemon
import OZmapRPC
import OZmapTestSupport
import Testing

/// An OZmap on HTTPS with a certificate of its own CA (on-premises): refused unless
/// `ozmap_ca_file` names that CA, and verification goes off only loudly.
@Suite(.timeLimit(.minutes(3)), .serialized) struct TLSTests {
    @Test func aPrivateCAIsTrustedOnlyThroughTheCAFile() async throws {
        let rig = try await TestRig(boxes: 1)
        let https = try await HTTPSServer(directory: rig.directory)
        let credentials = SetCredentialsRequest(apiUrl: "https://127.0.0.1:\(https.port)/api/v2", apiKey: simulatorKey)

        // Verification on, the CA unknown: refused, and nothing saved.
        try await rig.startDaemon()
        var client = try await rig.client()
        do {
            _ = try await client.rpc.setCredentials(credentials)
            Issue.record("a certificate from an unknown CA was accepted")
        } catch let error as GRPCCore.RPCError {
            #expect(error.code == .unavailable)
            #expect(error.message.lowercased().contains("certificate"), "\(error.message)")
        }
        #expect(try await client.rpc.getCredentials(GetCredentialsRequest()).credentials?.apiUrl.isEmpty == true)
        #expect(https.requests().isEmpty, "no request went through an unverified connection")
        await client.close()
        try await rig.stopDaemon()

        // The CA file: verified, accepted.
        try await rig.startDaemon { $0.ozmapCAFile = https.certificate }
        client = try await rig.client()
        _ = try await client.rpc.setCredentials(credentials)
        #expect(https.requests().contains { $0.hasPrefix("GET /api/v2/authenticated") })
        #expect(!rig.logs.all.contains { $0.contains("TLS verification of OZmap is OFF") })
        await client.close()
        try await rig.stopDaemon()

        // Verification off: only by its explicit setting, and said at critical level.
        try await rig.startDaemon { $0.ozmapInsecureSkipTLSVerify = true }
        #expect(rig.logs.all.contains { $0.hasPrefix("critical") && $0.contains("TLS verification of OZmap is OFF") })
        try await rig.stopDaemon()
        https.stop()
        try await rig.tearDown()
    }

    @Test func anUnreadableCAFileStopsTheStart() async throws {
        let directory = try makeTemporaryDirectory()
        var configuration = DaemonConfiguration()
        configuration.socketPath = directory + "/ozmapd.sock"
        configuration.stateDirectory = directory + "/state"
        configuration.ozmapCAFile = directory + "/missing-ca.pem"
        #expect { _ = try Daemon(configuration: configuration, logger: .init(label: "test")) } throws: { error in
            "\(error)".contains("ozmap_ca_file") && "\(error)".contains("missing-ca.pem")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A minimal OZmap stand-in on HTTPS (Python's ssl module), with a self-signed certificate for 127.0.0.1.
final class HTTPSServer: Sendable {
    let certificate: String
    let port: Int
    private let process: ChildProcess
    private let logPath: String

    init(directory: String) async throws {
        certificate = directory + "/ozmap-ca.pem"
        let key = directory + "/ozmap-key.pem"
        logPath = directory + "/https-requests.log"
        let (status, _, error) = try await runProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ], directory: directory)
        guard status == 0 else { throw TimedOut(description: "openssl failed: \(error)") }
        let script = """
        import http.server, ssl, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with open(sys.argv[3], "a") as log: log.write("GET " + self.path + "\\n")
                body = b'{"id": "user"}' if self.path.startswith("/api/v2/authenticated") else b'{"rows": [], "total": 0, "count": 0, "start": 0, "limit": 100, "hasNextPage": false}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        let scriptPath = directory + "/https-ozmap.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = try ChildProcess("/usr/bin/env", ["python3", scriptPath, certificate, key, logPath], directory: directory)
        try await waitUntil("the HTTPS server prints its port", timeout: .seconds(20)) {
            guard process.process.isRunning else { throw TimedOut(description: "python3 exited: \(process.errorOutput)") }
            return Int(process.output.trimmingCharacters(in: .whitespacesAndNewlines)) != nil
        }
        self.process = process
        port = Int(process.output.trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    /// "GET /path" of every request served.
    func requests() -> [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// SIGKILL: Python's serve_forever does not end on SIGTERM, and a server left
    /// behind by a failing test would outlive the run.
    func stop() {
        process.signal(SIGKILL)
    }

    deinit {
        stop()
    }
}
