/// ProvisionONU's, AssignCTO's and DeprovisionONU's responses: three messages on the wire,
/// one shape — the ONU, and the operation queued for it — for code that treats them alike.
public protocol ONUChangeResponse: WireMessage {
    var onu: ONU? { get set }
    var operation: Operation? { get set }
}

extension ProvisionONUResponse: ONUChangeResponse {}
extension AssignCTOResponse: ONUChangeResponse {}
extension DeprovisionONUResponse: ONUChangeResponse {}
