/// An error with the HTTP status the simulator answers for it; the message goes into
/// the JSON error body `{"message": "..."}`.
public struct SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }

    static func badRequest(_ message: String) -> SimulatorError {
        SimulatorError(status: 400, message: message)
    }

    static func notFound(_ message: String) -> SimulatorError {
        SimulatorError(status: 404, message: message)
    }

    static func invalidConfiguration(_ message: String) -> SimulatorError {
        SimulatorError(status: 500, message: "invalid simulator configuration: " + message)
    }
}
