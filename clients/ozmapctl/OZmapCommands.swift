import ArcholtOZmapV1
import ArgumentParser
import Foundation
import GRPCCore
import OZmapRPC

struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials", abstract: "Set or show the OZmap API credentials.",
        subcommands: [Set.self, Show.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the OZmap URL and key against OZmap, save them, and start the initial box load.",
            discussion: "The key is read from --key-file, else from standard input, so it never appears in a process listing.")

        @Option(help: "OZmap API URL, ending in /api/v2 (e.g. https://tenant.ozmap.com.br:9994/api/v2).")
        var url: String

        @Option(help: "A file holding the API key.")
        var keyFile: String?

        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let key: String
            if let keyFile {
                guard let data = FileManager.default.contents(atPath: keyFile) else {
                    throw options.failure(RPCError(code: .invalidArgument, message: "--key-file: cannot read \(keyFile)"))
                }
                key = String(decoding: data, as: UTF8.self)
            } else {
                key = readLine(strippingNewline: true) ?? ""
            }
            let response = try await options.call { try await $0.setCredentials(SetCredentialsRequest(apiUrl: url, apiKey: key), options: $1) }
            if options.json { return try printJSON(response) }
            print("credentials saved for \(response.credentials?.apiUrl ?? ""); the initial box load has started (ozmapctl sync --wait to follow it)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the OZmap URL and whether a key is set (never the key).")

        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let response = try await options.call { try await $0.getCredentials(GetCredentialsRequest(), options: $1) }
            if options.json { return try printJSON(response) }
            let credentials = response.credentials ?? Credentials()
            printTable([
                ["url", credentials.apiUrl.isEmpty ? "(not set)" : credentials.apiUrl],
                ["key", credentials.apiKeySet ? "set" : "not set"],
                ["source", credentials.source],
                ["updated", credentials.updatedAt],
            ])
        }
    }
}

struct OZmapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ozmap", abstract: "Look at OZmap itself.", subcommands: [OLTs.self])

    struct OLTs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "olts", abstract: "List the OLTs OZmap knows, and their links.")

        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let response = try await options.call { try await $0.listOZmapOLTs(ListOZmapOLTsRequest(), options: $1) }
            if options.json { return try printJSON(response) }
            printTable([["ID", "NAME", "IP", "LINKED TO"]] + response.olts.map { [$0.id, $0.name, $0.ip, $0.archoltOltId] })
        }
    }
}

struct OLTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "olt", abstract: "Link ArchOLT OLTs to OZmap OLTs.", subcommands: [Link.self, Unlink.self, List.self])

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Link (or re-link) an ArchOLT OLT to an OZmap OLT.")

        @Argument(help: "The ArchOLT OLT id.") var archoltOLT: String
        @Argument(help: "The OZmap OLT id (ozmapctl ozmap olts).") var ozmapOLT: String
        @Flag(help: "Refuse ONU activation on this OLT without a CTO.") var requireCTO = false
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let request = LinkOLTRequest(archoltOltId: archoltOLT, ozmapOltId: ozmapOLT, requireCtoOnActivation: requireCTO)
            let response = try await options.call { try await $0.linkOLT(request, options: $1) }
            if options.json { return try printJSON(response) }
            let link = response.link ?? OLTLink()
            print("\(response.created ? "linked" : "updated"): \(link.archoltOltId) → \(link.ozmapOltName) (\(link.ozmapOltId))"
                  + (link.requireCtoOnActivation ? ", CTO required at activation" : ""))
        }
    }

    struct Unlink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an OLT link.")

        @Argument(help: "The ArchOLT OLT id.") var archoltOLT: String
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let response = try await options.call { try await $0.unlinkOLT(UnlinkOLTRequest(archoltOltId: archoltOLT), options: $1) }
            if options.json { return try printJSON(response) }
            let removed = response.removed ?? OLTLink()
            print("unlinked \(removed.archoltOltId) from \(removed.ozmapOltName)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the OLT links.")

        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let response = try await options.call { try await $0.listOLTLinks(ListOLTLinksRequest(), options: $1) }
            if options.json { return try printJSON(response) }
            printTable([["ARCHOLT OLT", "OZMAP OLT", "NAME", "CTO REQUIRED", "UPDATED", "PROBLEM"]] + response.links.map {
                [$0.archoltOltId, $0.ozmapOltId, $0.ozmapOltName, $0.requireCtoOnActivation ? "yes" : "no", $0.updatedAt, $0.problem]
            })
        }
    }
}

struct BoxesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boxes", abstract: "Query the box (CTO) cache.", subcommands: [List.self, Show.self])

    enum Match: String, ExpressibleByArgument, CaseIterable {
        case contains, exact, prefix
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cached boxes, by OLT and/or name.")

        @Option(help: "Boxes of the OZmap OLT linked to this ArchOLT OLT.") var olt: String?
        @Option(help: "Boxes of this OZmap OLT.") var ozmapOLT: String?
        @Option(help: "A box name, case- and accent-insensitive.") var query: String?
        @Option(help: "How the query matches: contains, exact or prefix.") var match: Match = .contains
        @Option(help: "Boxes per page (the server's default when absent).") var pageSize: UInt32 = 0
        @Option(help: "Continue from a previous page.") var pageToken: String?
        @Flag(help: "Fetch every page.") var all = false
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            var request = ListBoxesRequest(archoltOltId: olt ?? "", ozmapOltId: ozmapOLT ?? "", query: query ?? "",
                                           pageSize: pageSize, pageToken: pageToken ?? "")
            request.match = switch match {
            case .contains: .contains
            case .exact: .exact
            case .prefix: .prefix
            }
            let pages = try await options.callAllPages(request, all: all) { try await $0.listBoxes($1, options: $2) }
            let boxes = pages.flatMap(\.boxes)
            let total = pages.last?.total ?? 0
            let next = pages.last?.nextPageToken ?? ""
            if options.json {
                let values = try pages.map(jsonValue)
                return print(ProtoJSON.render(values.count == 1 ? values[0] : .list(values)))
            }
            printTable([["NAME", "ID", "OZMAP OLT", "PORTS FREE", "LAT", "LNG"]] + boxes.map {
                [$0.name, $0.id, $0.ozmapOltId, "\($0.portsFree)/\($0.portsTotal)", String(format: "%.6f", $0.lat), String(format: "%.6f", $0.lng)]
            })
            print("\(boxes.count) of \(total) boxes" + (next.isEmpty ? "" : "; next page: --page-token \(next)"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one box by OZmap id or exact name, with its splitters.")

        @Argument(help: "An OZmap box id or a box name.") var box: String
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let looksLikeID = box.count == 24 && box.allSatisfy(\.isHexDigit)
            let request = looksLikeID ? GetBoxRequest(id: box) : GetBoxRequest(name: box)
            let found = try await options.call { try await $0.getBox(request, options: $1) }
            if options.json { return try printJSON(found) }
            printTable([
                ["name", found.name], ["id", found.id], ["project", found.project],
                ["OZmap OLT", found.ozmapOltId], ["slot", found.slotId], ["PON", found.ponId],
                ["coordinates", String(format: "%.6f, %.6f (lat, lng)", found.lat, found.lng)],
                ["ports", "\(found.portsFree) free of \(found.portsTotal)"], ["updated", found.updatedAt],
            ])
            print("")
            printTable([["SPLITTER", "ID", "KIND", "PORTS FREE", "OLT"]] + found.splitters.map {
                [$0.name, $0.id, $0.isDrop ? "customer" : "primary", "\($0.portsFree)/\($0.portsTotal)", $0.ozmapOltId]
            })
            // The ports ozmapd placed ONUs on (others' clients occupy the rest of the taken ports).
            let placed = try await options.callAllPages(ListONUsRequest(ctoBoxId: found.id, pageSize: 1000)) { try await $0.listONUs($1, options: $2) }
                .flatMap(\.onus).filter { $0.state != .deprovisioned }
                .sorted { ($0.splitterName, $0.port, $0.onuId) < ($1.splitterName, $1.port, $1.onuId) }
            print("")
            guard !placed.isEmpty else { return print("no ONU placed here by ozmapd") }
            printTable([["SPLITTER", "PORT", "ONU", "SERIAL", "STATE", "OZMAP CLIENT"]] + placed.map {
                [$0.splitterName.isEmpty ? $0.splitterId : $0.splitterName, $0.port > 0 ? "\($0.port)" : "?", $0.onuId, $0.serialNumber,
                 String($0.state.protoName.dropFirst("ONU_STATE_".count)).lowercased(), $0.ozmapClientId + ($0.adopted ? " (adopted)" : "")]
            })
        }
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Refresh the box cache from OZmap now.",
        discussion: "Joins a pass already running. With --wait, follows it to the end (a progress bar on a terminal); the exit code is then the pass's status code.")

    @Flag(help: "A full pass (also drops boxes deleted in OZmap) instead of an incremental one.") var full = false
    @Flag(help: "Wait for the pass to finish.") var wait = false
    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let response = try await options.call { try await $0.syncBoxes(SyncBoxesRequest(full: full, wait: false), options: $1) }
        guard wait else {
            if options.json { return try printJSON(response) }
            return print(response.started ? "sync started (\(full ? "full" : "incremental"))" : "joined the sync already running")
        }
        let interactive = isatty(STDOUT_FILENO) == 1 && !options.json
        var report = response.report ?? SyncReport()
        while report.running {
            if interactive { drawProgress(report) }
            try await Task.sleep(for: .milliseconds(200))
            let status = try await options.call { try await $0.getStatus(GetStatusRequest(), options: $1) }
            guard let latest = status.lastSync else { break }
            report = latest
        }
        if interactive { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        if options.json {
            try printJSON(SyncBoxesResponse(report: report, started: response.started))
        } else {
            print(describe(report))
        }
        if !report.error.isEmpty {
            // The error begins with its status's name ("UNAVAILABLE: OZmap answered 503 …").
            let name = report.error.firstIndex(of: ":").map { String(report.error[..<$0]) }
            let code = name.flatMap(GRPCCore.Status.Code.init(wireName:)) ?? .unknown
            throw ExitCode(Int32(code.rawValue))
        }
    }

    private func drawProgress(_ report: SyncReport) {
        let width = 30
        let total = max(report.progressTotal, 1)
        let done = Int(Double(report.progressDone) / Double(total) * Double(width))
        let bar = String(repeating: "█", count: done) + String(repeating: "·", count: width - done)
        let line = "\r\u{1B}[K\(report.phase.isEmpty ? "starting" : report.phase) [\(bar)] \(report.progressDone)/\(report.progressTotal)"
        FileHandle.standardOutput.write(Data(line.utf8)) // unbuffered, so the bar moves
    }
}
