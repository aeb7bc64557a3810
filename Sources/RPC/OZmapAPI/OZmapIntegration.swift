import OZmapRPC

/// Typed handles on the methods of `archolt.ozmap.v1.OZmapIntegration` that
/// have Swift types. The method list itself comes from the protobuf-c
/// descriptor (see `ListMethods`); these only name request and response types.
public enum OZmapIntegration {
    public static let serviceName = "archolt.ozmap.v1.OZmapIntegration"

    public static let getStatus = RPCMethod<GetStatusRequest, GetStatusResponse>(service: serviceName, name: "GetStatus")
    public static let listMethods = RPCMethod<ListMethodsRequest, ListMethodsResponse>(service: serviceName, name: "ListMethods")
    public static let setCredentials = RPCMethod<SetCredentialsRequest, SetCredentialsResponse>(service: serviceName, name: "SetCredentials")
    public static let getCredentials = RPCMethod<GetCredentialsRequest, GetCredentialsResponse>(service: serviceName, name: "GetCredentials")
    public static let listOZmapOLTs = RPCMethod<ListOZmapOLTsRequest, ListOZmapOLTsResponse>(service: serviceName, name: "ListOZmapOLTs")
    public static let linkOLT = RPCMethod<LinkOLTRequest, LinkOLTResponse>(service: serviceName, name: "LinkOLT")
    public static let unlinkOLT = RPCMethod<UnlinkOLTRequest, UnlinkOLTResponse>(service: serviceName, name: "UnlinkOLT")
    public static let listOLTLinks = RPCMethod<ListOLTLinksRequest, ListOLTLinksResponse>(service: serviceName, name: "ListOLTLinks")
    public static let syncBoxes = RPCMethod<SyncBoxesRequest, SyncBoxesResponse>(service: serviceName, name: "SyncBoxes")
    public static let listBoxes = RPCMethod<ListBoxesRequest, ListBoxesResponse>(service: serviceName, name: "ListBoxes")
    public static let getBox = RPCMethod<GetBoxRequest, Box>(service: serviceName, name: "GetBox")
    public static let provisionONU = RPCMethod<ProvisionONURequest, ONUChangeResponse>(service: serviceName, name: "ProvisionONU")
    public static let assignCTO = RPCMethod<AssignCTORequest, ONUChangeResponse>(service: serviceName, name: "AssignCTO")
    public static let deprovisionONU = RPCMethod<DeprovisionONURequest, ONUChangeResponse>(service: serviceName, name: "DeprovisionONU")
    public static let getONU = RPCMethod<GetONURequest, ONU>(service: serviceName, name: "GetONU")
    public static let listONUs = RPCMethod<ListONUsRequest, ListONUsResponse>(service: serviceName, name: "ListONUs")
    public static let listOperations = RPCMethod<ListOperationsRequest, ListOperationsResponse>(service: serviceName, name: "ListOperations")
    public static let retryOperation = RPCMethod<RetryOperationRequest, Operation>(service: serviceName, name: "RetryOperation")
    public static let listAuditLog = RPCMethod<ListAuditLogRequest, ListAuditLogResponse>(service: serviceName, name: "ListAuditLog")
    public static let reconcile = RPCMethod<ReconcileRequest, ReconcileResponse>(service: serviceName, name: "Reconcile")
    public static let importONUs = RPCMethod<ImportONUsRequest, ImportONUsResponse>(service: serviceName, name: "ImportONUs")
    public static let getMetrics = RPCMethod<GetMetricsRequest, GetMetricsResponse>(service: serviceName, name: "GetMetrics")
    public static let runDoctor = RPCMethod<RunDoctorRequest, RunDoctorResponse>(service: serviceName, name: "RunDoctor")
}
