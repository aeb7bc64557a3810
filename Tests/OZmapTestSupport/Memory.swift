import Foundation

/// VmRSS of a process, in bytes, from /proc.
public func residentBytes(_ pid: Int32) throws -> Int {
    try procStatusBytes(pid, "VmRSS")
}

/// VmHWM of a process (its peak resident memory so far), in bytes, from /proc.
public func peakResidentBytes(_ pid: Int32) throws -> Int {
    try procStatusBytes(pid, "VmHWM")
}

private func procStatusBytes(_ pid: Int32, _ field: String) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
          let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) else {
        throw TimedOut(description: "no \(field) in /proc/\(pid)/status")
    }
    return kilobytes * 1024
}

/// Whether this test binary runs under AddressSanitizer; the ozmapd it starts comes from the
/// same build (OZMAPD_BIN_DIR), so it does too, and its RSS says nothing (ASan's quarantine).
public let runningUnderAddressSanitizer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
