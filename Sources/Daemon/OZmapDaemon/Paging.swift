import Foundation
import OZmapDomain

/// Page sizes and opaque page tokens, the same for every List method: a token
/// carries an offset into an ordered result (boxes), or the last key of the
/// previous page (ONUs, operations, audit entries: stable while rows are added).
enum Paging {
    static let defaultSize = 100
    static let maximumSize = 1000

    /// The page size a request asks for: 0 means the default.
    static func size(_ requested: UInt32) throws -> Int {
        guard requested <= maximumSize else { throw IntegrationError.invalidInput(field: "page_size", "at most \(maximumSize)") }
        return requested == 0 ? defaultSize : Int(requested)
    }

    static func token(offset: Int) -> String { encode("o", "\(offset)") }

    static func token(after key: String) -> String { encode("k", key) }

    /// The offset a token carries; 0 for no token.
    static func offset(_ token: String) throws -> Int {
        guard let value = try decode(token, kind: "o") else { return 0 }
        guard let offset = Int(value), offset >= 0 else { throw invalid }
        return offset
    }

    /// The key a token carries; nil for no token.
    static func key(_ token: String) throws -> String? {
        try decode(token, kind: "k")
    }

    private static func encode(_ kind: String, _ value: String) -> String {
        Data("\(kind):\(value)".utf8).base64EncodedString()
    }

    private static func decode(_ token: String, kind: String) throws -> String? {
        guard !token.isEmpty else { return nil }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8), text.hasPrefix(kind + ":") else {
            throw invalid
        }
        return String(text.dropFirst(kind.count + 1))
    }

    private static let invalid = IntegrationError.invalidInput(field: "page_token", "is not a token this server issued")
}
