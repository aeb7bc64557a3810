import Foundation
import OZmapDomain

/// The OZmap credentials set over the API: a JSON file, mode 0600, in the
/// state directory, replaced atomically (written aside, then renamed).
public struct CredentialFile: CredentialStore {
    public static let fileName = "ozmap-credentials.json"

    public let path: String

    public init(stateDirectory: String) {
        path = (stateDirectory as NSString).appendingPathComponent(Self.fileName)
    }

    private struct Contents: Codable {
        var apiURL: String
        var apiKey: String
        var updatedAt: String
    }

    public func load() throws -> StoredCredentials? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let contents = try JSONDecoder().decode(Contents.self, from: data)
        return StoredCredentials(credentials: try OZmapCredentials(apiURL: contents.apiURL, apiKey: contents.apiKey),
                                 source: "state", updatedAt: contents.updatedAt)
    }

    public func save(_ stored: StoredCredentials) throws {
        let data = try JSONEncoder().encode(Contents(apiURL: stored.credentials.apiURL,
                                                     apiKey: stored.credentials.apiKey.revealed,
                                                     updatedAt: stored.updatedAt))
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary]) }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
