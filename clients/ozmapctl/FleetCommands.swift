import ArcholtOZmapV1
import ArgumentParser
import Foundation
import GRPCCore
import OZmapCtlSupport
import OZmapRPC

/// A long comparison or import must not hit the 30 s default.
private let fleetTimeoutSeconds: Double = 600

struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile", abstract: "Compare ozmapd's ONUs with OZmap; with --apply, queue the fixes.",
        discussion: """
        A dry run unless --apply: it lists the differences by kind (missing in OZmap, at another box, data differs, \
        property without client, unknown to ozmapd, duplicate) and changes nothing. With --apply the fixes go to the \
        outbox (ozmapctl ops list). Differences are not errors: the exit code is the call's status code.
        """)

    @Option(help: "Only this ArchOLT OLT's ONUs.") var olt: String?
    @Option(help: "Only this ONU.") var onu: String?
    @Flag(help: "Queue the fixes (otherwise a dry run: nothing changes).") var apply = false
    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let options = options.withTimeout(default: fleetTimeoutSeconds)
        let request = ReconcileRequest(dryRun: !apply, archoltOltId: olt ?? "", onuId: onu ?? "")
        let response = try await options.call { try await $0.reconcile(request, options: $1) }
        if options.json { return try printJSON(response) }
        for line in ReconcileReport.lines(response) { print(line) }
    }
}

extension ONUCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the existing fleet from a CSV file: adopt, attach, move, create or update each ONU's OZmap client.",
            discussion: """
            The header row names the columns, in any order: archolt_olt_id, onu_id, serial_number, cto (required); \
            mac_address, pppoe_user, implanted (optional; implanted: true/false, 1/0, yes/no, sim/não, \
            implantado/não implantado, empty to leave it as OZmap has it). Separator ';' or ',' (the header's). \
            The whole file is checked before anything is sent. A dry run unless --apply; running a file again is safe.
            Exit code: 0; 65 (EX_DATAERR) when any row is an ERROR; 3 for a file that cannot be read; a failed call's status code.
            """)

        @Argument(help: "The CSV file ('-' reads standard input).") var file: String
        @Flag(help: "Make the changes (otherwise a dry run: nothing changes).") var apply = false
        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let options = options.withTimeout(default: fleetTimeoutSeconds)
            let imported = try read(options)
            let batches = imported.batches(size: 1000)
            let total = imported.entries.count
            let progress = isatty(STDERR_FILENO) == 1 && total > 0
            var totals = ImportTotals()
            var responses: [(ImportBatch, ImportONUsResponse)] = []
            for batch in batches {
                if progress { drawProgress(done: batch.entries.startIndex, total: total) }
                do {
                    let request = ImportONUsRequest(dryRun: !apply, rows: batch.rows)
                    let response = try await options.call { try await $0.importONUs(request, options: $1) }
                    totals.add(response, of: batch)
                    responses.append((batch, response))
                } catch {
                    if progress { clearProgress() }
                    if batch.number > 1 {
                        let sent = "lines \(batches[0].firstLine)–\(batches[batch.number - 2].lastLine)"
                        let note = apply
                            ? "ozmapctl: batch \(batch.number) of \(batches.count) (lines \(batch.firstLine)–\(batch.lastLine)) failed; "
                                + "\(sent) were imported before it; running the file again is safe\n"
                            : "ozmapctl: batch \(batch.number) of \(batches.count) (lines \(batch.firstLine)–\(batch.lastLine)) failed (dry run: nothing changed)\n"
                        FileHandle.standardError.write(Data(note.utf8))
                    }
                    throw error
                }
            }
            if progress { drawProgress(done: total, total: total); clearProgress() }

            if options.json {
                print(ProtoJSON.render(try json(totals, responses, rows: total)))
            } else if total == 0 {
                print("\(file): no rows to import")
            } else {
                for line in ImportReport.table(totals.outcomes, dryRun: !apply) { print(line) }
                print(totals.summary(rows: total, dryRun: !apply))
            }
            // 65 (EX_DATAERR): apart from the call's status codes (0–16), which a failed call exits with.
            if totals.errors > 0 { throw ExitCode(65) }
        }

        /// The file, checked: every problem is reported (INVALID_ARGUMENT) before anything is sent.
        private func read(_ options: ConnectionOptions) throws -> ImportFile {
            let bytes: [UInt8]
            if file == "-" {
                bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
            } else if let data = FileManager.default.contents(atPath: file) {
                bytes = [UInt8](data)
            } else {
                throw options.failure(RPCError(code: .invalidArgument, message: "cannot read \(file)"))
            }
            do {
                return try ImportFile(bytes: bytes)
            } catch {
                var violations = error.problems.map { FieldViolation(field: "line \($0.line)", description: $0.message) }
                if error.total > error.problems.count {
                    violations.append(FieldViolation(field: "…", description: "and \(error.total - error.problems.count) more"))
                }
                let count = error.total == 1 ? "a problem" : "\(error.total) problems"
                throw options.failure(RPCError(code: .invalidArgument, message: "\(file) has \(count); nothing was sent",
                                               metadata: FieldViolation.metadata(violations)))
            }
        }

        /// One document: every result with its file line (in place of its batch position), and the totals.
        private func json(_ totals: ImportTotals, _ responses: [(ImportBatch, ImportONUsResponse)], rows: Int) throws -> ProtoValue {
            var results: [ProtoValue] = []
            for (batch, response) in responses {
                for result in response.results {
                    let item = try jsonValue(result)
                    var fields: [ProtoMessage.Field] = []
                    if let line = batch.line(ofRow: result.row) { fields.append(.init(name: "line", value: .uint(UInt64(line)))) }
                    if case .message(let message) = item {
                        fields += message.fields.filter { $0.name != "row" }
                    }
                    results.append(.message(ProtoMessage(fields)))
                }
            }
            let counts: [ProtoValue] = ImportAction.allCases.filter { $0 != .unspecified }.map { action in
                .message(ProtoMessage([.init(name: "action", value: .enumValue(name: action.protoName, number: action.rawValue)),
                                       .init(name: "count", value: .uint(UInt64(totals.counts[action, default: 0])))]))
            }
            return .message(ProtoMessage([
                .init(name: "file", value: .string(file)),
                .init(name: "dry_run", value: .bool(!apply)),
                .init(name: "rows", value: .uint(UInt64(rows))),
                .init(name: "batches", value: .uint(UInt64(totals.batches))),
                .init(name: "results", value: .list(results)),
                .init(name: "counts", value: .list(counts)),
                .init(name: "errors", value: .uint(UInt64(totals.errors))),
                .init(name: "operations_queued", value: .uint(UInt64(totals.operations))),
                .init(name: "ozmap_requests", value: .uint(UInt64(totals.ozmapRequests))),
            ]))
        }

        private func drawProgress(done: Int, total: Int) {
            let width = 30
            let filled = Int(Double(done) / Double(max(total, 1)) * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = "\r\u{1B}[K\(apply ? "importing" : "checking") [\(bar)] \(done)/\(total) rows"
            FileHandle.standardError.write(Data(line.utf8))
        }

        private func clearProgress() {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }
}
