import Foundation

/// VmRSS of a process, in bytes, from /proc.
public func residentBytes(_ pid: Int32) throws -> Int {
    try procStatusBytes(pid, "VmRSS")
}

/// VmHWM of a process (its peak resident memory so far), in bytes, from /proc.
public func peakResidentBytes(_ pid: Int32) throws -> Int {
    try procStatusBytes(pid, "VmHWM")
}

/// The CPU time (user + system) a process has used so far, in seconds, from /proc.
public func cpuSeconds(_ pid: Int32) throws -> Double {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    guard let close = stat.lastIndex(of: ")") else { throw TimedOut(description: "no fields in /proc/\(pid)/stat") }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
        throw TimedOut(description: "no CPU times in /proc/\(pid)/stat")
    }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
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
