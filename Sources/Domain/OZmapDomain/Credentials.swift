import Foundation
import OZmapRPC
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
            throw RPCError.invalidArgument(field: "api_url", "must be an http(s) URL such as https://tenant.ozmap.com.br:9994/api/v2")
        }
        guard components.path.hasSuffix("/api/v2") else {
            throw RPCError.invalidArgument(field: "api_url", "must end in /api/v2 (OZmap's API base), e.g. https://tenant.ozmap.com.br:9994/api/v2")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil, components.password == nil else {
            throw RPCError.invalidArgument(field: "api_url", "must not carry a query, fragment or user info")
        }
        let key = rawKey.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else {
            throw RPCError.invalidArgument(field: "api_key", "is required (generate it in OZmap for a user with the API module)")
        }
        guard !key.lowercased().hasPrefix("bearer ") else {
            throw RPCError.invalidArgument(field: "api_key", "OZmap takes the raw key in the Authorization header: remove the 'Bearer ' prefix")
        }
        guard key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw RPCError.invalidArgument(field: "api_key", "must be printable ASCII without spaces")
        }
        apiURL = url
        apiKey = Secret(key)
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

/// The current OZmap credentials and the directory client built from them.
public final class OZmapConnection: Sendable {
    public typealias DirectoryFactory = @Sendable (OZmapCredentials) -> any OZmapDirectory

    private let factory: DirectoryFactory
    private let store: any CredentialStore
    private let current: Mutex<(stored: StoredCredentials, directory: any OZmapDirectory)?>

    /// Credentials saved over the API win over configured ones, which only seed a fresh state directory.
    public init(store: any CredentialStore, configured: StoredCredentials?, factory: @escaping DirectoryFactory) throws {
        self.factory = factory
        self.store = store
        let initial = try store.load() ?? configured
        current = Mutex(initial.map { ($0, factory($0.credentials)) })
    }

    public var stored: StoredCredentials? { current.withLock { $0?.stored } }
    public var directory: (any OZmapDirectory)? { current.withLock { $0?.directory } }

    /// Verifies the credentials against OZmap, then saves and uses them.
    public func set(_ credentials: OZmapCredentials) async throws -> StoredCredentials {
        let directory = factory(credentials)
        try await directory.verifyCredentials()
        let stored = StoredCredentials(credentials: credentials, source: "state", updatedAt: Timestamp.now())
        do {
            try store.save(stored)
        } catch {
            throw RPCError(.internal, "cannot save the OZmap credentials in the state directory: \(error)")
        }
        current.withLock { $0 = (stored, directory) }
        return stored
    }
}
