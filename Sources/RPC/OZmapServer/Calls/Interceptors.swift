import ArcholtOZmapV1
import GRPCCore
import OZmapRPC
import OZmapWire

/// The rules every call of ozmapd's service runs through, on any transport, outermost first.
/// The error interceptor is innermost: GRPCCore turns whatever an interceptor's `next` throws
/// into UNKNOWN before an outer interceptor could see it. The handler reads its request inside
/// it, so the text rules' and the deserializer's errors pass through it too.
public enum ServerInterceptors {
    public static let standard: [any ServerInterceptor] = [RequestTextInterceptor(), ErrorStatusInterceptor()]
}

/// Turns what a handler throws into the status the caller reads: GRPCCore's errors
/// and `RPCErrorConvertible` (the domain's errors, with their field violations) as they
/// are; cancellation as CANCELLED; anything else as INTERNAL naming the method.
struct ErrorStatusInterceptor: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        do {
            return try await next(request, context)
        } catch let error as GRPCCore.RPCError {
            throw error
        } catch let error as any RPCErrorConvertible {
            throw GRPCCore.RPCError(error)
        } catch is CancellationError {
            throw GRPCCore.RPCError(code: .cancelled, message: "the call was cancelled (its deadline passed, its caller left, or the server is stopping)")
        } catch {
            throw GRPCCore.RPCError(code: .internalError, message: "internal error in /\(context.descriptor.fullyQualifiedMethod): \(error)")
        }
    }
}

/// What every text field of every request must be, before any handler sees it:
/// bounded, and free of control characters — so no field can carry a megabyte or a
/// terminal escape into the logs, SQLite or OZmap. Handlers check their fields further.
struct RequestTextInterceptor: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        var request = request
        let messages = request.messages
        request.messages = RPCAsyncSequence(wrapping: messages.map { message in
            if let message = message as? any WireMessage {
                try message.forEachString(at: "") { text, field in
                    if let violation = RequestText.violation(text) {
                        throw GRPCCore.RPCError.invalidArgument(field: field(), violation)
                    }
                }
            }
            return message
        })
        return try await next(request, context)
    }
}
