import Foundation
import GRPCCore
import OZmapRPC
import OZmapWire

/// How the Unix-socket server listens and whom it lets in.
public struct ServerConfiguration: Sendable {
    public var socketPath: String
    /// Mode of the socket file (0660: owner and group may connect).
    public var socketMode: UInt32 = 0o660
    /// Group of the socket file, by name or number; nil keeps the process's group.
    public var socketGroup: String?
    public var maximumFrameLength = Framing.defaultMaxFrameLength
    /// Calls one connection may have in flight before the server stops reading from it.
    public var maximumCallsInFlightPerConnection = 128
    /// Calls running at once across all connections; more wait, and a free slot goes to the
    /// connection with the fewest outstanding (`CallQueue`), so one connection's flood cannot
    /// starve another caller. As many as the cores: these calls are CPU work, and each running
    /// call beyond a core delays the others' next steps (beside a 64 × 128 flood on 2 cores, a
    /// lone caller's p99 was ×15 its p99 alone with 64 running, ×10–13 with 4 or 8, ×2.4–2.9
    /// with 2, at the same calls/s).
    public var maximumRunningCalls = ServerConfiguration.defaultRunningCalls
    public static let defaultRunningCalls = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// Paths of the methods whose calls mostly wait on something else (OZmap): they start at
    /// once and do not count against `maximumRunningCalls`, so a slow OZmap cannot hold every slot.
    public var waitingMethods: Set<String> = []
    /// Connections open at once; one more is answered RESOURCE_EXHAUSTED and closed.
    public var maximumConnections = 256
    /// How long a frame may take to arrive once it has begun (slow or stalled peers).
    public var incompleteFrameTimeout: Duration = .seconds(10)
    /// How long a connection may stay open with no call in flight; nil keeps it for ever.
    public var idleTimeout: Duration? = .seconds(900)
    public var peerPolicy = PeerPolicy()
    /// How long shutdown waits for calls in flight before closing connections.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// A call's deadline when its `timeout_ms` is 0.
    public var defaultCallTimeout: Duration = .seconds(30)
    /// A listening Unix stream socket handed over by systemd (`LISTEN_FDS`, fd 3): accepted on
    /// instead of binding `socketPath`, whose file systemd owns (no unlink, chmod or chown).
    public var inheritedSocket: CInt?

    public init(socketPath: String) {
        self.socketPath = socketPath
    }
}

/// Which peers (by SO_PEERCRED) may call. Empty lists allow everyone who can
/// open the socket file; otherwise a peer is let in when its uid or its gid is listed.
public struct PeerPolicy: Sendable, Hashable {
    public var allowedUIDs: Set<UInt32> = []
    public var allowedGIDs: Set<UInt32> = []

    public init(allowedUIDs: Set<UInt32> = [], allowedGIDs: Set<UInt32> = []) {
        self.allowedUIDs = allowedUIDs
        self.allowedGIDs = allowedGIDs
    }

    public var allowsEveryone: Bool { allowedUIDs.isEmpty && allowedGIDs.isEmpty }

    /// Nil when the peer may call; otherwise why not.
    public func denial(for peer: PeerIdentity?) -> GRPCCore.RPCError? {
        if allowsEveryone { return nil }
        guard let peer else {
            return GRPCCore.RPCError(code: .permissionDenied, message: "ozmapd could not read the peer credentials of this connection and only admits listed uids/gids")
        }
        if allowedUIDs.contains(peer.uid) || allowedGIDs.contains(peer.gid) { return nil }
        return GRPCCore.RPCError(code: .permissionDenied, message: "peer uid \(peer.uid) gid \(peer.gid) is not allowed to call ozmapd (allowed_uids / allowed_gids in its configuration)")
    }
}
