/// `archolt.ozmap.v1.SetCredentialsRequest`
public struct SetCredentialsRequest: Codable, Sendable, Hashable {
    public var apiUrl: String
    public var apiKey: String

    public init(apiUrl: String, apiKey: String) {
        self.apiUrl = apiUrl
        self.apiKey = apiKey
    }
}

/// `archolt.ozmap.v1.SetCredentialsResponse`
public struct SetCredentialsResponse: Codable, Sendable, Hashable {
    public var credentials: Credentials

    public init(credentials: Credentials) {
        self.credentials = credentials
    }
}

/// `archolt.ozmap.v1.GetCredentialsRequest`
public struct GetCredentialsRequest: Codable, Sendable, Hashable {
    public init() {}
}

/// `archolt.ozmap.v1.GetCredentialsResponse`
public struct GetCredentialsResponse: Codable, Sendable, Hashable {
    public var credentials: Credentials

    public init(credentials: Credentials) {
        self.credentials = credentials
    }
}

/// `archolt.ozmap.v1.Credentials`: never the key itself.
public struct Credentials: Codable, Sendable, Hashable {
    public var apiUrl: String
    public var apiKeySet: Bool
    public var source: String
    public var updatedAt: String

    public init(apiUrl: String, apiKeySet: Bool, source: String, updatedAt: String) {
        self.apiUrl = apiUrl
        self.apiKeySet = apiKeySet
        self.source = source
        self.updatedAt = updatedAt
    }
}
