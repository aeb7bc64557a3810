import Foundation
import OZmapClient
import OZmapRPC
import OZmapSimulator
import OZmapTestSupport
import Synchronization

/// Mixed provisioning traffic — provisions, CTO changes, deprovisions, re-provisions —
/// over a set of ONUs. Every box is targeted by fewer ONUs than it has free ports,
/// so OZmap never refuses a placement for want of room.
struct MixedWorkload: Sendable {
    enum Step: Sendable {
        case provision(box: String)
        case assign(box: String)
        case deprovision
    }

    /// Each ONU's steps, in the order they are sent.
    let steps: [(onu: String, steps: [Step])]
    var count: Int { steps.reduce(0) { $0 + $1.steps.count } }

    init(operations: Int, onus: Int, boxes: [Box], prefix: String, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var budget = Dictionary(uniqueKeysWithValues: boxes.map { ($0.id, Int($0.portsFree) - 1) })
        let names = (0..<onus).map { "\(prefix)-\($0)" }
        var plan = Dictionary(uniqueKeysWithValues: names.map { ($0, [Step]()) })
        var placed: [String: String] = [:]
        var used: [String: Set<String>] = [:]
        func pickBox(for onu: String) -> String? {
            // A box this ONU already used costs no new port; otherwise one with budget left.
            let candidates = boxes.map(\.id).filter { used[onu, default: []].contains($0) || budget[$0, default: 0] > 0 }
                .filter { $0 != placed[onu] }
            guard let box = candidates.randomElement(using: &random) else { return nil }
            if used[onu, default: []].insert(box).inserted { budget[box, default: 0] -= 1 }
            return box
        }
        for _ in 0..<operations {
            let onu = names.randomElement(using: &random)!
            let step: Step
            if placed[onu] == nil {
                guard let box = pickBox(for: onu) else { continue }
                step = .provision(box: box)
                placed[onu] = box
            } else if Int.random(in: 0..<10, using: &random) < 6, let box = pickBox(for: onu) {
                step = .assign(box: box)
                placed[onu] = box
            } else {
                step = .deprovision
                placed[onu] = nil
            }
            plan[onu]!.append(step)
        }
        steps = names.compactMap { name in plan[name]!.isEmpty ? nil : (name, plan[name]!) }
    }
}

/// Sends workloads to ozmapd — each ONU's steps in order, ONUs in parallel — and keeps,
/// per ONU, where OZmap may end up given what ozmapd acknowledged: one placement once
/// a call succeeded, either of two when a call's outcome is unknown (the daemon died).
final class WorkloadRunner: Sendable {
    /// nil: no client in OZmap.
    typealias Placement = String?

    private struct State {
        var expected: [String: Set<Placement>] = [:]
        var acknowledged = 0
        var refused: [String] = []
        var unknown = 0
    }

    private let state = Mutex(State())
    private let sentCount = Atomic<Int>(0)

    var sent: Int { sentCount.load(ordering: .relaxed) }
    var acknowledged: Int { state.withLock { $0.acknowledged } }
    var unknown: Int { state.withLock { $0.unknown } }
    var refused: [String] { state.withLock { $0.refused } }
    var expected: [String: Set<Placement>] { state.withLock { $0.expected } }

    /// Runs the steps with at most `concurrency` ONUs at once. An ONU whose call had an
    /// unknown outcome sends nothing more in this run.
    func run(_ workload: MixedWorkload, client: OZmapIntegrationConnection, concurrency: Int = 16, timeout: Duration = .seconds(30)) async {
        await withTaskGroup(of: Void.self) { group in
            var next = workload.steps.makeIterator()
            func addNext() -> Bool {
                guard let (onu, steps) = next.next() else { return false }
                group.addTask { await self.send(steps, of: onu, client: client, timeout: timeout) }
                return true
            }
            for _ in 0..<concurrency where addNext() {}
            while await group.next() != nil { _ = addNext() }
        }
    }

    private func send(_ steps: [MixedWorkload.Step], of onu: String, client: OZmapIntegrationConnection, timeout: Duration) async {
        for step in steps {
            sentCount.add(1, ordering: .relaxed)
            let target: Placement
            do {
                switch step {
                case .provision(let box):
                    target = box
                    _ = try await client.rpc.provisionONU(provision(onu, cto: box), options: .timeout(timeout))
                case .assign(let box):
                    target = box
                    _ = try await client.rpc.assignCTO(AssignCTORequest(onuId: onu, cto: box), options: .timeout(timeout))
                case .deprovision:
                    target = nil
                    _ = try await client.rpc.deprovisionONU(DeprovisionONURequest(onuId: onu), options: .timeout(timeout))
                }
                state.withLock {
                    $0.expected[onu] = [target]
                    $0.acknowledged += 1
                }
            } catch let error as GRPCCore.RPCError where [.unavailable, .deadlineExceeded, .cancelled, .unknown].contains(error.code) {
                // The daemon went away mid-call: the change may or may not have been stored.
                state.withLock {
                    let before = $0.expected[onu] ?? [nil]
                    $0.expected[onu] = before.union([stepTarget(step)])
                    $0.unknown += 1
                }
                return
            } catch {
                state.withLock { $0.refused.append("\(onu): \(error)") }
            }
        }
    }

    private func stepTarget(_ step: MixedWorkload.Step) -> Placement {
        switch step {
        case .provision(let box), .assign(let box): box
        case .deprovision: nil
        }
    }
}

/// What OZmap holds compared with what ozmapd acknowledged.
struct Tally: CustomStringConvertible {
    var onus = 0
    /// ONUs whose OZmap client is not where an acknowledged operation put it (or is there when it should not be).
    var lost = 0
    /// Extra clients with an ONU's code.
    var duplicated = 0
    /// Properties without a client, and clients of these ONUs without a property.
    var orphans = 0
    var problems: [String] = []

    init(expected: [String: Set<WorkloadRunner.Placement>], snapshot: SimulatorSnapshot) {
        let clientsByCode = Dictionary(grouping: snapshot.clients, by: \.code)
        let propertiesByClient = Dictionary(grouping: snapshot.properties.compactMap { p in p.client.map { ($0, p) } }, by: \.0)
        let clientIDs = Set(snapshot.clients.map(\.id))
        for (onu, allowed) in expected {
            onus += 1
            let clients = clientsByCode[onu] ?? []
            duplicated += max(0, clients.count - 1)
            let boxes = clients.flatMap { propertiesByClient[$0.id]?.map(\.1.box) ?? [] }
            orphans += clients.filter { propertiesByClient[$0.id] == nil }.count
            let actual: WorkloadRunner.Placement = boxes.first
            if clients.count > 1 { problems.append("\(onu): \(clients.count) clients") }
            if !allowed.contains(actual) || boxes.count > 1 {
                lost += 1
                problems.append("\(onu): in OZmap at \(boxes), expected one of \(allowed.map { $0 ?? "nowhere" }.sorted())")
            }
        }
        let strays = snapshot.properties.filter { $0.client == nil || !clientIDs.contains($0.client!) }
        orphans += strays.count
        problems += strays.map { "property \($0.id) at \($0.box) has no client" }
    }

    var description: String { "\(onus) ONUs, lost \(lost), duplicated \(duplicated), orphans \(orphans)" }
}

/// Prints a scenario's figures in one line that `docs/RELIABILITY.md` quotes.
func report(_ scenario: String, _ figures: KeyValuePairs<String, Any>) {
    print("[figures] \(scenario): " + figures.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
}
