#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import OZmapRPC

/// The socket file's life: making room for it, its permissions, its removal.
enum SocketFile {
    struct StartupError: Error, CustomStringConvertible {
        let description: String
    }

    /// Clears the way for binding at `path`: a stale socket left by a dead
    /// process is removed; a live server, or a file that is not a socket, stops us.
    static func prepare(_ path: String) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty, access(directory, F_OK) != 0 {
            try makeDirectories(directory)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw StartupError(description: "\(path) exists and is not a socket; refusing to replace it (remove it or choose another --socket)")
        }
        switch probe(path) {
        case 0:
            throw StartupError(description: "another ozmapd is already serving \(path); stop it first or choose another --socket")
        case ECONNREFUSED, ENOENT:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw StartupError(description: "cannot remove the stale socket file \(path): \(errorText(errno))")
            }
        case let code:
            throw StartupError(description: "cannot tell whether \(path) is in use (\(errorText(code))); refusing to replace it")
        }
    }

    /// Connects to `path` and hangs up: 0 when something accepted, else the errno.
    private static func probe(_ path: String) -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return ENAMETOOLONG }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8)
            buffer[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0 ? 0 : errno
    }

    /// Sets the mode and, when asked, the group of the bound socket file.
    static func applyPermissions(_ path: String, mode: UInt32, group: String?) throws {
        if let group {
            let gid: gid_t
            if let number = gid_t(group) {
                gid = number
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                throw StartupError(description: "socket group '\(group)' does not exist")
            }
            guard chown(path, uid_t.max, gid) == 0 else {
                throw StartupError(description: "cannot give \(path) to group \(group): \(errorText(errno))")
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw StartupError(description: "cannot set mode \(String(mode, radix: 8)) on \(path): \(errorText(errno))")
        }
    }

    /// The file's identity, so that shutdown removes only the file it created.
    static func identity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    static func remove(_ path: String, ifIdentity expected: (device: UInt64, inode: UInt64)?) {
        guard let expected, let current = identity(path), current == expected else { return }
        unlink(path)
    }

    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw StartupError(description: "cannot create directory \(prefix): \(errorText(errno))")
            }
        }
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
