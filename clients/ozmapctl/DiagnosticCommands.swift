import ArcholtOZmapV1
import ArgumentParser
import Foundation
import GRPCCore
import OZmapRPC

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show ozmapd's version, uptime, connections and calls.")

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let status = try await options.call { try await $0.getStatus(GetStatusRequest(), options: $1) }
        if options.json { return try printJSON(status) }
        var rows = [
            ["version", status.version],
            ["started", status.startedAt],
            ["uptime", formatDuration(milliseconds: status.uptimeMs)],
            ["socket", status.socketPath],
            ["connections", "\(status.connectionsOpen) open, \(status.connectionsAccepted) accepted"],
            ["calls", "\(status.callsServed) served, \(status.callsInFlight) in flight"],
            ["OZmap", !status.credentialsSet ? "no credentials" : status.ozmapReachable ? "reachable" : "not reachable"],
            ["credentials", status.credentialsState.isEmpty ? (status.credentialsSet ? "set" : "unset")
                : status.credentialsError.isEmpty ? status.credentialsState : "\(status.credentialsState): \(status.credentialsError)"],
            ["boxes", "\(status.boxCount) cached"],
        ]
        if let sync = status.lastSync {
            rows.append(["last sync", describe(sync)])
        }
        if !status.nextSyncAt.isEmpty { rows.append(["next sync", status.nextSyncAt]) }
        rows.append(["outbox", "\(status.operationsPending) pending, \(status.operationsFailed) failed"])
        if !status.driftCheckedAt.isEmpty {
            let differing = status.drift.filter { $0.count > 0 }
            let counts = differing.map { "\($0.count) \($0.kind.protoName.replacingOccurrences(of: "DRIFT_KIND_", with: "").lowercased())" }
            rows.append(["drift", (differing.isEmpty ? "none" : counts.joined(separator: ", ")) + " (checked \(status.driftCheckedAt))"])
        }
        let requests = status.ozmapRequests.reduce(0) { $0 + $1.count }
        if requests > 0 {
            let failed = status.ozmapRequests.filter { $0.httpStatus == 0 || $0.httpStatus >= 400 }.reduce(0) { $0 + $1.count }
            rows.append(["OZmap requests", "\(requests), \(failed) failed"])
        }
        printTable(rows)
    }

    private func formatDuration(milliseconds: UInt64) -> String {
        let seconds = milliseconds / 1000
        let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60)
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m \(seconds % 60)s" }
        return "\(minutes)m \(seconds % 60)s"
    }
}

struct Methods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the methods ozmapd answers, with their request and response types.")

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let listed = try await options.call { try await $0.listMethods(ListMethodsRequest(), options: $1) }
        if options.json { return try printJSON(listed) }
        let prefix = "archolt.ozmap.v1."
        func short(_ type: String) -> String { type.hasPrefix(prefix) ? String(type.dropFirst(prefix.count)) : type }
        printTable([["METHOD", "REQUEST", "RESPONSE", "IMPLEMENTED"]] + listed.methods.map {
            [$0.name, short($0.requestType), short($0.responseType), $0.implemented ? "yes" : "no"]
        })
    }
}

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any method with its request as JSON and print the response as JSON.",
        discussion: """
        Field names as in the .proto (onu_id) or camelCase (onuId); enums by name or number.
        Example: ozmapctl call GetStatus --data '{}'
        """
    )

    @Argument(help: "A method name (GetStatus) or path (/archolt.ozmap.v1.OZmapIntegration/GetStatus).")
    var method: String

    @Option(help: "The request as a JSON object ('-' reads it from standard input).")
    var data: String = "{}"

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let text = data == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : data
        let request: ProtoValue
        do {
            request = try ProtoJSON.parse(text)
        } catch let error as RPCError {
            throw options.failure(RPCError(code: .invalidArgument, message: "--data: \(error.message)"))
        }
        print(ProtoJSON.render(try await options.call(method, request: request)))
    }
}

/// One line about a sync pass.
func describe(_ sync: SyncReport) -> String {
    let kind = sync.kind == .full ? "full" : "incremental"
    if sync.running {
        return "\(kind), running since \(sync.startedAt) (\(sync.phase) \(sync.progressDone)/\(sync.progressTotal))"
    }
    let outcome = sync.error.isEmpty
        ? "\(sync.boxes) boxes (+\(sync.boxesAdded) ~\(sync.boxesUpdated) -\(sync.boxesRemoved))"
        : "FAILED: \(sync.error)"
    return "\(kind) at \(sync.finishedAt) in \(sync.durationMs) ms, \(sync.ozmapRequests) OZmap requests, \(outcome)"
}
