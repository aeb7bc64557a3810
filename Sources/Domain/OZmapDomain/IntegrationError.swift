/// What went wrong, in the integration's own terms: the kind decides what a caller or the outbox
/// does next; the message says it to a person and never holds the OZmap key. The RPC edge maps
/// kinds to status codes (the daemon's `IntegrationError+Status`); nothing here knows gRPC.
public struct IntegrationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// An input value is wrong; `field` is its name as ArchOLT gives it (`serial_number`, `cto`).
        case invalidInput(field: String, problem: String)
        /// ozmapd has no such thing: ONU, operation, box in the cache, OLT link.
        case notFound
        /// The OLT requires a CTO at activation and none was given.
        case ctoRequired
        /// The CTO has no free customer port.
        case ctoFull
        /// The request contradicts the current state (an ONU on another OLT, an OLT not linked, a
        /// name matching several boxes, an operation that has not failed).
        case conflict
        /// No OZmap credentials are set: what needs OZmap cannot start.
        case credentialsMissing
        /// ozmapd cannot answer yet (the box cache still loading, the state directory refusing a write):
        /// the same request can succeed later.
        case notReady
        /// OZmap could not be reached, timed out, throttled, failed (5xx) or answered something unreadable.
        case ozmapUnreachable
        /// OZmap rejected the API key (HTTP 401).
        case ozmapRejectedKey
        /// The key's user lacks permission (HTTP 403).
        case ozmapForbidden
        /// OZmap has no such record (HTTP 404).
        case ozmapNotFound
        /// OZmap refused the request itself (HTTP 400, 422 or another 4xx), or answered a write in a way
        /// that leaves it undone: sending it again unchanged will not help.
        case ozmapRefused(httpStatus: Int)
        /// ozmapd's own fault: a record vanished under it, a file it must write cannot be written.
        case internalFailure
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A wrong input value, said as "field: problem".
    public static func invalidInput(field: String, _ problem: String) -> IntegrationError {
        IntegrationError(.invalidInput(field: field, problem: problem), "\(field): \(problem)")
    }

    /// OZmap's side failed in a way that may pass: unreachable, throttling, rejecting the key
    /// (new credentials fix it) — as opposed to refusing this request for good.
    public var isOZmapTransient: Bool {
        switch kind {
        case .ozmapUnreachable, .ozmapRejectedKey, .ozmapForbidden: true
        default: false
        }
    }

    public var description: String { message }
}
