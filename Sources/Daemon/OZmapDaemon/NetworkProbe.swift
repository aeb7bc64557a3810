import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// DNS and TCP probes with deadlines, for `RunDoctor`: each answers within its timeout
/// whatever the network does (a resolver that hangs is left to finish on its own thread).
enum NetworkProbe {
    /// The addresses `host` resolves to, as text ("192.0.2.10", "2001:db8::1").
    static func resolve(_ host: String, timeout: Duration) async -> Result<[String], ProbeError> {
        await withDeadline(timeout, onTimeout: .failure(ProbeError("no answer from the resolver within \(timeout.seconds) s"))) {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, nil, &hints, &list)
            guard status == 0, let first = list else {
                return .failure(ProbeError(String(cString: gai_strerror(status))))
            }
            defer { freeaddrinfo(list) }
            var addresses: [String] = []
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let current = entry {
                var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &name, socklen_t(name.count), nil, 0, NI_NUMERICHOST) == 0 {
                    let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if !addresses.contains(text) { addresses.append(text) }
                }
                entry = current.pointee.ai_next
            }
            return addresses.isEmpty ? .failure(ProbeError("no address")) : .success(addresses)
        }
    }

    /// Opens (and closes) a TCP connection to `address` (numeric, from `resolve`) and `port`.
    static func connect(address: String, port: Int, timeout: Duration) async -> Result<Void, ProbeError> {
        await withDeadline(timeout + .seconds(1), onTimeout: .failure(ProbeError("timed out after \(timeout.seconds) s"))) {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(address, String(port), &hints, &list) == 0, let info = list else {
                return .failure(ProbeError("not a numeric address: \(address)"))
            }
            defer { freeaddrinfo(list) }
            let descriptor = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard descriptor >= 0 else { return .failure(ProbeError("socket: \(String(cString: strerror(errno)))")) }
            defer { close(descriptor) }
            if systemConnect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return .success(()) }
            guard errno == EINPROGRESS else { return .failure(ProbeError(String(cString: strerror(errno)))) }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let milliseconds = Int32(timeout / .milliseconds(1))
            var ready: Int32
            repeat { ready = poll(&poller, 1, milliseconds) } while ready < 0 && errno == EINTR
            guard ready > 0 else {
                return .failure(ProbeError(ready == 0 ? "timed out after \(timeout.seconds) s (a firewall dropping the packets?)" : String(cString: strerror(errno))))
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
            return failure == 0 ? .success(()) : .failure(ProbeError(String(cString: strerror(failure))))
        }
    }

    /// Runs blocking `work` on a thread of its own; `onTimeout` if it takes longer than `timeout`.
    private static func withDeadline<T: Sendable>(_ timeout: Duration, onTimeout: T, _ work: @escaping @Sendable () -> T) async -> T {
        let resumed = Once()
        return await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            @Sendable func finish(_ value: T) {
                if resumed.claim() { continuation.resume(returning: value) }
            }
            Thread.detachNewThread { finish(work()) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout / .milliseconds(1)))) {
                finish(onTimeout)
            }
        }
    }
}

/// True for the first caller only.
private final class Once: Sendable {
    private let done = Mutex(false)

    func claim() -> Bool {
        done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}

private func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    #if canImport(Glibc)
    Glibc.connect(descriptor, address, length)
    #else
    Darwin.connect(descriptor, address, length)
    #endif
}

struct ProbeError: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension Duration {
    /// Whole seconds, for messages.
    var seconds: Int64 { components.seconds }
}
