import Foundation
import ArcholtOZmapV1
import GRPCCore
import OZmapDomain

/// ProvisionONU, AssignCTO, DeprovisionONU and the provisioning diagnostics.
extension IntegrationService {
    func provisionONU(request: ProvisionONURequest, context: ServerContext) async throws -> ProvisionONUResponse {
        let outcome = try await provisioning.provision(ProvisionRequest(
            archoltOLTID: request.archoltOltId, onuID: request.onuId, serialNumber: request.serialNumber,
            macAddress: request.macAddress, pppoeUser: request.pppoeUser, cto: request.cto,
            implanted: try request.wantedImplanted(), requireCTO: request.requireCto), deadline: deadline(context))
        return ProvisionONUResponse(outcome)
    }

    func assignCTO(request: AssignCTORequest, context: ServerContext) async throws -> AssignCTOResponse {
        AssignCTOResponse(try await provisioning.assignCTO(onuID: request.onuId, cto: request.cto, archoltOLTID: request.archoltOltId,
                                                           serialNumber: request.serialNumber, deadline: deadline(context)))
    }

    func deprovisionONU(request: DeprovisionONURequest, context: ServerContext) async throws -> DeprovisionONUResponse {
        DeprovisionONUResponse(try await provisioning.deprovision(onuID: request.onuId, deadline: deadline(context)))
    }

    func getONU(request: GetONURequest, context: ServerContext) async throws -> ArcholtOZmapV1.ONU {
        ArcholtOZmapV1.ONU(try provisioning.onu(id: request.onuId))
    }

    func retryOperation(request: RetryOperationRequest, context: ServerContext) async throws -> ArcholtOZmapV1.Operation {
        ArcholtOZmapV1.Operation(try provisioning.retry(operationID: try operationID(request.operationId, field: "operation_id")))
    }

    func reconcile(request: ReconcileRequest, context: ServerContext) async throws -> ReconcileResponse {
        guard request.archoltOltId.isEmpty || request.onuId.isEmpty else {
            throw IntegrationError.invalidInput(field: "onu_id", "give archolt_olt_id or onu_id, not both")
        }
        let scope: ReconcileScope = !request.onuId.isEmpty ? .onu(request.onuId)
            : !request.archoltOltId.isEmpty ? .olt(request.archoltOltId) : .all
        return ReconcileResponse(try await provisioning.reconcile(scope, dryRun: request.dryRun ?? true))
    }

    func importONUs(request: ImportONUsRequest, context: ServerContext) async throws -> ImportONUsResponse {
        ImportONUsResponse(try await provisioning.importONUs(try request.rows.enumerated().map { try ImportRowRequest($0.element, index: $0.offset) }, dryRun: request.dryRun ?? true))
    }

    private func operationID(_ text: String, field: String) throws -> Int64 {
        guard let id = Int64(text), id > 0 else { throw IntegrationError.invalidInput(field: field, "must be an operation id such as 42") }
        return id
    }

    func listONUs(request: ListONUsRequest, context: ServerContext) async throws -> ListONUsResponse {
        let size = try Paging.size(request.pageSize)
        let filter = ONUFilter(archoltOLTID: request.archoltOltId.isEmpty ? nil : request.archoltOltId,
                               state: try ONUSyncState(request.state), ctoBoxID: request.ctoBoxId.isEmpty ? nil : request.ctoBoxId)
        let after = try Paging.key(request.pageToken)
        let onus = try provisioningStore.listONUs(filter, afterID: after, limit: size + 1)
        let page = onus.prefix(size)
        let next = onus.count > size ? Paging.token(after: page.last!.onuID) : ""
        return ListONUsResponse(onus: page.map(ArcholtOZmapV1.ONU.init), nextPageToken: next)
    }

    func listOperations(request: ListOperationsRequest, context: ServerContext) async throws -> ListOperationsResponse {
        let size = try Paging.size(request.pageSize)
        let after = try Paging.key(request.pageToken).map { try operationID($0, field: "page_token") }
        let operations = try provisioningStore.listOperations(onuID: request.onuId.isEmpty ? nil : request.onuId,
                                                  state: try OutboxOperationState(request.state), afterID: after, limit: size + 1)
        let page = operations.prefix(size)
        let next = operations.count > size ? Paging.token(after: "\(page.last!.id)") : ""
        return ListOperationsResponse(operations: page.map(ArcholtOZmapV1.Operation.init), nextPageToken: next)
    }

    func listAuditLog(request: ListAuditLogRequest, context: ServerContext) async throws -> ListAuditLogResponse {
        let size = try Paging.size(request.pageSize)
        let afterToken = try Paging.key(request.pageToken).map { try operationID($0, field: "page_token") } ?? 0
        let after = max(Int64(clamping: request.afterSeq), afterToken)
        let entries = try provisioningStore.listAudit(onuID: request.onuId.isEmpty ? nil : request.onuId, afterSeq: after, limit: size + 1)
        let page = entries.prefix(size)
        let next = entries.count > size ? Paging.token(after: "\(page.last!.seq)") : ""
        return ListAuditLogResponse(entries: page.map(AuditEntry.init), nextPageToken: next)
    }
}
