import Foundation
import GRPCCore
import GRPCInProcessTransport
import Logging
import OZmapClient
import OZmapDaemon
import OZmapDomain
import OZmapRPC
import OZmapStore
import OZmapTestSupport
import OZmapWire
import Testing

/// ozmapd's service through GRPCCore's in-process transport, with the socket server's
/// interceptors and requests encoded by protobuf-c as a caller sends them. No socket, no
/// child process, no OZmap: a daemon over a temporary state directory whose services never
/// run, with no credentials. Part of `make check` (FieldValidationTests does the same through
/// the socket, against the simulator, for every field of every method).
@Suite(.timeLimit(.minutes(1))) struct InProcessHandlerTests {
    /// Required fields left empty, and malformed ones: INVALID_ARGUMENT, the message starting
    /// with the field's name. None of these needs OZmap to be refused.
    @Test func invalidFieldsAreRefusedNamingTheField() async throws {
        let ozmapd = try InProcessDaemon()
        defer { ozmapd.remove() }
        let cases = invalidFieldCases + [
            ("ListOperations", #"{"page_token": "forged"}"#, "page_token"),
            ("Reconcile", #"{"archolt_olt_id": "olt-a", "onu_id": "1"}"#, "onu_id"),
        ]
        for (name, json, field) in cases {
            let response = try await ozmapd.call(name, json: json)
            #expect(response.outcome.grpcCode == .invalidArgument && response.outcome.message.hasPrefix(field + ":"),
                    "\(name) \(json): \(response.outcome.grpcCode.wireName) \(response.outcome.message)")
        }
        #expect(try await ozmapd.rpc.listONUs(ListONUsRequest()).onus.isEmpty, "nothing was stored")
    }

    /// Text no field may hold (not UTF-8, control characters, a bidi override) is refused before
    /// any handler runs, naming the field and not echoing the value back, in every string field.
    @Test func hostileTextInEveryStringFieldIsRefusedByName() async throws {
        let ozmapd = try InProcessDaemon()
        defer { ozmapd.remove() }
        let hostile: [(String, [UInt8])] = [
            ("non-UTF-8", [0x41, 0xC3, 0x28, 0xFF]),
            ("a newline", Array("line\nforged log line".utf8)),
            ("an embedded NUL", [0x61, 0x00, 0x62]),
            ("a bidi override", Array("abc\u{202E}fed".utf8)),
        ]
        var checked = 0
        for method in ozmapd.codec.service.methods {
            for field in try ozmapd.codec.stringFields(of: method.requestType) {
                for (what, value) in hostile {
                    let response = try await ozmapd.call(method.name, payload: FieldValidationTests.stringField(field.number, value))
                    checked += 1
                    #expect(response.outcome.grpcCode == .invalidArgument && response.outcome.message.hasPrefix(field.name + ":"),
                            "\(method.name).\(field.name) with \(what): \(response.outcome.code) \(response.outcome.message)")
                    #expect(!response.outcome.message.contains("forged log line"), "the value is not echoed back")
                }
            }
        }
        #expect(checked > 100)
    }

    /// An enum number this ozmapd does not know is refused naming the field, not taken for a
    /// default (ProvisionONU's implantation 99; ImportONUs' second row's implanted 99).
    @Test func unknownEnumNumbersAreRefusedByName() async throws {
        let ozmapd = try InProcessDaemon()
        defer { ozmapd.remove() }
        // onu_id = "1" (field 2), implantation = 99 (field 9, varint).
        let provision = try await ozmapd.call("ProvisionONU", payload: [0x12, 0x01, 0x31, 0x48, 99])
        #expect(provision.outcome.grpcCode == .invalidArgument && provision.outcome.message.hasPrefix("implantation:"),
                "\(provision.outcome.code) \(provision.outcome.message)")
        // rows (field 2): an empty row, then a row with implanted = 99 (field 7, varint).
        let rows: [UInt8] = [0x12, 0x00, 0x12, 0x02, 0x38, 99]
        let imported = try await ozmapd.call("ImportONUs", payload: rows)
        #expect(imported.outcome.grpcCode == .invalidArgument && imported.outcome.message.hasPrefix("rows[1].implanted:"),
                "\(imported.outcome.code) \(imported.outcome.message)")
    }

    /// What answers without OZmap: status, the method list, the credentials (unset), the empty
    /// cache and ONU list, the metrics.
    @Test func statusAndListsAnswerWithoutOZmap() async throws {
        let ozmapd = try InProcessDaemon()
        defer { ozmapd.remove() }
        let status = try await ozmapd.rpc.getStatus(GetStatusRequest())
        #expect(status.version == Daemon.version)
        #expect(status.socketPath == ozmapd.daemon.configuration.socketPath)
        #expect(!status.credentialsSet && status.credentialsState == "unset", "\(status.credentialsState)")
        #expect(status.boxCount == 0 && status.operationsPending == 0)

        let methods = try await ozmapd.rpc.listMethods(ListMethodsRequest()).methods
        #expect(Set(methods.map(\.name)) == Set(ozmapd.codec.service.methods.map(\.name)))
        #expect(methods.filter { !$0.implemented }.isEmpty, "not implemented: \(methods.filter { !$0.implemented }.map(\.name))")

        let credentials = try #require(try await ozmapd.rpc.getCredentials(GetCredentialsRequest()).credentials)
        #expect(credentials.apiUrl.isEmpty && !credentials.apiKeySet)
        #expect(try await ozmapd.rpc.listBoxes(ListBoxesRequest()).boxes.isEmpty)
        #expect(try await ozmapd.rpc.listONUs(ListONUsRequest(archoltOltId: "olt-a")).onus.isEmpty)
        let metrics = try await ozmapd.rpc.getMetrics(GetMetricsRequest()).prometheusText
        #expect(metrics.contains("ozmapd_build_info{version=\"\(Daemon.version)\"} 1"), "\(metrics.prefix(400))")
    }

    /// OLT links in the database answer ListOLTLinks and UnlinkOLT without OZmap; LinkOLT,
    /// which must find the OZmap OLT, says credentials come first; unknown ids are NOT_FOUND.
    @Test func oltLinksAndUnknownIdsWithoutOZmap() async throws {
        let ozmapd = try InProcessDaemon { database in
            try database.saveLink(LinkedOLT(archoltOLTID: "olt-a", ozmapOLTID: "5f5e10000001000000000007", ozmapOLTName: "OLT-FLN-01",
                                                      requireCTOOnActivation: true, createdAt: "2026-01-02T03:04:05.000Z",
                                                      updatedAt: "2026-01-02T03:04:05.000Z"))
        }
        defer { ozmapd.remove() }
        let links = try await ozmapd.rpc.listOLTLinks(ListOLTLinksRequest()).links
        #expect(links.map(\.archoltOltId) == ["olt-a"])
        #expect(links.first?.ozmapOltName == "OLT-FLN-01" && links.first?.requireCtoOnActivation == true)

        let link = try await ozmapd.call("LinkOLT", json: #"{"archolt_olt_id": "olt-b", "ozmap_olt_id": "5f5e10000001000000000008"}"#)
        #expect(link.outcome.grpcCode == .failedPrecondition && link.outcome.message.contains("SetCredentials"),
                "\(link.outcome.code) \(link.outcome.message)")

        let removed = try #require(try await ozmapd.rpc.unlinkOLT(UnlinkOLTRequest(archoltOltId: "olt-a")).removed)
        #expect(removed.archoltOltId == "olt-a" && removed.ozmapOltId == "5f5e10000001000000000007")
        #expect(try await ozmapd.rpc.listOLTLinks(ListOLTLinksRequest()).links.isEmpty)

        for (name, json, mentions) in [("UnlinkOLT", #"{"archolt_olt_id": "olt-a"}"#, "olt-a"),
                                       ("GetONU", #"{"onu_id": "onu-404"}"#, "onu-404"),
                                       ("RetryOperation", #"{"operation_id": "404"}"#, "404")] {
            let response = try await ozmapd.call(name, json: json)
            #expect(response.outcome.grpcCode == .notFound && response.outcome.message.contains(mentions),
                    "\(name): \(response.outcome.code) \(response.outcome.message)")
        }
    }
}

/// ozmapd assembled over a temporary state directory, its services never started: only its
/// handlers, database and cache, served by GRPCCore over the in-process transport.
private struct InProcessDaemon {
    let directory: String
    let daemon: Daemon
    let codec = ProtobufCCodec.ozmap
    private let transport = InProcessTransport()
    private let client: GRPCClient<InProcessTransport.Client>
    private let running: Task<Void, any Error>

    /// `seed` writes to the state database before ozmapd opens it.
    init(seed: (StateDatabase) throws -> Void = { _ in }) throws {
        directory = try makeTemporaryDirectory(prefix: "ozmapd-inproc")
        var configuration = DaemonConfiguration()
        configuration.socketPath = directory + "/ozmapd.sock" // never bound: no service runs
        configuration.stateDirectory = directory + "/state"
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try seed(try StateDatabase(stateDirectory: configuration.stateDirectory))
        let daemon = try Daemon(configuration: configuration, logger: Logger(label: "ozmapd") { _ in SwiftLogNoOpLogHandler() })
        self.daemon = daemon
        let server = GRPCServer(transport: transport.server, services: [daemon.service], interceptors: daemon.interceptors)
        let client = GRPCClient(transport: transport.client)
        self.client = client
        running = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                group.addTask { try await client.runConnections() }
            }
        }
    }

    func remove() {
        running.cancel()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One call, its request as JSON (ProtoJSON), encoded by protobuf-c: the response envelope.
    func call(_ name: String, json: String) async throws -> ResponseEnvelope {
        let method = try #require(codec.service.methods.first { $0.name == name }, "no method \(name)")
        return try await call(name, payload: try codec.encode(try ProtoJSON.parse(json), as: method.requestType))
    }

    /// One call of protobuf bytes: the answer as the socket would carry it.
    func call(_ name: String, payload: [UInt8]) async throws -> ResponseEnvelope {
        let method = try #require(codec.service.methods.first { $0.name == name }, "no method \(name)")
        do {
            let answer = try await client.unary(
                request: ClientRequest(message: payload),
                descriptor: GRPCCore.MethodDescriptor(fullyQualifiedService: method.service, method: method.name),
                serializer: RawBytesCoding(), deserializer: RawBytesCoding(), options: .defaults) { try $0.message }
            return ResponseEnvelope(callId: 1, status: ArcholtOZmapV1.Status.ok, payload: answer)
        } catch let error as GRPCCore.RPCError {
            return ResponseEnvelope(callId: 1, status: ArcholtOZmapV1.Status(error))
        }
    }

    /// The generated client: calls that must succeed, on typed messages.
    var rpc: OZmapIntegration.Client<InProcessTransport.Client> { OZmapIntegration.Client(wrapping: client) }
}
