import OZmapRPC

/// Typed handles on the methods of `archolt.ozmap.v1.OZmapIntegration` that
/// have Swift types. The method list itself comes from the protobuf-c
/// descriptor (see `ListMethods`); these only name request and response types.
public enum OZmapIntegration {
    public static let serviceName = "archolt.ozmap.v1.OZmapIntegration"

    public static let getStatus = RPCMethod<GetStatusRequest, GetStatusResponse>(service: serviceName, name: "GetStatus")
    public static let listMethods = RPCMethod<ListMethodsRequest, ListMethodsResponse>(service: serviceName, name: "ListMethods")
}
