#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import OZmapRPC

/// Reads SO_PEERCRED of a connected Unix socket; nil where the platform has none.
enum PeerCredentials {
    /// The layout of Linux's `struct ucred`.
    private struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static func read(_ channel: any Channel) -> EventLoopFuture<PeerIdentity?> {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future
            .map { Optional(PeerIdentity(pid: $0.pid, uid: $0.uid, gid: $0.gid)) }
            .recover { _ in nil }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }
}
