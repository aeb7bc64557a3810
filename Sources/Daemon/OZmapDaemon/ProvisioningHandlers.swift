import Foundation
import OZmapAPI
import OZmapDomain
import OZmapRPC

/// ProvisionONU, AssignCTO, DeprovisionONU and the provisioning diagnostics.
struct ProvisioningHandlers: Sendable {
    let provisioning: Provisioning
    let store: any ProvisioningStore

    func register(into router: inout RPCRouter) {
        router.register(OZmapIntegration.provisionONU) { request, context in
            let outcome = try await provisioning.provision(ProvisionRequest(
                archoltOLTID: request.archoltOltId, onuID: request.onuId, serialNumber: request.serialNumber,
                macAddress: request.macAddress, pppoeUser: request.pppoeUser, cto: request.cto,
                implanted: request.wantedImplanted, requireCTO: request.requireCto), deadline: context.deadline)
            return ONUChangeResponse(outcome)
        }
        router.register(OZmapIntegration.assignCTO) { request, context in
            ONUChangeResponse(try await provisioning.assignCTO(onuID: request.onuId, cto: request.cto, archoltOLTID: request.archoltOltId,
                                                               serialNumber: request.serialNumber, deadline: context.deadline))
        }
        router.register(OZmapIntegration.deprovisionONU) { request, context in
            ONUChangeResponse(try await provisioning.deprovision(onuID: request.onuId, deadline: context.deadline))
        }
        router.register(OZmapIntegration.getONU) { request, _ in OZmapAPI.ONU(try provisioning.onu(id: request.onuId)) }
        router.register(OZmapIntegration.listONUs) { request, _ in try listONUs(request) }
        router.register(OZmapIntegration.listOperations) { request, _ in try listOperations(request) }
        router.register(OZmapIntegration.retryOperation) { request, _ in
            OZmapAPI.Operation(try provisioning.retry(operationID: try operationID(request.operationId, field: "operation_id")))
        }
        router.register(OZmapIntegration.listAuditLog) { request, _ in try listAuditLog(request) }
        router.register(OZmapIntegration.reconcile) { request, _ in
            guard request.archoltOltId.isEmpty || request.onuId.isEmpty else {
                throw RPCError.invalidArgument(field: "onu_id", "give archolt_olt_id or onu_id, not both")
            }
            let scope: ReconcileScope = !request.onuId.isEmpty ? .onu(request.onuId)
                : !request.archoltOltId.isEmpty ? .olt(request.archoltOltId) : .all
            return ReconcileResponse(try await provisioning.reconcile(scope, dryRun: request.dryRun ?? true))
        }
        router.register(OZmapIntegration.importONUs) { request, _ in
            ImportONUsResponse(try await provisioning.importONUs(request.rows.map(ImportRowRequest.init), dryRun: request.dryRun ?? true))
        }
    }

    private func operationID(_ text: String, field: String) throws -> Int64 {
        guard let id = Int64(text), id > 0 else { throw RPCError.invalidArgument(field: field, "must be an operation id such as 42") }
        return id
    }

    private func listONUs(_ request: ListONUsRequest) throws -> ListONUsResponse {
        let size = try Paging.size(request.pageSize)
        let filter = ONUFilter(archoltOLTID: request.archoltOltId.isEmpty ? nil : request.archoltOltId,
                               state: OZmapDomain.ONUState(request.state), ctoBoxID: request.ctoBoxId.isEmpty ? nil : request.ctoBoxId)
        let after = try Paging.key(request.pageToken)
        let onus = try store.listONUs(filter, afterID: after, limit: size + 1)
        let page = onus.prefix(size)
        let next = onus.count > size ? Paging.token(after: page.last!.onuID) : ""
        return ListONUsResponse(onus: page.map(OZmapAPI.ONU.init), nextPageToken: next)
    }

    private func listOperations(_ request: ListOperationsRequest) throws -> ListOperationsResponse {
        let size = try Paging.size(request.pageSize)
        let after = try Paging.key(request.pageToken).map { try operationID($0, field: "page_token") }
        let operations = try store.listOperations(onuID: request.onuId.isEmpty ? nil : request.onuId,
                                                  state: OZmapDomain.OperationState(request.state), afterID: after, limit: size + 1)
        let page = operations.prefix(size)
        let next = operations.count > size ? Paging.token(after: "\(page.last!.id)") : ""
        return ListOperationsResponse(operations: page.map(OZmapAPI.Operation.init), nextPageToken: next)
    }

    private func listAuditLog(_ request: ListAuditLogRequest) throws -> ListAuditLogResponse {
        let size = try Paging.size(request.pageSize)
        let afterToken = try Paging.key(request.pageToken).map { try operationID($0, field: "page_token") } ?? 0
        let after = max(Int64(clamping: request.afterSeq), afterToken)
        let entries = try store.listAudit(onuID: request.onuId.isEmpty ? nil : request.onuId, afterSeq: after, limit: size + 1)
        let page = entries.prefix(size)
        let next = entries.count > size ? Paging.token(after: "\(page.last!.seq)") : ""
        return ListAuditLogResponse(entries: page.map(OZmapAPI.AuditEntry.init), nextPageToken: next)
    }
}
