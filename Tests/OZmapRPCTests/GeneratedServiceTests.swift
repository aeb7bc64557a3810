import ArcholtOZmapV1
import GRPCCore
import GRPCInProcessTransport
import Testing

/// The generated service protocol and client stubs on GRPCCore, end to end through
/// its in-process transport: messages are packed and unpacked by libprotobuf-c both
/// ways, errors keep their code and message, and bytes that are no request are
/// refused by the server's deserializer naming the field.
@Suite(.timeLimit(.minutes(3))) struct GeneratedServiceTests {
    @Test func aGeneratedClientCallsAGeneratedServiceInProcess() async throws {
        let transport = InProcessTransport()
        try await withGRPCServer(transport: transport.server, services: [InProcessIntegration()]) { server in
            try await withGRPCClient(transport: transport.client) { client in
                let integration = OZmapIntegration.Client(wrapping: client)

                let status = try await integration.getStatus(GetStatusRequest())
                #expect(status == GetStatusResponse(version: "in-process", callsServed: 1))

                let reply = try await integration.provisionONU(
                    ProvisionONURequest(archoltOltId: "olt-1", onuId: "1001", serialNumber: "zteg0001", implantation: .implanted))
                #expect(reply.onu == ONU(onuId: "1001", serialNumber: "ZTEG0001", state: .pending))
                #expect(reply.operation == nil)

                await #expect { try await integration.deprovisionONU(DeprovisionONURequest(onuId: "7")) } throws: { error in
                    let error = error as? RPCError
                    return error?.code == .failedPrecondition && error?.message == "ONU 7 is not provisioned"
                }
                await #expect { try await integration.provisionONU(ProvisionONURequest()) } throws: { error in
                    (error as? RPCError)?.code == .invalidArgument
                }

                // Bytes that are no ProvisionONURequest (onu_id is not UTF-8): the server's
                // deserializer refuses them before the handler runs.
                let invalid: [UInt8] = [0x12, 0x02, 0xc3, 0x28]
                await #expect {
                    try await integration.provisionONU(
                        request: ClientRequest(message: ProvisionONURequest()), serializer: FixedBytes(bytes: invalid),
                        deserializer: WireDeserializer<ProvisionONUResponse>(.response), options: .defaults) { try $0.message }
                } throws: { error in
                    let error = error as? RPCError
                    return error?.code == .invalidArgument && error?.message == "onu_id: not valid UTF-8"
                }
                server.beginGracefulShutdown()
                client.beginGracefulShutdown()
            }
        }
    }

    /// A coding error is the caller's (INVALID_ARGUMENT, the field in the metadata) on a
    /// request, ozmapd's (INTERNAL) on a response.
    @Test func whoseFaultACodingErrorIsDependsOnTheSide() throws {
        let notUTF8: [UInt8] = [0x12, 0x02, 0xc3, 0x28]   // onu_id = C3 28
        #expect {
            _ = try WireDeserializer<ProvisionONURequest>(.request).deserialize(notUTF8)
        } throws: { error in
            guard let error = error as? RPCError else { return false }
            return error.code == .invalidArgument && error.message == "onu_id: not valid UTF-8"
                && Array(error.metadata[stringValues: "field-violation"]) == ["onu_id: not valid UTF-8"]
        }
        #expect {
            _ = try WireDeserializer<ProvisionONURequest>(.response).deserialize(notUTF8)
        } throws: { error in
            (error as? RPCError)?.code == .internalError
        }
        let nul = ProvisionONURequest(onuId: "1\u{0}2")
        #expect {
            let _: [UInt8] = try WireSerializer<ProvisionONURequest>(.request).serialize(nul)
        } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message == "onu_id: contains a NUL character"
        }
        #expect {
            let _: [UInt8] = try WireSerializer<ProvisionONURequest>(.response).serialize(nul)
        } throws: { error in
            (error as? RPCError)?.code == .internalError
        }
    }

    /// A field's error names it in the message and the metadata; every code's wire name reads
    /// back to it (ozmapctl sync --wait exits with the code its report's error names).
    @Test func fieldErrorsAndWireNames() throws {
        let error = RPCError.invalidArgument(field: "onu_id", "required")
        #expect(error.code == .invalidArgument && error.message == "onu_id: required")
        #expect(error.violations == [FieldViolation(field: "onu_id", description: "required")])
        for raw in 0...16 {
            let code = try #require(GRPCCore.Status.Code(rawValue: raw))
            #expect(GRPCCore.Status.Code(wireName: code.wireName) == code)
        }
        #expect(GRPCCore.Status.Code(wireName: "INTERNAL") == .internalError)
        #expect(GRPCCore.Status.Code(wireName: "SHINY") == nil && GRPCCore.Status.Code(wireName: "unavailable") == nil)
    }

    @Test func everyMethodIsRegistered() {
        var router = RPCRouter<InProcessTransport.Server>()
        InProcessIntegration().registerMethods(with: &router)
        #expect(router.methods.count == OZmapIntegration.Method.all.count)
        for method in OZmapIntegration.Method.descriptors {
            #expect(router.hasHandler(forMethod: method), "\(method)")
        }
    }
}

/// Writes the same bytes whatever the message: a client that sends garbage.
struct FixedBytes<Message>: MessageSerializer {
    let bytes: [UInt8]
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes { Bytes(bytes) }
}

/// Every method, as the generated protocol demands (a missing one does not compile);
/// three answer, the others refuse.
struct InProcessIntegration: OZmapIntegration.SimpleServiceProtocol {
    func getStatus(request: GetStatusRequest, context: ServerContext) async throws -> GetStatusResponse {
        GetStatusResponse(version: "in-process", callsServed: 1)
    }

    func listMethods(request: ListMethodsRequest, context: ServerContext) async throws -> ListMethodsResponse {
        throw RPCError(code: .unimplemented, message: "ListMethods is not served in this test")
    }

    func setCredentials(request: SetCredentialsRequest, context: ServerContext) async throws -> SetCredentialsResponse {
        throw RPCError(code: .unimplemented, message: "SetCredentials is not served in this test")
    }

    func getCredentials(request: GetCredentialsRequest, context: ServerContext) async throws -> GetCredentialsResponse {
        throw RPCError(code: .unimplemented, message: "GetCredentials is not served in this test")
    }

    func listOZmapOLTs(request: ListOZmapOLTsRequest, context: ServerContext) async throws -> ListOZmapOLTsResponse {
        throw RPCError(code: .unimplemented, message: "ListOZmapOLTs is not served in this test")
    }

    func linkOLT(request: LinkOLTRequest, context: ServerContext) async throws -> LinkOLTResponse {
        throw RPCError(code: .unimplemented, message: "LinkOLT is not served in this test")
    }

    func unlinkOLT(request: UnlinkOLTRequest, context: ServerContext) async throws -> UnlinkOLTResponse {
        throw RPCError(code: .unimplemented, message: "UnlinkOLT is not served in this test")
    }

    func listOLTLinks(request: ListOLTLinksRequest, context: ServerContext) async throws -> ListOLTLinksResponse {
        throw RPCError(code: .unimplemented, message: "ListOLTLinks is not served in this test")
    }

    func syncBoxes(request: SyncBoxesRequest, context: ServerContext) async throws -> SyncBoxesResponse {
        throw RPCError(code: .unimplemented, message: "SyncBoxes is not served in this test")
    }

    func listBoxes(request: ListBoxesRequest, context: ServerContext) async throws -> ListBoxesResponse {
        throw RPCError(code: .unimplemented, message: "ListBoxes is not served in this test")
    }

    func getBox(request: GetBoxRequest, context: ServerContext) async throws -> Box {
        throw RPCError(code: .unimplemented, message: "GetBox is not served in this test")
    }

    func provisionONU(request: ProvisionONURequest, context: ServerContext) async throws -> ProvisionONUResponse {
        guard !request.onuId.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "onu_id: required")
        }
        return ProvisionONUResponse(onu: ONU(onuId: request.onuId, serialNumber: request.serialNumber.uppercased(), state: .pending))
    }

    func assignCTO(request: AssignCTORequest, context: ServerContext) async throws -> AssignCTOResponse {
        throw RPCError(code: .unimplemented, message: "AssignCTO is not served in this test")
    }

    func deprovisionONU(request: DeprovisionONURequest, context: ServerContext) async throws -> DeprovisionONUResponse {
        throw RPCError(code: .failedPrecondition, message: "ONU \(request.onuId) is not provisioned")
    }

    func getONU(request: GetONURequest, context: ServerContext) async throws -> ONU {
        throw RPCError(code: .unimplemented, message: "GetONU is not served in this test")
    }

    func listONUs(request: ListONUsRequest, context: ServerContext) async throws -> ListONUsResponse {
        throw RPCError(code: .unimplemented, message: "ListONUs is not served in this test")
    }

    func listOperations(request: ListOperationsRequest, context: ServerContext) async throws -> ListOperationsResponse {
        throw RPCError(code: .unimplemented, message: "ListOperations is not served in this test")
    }

    func retryOperation(request: RetryOperationRequest, context: ServerContext) async throws -> Operation {
        throw RPCError(code: .unimplemented, message: "RetryOperation is not served in this test")
    }

    func listAuditLog(request: ListAuditLogRequest, context: ServerContext) async throws -> ListAuditLogResponse {
        throw RPCError(code: .unimplemented, message: "ListAuditLog is not served in this test")
    }

    func reconcile(request: ReconcileRequest, context: ServerContext) async throws -> ReconcileResponse {
        throw RPCError(code: .unimplemented, message: "Reconcile is not served in this test")
    }

    func importONUs(request: ImportONUsRequest, context: ServerContext) async throws -> ImportONUsResponse {
        throw RPCError(code: .unimplemented, message: "ImportONUs is not served in this test")
    }

    func getMetrics(request: GetMetricsRequest, context: ServerContext) async throws -> GetMetricsResponse {
        throw RPCError(code: .unimplemented, message: "GetMetrics is not served in this test")
    }

    func runDoctor(request: RunDoctorRequest, context: ServerContext) async throws -> RunDoctorResponse {
        throw RPCError(code: .unimplemented, message: "RunDoctor is not served in this test")
    }
}
