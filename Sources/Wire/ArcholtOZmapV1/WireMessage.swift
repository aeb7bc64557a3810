import CProtobufC
import Foundation
public import GRPCCore

/// A message of the ozmapd wire contract, generated from proto/ (`make proto`):
/// a Swift value with every field of its proto message, and its protobuf bytes.
public protocol WireMessage: Sendable, Hashable {
    /// The proto message's full name, e.g. `archolt.ozmap.v1.GetStatusRequest`.
    static var protoName: String { get }
    /// Every field at its proto3 default.
    init()
    /// Decodes protobuf bytes (libprotobuf-c unpacks them).
    init(serializedBytes: [UInt8]) throws(WireMessageError)
    /// Encodes to protobuf bytes (libprotobuf-c packs them).
    func serializedBytes() throws(WireMessageError) -> [UInt8]
    /// Calls `body` with every text field, nested messages' included, and its proto path
    /// ("rows[2].serial_number", built only when asked for): for rules on all text alike.
    func forEachString(at path: String, _ body: (_ text: String, _ field: () -> String) throws -> Void) rethrows
}

/// One method of a generated service: its name and its message types.
public protocol WireMethod: Sendable {
    associatedtype Input: WireMessage
    associatedtype Output: WireMessage
    static var serviceName: String { get }
    static var name: String { get }
    static var descriptor: GRPCCore.MethodDescriptor { get }
}

extension WireMethod {
    /// The path a RequestEnvelope names: `/archolt.ozmap.v1.OZmapIntegration/GetStatus`.
    public static var path: String { "/\(serviceName)/\(name)" }
}

/// Bytes that are not the message they should be, or a value the wire cannot carry.
/// `field` is the proto path of the culprit ("rows[2].serial_number"); "payload" when
/// the bytes are no message at all.
public struct WireMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// Bytes that do not unpack at all: the envelope's `payload` is at fault, as the
    /// descriptor-driven codec has always said (docs/PROTOCOL.md's field violations).
    public static func notAMessage(_ type: String, byteCount: Int) -> Self {
        .init(field: "payload", reason: "not a valid \(type) message (\(byteCount) bytes)")
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

