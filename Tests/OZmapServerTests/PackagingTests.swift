import Foundation
import OZmapClient
import OZmapDaemon
import OZmapTestSupport
import Testing

/// The repository's root (Tests/OZmapServerTests/… → ../..).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

private func contents(_ relativePath: String) throws -> String {
    try String(contentsOfFile: repositoryRoot + "/" + relativePath, encoding: .utf8)
}

/// `Key=value` settings of a unit file, in order (comments and section headers left out).
private func unitSettings(_ text: String) -> [(key: String, value: String)] {
    text.split(separator: "\n").compactMap { line in
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";"), !trimmed.hasPrefix("["),
              let equals = trimmed.firstIndex(of: "=") else { return nil }
        return (String(trimmed[..<equals]), String(trimmed[trimmed.index(after: equals)...]))
    }
}

/// The files of a fenced block that follows `<!-- marker -->` in docs/INSTALL.md.
private func documentedFiles(_ marker: String) throws -> Set<String> {
    let text = try contents("docs/INSTALL.md")
    let afterMarker = try #require(text.range(of: "<!-- \(marker) -->"), "docs/INSTALL.md has no <!-- \(marker) --> list")
    let rest = text[afterMarker.upperBound...]
    let open = try #require(rest.range(of: "```"))
    let body = rest[open.upperBound...]
    let close = try #require(body.range(of: "```"))
    return Set(body[..<close.lowerBound].split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
}

/// Regular files under `root`, as paths relative to it.
private func files(under root: String) throws -> Set<String> {
    var found = Set<String>()
    let enumerator = try #require(FileManager.default.enumerator(atPath: root))
    for case let path as String in enumerator where enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular {
        found.insert(path)
    }
    return found
}

/// `make -C <repository> TARGETS`, which may build for many minutes.
private func runMake(_ arguments: [String], directory: String) async throws -> (Int32, String, String) {
    let child = try ChildProcess("/usr/bin/env", ["make", "-C", repositoryRoot] + arguments, directory: directory)
    let status = try await child.exitStatus(timeout: .seconds(3000))
    return (status, child.output, child.errorOutput)
}

/// The unit files and the default config in packaging/ (docs/INSTALL.md).
@Suite struct UnitFileTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is not installed"))
    func theUnitsPassSystemdAnalyzeVerify() async throws {
        let directory = try makeTemporaryDirectory()
        // verify insists that ExecStart= exists: point it at the built ozmapd.
        let service = try contents("packaging/systemd/ozmapd.service").replacingOccurrences(of: "/usr/bin/ozmapd", with: binary("ozmapd"))
        try service.write(toFile: directory + "/ozmapd.service", atomically: true, encoding: .utf8)
        try contents("packaging/systemd/ozmapd.socket").write(toFile: directory + "/ozmapd.socket", atomically: true, encoding: .utf8)
        let (status, output, errors) = try await runProcess("/usr/bin/systemd-analyze",
                                                            ["verify", "--man=no", directory + "/ozmapd.service", directory + "/ozmapd.socket"],
                                                            directory: directory)
        #expect(status == 0, "\(errors)")
        // verify exits 0 on an unknown key or a bad value and only warns: any word about our units fails.
        let complaints = (output + errors).split(separator: "\n").filter { $0.contains("ozmapd.service") || $0.contains("ozmapd.socket") }
        #expect(complaints.isEmpty, "\(complaints)")
    }

    @Test func theServiceIsNotifyTypeHardenedAndSocketActivated() throws {
        let service = unitSettings(try contents("packaging/systemd/ozmapd.service"))
        func value(_ key: String) -> String? { service.last { $0.key == key }?.value }
        #expect(value("Type") == "notify")
        #expect(value("ExecStart") == "/usr/bin/ozmapd --config /etc/ozmapd/ozmapd.conf")
        #expect(value("User") == "ozmapd")
        #expect(value("Restart") == "on-failure")
        #expect(value("Requires") == "ozmapd.socket")
        for (key, expected) in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                                ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"), ("StateDirectory", "ozmapd"),
                                ("StateDirectoryMode", "0700"), ("RuntimeDirectory", "ozmapd"), ("RuntimeDirectoryPreserve", "yes")] {
            #expect(value(key) == expected, "\(key)")
        }
        // The state directory systemd makes is the one ozmapd uses by default.
        #expect("/var/lib/" + (value("StateDirectory") ?? "") == DaemonConfiguration().stateDirectory)

        let socket = unitSettings(try contents("packaging/systemd/ozmapd.socket"))
        func socketValue(_ key: String) -> String? { socket.last { $0.key == key }?.value }
        #expect(socketValue("ListenStream") == DaemonConfiguration().socketPath)
        #expect(socketValue("SocketMode") == "0660")
        #expect(socketValue("SocketGroup") == nil, "the ISP sets the group (commented out)")
        #expect(try contents("packaging/systemd/ozmapd.socket").contains("#SocketGroup="))
    }

    /// Every key of DaemonConfiguration, commented out at a value ozmapd accepts.
    @Test func theDefaultConfigListsEveryKeyAndEachValueIsAccepted() throws {
        let text = try contents("packaging/ozmapd.conf")
        var keys: [String] = []
        var uncommented = ""
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = line.dropFirst()[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLowercase || $0 == "_" }) else { continue }
            keys.append(key)
            uncommented += line.dropFirst() + "\n"
        }
        #expect(keys.count == Set(keys).count, "a key listed twice")
        #expect(Set(keys) == Set(DaemonConfiguration.keys),
                "missing: \(Set(DaemonConfiguration.keys).subtracting(keys).sorted()), unknown: \(Set(keys).subtracting(DaemonConfiguration.keys).sorted())")

        let directory = try makeTemporaryDirectory()
        try uncommented.write(toFile: directory + "/ozmapd.conf", atomically: true, encoding: .utf8)
        var configuration = DaemonConfiguration()
        try configuration.apply(file: directory + "/ozmapd.conf")
        let defaults = DaemonConfiguration()
        #expect(configuration.socketPath == defaults.socketPath)
        #expect(configuration.stateDirectory == defaults.stateDirectory)
        #expect(configuration.socketMode == defaults.socketMode)
        #expect(configuration.idleTimeoutMs == defaults.idleTimeoutMs)
        #expect(configuration.syncIntervalSeconds == defaults.syncIntervalSeconds)
        #expect(configuration.ozmapAPIURL == nil && configuration.metricsListen == nil)
    }
}

/// `make install` and `make deb` (docs/INSTALL.md): a release build, too slow for `make test`.
/// `make test-package` runs them (OZMAPD_TEST_PACKAGE=1), and .ci/run does.
@Suite(.serialized, .timeLimit(.minutes(60)),
       .enabled(if: ProcessInfo.processInfo.environment["OZMAPD_TEST_PACKAGE"] == "1", "set OZMAPD_TEST_PACKAGE=1 (make test-package)"))
struct InstallTests {
    @Test func makeInstallProducesTheDocumentedFilesAndOzmapdStartsFromThem() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) } // a scratch root holds ~170 MB of binaries
        let root = directory + "/root"
        let (status, output, errors) = try await runMake(["install", "DESTDIR=\(root)"], directory: directory)
        #expect(status == 0, "\(output)\n\(errors)")
        #expect(try files(under: root) == (try documentedFiles("install-files")))
        #expect(try String(contentsOfFile: root + "/usr/local/lib/systemd/system/ozmapd.service", encoding: .utf8)
            .contains("ExecStart=/usr/local/bin/ozmapd --config /etc/ozmapd/ozmapd.conf"))

        // An edited config survives a second install.
        try "log_level = debug\n".write(toFile: root + "/etc/ozmapd/ozmapd.conf", atomically: true, encoding: .utf8)
        let (again, _, _) = try await runMake(["install", "DESTDIR=\(root)"], directory: directory)
        #expect(again == 0)
        #expect(try String(contentsOfFile: root + "/etc/ozmapd/ozmapd.conf", encoding: .utf8) == "log_level = debug\n")

        try await startUnderSocketActivation(bin: root + "/usr/local/bin", config: root + "/etc/ozmapd/ozmapd.conf", directory: directory)
    }

    @Test func makeDebBuildsThePackageWithTheDocumentedFiles() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) } // a scratch root holds ~170 MB of binaries
        let (status, output, errors) = try await runMake(["deb"], directory: directory)
        #expect(status == 0, "\(output)\n\(errors)")
        let releaseDirectory = repositoryRoot + "/.build-release"
        let package = try #require(try FileManager.default.contentsOfDirectory(atPath: releaseDirectory)
            .first { $0.hasPrefix("ozmapd_\(Daemon.version)_") && $0.hasSuffix(".deb") })
        let path = releaseDirectory + "/" + package

        let (listed, listing, _) = try await runProcess("/usr/bin/dpkg-deb", ["-c", path], directory: directory)
        #expect(listed == 0)
        let entries = Set(listing.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("-") else { return nil } // regular files only
            return line.split(separator: " ").last.map { String($0.dropFirst(2)) } // "./usr/bin/ozmapd"
        })
        #expect(entries == (try documentedFiles("deb-files")))
        #expect(listing.contains("root/root"), "files owned by root")

        let (_, control, _) = try await runProcess("/usr/bin/dpkg-deb", ["-f", path], directory: directory)
        #expect(control.contains("Package: ozmapd"))
        #expect(control.contains("Version: \(Daemon.version)"))
        // Every dependency with a minimum version (dpkg-shlibdeps, or the build machine's versions).
        let dependsLine = try #require(control.split(separator: "\n").first { $0.hasPrefix("Depends: ") }, "\(control)")
        let depends = dependsLine.dropFirst("Depends: ".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let versioned = /^([a-z0-9][a-z0-9.+-]*) \(>= ([0-9][0-9A-Za-z.+:~-]*)\)$/
        let names = Set(depends.compactMap { $0.wholeMatch(of: versioned).map { String($0.output.1) } })
        #expect(names.count == depends.count, "Depends entries without a minimum version: \(depends.filter { $0.wholeMatch(of: versioned) == nil })")
        #expect(names.isSuperset(of: ["libc6", "libcurl4", "libprotobuf-c1", "libsqlite3-0", "libstdc++6", "libgcc-s1", "passwd"]), "\(depends)")
        let (_, conffiles, _) = try await runProcess("/usr/bin/dpkg-deb", ["--info", path, "conffiles"], directory: directory)
        #expect(conffiles.trimmingCharacters(in: .whitespacesAndNewlines) == "/etc/ozmapd/ozmapd.conf")

        // Unpacked into a scratch root, the package's ozmapd runs under socket activation.
        let root = directory + "/root"
        let (extracted, _, extractErrors) = try await runProcess("/usr/bin/dpkg-deb", ["-x", path, root], directory: directory)
        #expect(extracted == 0, "\(extractErrors)")
        for script in ["postinst", "prerm", "postrm"] {
            let (checked, _, syntax) = try await runProcess("/bin/sh", ["-n", repositoryRoot + "/packaging/debian/" + script], directory: directory)
            #expect(checked == 0, "\(script): \(syntax)")
        }
        try await startUnderSocketActivation(bin: root + "/usr/bin", config: root + "/etc/ozmapd/ozmapd.conf", directory: directory)
    }

    /// The installed ozmapd on an inherited socket (what ozmapd.socket does), its installed config
    /// file, driven by the installed ozmapctl against ozmap-sim: status, credentials, a full sync,
    /// then `ozmapctl doctor` and `doctor --json` with every check passing. The port-80 check is
    /// pointed, through `ozmap_web_port` in the installed ozmapd.conf, at a loopback port the test
    /// listens on (the simulator has only its API port).
    private func startUnderSocketActivation(bin: String, config: String, directory: String) async throws {
        let simulator = try await SimulatorProcess(directory: directory)
        let web = try LoopbackListener()
        let edited = try String(contentsOfFile: config, encoding: .utf8) + "ozmap_web_port = \(web.port)\n"
        try edited.write(toFile: config, atomically: true, encoding: .utf8)

        let path = directory + "/ozmapd.sock"
        let listener = try listeningUnixSocket(path)
        defer { close(listener) }
        let daemon = try ActivatedProcess(bin + "/ozmapd", ["--config", config, "--socket", path, "--state-dir", directory + "/state"],
                                          listening: listener, directory: directory)
        func ozmapctl(_ arguments: [String]) async throws -> (Int32, String, String) {
            try await runProcess(bin + "/ozmapctl", arguments, environment: ["OZMAPD_SOCKET": path], directory: directory)
        }
        let (status, output, errors) = try await ozmapctl(["status"])
        #expect(status == 0, "\(errors)\n\(daemon.errorOutput)")
        #expect(output.contains("version      \(Daemon.version)"))

        let (set, setOutput, setErrors) = try await ozmapctl(["credentials", "set", "--url", simulator.baseURL, "--key-file", simulator.keyFile])
        #expect(set == 0, "\(setOutput)\(setErrors)\n\(daemon.errorOutput)")
        let (synced, syncOutput, syncErrors) = try await ozmapctl(["sync", "--full", "--wait"])
        #expect(synced == 0, "\(syncOutput)\(syncErrors)")

        let (doctor, report, doctorErrors) = try await ozmapctl(["doctor"])
        #expect(doctor == 0, "\(report)\(doctorErrors)\n\(daemon.errorOutput)")
        for name in ["socket", "permitted", "credentials", "api url", "dns", "tcp api port", "tcp port \(web.port)", "tls", "api key",
                     "clock", "box cache", "last sync", "outbox", "state directory", "key file"] {
            #expect(report.contains("✔ \(name): "), "\(name) missing or failing:\n\(report)")
        }
        #expect(!report.contains("✘"), "\(report)")

        let (jsonStatus, json, _) = try await ozmapctl(["doctor", "--json"])
        #expect(jsonStatus == 0, "\(json)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect(object["ok"] as? Bool == true)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.count == 15, "\(checks.compactMap { $0["name"] as? String })")
        #expect(checks.allSatisfy { $0["ok"] as? Bool == true }, "\(json)")
        for text in [output, setOutput, setErrors, syncOutput, report, doctorErrors, json, daemon.errorOutput] {
            #expect(!text.contains(simulator.key), "the OZmap key in an output")
        }

        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0, "\(daemon.errorOutput)")
        try await simulator.stop()
    }
}

/// The built ozmap-sim (OZMAPD_BIN_DIR) on a loopback port of its own, its key in a file.
private struct SimulatorProcess {
    let process: ChildProcess
    let baseURL: String
    let key = "sim-key-\(UUID().uuidString.prefix(12))"
    let keyFile: String

    init(directory: String) async throws {
        keyFile = directory + "/ozmap.key"
        try key.write(toFile: keyFile, atomically: true, encoding: .utf8)
        #expect(chmod(keyFile, 0o600) == 0)
        let process = try ChildProcess(binary("ozmap-sim"), ["--port", "0", "--api-key-file", keyFile, "--boxes", "10", "--olts", "1",
                                                             "--log-level", "error"], directory: directory)
        self.process = process
        try await waitUntil("ozmap-sim prints its URL") { process.output.contains("\n") || !process.process.isRunning }
        let line = process.output.trimmingCharacters(in: .whitespacesAndNewlines)
        baseURL = try #require(line.split(separator: " ").last.map(String.init).flatMap { $0.hasPrefix("http://") ? $0 : nil },
                               "ozmap-sim: \(line)\(process.errorOutput)")
    }

    func stop() async throws {
        process.signal(SIGTERM)
        #expect(try await process.exitStatus() == 0, "\(process.errorOutput)")
    }
}
