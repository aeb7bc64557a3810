import ArcholtOZmapV1
import ArgumentParser
import Foundation
import GRPCCore
import OZmapClient
import OZmapRPC

/// `ozmapctl doctor`: ozmapd reachable and this caller permitted, then ozmapd's own checks
/// (RunDoctor: OZmap's URL, DNS, ports 80 and 9994, TLS, the key, the clock, the cache, the
/// outbox, file modes). One line per check; exit 0 only when every check passes, else 69.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check ozmapd and its way to OZmap: one line per check, ✔ or ✘ with the fix.",
        discussion: "Exit code 0 when every check passes, 69 (EX_UNAVAILABLE) when any fails, ozmapd unreachable included. "
            + "docs/OPERATIONS.md, \"Doctor\", explains each check."
    )

    /// The exit code when any check fails (sysexits.h EX_UNAVAILABLE).
    static let checkFailedExitCode: Int32 = 69

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let checks = await allChecks()
        let passed = checks.allSatisfy(\.ok)
        if options.json {
            let rendered: [ProtoValue] = checks.map {
                .message(["name": .string($0.name), "ok": .bool($0.ok), "detail": .string($0.detail), "fix": .string($0.fix)])
            }
            print(ProtoJSON.render(.message(["ok": .bool(passed), "checks": .list(rendered)])))
        } else {
            for check in checks {
                print("\(check.ok ? "✔" : "✘") \(check.name): \(check.detail)")
                if !check.ok, !check.fix.isEmpty { print("    fix: \(check.fix)") }
            }
        }
        // 69 (EX_UNAVAILABLE): apart from the call's status codes (0–16; 1 is CANCELLED) that
        // other commands exit with, and from onu import's 65.
        if !passed { throw ExitCode(Self.checkFailedExitCode) }
    }

    /// This client's checks, then the server's when it could be asked.
    private func allChecks() async -> [DoctorCheck] {
        let path = options.socketPath
        let transport: UnixSocketClientTransport
        do {
            transport = try await UnixSocketClientTransport.connect(socketPath: path)
        } catch {
            return [DoctorCheck(name: "socket", ok: false, detail: (error as? GRPCCore.RPCError)?.message ?? "\(error)",
                                fix: socketFix(path))]
        }
        return [DoctorCheck(name: "socket", ok: true, detail: "connected to ozmapd at \(path)")] + (await serverChecks(transport))
    }

    /// "permitted", then RunDoctor's checks.
    private func serverChecks(_ transport: UnixSocketClientTransport) async -> [DoctorCheck] {
        do {
            let response = try await withGRPCClient(transport: transport) { grpc in
                try await OZmapIntegration.Client(wrapping: grpc).runDoctor(RunDoctorRequest(), options: options.callOptions)
            }
            return [DoctorCheck(name: "permitted", ok: true, detail: "ozmapd answers this user (uid \(getuid()))")] + response.checks
        } catch let error as GRPCCore.RPCError {
            let name = GRPCCore.Status.Code(error.code).wireName
            if error.code == .permissionDenied {
                return [DoctorCheck(name: "permitted", ok: false, detail: "\(name): \(error.message)",
                                    fix: "add uid \(getuid()) or one of its groups to allowed_uids / allowed_gids in ozmapd's configuration, then restart ozmapd")]
            }
            return [DoctorCheck(name: "ozmapd checks", ok: false, detail: "RunDoctor failed: \(name): \(error.message)",
                                fix: error.code == .unimplemented ? "upgrade ozmapd: this one has no RunDoctor" : "see ozmapd's log (journalctl -u ozmapd)")]
        } catch {
            return [DoctorCheck(name: "ozmapd checks", ok: false, detail: "RunDoctor failed: \(error)", fix: "see ozmapd's log (journalctl -u ozmapd)")]
        }
    }

    private func socketFix(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "start ozmapd (systemctl start ozmapd), or point at its socket with --socket or OZMAPD_SOCKET"
        }
        if access(path, R_OK | W_OK) != 0 {
            return "this user may not open \(path): add it to the socket's group (socket_group) or run as ozmapd's user"
        }
        return "ozmapd is not listening on \(path): start it (systemctl start ozmapd) and see its log (journalctl -u ozmapd)"
    }
}
