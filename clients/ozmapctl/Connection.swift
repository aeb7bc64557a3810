import ArcholtOZmapV1
import ArgumentParser
import Foundation
import GRPCCore
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

    /// The call's options: --timeout as its deadline.
    var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .milliseconds(Int64((timeout ?? 30) * 1000))
        return options
    }

    /// Calls ozmapd through the generated client, e.g.
    /// `options.call { try await $0.getStatus(GetStatusRequest(), options: $1) }`;
    /// a failed call is reported and thrown as the exit code of its status.
    func call<Response: Sendable>(
        _ method: (OZmapIntegration.Client<UnixSocketClientTransport>, CallOptions) async throws -> Response
    ) async throws -> Response {
        try await withClient { try await method(OZmapIntegration.Client(wrapping: $0), callOptions) }
    }

    /// Calls a listing method page after page until the last (or once unless `all`); returns every page.
    func callAllPages<Request: PagedRequest, Response: PagedResponse>(
        _ request: Request, all: Bool = true,
        _ method: (OZmapIntegration.Client<UnixSocketClientTransport>, Request, CallOptions) async throws -> Response
    ) async throws -> [Response] {
        var request = request
        var pages: [Response] = []
        repeat {
            let page = try await call { [request] in try await method($0, request, $1) }
            pages.append(page)
            request.pageToken = page.nextPageToken
        } while all && !request.pageToken.isEmpty
        return pages
    }

    /// Calls any method by name or path with its request as a value (`ozmapctl call`):
    /// the descriptors encode it and decode the response.
    func call(_ method: String, request: ProtoValue) async throws -> ProtoValue {
        let codec = ProtobufCCodec.ozmap
        do {
            guard let descriptor = codec.service.methods.first(where: { $0.name == method || $0.path == method }) else {
                throw RPCError(code: .unimplemented, message: "unknown method '\(method)'; 'ozmapctl methods' lists them")
            }
            let payload = try codec.encode(request, as: descriptor.requestType)
            let response = try await withClient { grpc in
                try await grpc.unary(
                    request: ClientRequest(message: payload),
                    descriptor: GRPCCore.MethodDescriptor(fullyQualifiedService: descriptor.service, method: descriptor.name, type: .unary),
                    serializer: RawBytesCoding(), deserializer: RawBytesCoding(), options: callOptions) { try $0.message }
            }
            return try codec.decode(response, as: descriptor.responseType)
        } catch let error as RPCError {
            throw failure(error)
        }
    }

    /// Runs `body` with a client on ozmapd's socket, shut down when it returns;
    /// a failed call is reported and thrown as the exit code of its status.
    private func withClient<Result: Sendable>(_ body: (GRPCClient<UnixSocketClientTransport>) async throws -> Result) async throws -> Result {
        do {
            return try await withGRPCClient(transport: try await UnixSocketClientTransport.connect(socketPath: socketPath), handleClient: body)
        } catch let error as RPCError {
            throw failure(error) // UNAVAILABLE too when ozmapd is not listening there
        }
    }

    /// Reports `error` (JSON on standard output with --json, else text on standard error);
    /// returns the exit code to end with: its status code.
    func failure(_ error: RPCError) -> ExitCode {
        let name = GRPCCore.Status.Code(error.code).wireName
        let violations = error.violations
        if json {
            var status: ProtoMessage = ["code": .int(Int64(error.code.rawValue)), "status": .string(name),
                                        "message": .string(error.message)]
            if !violations.isEmpty {
                status["violations"] = .list(violations.map { .message(["field": .string($0.field), "description": .string($0.description)]) })
            }
            print(ProtoJSON.render(.message(["error": .message(status)])))
        } else {
            var text = "ozmapctl: \(name): \(error.message)\n"
            for violation in violations { text += "  \(violation.field): \(violation.description)\n" }
            FileHandle.standardError.write(Data(text.utf8))
        }
        return ExitCode(Int32(error.code.rawValue))
    }
}

/// Prints rows as columns padded to their widest cell.
func printTable(_ rows: [[String]]) {
    for line in formatTable(rows) { print(line) }
}


/// Requests and responses of the List methods, paged with tokens.
protocol PagedRequest: Sendable { var pageToken: String { get set } }
protocol PagedResponse: Sendable { var nextPageToken: String { get } }

extension ListBoxesRequest: PagedRequest {}
extension ListBoxesResponse: PagedResponse {}
extension ListONUsRequest: PagedRequest {}
extension ListONUsResponse: PagedResponse {}
extension ListOperationsRequest: PagedRequest {}
extension ListOperationsResponse: PagedResponse {}
extension ListAuditLogRequest: PagedRequest {}
extension ListAuditLogResponse: PagedResponse {}

/// A typed message as `--json` prints it: its bytes read through the descriptors, as
/// `ozmapctl call` prints any response.
func jsonValue<Message: WireMessage>(_ message: Message) throws -> ProtoValue {
    try ProtobufCCodec.ozmap.decode(message.serializedBytes(), as: Message.protoName)
}

/// Prints a typed message as JSON (`--json`).
func printJSON(_ message: some WireMessage) throws {
    print(ProtoJSON.render(try jsonValue(message)))
}

/// `synced`, `waiting-for-cto`... from `ONU_STATE_SYNCED`, `ONU_STATE_WAITING_FOR_CTO`.
func short(_ name: String, _ prefix: String) -> String {
    String(name.dropFirst(name.hasPrefix(prefix) ? prefix.count : 0)).lowercased().replacingOccurrences(of: "_", with: "-")
}

/// A generated enum: its cases and their names in the proto.
protocol ProtoEnum: CaseIterable, Equatable {
    var protoName: String { get }
}

extension ONUState: ProtoEnum {}
extension OperationState: ProtoEnum {}

/// The enum case a `--state` option names in its short form; nil when no option was given.
func parseState<State: ProtoEnum>(_ text: String?, prefix: String, options: ConnectionOptions) throws -> State? {
    guard let text else { return nil }
    let names = State.allCases.map { short($0.protoName, prefix) }.filter { $0 != "unspecified" }
    guard let state = State.allCases.first(where: { short($0.protoName, prefix) == text.lowercased() }), names.contains(text.lowercased()) else {
        throw options.failure(RPCError.invalidArgument(field: "--state", "one of \(names.joined(separator: ", "))"))
    }
    return state
}
