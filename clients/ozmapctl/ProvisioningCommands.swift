import ArcholtOZmapV1
import ArgumentParser
import Foundation
import OZmapRPC

struct ONUCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onu", abstract: "Provision ONUs and look at them.",
        subcommands: [Provision.self, Assign.self, Deprovision.self, Show.self, List.self, Import.self])

    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Provision an ONU, creating its OZmap client when a CTO is given.")

        @Option(help: "The ArchOLT OLT id.") var olt: String
        @Option(help: "The ONU id (the OZmap client code).") var onu: String
        @Option(help: "The serial number (the OZmap client name).") var serial: String
        @Option(help: "The CTO: a box name or OZmap box id.") var cto: String?
        @Option(help: "MAC address.") var mac: String?
        @Option(help: "PPPoE user.") var pppoe: String?
        @Flag(help: "The client's implantation state: --implanted, --not-implanted (the wire's default), or --keep-implanted (leave it as OZmap has it).")
        var implantation: ImplantationFlag = .notImplanted
        @Flag(help: "Refuse without a CTO even if the OLT link does not require one.") var requireCTO = false
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let request = ProvisionONURequest(
                archoltOltId: olt, onuId: onu, serialNumber: serial, macAddress: mac ?? "", pppoeUser: pppoe ?? "",
                cto: cto ?? "", requireCto: requireCTO, implantation: implantation.wire)
            let response = try await options.call { try await $0.provisionONU(request, options: $1) }
            try printChange(response, options)
        }
    }

    enum ImplantationFlag: String, EnumerableFlag {
        case implanted, notImplanted, keepImplanted

        var wire: Implantation {
            switch self {
            case .implanted: .implanted
            case .notImplanted: .notImplanted
            case .keepImplanted: .unchanged
            }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move an ONU's OZmap client to another CTO (\"Alterar CTO\").")

        @Argument(help: "The ONU id.") var onu: String
        @Argument(help: "The CTO: a box name or OZmap box id.") var cto: String
        @Option(help: "For an ONU ozmapd never saw: its ArchOLT OLT id (with --serial).") var olt: String?
        @Option(help: "For an ONU ozmapd never saw: its serial number (with --olt).") var serial: String?
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let request = AssignCTORequest(onuId: onu, cto: cto, archoltOltId: olt ?? "", serialNumber: serial ?? "")
            let response = try await options.call { try await $0.assignCTO(request, options: $1) }
            try printChange(response, options)
        }
    }

    struct Deprovision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an ONU's client and property from OZmap.")

        @Argument(help: "The ONU id.") var onu: String
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let response = try await options.call { try await $0.deprovisionONU(DeprovisionONURequest(onuId: onu), options: $1) }
            try printChange(response, options)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an ONU and where it stands with OZmap.")

        @Argument(help: "The ONU id.") var onu: String
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let found = try await options.call { try await $0.getONU(GetONURequest(onuId: onu), options: $1) }
            if options.json { return try printJSON(found) }
            printTable([
                ["ONU", found.onuId], ["state", short(found.state.protoName, "ONU_STATE_")], ["OLT", found.archoltOltId],
                ["serial", found.serialNumber], ["MAC", found.macAddress], ["PPPoE", found.pppoeUser],
                ["CTO", found.ctoBoxName.isEmpty ? "" : "\(found.ctoBoxName) (\(found.ctoBoxId))"],
                ["port", portText(found)],
                ["OZmap client", found.ozmapClientId.isEmpty ? "" : "\(found.ozmapClientId) (code \(found.ozmapClientCode))"
                    + (found.adopted ? ", adopted" : "")],
                ["OZmap property", found.ozmapPropertyId],
                ["last error", found.lastError], ["updated", found.updatedAt],
            ])
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List ONUs.")

        @Option(help: "Only this ArchOLT OLT.") var olt: String?
        @Option(help: "Only this state: waiting-for-cto, pending, synced, failed, deprovisioned.") var state: String?
        @Option(help: "Only this CTO box id.") var cto: String?
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let wanted: ONUState? = try parseState(state, prefix: "ONU_STATE_", options: options)
            let request = ListONUsRequest(archoltOltId: olt ?? "", state: wanted ?? .unspecified, ctoBoxId: cto ?? "", pageSize: 1000)
            let pages = try await options.callAllPages(request) { try await $0.listONUs($1, options: $2) }
            if options.json { return print(ProtoJSON.render(.list(try pages.map(jsonValue)))) }
            let onus = pages.flatMap(\.onus)
            printTable([["ONU", "STATE", "OLT", "SERIAL", "CTO", "PORT", "OZMAP CLIENT"]] + onus.map {
                [$0.onuId, short($0.state.protoName, "ONU_STATE_"), $0.archoltOltId, $0.serialNumber, $0.ctoBoxName, portText($0),
                 $0.ozmapClientId + ($0.adopted ? " (adopted)" : "")]
            })
        }
    }
}

struct OpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "The outbox of OZmap changes.", subcommands: [List.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List operations: pending, failed, done...")

        @Option(help: "Only this ONU.") var onu: String?
        @Option(help: "Only this state: pending, in-flight, done, failed, collapsed.") var state: String?
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let wanted: OperationState? = try parseState(state, prefix: "OPERATION_STATE_", options: options)
            let request = ListOperationsRequest(onuId: onu ?? "", state: wanted ?? .unspecified, pageSize: 1000)
            let pages = try await options.callAllPages(request) { try await $0.listOperations($1, options: $2) }
            if options.json { return print(ProtoJSON.render(.list(try pages.map(jsonValue)))) }
            printTable([["ID", "ONU", "KIND", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR"]] + pages.flatMap(\.operations).map {
                [$0.id, $0.onuId, short($0.kind.protoName, "OPERATION_KIND_"), short($0.state.protoName, "OPERATION_STATE_"),
                 "\($0.attempts)", $0.state == .pending ? $0.nextAttemptAt : "", $0.lastError]
            })
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a failed operation back in the queue.")

        @Argument(help: "The operation id.") var operation: String
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let retried = try await options.call { try await $0.retryOperation(RetryOperationRequest(operationId: operation), options: $1) }
            if options.json { return try printJSON(retried) }
            print("operation \(retried.id) of ONU \(retried.onuId) is queued again")
        }
    }
}

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "The audit log: every change ozmapd made in OZmap.")

    @Option(help: "Only this ONU.") var onu: String?
    @Flag(help: "Keep printing new entries as they come.") var follow = false
    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        var after: UInt64 = 0
        var first = true
        repeat {
            let request = ListAuditLogRequest(onuId: onu ?? "", afterSeq: after, pageSize: 1000)
            let pages = try await options.callAllPages(request) { try await $0.listAuditLog($1, options: $2) }
            let entries = pages.flatMap(\.entries)
            if options.json {
                for page in pages where !page.entries.isEmpty { print(ProtoJSON.render(try jsonValue(page), pretty: false)) }
            }
            if !options.json {
                let rows = entries.map {
                    [$0.at, $0.onuId, "op \($0.operationId)", "\($0.httpMethod) \($0.route)", $0.httpStatus == 0 ? "—" : "\($0.httpStatus)",
                     "\($0.durationMs) ms", $0.result, $0.error]
                }
                if first || !rows.isEmpty { printTable((first ? [["TIME", "ONU", "OPERATION", "REQUEST", "STATUS", "TOOK", "RESULT", "ERROR"]] : []) + rows) }
            }
            after = entries.last?.seq ?? after
            first = false
            if follow { try await Task.sleep(for: .seconds(1)) }
        } while follow
    }
}

/// "SPL-2 port 5": the customer splitter port the ONU's client is connected to.
func portText(_ onu: ONU) -> String {
    guard onu.port > 0 else { return "" }
    return "\(onu.splitterName.isEmpty ? onu.splitterId : onu.splitterName) port \(onu.port)"
}

/// One line about the change (the response as JSON with --json).
private func printChange(_ response: some ONUChangeResponse, _ options: ConnectionOptions) throws {
    if options.json { return try printJSON(response) }
    let onu = response.onu ?? ONU()
    var line = "ONU \(onu.onuId): \(short(onu.state.protoName, "ONU_STATE_"))"
    if !onu.ctoBoxName.isEmpty { line += " at \(onu.ctoBoxName)" }
    if onu.port > 0 { line += " (\(portText(onu)))" }
    if let operation = response.operation {
        line += "; operation \(operation.id) \(short(operation.state.protoName, "OPERATION_STATE_"))"
        if !operation.lastError.isEmpty { line += " (\(operation.lastError))" }
    }
    if !onu.ozmapClientId.isEmpty { line += "; OZmap client \(onu.ozmapClientId)" }
    print(line)
}
