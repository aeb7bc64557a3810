import ArgumentParser
import Foundation
import OZmapAPI
import OZmapClient
import OZmapRPC
import OZmapWire

@main
struct OZmapctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ozmapctl",
        abstract: "Talk to ozmapd over its Unix socket.",
        discussion: "The exit code is the call's gRPC status code: 0 OK, 3 INVALID_ARGUMENT, 5 NOT_FOUND, 14 UNAVAILABLE, ...",
        version: "0.1.0",
        subcommands: [Status.self, Methods.self, Call.self]
    )
}

/// Options every subcommand takes.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "ozmapd's socket (default: $OZMAPD_SOCKET, else /run/ozmapd/ozmapd.sock).")
    var socket: String?

    @Flag(help: "Print JSON for scripts instead of aligned text.")
    var json = false

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 30

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["OZMAPD_SOCKET"] ?? "/run/ozmapd/ozmapd.sock"
    }

    /// Calls `method` with a request value and returns the response value;
    /// any failure ends the process with the status code as exit code.
    func call(_ method: String, request: ProtoValue) async throws -> ProtoValue {
        do {
            let codec = ProtobufCCodec.ozmap
            guard let descriptor = codec.service.methods.first(where: { $0.name == method || $0.path == method }) else {
                throw RPCError(.unimplemented, "unknown method '\(method)'; 'ozmapctl methods' lists them")
            }
            let payload = try codec.encode(request, as: descriptor.requestType)
            let client = try await OZmapClient.connect(socketPath: socketPath)
            let response = try await client.call(path: descriptor.path, payload: payload, timeout: .milliseconds(Int64(timeout * 1000)))
            await client.close()
            guard response.status.isOK else { throw RPCError(status: response.status) }
            return try codec.decode(response.payload, as: descriptor.responseType)
        } catch let error as RPCError {
            report(error)
            throw ExitCode(error.code.rawValue)
        }
    }

    func report(_ error: RPCError) {
        if json {
            var status: ProtoMessage = ["code": .int(Int64(error.code.rawValue)), "status": .string(error.code.name),
                                        "message": .string(error.message)]
            if !error.violations.isEmpty {
                status["violations"] = .list(error.violations.map { .message(["field": .string($0.field), "description": .string($0.description)]) })
            }
            print(ProtoJSON.render(.message(["error": .message(status)])))
        } else {
            var text = "ozmapctl: \(error.code.name): \(error.message)\n"
            for violation in error.violations { text += "  \(violation.field): \(violation.description)\n" }
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}

/// Prints rows as columns padded to their widest cell.
func printTable(_ rows: [[String]]) {
    guard let columns = rows.map(\.count).max() else { return }
    let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
    for row in rows {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }
        print(cells.joined(separator: "  "))
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show ozmapd's version, uptime, connections and calls.")

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let value = try await options.call(OZmapIntegration.getStatus.name, request: .message(ProtoMessage()))
        if options.json { return print(ProtoJSON.render(value)) }
        let status = try ProtoValueDecoder().decode(GetStatusResponse.self, from: value)
        printTable([
            ["version", status.version],
            ["started", status.startedAt],
            ["uptime", formatDuration(milliseconds: status.uptimeMs)],
            ["socket", status.socketPath],
            ["connections", "\(status.connectionsOpen) open, \(status.connectionsAccepted) accepted"],
            ["calls", "\(status.callsServed) served, \(status.callsInFlight) in flight"],
        ])
    }

    private func formatDuration(milliseconds: UInt64) -> String {
        let seconds = milliseconds / 1000
        let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60)
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m \(seconds % 60)s" }
        return "\(minutes)m \(seconds % 60)s"
    }
}

struct Methods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the methods ozmapd answers, with their request and response types.")

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let value = try await options.call(OZmapIntegration.listMethods.name, request: .message(ProtoMessage()))
        if options.json { return print(ProtoJSON.render(value)) }
        let methods = try ProtoValueDecoder().decode(ListMethodsResponse.self, from: value).methods
        let prefix = "archolt.ozmap.v1."
        func short(_ type: String) -> String { type.hasPrefix(prefix) ? String(type.dropFirst(prefix.count)) : type }
        printTable([["METHOD", "REQUEST", "RESPONSE", "IMPLEMENTED"]] + methods.map {
            [$0.name, short($0.requestType), short($0.responseType), $0.implemented ? "yes" : "no"]
        })
    }
}

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any method with its request as JSON and print the response as JSON.",
        discussion: """
        Field names as in the .proto (onu_id) or camelCase (onuId); enums by name or number.
        Example: ozmapctl call GetStatus --data '{}'
        """
    )

    @Argument(help: "A method name (GetStatus) or path (/archolt.ozmap.v1.OZmapIntegration/GetStatus).")
    var method: String

    @Option(help: "The request as a JSON object ('-' reads it from standard input).")
    var data: String = "{}"

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let text = data == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : data
        let request: ProtoValue
        do {
            request = try ProtoJSON.parse(text)
        } catch let error as RPCError {
            options.report(RPCError(.invalidArgument, "--data: \(error.message)"))
            throw ExitCode(StatusCode.invalidArgument.rawValue)
        }
        print(ProtoJSON.render(try await options.call(method, request: request)))
    }
}
