import Foundation

/// A TCP port on 127.0.0.1 held by the test: listening, it accepts connections and never
/// reads from them (the kernel completes the handshake into the backlog) — what
/// `ozmapctl doctor`'s `ozmap_web_port` check is pointed at in place of OZmap's port 80;
/// not listening, it refuses them, and nothing else can take it meanwhile (a closed port).
public final class LoopbackListener: Sendable {
    public let port: Int
    private let descriptor: Int32

    public init(listening: Bool = true) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TimedOut(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && (!listening || listen(descriptor, 64) == 0)
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            let error = errno
            close(descriptor)
            throw TimedOut(description: "cannot listen on a loopback port: errno \(error)")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(descriptor)
    }
}
