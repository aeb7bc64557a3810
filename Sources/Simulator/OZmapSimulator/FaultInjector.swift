import Synchronization

/// What to do with one API request.
struct FaultDecision: Sendable {
    enum Verdict: Sendable {
        /// Apply the request; when `dropReply`, close the connection instead of answering.
        case apply(dropReply: Bool)
        /// Answer this without applying the request.
        case reject(APIResponse)
    }

    var latencyMilliseconds: Int
    var verdict: Verdict

    static let pass = FaultDecision(latencyMilliseconds: 0, verdict: .apply(dropReply: false))
}

/// Holds the current faults and rolls their dice.
final class FaultInjector: Sendable {
    private struct State: Sendable {
        var faults = SimulatorFaults.none
        var random = SeededRandom(seed: 1)
    }

    private let state = Mutex(State())

    var faults: SimulatorFaults {
        state.withLock { $0.faults }
    }

    func set(_ faults: SimulatorFaults) {
        state.withLock { $0 = State(faults: faults, random: SeededRandom(seed: faults.seed)) }
    }

    func decide(method: String, relativePath: String) -> FaultDecision {
        state.withLock { state -> FaultDecision in
            let faults = state.faults
            guard faults.isActive, faults.applies(method: method, relativePath: relativePath) else { return .pass }
            var headers: [HTTPHeaderField] = []
            if let seconds = faults.retryAfterSeconds {
                headers.append(HTTPHeaderField(name: "Retry-After", value: String(seconds)))
            }
            let latency = max(0, faults.latencyMilliseconds)
            if faults.down {
                var response = APIResponse.error(status: 503, "Service Unavailable (ozmap-sim: down)")
                response.headers = headers
                return FaultDecision(latencyMilliseconds: latency, verdict: .reject(response))
            }
            if faults.errorRate > 0, state.random.unit() < faults.errorRate {
                var response = APIResponse.error(
                    status: faults.status, "simulated failure (ozmap-sim fault, status \(faults.status))")
                response.headers = headers
                return FaultDecision(latencyMilliseconds: latency, verdict: .reject(response))
            }
            let drop = faults.dropReplyRate > 0 && state.random.unit() < faults.dropReplyRate
            return FaultDecision(latencyMilliseconds: latency, verdict: .apply(dropReply: drop))
        }
    }
}
