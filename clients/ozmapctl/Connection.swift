import ArgumentParser
import Foundation
import OZmapAPI
import OZmapClient
import OZmapCtlSupport
import OZmapRPC
import OZmapWire

/// Options every subcommand takes.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "ozmapd's socket (default: $OZMAPD_SOCKET, else /run/ozmapd/ozmapd.sock).")
    var socket: String?

    @Flag(help: "Print JSON for scripts instead of aligned text.")
    var json = false

    @Option(help: "Seconds to wait for each answer (default 30; reconcile and onu import: 600).")
    var timeout: Double?

    /// These options with `seconds` as the timeout unless --timeout was given.
    func withTimeout(default seconds: Double) -> ConnectionOptions {
        var options = self
        options.timeout = timeout ?? seconds
        return options
    }

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["OZMAPD_SOCKET"] ?? "/run/ozmapd/ozmapd.sock"
    }

    /// Calls a typed method; returns the response typed and as a value (for --json).
    func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request) async throws -> (Response, ProtoValue) {
        let value = try await call(method.name, request: try ProtoValueEncoder().encode(request))
        return (try ProtoValueDecoder().decode(Response.self, from: value), value)
    }

    /// Calls a listing method page after page until the last; returns every page.
    func callAllPages<Request: PagedRequest, Response: PagedResponse>(
        _ method: RPCMethod<Request, Response>, _ request: Request, all: Bool = true
    ) async throws -> [(Response, ProtoValue)] {
        var request = request
        var pages: [(Response, ProtoValue)] = []
        repeat {
            let page = try await call(method, request)
            pages.append(page)
            request.pageToken = page.0.nextPageToken
        } while all && !request.pageToken.isEmpty
        return pages
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
            let response = try await client.call(path: descriptor.path, payload: payload, timeout: .milliseconds(Int64((timeout ?? 30) * 1000)))
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
    for line in formatTable(rows) { print(line) }
}


/// Requests and responses of the List methods, paged with tokens.
protocol PagedRequest: Codable, Sendable { var pageToken: String { get set } }
protocol PagedResponse: Codable, Sendable { var nextPageToken: String { get } }

extension ListBoxesRequest: PagedRequest {}
extension ListBoxesResponse: PagedResponse {}
extension ListONUsRequest: PagedRequest {}
extension ListONUsResponse: PagedResponse {}
extension ListOperationsRequest: PagedRequest {}
extension ListOperationsResponse: PagedResponse {}
extension ListAuditLogRequest: PagedRequest {}
extension ListAuditLogResponse: PagedResponse {}

/// `synced`, `waiting-for-cto`... from `ONU_STATE_SYNCED`, `ONU_STATE_WAITING_FOR_CTO`.
func short(_ name: String, _ prefix: String) -> String {
    String(name.dropFirst(name.hasPrefix(prefix) ? prefix.count : 0)).lowercased().replacingOccurrences(of: "_", with: "-")
}

/// The enum case a `--state` option names in its short form; nil when no option was given.
func parseState<State: RawRepresentable & CaseIterable>(_ text: String?, prefix: String, options: ConnectionOptions) throws -> State?
where State.RawValue == String {
    guard let text else { return nil }
    let names = State.allCases.map { short($0.rawValue, prefix) }.filter { $0 != "unspecified" }
    guard let state = State.allCases.first(where: { short($0.rawValue, prefix) == text.lowercased() }), names.contains(text.lowercased()) else {
        options.report(RPCError.invalidArgument(field: "--state", "one of \(names.joined(separator: ", "))"))
        throw ExitCode(StatusCode.invalidArgument.rawValue)
    }
    return state
}
