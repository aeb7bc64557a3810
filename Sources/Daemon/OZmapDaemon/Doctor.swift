import Foundation
import ArcholtOZmapV1
import OZmapAdapter
import OZmapDomain
import OZmapStore

/// What RunDoctor looks at.
struct DoctorSources: Sendable {
    var configuration: DaemonConfiguration
    var connection: OZmapConnection
    var synchronizer: BoxSynchronizer
    var syncStore: any BoxCacheStore
    var outbox: any ProvisioningStore
}

/// RunDoctor (`ozmapctl doctor`): the checks only ozmapd can make, from the host that must
/// reach OZmap and with the key it holds. Each check is bounded (a few seconds); the doctor
/// sends OZmap one request (GET /authenticated) and changes nothing in ozmapd.
/// docs/OPERATIONS.md, "Doctor", says what each check means and how to fix it.
struct Doctor: Sendable {
    static let firewallAdvice = "on-premises OZmap must allow the ArchOLT server's IP on ports 80 and 9994; OZmap-hosted tenants have them open"
    /// More clock skew than this against OZmap's `Date` fails the clock check.
    static let maximumClockSkewSeconds = 60.0
    /// A pending operation older than this fails the outbox check.
    static let maximumPendingAge: TimeInterval = 600

    let sources: DoctorSources
    /// DNS, each TCP connect, and the TLS connect of the HTTP request.
    var probeTimeout: Duration = .seconds(3)
    /// The whole HTTP request.
    var requestTimeout: Duration = .seconds(5)

    func run() async -> [DoctorCheck] {
        let stored = sources.connection.stored
        var checks = [credentialsCheck(stored)]
        if let credentials = stored?.credentials { checks += await ozmapChecks(credentials) }
        checks += [await boxCacheCheck(), lastSyncCheck(), outboxCheck(), stateDirectoryCheck(), keyFileCheck(stored)]
        guard let key = stored?.credentials.apiKey.revealed, !key.isEmpty else { return checks }
        return checks.map { check in
            var check = check
            check.detail = check.detail.replacingOccurrences(of: key, with: "<redacted>")
            check.fix = check.fix.replacingOccurrences(of: key, with: "<redacted>")
            return check
        }
    }

    // MARK: credentials

    private func credentialsCheck(_ stored: StoredCredentials?) -> DoctorCheck {
        guard let stored else {
            return DoctorCheck(name: "credentials", ok: false, detail: "no OZmap credentials",
                               fix: "set them: ozmapctl credentials set --url https://<tenant>:9994/api/v2 --key-file <file> (or ozmap_api_url and ozmap_api_key_file)")
        }
        let state = sources.connection.state
        let from = stored.source == "state" ? "set over the API" : "from the \(stored.source)"
        return DoctorCheck(name: "credentials", ok: true, detail: "set (\(from)), state \(state.name)")
    }

    // MARK: OZmap, over the network

    private func ozmapChecks(_ credentials: OZmapCredentials) async -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let components = URLComponents(string: credentials.apiURL)
        let https = components?.scheme?.lowercased() == "https"
        let host = components?.host ?? ""
        let apiPort = components?.port ?? (https ? 443 : 80)
        if components?.path.hasSuffix("/api/v2") == true {
            checks.append(DoctorCheck(name: "api url", ok: true, detail: credentials.apiURL))
        } else {
            checks.append(DoctorCheck(name: "api url", ok: false, detail: "\(credentials.apiURL) does not end in /api/v2",
                                      fix: "use OZmap's API base, e.g. https://tenant.ozmap.com.br:9994/api/v2"))
        }
        let webPort = sources.configuration.ozmapWebPort
        func notChecked(_ reason: String) -> [DoctorCheck] {
            ["tcp api port", "tcp port \(webPort)", "tls", "api key", "clock"].map {
                DoctorCheck(name: $0, ok: false, detail: "not checked: \(reason)")
            }
        }

        let addresses: [String]
        switch await NetworkProbe.resolve(host, timeout: probeTimeout) {
        case .success(let found):
            addresses = found
            checks.append(DoctorCheck(name: "dns", ok: true, detail: "\(host) → \(found.prefix(4).joined(separator: ", "))"))
        case .failure(let error):
            checks.append(DoctorCheck(name: "dns", ok: false, detail: "cannot resolve \(host): \(error)",
                                      fix: "check the host name in the OZmap URL and this server's resolver (/etc/resolv.conf)"))
            return checks + notChecked("\(host) does not resolve")
        }

        async let api = tcpCheck(name: "tcp api port", host: host, addresses: addresses, port: apiPort)
        async let web = tcpCheck(name: "tcp port \(webPort)", host: host, addresses: addresses, port: webPort)
        let (apiCheck, webCheck) = await (api, web)
        checks += [apiCheck, webCheck]
        guard apiCheck.ok else {
            return checks + ["tls", "api key", "clock"].map {
                DoctorCheck(name: $0, ok: false, detail: "not checked: no TCP connection to \(host) port \(apiPort)")
            }
        }
        return checks + (await httpChecks(credentials, https: https))
    }

    private func tcpCheck(name: String, host: String, addresses: [String], port: Int) async -> DoctorCheck {
        var failures: [String] = []
        for address in addresses.prefix(3) {
            switch await NetworkProbe.connect(address: address, port: port, timeout: probeTimeout) {
            case .success:
                return DoctorCheck(name: name, ok: true, detail: "connected to \(host == address ? host : "\(host) (\(address))") port \(port)")
            case .failure(let error):
                failures.append("\(address): \(error)")
            }
        }
        return DoctorCheck(name: name, ok: false, detail: "cannot connect to \(host) port \(port) (\(failures.joined(separator: "; ")))",
                           fix: Self.firewallAdvice + "; check the firewalls between this server and \(host)")
    }

    /// TLS, the key and the clock, from one GET /authenticated.
    private func httpChecks(_ credentials: OZmapCredentials, https: Bool) async -> [DoctorCheck] {
        let configuration = sources.configuration
        var http = configuration.httpClientConfiguration
        http.concurrency = 1
        http.connectTimeoutMs = min(configuration.ozmapConnectTimeoutMs, Int(probeTimeout / .milliseconds(1)))
        http.timeoutMs = min(configuration.ozmapTimeoutMs, Int(requestTimeout / .milliseconds(1)))
        let client = CurlHTTPClient(configuration: http)
        let request = HTTPRequest(method: "GET", url: "\(credentials.apiURL)/authenticated",
                                  headers: [("Authorization", credentials.apiKey.revealed), ("Accept", "application/json")])
        let sent = Date()
        let response: HTTPResponse
        do {
            response = try await client.send(request)
        } catch let error as HTTPTransportError {
            let tls: DoctorCheck = if error.isTLSFailure {
                DoctorCheck(name: "tls", ok: false, detail: "TLS with OZmap failed: \(error.message)",
                            fix: configuration.ozmapCAFile == nil
                                ? "if OZmap's certificate comes from a private CA, name that CA's PEM file in ozmap_ca_file; otherwise fix the server's certificate chain"
                                : "check that ozmap_ca_file (\(configuration.ozmapCAFile!)) holds the CA that signed OZmap's certificate, and that the certificate names the host in the URL")
            } else {
                DoctorCheck(name: "tls", ok: !https, detail: https ? "not checked: \(error.message)" : "not used: the URL is http")
            }
            let reason = error.isTLSFailure ? "TLS failed" : "GET /authenticated failed: \(error.message)"
            return [tls,
                    DoctorCheck(name: "api key", ok: false, detail: "not checked: \(reason)",
                                fix: error.isTLSFailure ? "" : "check that OZmap answers on this URL (\(credentials.apiURL))"),
                    DoctorCheck(name: "clock", ok: false, detail: "not checked: \(reason)")]
        } catch {
            return [DoctorCheck(name: "api key", ok: false, detail: "not checked: \(error)")]
        }
        let received = Date()
        return [tlsCheck(https: https), keyCheck(response), clockCheck(response, local: sent.addingTimeInterval(received.timeIntervalSince(sent) / 2))]
    }

    private func tlsCheck(https: Bool) -> DoctorCheck {
        let configuration = sources.configuration
        guard https else {
            return DoctorCheck(name: "tls", ok: true, detail: "not used: the URL is http, so the key crosses the network unencrypted")
        }
        if configuration.ozmapInsecureSkipTLSVerify {
            return DoctorCheck(name: "tls", ok: false, detail: "handshake done, but OZmap's certificate is NOT verified (ozmap_insecure_skip_tls_verify)",
                               fix: "name the CA that signed OZmap's certificate in ozmap_ca_file and remove ozmap_insecure_skip_tls_verify")
        }
        let trust = configuration.ozmapCAFile.map { "the CA in \($0)" } ?? "the system's CAs"
        return DoctorCheck(name: "tls", ok: true, detail: "handshake done, certificate verified against \(trust)")
    }

    private func keyCheck(_ response: HTTPResponse) -> DoctorCheck {
        switch response.status {
        case 200..<300:
            return DoctorCheck(name: "api key", ok: true, detail: "accepted (GET /authenticated answered \(response.status))")
        case 401:
            return DoctorCheck(name: "api key", ok: false, detail: "OZmap rejected the key (GET /authenticated answered 401)",
                               fix: "generate a key in OZmap for a user with the API module and set it: ozmapctl credentials set")
        case 403:
            return DoctorCheck(name: "api key", ok: false, detail: "OZmap answered 403: the key's user lacks permission",
                               fix: "give the key's user the API module and access to the project in OZmap")
        default:
            let message = Self.excerpt(response.body)
            return DoctorCheck(name: "api key", ok: false,
                               detail: "GET /authenticated answered \(response.status)" + (message.isEmpty ? "" : ": \(message)"),
                               fix: "check that the URL is OZmap's API base (…/api/v2) and that OZmap is healthy")
        }
    }

    private func clockCheck(_ response: HTTPResponse, local: Date) -> DoctorCheck {
        guard let header = response.headers["date"], let remote = Self.httpDate(header) else {
            return DoctorCheck(name: "clock", ok: true, detail: "not checked: OZmap's answer carried no Date header")
        }
        let skew = local.timeIntervalSince(remote)
        let seconds = Int(skew.magnitude.rounded())
        if skew.magnitude <= Self.maximumClockSkewSeconds {
            return DoctorCheck(name: "clock", ok: true, detail: "within \(max(1, seconds)) s of OZmap's (Date: \(header))")
        }
        return DoctorCheck(name: "clock", ok: false,
                           detail: "this server's clock is \(seconds) s \(skew > 0 ? "ahead of" : "behind") OZmap's (Date: \(header))",
                           fix: "run NTP on this server (systemd-timesyncd or chrony); if this server is right, tell OZmap's administrator")
    }

    /// An HTTP date (IMF-fixdate, as every server sends).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }

    // MARK: ozmapd's own state

    private func boxCacheCheck() async -> DoctorCheck {
        let count = sources.synchronizer.cache.snapshot.count
        let running = await sources.synchronizer.currentReport.flatMap { $0.running ? $0 : nil }
        let state = try? sources.syncStore.loadSyncState()
        let lastGood: String? = if let report = state?.lastReport, report.error.isEmpty { report.finishedAt } else { state?.lastFullAt }
        let interval = sources.configuration.syncIntervalSeconds
        guard let lastGood, let at = Timestamp.parse(lastGood) else {
            return DoctorCheck(name: "box cache", ok: false,
                               detail: "\(count) boxes; no sync pass has finished" + (running.map { " (one is running since \($0.startedAt))" } ?? ""),
                               fix: running == nil ? "load it: ozmapctl sync --full --wait (once the OZmap checks pass)" : "wait for it: ozmapctl sync --wait")
        }
        let age = Date().timeIntervalSince(at)
        let detail = "\(count) boxes, refreshed \(Self.readable(age)) ago (at \(lastGood); sync every \(interval) s)"
        guard age <= Double(2 * interval) else {
            return DoctorCheck(name: "box cache", ok: false, detail: detail + ": stale",
                               fix: "see the last sync check; ozmapctl sync --wait runs a pass now")
        }
        return DoctorCheck(name: "box cache", ok: true, detail: detail)
    }

    private func lastSyncCheck() -> DoctorCheck {
        let report: SyncPassReport?
        do {
            report = try sources.syncStore.loadSyncState().lastReport
        } catch {
            return DoctorCheck(name: "last sync", ok: false, detail: "cannot read the sync state: \(error)",
                               fix: "check the state directory and the database (docs/OPERATIONS.md)")
        }
        guard let report else {
            return DoctorCheck(name: "last sync", ok: false, detail: "no sync pass has finished",
                               fix: "ozmapctl sync --full --wait (once the OZmap checks pass)")
        }
        guard report.error.isEmpty else {
            return DoctorCheck(name: "last sync", ok: false, detail: "the \(report.kind.rawValue) pass at \(report.finishedAt) failed: \(report.error)",
                               fix: "the OZmap checks above say why; then ozmapctl sync --wait")
        }
        return DoctorCheck(name: "last sync", ok: true,
                           detail: "\(report.kind.rawValue) pass at \(report.finishedAt): \(report.boxes) boxes in \(report.durationMs) ms")
    }

    private func outboxCheck() -> DoctorCheck {
        let waiting: [OutboxOperation]
        do {
            waiting = try [OutboxOperationState.pending, .inFlight].flatMap {
                try sources.outbox.listOperations(onuID: nil, state: $0, afterID: nil, limit: 1)
            }
        } catch {
            return DoctorCheck(name: "outbox", ok: false, detail: "cannot read the outbox: \(error)",
                               fix: "check the state directory and the database (docs/OPERATIONS.md)")
        }
        guard let oldest = waiting.min(by: { $0.id < $1.id }) else {
            return DoctorCheck(name: "outbox", ok: true, detail: "no operation waiting")
        }
        let pending = (try? sources.outbox.operationCounts().pending) ?? waiting.count
        let age = Timestamp.parse(oldest.createdAt).map { Date().timeIntervalSince($0) } ?? 0
        let detail = "\(pending) waiting; the oldest (#\(oldest.id), ONU \(oldest.onuID)) queued \(Self.readable(age)) ago"
        guard age <= Self.maximumPendingAge else {
            return DoctorCheck(name: "outbox", ok: false,
                               detail: detail + (oldest.lastError.isEmpty ? "" : "; its last error: \(oldest.lastError)"),
                               fix: "the OZmap checks above say why OZmap does not take it; ozmapctl ops list --state pending")
        }
        return DoctorCheck(name: "outbox", ok: true, detail: detail)
    }

    private func stateDirectoryCheck() -> DoctorCheck {
        let path = sources.configuration.stateDirectory
        var info = stat()
        guard stat(path, &info) == 0 else {
            return DoctorCheck(name: "state directory", ok: false, detail: "cannot stat \(path): \(String(cString: strerror(errno)))",
                               fix: "restart ozmapd: it creates it mode 0700")
        }
        let mode = info.st_mode & 0o777
        guard mode == 0o700, info.st_uid == geteuid() else {
            return DoctorCheck(name: "state directory", ok: false,
                               detail: "\(path) is mode \(Self.octal(mode)), owner uid \(info.st_uid) (want 0700, owned by ozmapd's uid \(geteuid()))",
                               fix: "chown \(geteuid()) \(path) && chmod 700 \(path)")
        }
        return DoctorCheck(name: "state directory", ok: true, detail: "\(path) mode 0700")
    }

    private func keyFileCheck(_ stored: StoredCredentials?) -> DoctorCheck {
        guard let stored else { return DoctorCheck(name: "key file", ok: true, detail: "no key stored") }
        let path = stored.source == "state"
            ? CredentialFile(stateDirectory: sources.configuration.stateDirectory).path
            : sources.configuration.ozmapAPIKeyFile ?? ""
        var info = stat()
        guard !path.isEmpty, stat(path, &info) == 0 else {
            return DoctorCheck(name: "key file", ok: false, detail: "cannot stat \(path): \(String(cString: strerror(errno)))",
                               fix: "set the credentials again: ozmapctl credentials set")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            return DoctorCheck(name: "key file", ok: false, detail: "\(path) is mode \(Self.octal(mode)): others can read the key",
                               fix: "chmod 600 \(path)")
        }
        return DoctorCheck(name: "key file", ok: true, detail: "\(path) mode \(Self.octal(mode))")
    }

    /// The start of a body, on one line.
    private static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) })
            .trimmingCharacters(in: .whitespaces)
    }

    private static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func readable(_ seconds: TimeInterval) -> String {
        let whole = Int(max(0, seconds))
        if whole < 120 { return "\(whole) s" }
        if whole < 7200 { return "\(whole / 60) min" }
        if whole < 172_800 { return "\(whole / 3600) h" }
        return "\(whole / 86_400) days"
    }
}
