public import GRPCCore

// A status's field violations travel beside it as `field-violation` metadata, one
// "field: description" value each: the one place they are written and read.
extension FieldViolation {
    /// Every violation `metadata` carries.
    public static func all(in metadata: Metadata) -> [FieldViolation] {
        metadata[stringValues: "field-violation"].map { text in
            guard let colon = text.range(of: ": ") else { return FieldViolation(field: text, description: "") }
            return FieldViolation(field: String(text[..<colon.lowerBound]), description: String(text[colon.upperBound...]))
        }
    }

    /// `violations` as metadata.
    public static func metadata(_ violations: [FieldViolation]) -> Metadata {
        var metadata: Metadata = [:]
        for violation in violations {
            metadata.addString("\(violation.field): \(violation.description)", forKey: "field-violation")
        }
        return metadata
    }
}

extension RPCError {
    /// The field violations the error's metadata carries.
    public var violations: [FieldViolation] { FieldViolation.all(in: metadata) }

    /// INVALID_ARGUMENT naming the offending field: "field: description" as the message (what
    /// a reader sees first), and the violation as metadata (what a program reads).
    public static func invalidArgument(field: String, _ description: String) -> RPCError {
        RPCError(code: .invalidArgument, message: "\(field): \(description)",
                 metadata: FieldViolation.metadata([FieldViolation(field: field, description: description)]))
    }
}
