/// One method of a service, as its descriptor declares it.
public struct MethodDescriptor: Sendable, Hashable {
    /// The service's full name, e.g. `archolt.ozmap.v1.OZmapIntegration`.
    public var service: String
    /// The method's name, e.g. `GetStatus`.
    public var name: String
    /// Full names of the request and response messages.
    public var requestType: String
    public var responseType: String

    public init(service: String, name: String, requestType: String, responseType: String) {
        self.service = service
        self.name = name
        self.requestType = requestType
        self.responseType = responseType
    }

    /// The path a RequestEnvelope names: `/archolt.ozmap.v1.OZmapIntegration/GetStatus`.
    public var path: String { "/\(service)/\(name)" }
}

/// A service's methods, from its descriptor.
public struct ServiceDescriptor: Sendable, Hashable {
    public var name: String
    public var methods: [MethodDescriptor]

    public init(name: String, methods: [MethodDescriptor]) {
        self.name = name
        self.methods = methods
    }
}

/// Who is on the other end of a connection (from SO_PEERCRED).
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }
}
