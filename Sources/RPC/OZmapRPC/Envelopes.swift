/// What a client sends in one frame: `archolt.ozmap.v1.RequestEnvelope`.
public struct RequestEnvelope: Sendable, Hashable, Codable {
    public static let messageType = "archolt.ozmap.v1.RequestEnvelope"

    public var callID: UInt64
    public var method: String
    /// 0 means the server default.
    public var timeoutMs: UInt32
    public var payload: [UInt8]

    public init(callID: UInt64, method: String, timeoutMs: UInt32 = 0, payload: [UInt8] = []) {
        self.callID = callID
        self.method = method
        self.timeoutMs = timeoutMs
        self.payload = payload
    }
}

/// What the server answers in one frame: `archolt.ozmap.v1.ResponseEnvelope`.
public struct ResponseEnvelope: Sendable, Hashable, Codable {
    public static let messageType = "archolt.ozmap.v1.ResponseEnvelope"

    public var callID: UInt64
    public var status: Status
    public var payload: [UInt8]

    public init(callID: UInt64, status: Status, payload: [UInt8] = []) {
        self.callID = callID
        self.status = status
        self.payload = payload
    }

    /// A connection-level error, answered with call_id 0 before the connection closes.
    public static func connectionError(_ error: RPCError) -> ResponseEnvelope {
        ResponseEnvelope(callID: 0, status: error.status)
    }
}
