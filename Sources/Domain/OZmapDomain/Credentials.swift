import Foundation
import Logging
import Synchronization

/// A secret that never prints: `description`, `debugDescription` and
/// reflection (`dump`, string interpolation) all show `<redacted>`.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let revealed: String

    public init(_ value: String) {
        revealed = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// OZmap API credentials, validated.
public struct OZmapCredentials: Sendable, Hashable {
    /// `http(s)://host[:port]/.../api/v2`, without a trailing slash.
    public let apiURL: String
    public let apiKey: Secret

    /// Checks both fields; INVALID_ARGUMENT names the one that is wrong.
    public init(apiURL rawURL: String, apiKey rawKey: String) throws {
        var url = rawURL.trimmingCharacters(in: .whitespaces)
        if url.hasSuffix("/") { url.removeLast() }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            throw IntegrationError.invalidInput(field: "api_url", "must be an http(s) URL such as https://tenant.ozmap.com.br:9994/api/v2")
        }
        guard components.path.hasSuffix("/api/v2") else {
            throw IntegrationError.invalidInput(field: "api_url", "must end in /api/v2 (OZmap's API base), e.g. https://tenant.ozmap.com.br:9994/api/v2")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil, components.password == nil else {
            throw IntegrationError.invalidInput(field: "api_url", "must not carry a query, fragment or user info")
        }
        let key = rawKey.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else {
            throw IntegrationError.invalidInput(field: "api_key", "is required (generate it in OZmap for a user with the API module)")
        }
        guard !key.lowercased().hasPrefix("bearer ") else {
            throw IntegrationError.invalidInput(field: "api_key", "OZmap takes the raw key in the Authorization header: remove the 'Bearer ' prefix")
        }
        guard key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw IntegrationError.invalidInput(field: "api_key", "must be printable ASCII without spaces")
        }
        apiURL = url
        apiKey = Secret(key)
    }

    /// The OZmap server the URL points at: host (lower case), port and path. Two URLs with
    /// different tenants are two OZmaps, whose ids mean nothing to each other.
    public var tenant: String {
        guard let components = URLComponents(string: apiURL) else { return apiURL }
        let scheme = components.scheme?.lowercased() ?? ""
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(components.host?.lowercased() ?? ""):\(port)\(components.path)"
    }
}

/// Credentials as persisted, with where they came from.
public struct StoredCredentials: Sendable, Hashable {
    public var credentials: OZmapCredentials
    /// "state", "config" or "environment".
    public var source: String
    public var updatedAt: String

    public init(credentials: OZmapCredentials, source: String, updatedAt: String) {
        self.credentials = credentials
        self.source = source
        self.updatedAt = updatedAt
    }
}

/// Where credentials set over the API are kept (a 0600 file in the state directory).
public protocol CredentialStore: Sendable {
    func load() throws -> StoredCredentials?
    func save(_ credentials: StoredCredentials) throws
}

/// Whether OZmap takes the current key.
public enum CredentialsState: Sendable, Hashable {
    /// No credentials: nothing can be sent.
    case unset
    /// Credentials set, and OZmap has not refused them (since they were set or last accepted).
    case ok
    /// OZmap answered 401 or 403 to the current key; `reason` says to what.
    case rejected(reason: String)

    /// "unset", "ok" or "rejected", as GetStatus reports it.
    public var name: String {
        switch self {
        case .unset: "unset"
        case .ok: "ok"
        case .rejected: "rejected"
        }
    }

    /// Why the key is rejected; empty otherwise.
    public var reason: String {
        if case .rejected(let reason) = self { return reason }
        return ""
    }

    /// Why nothing may be written to OZmap now; nil when writes may go.
    public var pausedReason: String? {
        switch self {
        case .ok: nil
        case .unset: "no OZmap credentials: set them with SetCredentials (ozmapctl credentials set)"
        case .rejected: "OZmap rejected the API key: set a valid key with SetCredentials (ozmapctl credentials set)"
        }
    }
}

/// What a directory client reports of every HTTP answer it gets (the adapter calls it from
/// `send`): the status, the method and the route (never the URL's query or the key).
public typealias OZmapStatusObserver = @Sendable (_ httpStatus: Int, _ method: String, _ route: String) -> Void

/// Told when SetCredentials replaces the credentials, to drop what belonged to the old ones.
public protocol CredentialsSwitchObserver: Sendable {
    /// The new credentials are verified and about to be used: a new tenant's data must not
    /// meet the old tenant's, so what must go goes now.
    func willSwitch(from previous: StoredCredentials?, to credentials: OZmapCredentials) async
    /// The new credentials are in use.
    func didSwitch(from previous: StoredCredentials?, to stored: StoredCredentials, directory: any OZmapDirectory) async
}

/// The current OZmap credentials, the directory client built from them, and whether OZmap
/// takes them. A 401 or 403 to any request made with the current key (sync, outbox, verify)
/// marks them rejected; a 2xx with the same key (re-enabled in OZmap) or SetCredentials with a
/// key OZmap accepts makes them ok again. Each change is logged once.
public final class OZmapConnection: Sendable {
    public typealias DirectoryFactory = @Sendable (OZmapCredentials, @escaping OZmapStatusObserver) -> any OZmapDirectory

    private struct Current: Sendable {
        var stored: StoredCredentials
        var directory: any OZmapDirectory
        var rejection: String?
    }

    private let factory: DirectoryFactory
    private let store: any CredentialStore
    private let logger: Logger
    private let current = Mutex<Current?>(nil)
    private let listeners = Mutex<[@Sendable (CredentialsState) -> Void]>([])
    private let switchObservers = Mutex<[any CredentialsSwitchObserver]>([])

    /// Credentials saved over the API win over configured ones, which only seed a fresh state directory.
    public init(store: any CredentialStore, configured: StoredCredentials?, logger: Logger = Logger(label: "ozmapd"),
                factory: @escaping DirectoryFactory) throws {
        self.factory = factory
        self.store = store
        self.logger = logger
        if let initial = try store.load() ?? configured {
            let directory = factory(initial.credentials, observer(for: initial.credentials))
            current.withLock { $0 = Current(stored: initial, directory: directory, rejection: nil) }
        }
    }

    public var stored: StoredCredentials? { current.withLock { $0?.stored } }
    public var directory: (any OZmapDirectory)? { current.withLock { $0?.directory } }

    public var state: CredentialsState {
        current.withLock { current in
            guard let current else { return .unset }
            return current.rejection.map { .rejected(reason: $0) } ?? .ok
        }
    }

    /// Why nothing may be written to OZmap now (no credentials, or a rejected key); nil when writes may go.
    public var pausedReason: String? { state.pausedReason }

    /// Calls `listener` after every change of `state` (from any thread; keep it short).
    public func onStateChange(_ listener: @escaping @Sendable (CredentialsState) -> Void) {
        listeners.withLock { $0.append(listener) }
    }

    public func addSwitchObserver(_ observer: any CredentialsSwitchObserver) {
        switchObservers.withLock { $0.append(observer) }
    }

    /// Verifies the credentials against OZmap, then saves and uses them.
    public func set(_ credentials: OZmapCredentials) async throws -> StoredCredentials {
        let directory = factory(credentials, observer(for: credentials))
        try await directory.verifyCredentials()
        let previous = stored
        let observers = switchObservers.withLock { $0 }
        for observer in observers { await observer.willSwitch(from: previous, to: credentials) }
        let stored = StoredCredentials(credentials: credentials, source: "state", updatedAt: Timestamp.now())
        do {
            try store.save(stored)
        } catch {
            throw IntegrationError(.internalFailure, "cannot save the OZmap credentials in the state directory: \(error)")
        }
        let before = state
        current.withLock { $0 = Current(stored: stored, directory: directory, rejection: nil) }
        if before != .ok { changed(to: .ok, apiURL: credentials.apiURL, cause: "new credentials set") }
        for observer in observers { await observer.didSwitch(from: previous, to: stored, directory: directory) }
        return stored
    }

    /// The observer handed to the directory built for `credentials`: answers to other
    /// (older, or merely candidate) credentials never change the current state.
    private func observer(for credentials: OZmapCredentials) -> OZmapStatusObserver {
        { [weak self] status, method, route in self?.observe(status, method: method, route: route, credentials: credentials) }
    }

    private func observe(_ status: Int, method: String, route: String, credentials: OZmapCredentials) {
        let rejected = status == 401 || status == 403
        guard rejected || (200..<300).contains(status) else { return }
        let change: CredentialsState? = current.withLock { current in
            guard var now = current, now.stored.credentials == credentials else { return nil }
            if rejected {
                guard now.rejection == nil else { return nil } // already rejected: said once
                let reason = "OZmap rejected the API key (HTTP \(status) on \(method) \(route))"
                now.rejection = reason
                current = now
                return .rejected(reason: reason)
            }
            guard now.rejection != nil else { return nil }
            now.rejection = nil
            current = now
            return .ok
        }
        if let change { changed(to: change, apiURL: credentials.apiURL, cause: "HTTP \(status) on \(method) \(route)") }
    }

    private func changed(to state: CredentialsState, apiURL: String, cause: String) {
        switch state {
        case .rejected(let reason):
            logger.error("OZmap rejected the API key; nothing is written to OZmap until SetCredentials stores a key it accepts (ozmapctl credentials set)",
                         metadata: ["reason": "\(reason)", "api_url": "\(apiURL)"])
        case .ok:
            logger.notice("OZmap accepts the API key; writes to OZmap resume", metadata: ["api_url": "\(apiURL)", "cause": "\(cause)"])
        case .unset:
            break
        }
        for listener in listeners.withLock({ $0 }) { listener(state) }
    }
}
