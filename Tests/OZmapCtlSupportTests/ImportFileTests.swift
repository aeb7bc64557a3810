import ArcholtOZmapV1
import Testing
@testable import OZmapCtlSupport

/// `ozmapctl onu import`'s file reader: every malformed file is refused naming
/// its line before anything is sent.
@Suite struct ImportFileTests {
    private func problems(_ text: String) -> [ImportFileError.Problem] {
        do {
            _ = try ImportFile(text: text)
            Issue.record("accepted: \(text.debugDescription)")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func commaSeparatedWithEveryColumn() throws {
        let file = try ImportFile(text: """
            archolt_olt_id,onu_id,serial_number,cto,mac_address,pppoe_user,implanted
            olt-1,onu-1,ZTEG00000001,CTO-01-001,AA:BB:CC:00:00:01,joao@isp,sim
            olt-1,onu-2,ZTEG00000002,CTO-01-002,,,

            """)
        #expect(file.separator == ",")
        #expect(file.entries == [
            .init(line: 2, row: ImportRow(archoltOltId: "olt-1", onuId: "onu-1", serialNumber: "ZTEG00000001", cto: "CTO-01-001",
                                          macAddress: "AA:BB:CC:00:00:01", pppoeUser: "joao@isp", implanted: .implanted)),
            .init(line: 3, row: ImportRow(archoltOltId: "olt-1", onuId: "onu-2", serialNumber: "ZTEG00000002", cto: "CTO-01-002",
                                          implanted: .unspecified)),
        ])
    }

    /// Excel's "sep=;" first line names the separator; lines ending in a separator (an empty last
    /// column) read as if it were not there; an ONU given twice in the file is refused with both lines.
    @Test func excelSeparatorLineTrailingSeparatorsAndAnONUTwice() throws {
        let file = try ImportFile(text: "sep=;\narcholt_olt_id;onu_id;serial_number;cto;\nolt-1;onu-1;SN1;CTO 1,2;\n")
        #expect(file.separator == ";")
        #expect(file.entries.map(\.line) == [3])
        #expect(file.entries.map(\.row.cto) == ["CTO 1,2"])
        let twice = problems("archolt_olt_id,onu_id,serial_number,cto\nolt-1,onu-1,SN1,C1\nolt-1,onu-2,SN2,C1\nolt-1,onu-1,SN3,C2\n")
        #expect(twice.map(\.line) == [4])
        #expect(twice.first?.message.contains("line 2") == true, "\(twice)")
    }

    @Test func semicolonSeparatorIsDetectedFromTheHeaderAndCommasStayInValues() throws {
        let file = try ImportFile(text: "onu_id;cto;serial_number;archolt_olt_id\nonu-1;CTO 1,2;SN1;olt-1\n")
        #expect(file.separator == ";")
        #expect(file.entries.map(\.row.cto) == ["CTO 1,2"])
        #expect(file.entries.map(\.row.onuId) == ["onu-1"])
    }

    @Test func columnsInAnyOrderCaseInsensitiveAndTrimmed() throws {
        let file = try ImportFile(text: " CTO ; Serial_Number;ONU_ID ;Archolt_OLT_Id;IMPLANTED\nC1;S1;O1;L1;Não Implantado\n")
        #expect(file.columns == ["cto", "serial_number", "onu_id", "archolt_olt_id", "implanted"])
        #expect(file.entries.first?.row == ImportRow(archoltOltId: "L1", onuId: "O1", serialNumber: "S1", cto: "C1", implanted: .notImplanted))
    }

    @Test func quotedFieldsWithSeparatorsEscapedQuotesAndLineBreaks() throws {
        let file = try ImportFile(text: #"""
            archolt_olt_id;onu_id;serial_number;cto;pppoe_user
            olt-1;"onu;1";"SN ""A""";"CTO
            two lines";""
            olt-1;onu-2;SN2;CTO-2;"x"

            """#)
        #expect(file.entries.map(\.row.onuId) == ["onu;1", "onu-2"])
        #expect(file.entries.map(\.row.serialNumber) == ["SN \"A\"", "SN2"])
        #expect(file.entries.first?.row.cto == "CTO\ntwo lines")
        #expect(file.entries.map(\.line) == [2, 4], "a record spanning two lines keeps its first; the next counts both")
    }

    @Test func byteOrderMarkCRLFAndBlankLines() throws {
        let text = "\u{FEFF}archolt_olt_id,onu_id,serial_number,cto\r\n\r\nolt-1,onu-1,SN1,C1\r\n,,,\r\n  \r\nolt-1,onu-2,SN2,C2\r\n\r\n"
        let file = try ImportFile(text: text)
        #expect(file.columns.first == "archolt_olt_id")
        #expect(file.entries.map(\.line) == [3, 6])
        #expect(file.entries.map(\.row.cto) == ["C1", "C2"], "no \\r left in the last column")

        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("onu_id;cto;serial_number;archolt_olt_id\r\no;c;s;l".utf8)
        let fromBytes = try ImportFile(bytes: bytes)
        #expect(fromBytes.columns.first == "onu_id")
        #expect(fromBytes.entries.map(\.row.archoltOltId) == ["l"], "the last line needs no line break")
    }

    @Test func latin1FileIsRead() throws {
        // "não" in Latin-1 (Windows-1252): E3 is not UTF-8 on its own.
        let bytes = Array("archolt_olt_id;onu_id;serial_number;cto;implanted\nl;o;s;c;n".utf8) + [0xE3] + Array("o\n".utf8)
        let file = try ImportFile(bytes: bytes)
        #expect(file.entries.first?.row.implanted == .notImplanted)
    }

    @Test func implantedValues() {
        for text in ["true", "TRUE", "1", "yes", "Sim", "implantado", " Implantado "] {
            #expect(ImportFile.implantation(text) == .implanted, "\(text)")
        }
        for text in ["false", "0", "No", "não", "NÃO", "nao", "não implantado", "Nao Implantado", "na\u{0303}o"] {
            #expect(ImportFile.implantation(text) == .notImplanted, "\(text)")
        }
        #expect(ImportFile.implantation("") == .unspecified)
        #expect(ImportFile.implantation("  ") == .unspecified)
        for text in ["talvez", "2", "y", "implanted?"] {
            #expect(ImportFile.implantation(text) == nil, "\(text)")
        }
    }

    @Test func badImplantedValueNamesItsLineAndColumn() {
        let found = problems("""
            archolt_olt_id,onu_id,serial_number,cto,implanted
            l,o1,s1,c1,sim
            l,o2,s2,c2,talvez
            """)
        #expect(found.count == 1)
        #expect(found.first?.line == 3)
        #expect(found.first?.message.contains("implanted") == true)
        #expect(found.first?.message.contains("talvez") == true)
    }

    @Test func missingRequiredColumnIsNamed() {
        let found = problems("archolt_olt_id;onu_id;cto\nl;o;c\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 1)
        #expect(found.first?.message.contains("missing required column serial_number") == true)
    }

    @Test func unknownColumnsAreNamed() {
        let found = problems("archolt_olt_id,onu_id,serial_number,cto,vlan,Bairro\nl,o,s,c,100,Centro\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 1)
        #expect(found.first?.message.contains("\"vlan\"") == true)
        #expect(found.first?.message.contains("\"bairro\"") == true)
        #expect(problems("archolt_olt_id,onu_id,onu_id,serial_number,cto\n").first?.message.contains("onu_id appears more than once") == true)
    }

    @Test func columnCountMismatchNamesEveryLine() {
        let found = problems("""
            archolt_olt_id;onu_id;serial_number;cto
            l;o1;s1;c1
            l;o2;s2
            l;o3;s3;c3;extra
            l;o4;s4;c4
            """)
        #expect(found.map(\.line) == [3, 4])
        #expect(found.first?.message.hasPrefix("3 fields, the header has 4") == true)
    }

    @Test func unterminatedQuoteNamesTheLineItOpensOn() {
        let found = problems("archolt_olt_id,onu_id,serial_number,cto\nl,o1,s1,c1\nl,\"o2,s2,c2\nl,o3,s3,c3\n")
        #expect(found.map(\.line) == [3])
        #expect(found.first?.message.contains("never closed") == true)
    }

    @Test func textAfterAClosingQuoteIsRefused() {
        let found = problems("archolt_olt_id,onu_id,serial_number,cto\nl,\"o1\"x,s1,c1\n")
        #expect(found.map(\.line) == [2])
    }

    @Test func emptyFileAndHeaderOnly() throws {
        #expect(problems("").map(\.line) == [1])
        #expect(problems("\n\n").map(\.line) == [1])
        #expect(try ImportFile(text: "archolt_olt_id,onu_id,serial_number,cto\n").entries.isEmpty)
    }

    @Test func problemsAreCappedButCounted() {
        let rows = (1...30).map { "l,o\($0)" }.joined(separator: "\n")
        do {
            _ = try ImportFile(text: "archolt_olt_id,onu_id,serial_number,cto\n" + rows)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.count == ImportFile.maxProblemsListed)
            #expect(error.total == 30)
            #expect(error.problems.last?.line == 21)
            #expect(error.description.hasSuffix("… and 10 more"))
        }
    }

    /// The two examples of docs/OPERATIONS.md: the same fleet, either separator.
    @Test func bothSeparatorsOfTheDocsReadTheSame() throws {
        let semicolons = try ImportFile(text: """
            archolt_olt_id;onu_id;serial_number;cto;mac_address;pppoe_user;implanted
            olt-a;onu-0001;ZTEG00000001;CTO-01-003;;;sim
            olt-a;onu-0002;ZTEG00000002;CTO-01-002;;ana@isp;
            olt-a;onu-0003;ZTEG00000003;CTO-01-004;AA:BB:CC:00:00:03;"joao;silva@isp";não implantado
            olt-a;onu-0004;ZTEG00000004;CTO-99-999;;;
            olt-zz;onu-0005;ZTEG00000005;CTO-01-001;;;
            """)
        let commas = try ImportFile(text: """
            onu_id,serial_number,archolt_olt_id,cto,pppoe_user,implanted,mac_address
            onu-0001,ZTEG00000001,olt-a,CTO-01-003,,yes,
            onu-0002,ZTEG00000002,olt-a,CTO-01-002,ana@isp,,
            onu-0003,ZTEG00000003,olt-a,CTO-01-004,joao;silva@isp,Não implantado,AA:BB:CC:00:00:03
            onu-0004,ZTEG00000004,olt-a,CTO-99-999,,,
            onu-0005,ZTEG00000005,olt-zz,CTO-01-001,,,
            """)
        #expect(semicolons.separator == ";")
        #expect(commas.separator == ",")
        #expect(semicolons.entries == commas.entries)
        #expect(semicolons.entries.map(\.row.implanted) == [.implanted, .unspecified, .notImplanted, .unspecified, .unspecified])
        #expect(semicolons.entries[2].row.pppoeUser == "joao;silva@isp")
        #expect(semicolons.entries[2].row.macAddress == "AA:BB:CC:00:00:03")
    }

    @Test func separatorDetectionIgnoresQuotedSeparators() {
        #expect(ImportFile.detectSeparator(Array("\"a;b;c\",d\ne;f;g;h;i".unicodeScalars)) == ",")
        #expect(ImportFile.detectSeparator(Array("\n\na;b,c;d\n".unicodeScalars)) == ";")
        #expect(ImportFile.detectSeparator(Array("onu_id".unicodeScalars)) == ",")
    }
}

/// ImportONUs takes 1,000 rows a call; its `row` is 1-based in the batch.
@Suite struct ImportBatchTests {
    private func file(rows: Int, blankEvery: Int = 0) throws -> ImportFile {
        var text = "archolt_olt_id,onu_id,serial_number,cto\n"
        for index in 1...rows {
            if blankEvery > 0, index % blankEvery == 0 { text += "\n" }
            text += "olt,onu-\(index),SN\(index),CTO\n"
        }
        return try ImportFile(text: text)
    }

    @Test func batchesOfAThousand() throws {
        let batches = try file(rows: 2345).batches()
        #expect(batches.map(\.entries.count) == [1000, 1000, 345])
        #expect(batches.map(\.number) == [1, 2, 3])
        #expect(batches[1].rows.first?.onuId == "onu-1001")
        #expect(try file(rows: 1000).batches().count == 1)
    }

    @Test func batchRowsMapBackToFileLines() throws {
        // A blank line before every 10th row: lines and positions drift apart.
        let imported = try file(rows: 2500, blankEvery: 10)
        let batches = imported.batches(size: 1000)
        #expect(batches[0].line(ofRow: 1) == 2)
        #expect(batches[0].line(ofRow: 10) == 12)
        #expect(batches[1].line(ofRow: 1) == imported.entries[1000].line)
        #expect(batches[1].line(ofRow: 1) == 1001 + 100 + 1, "row 1001 of the file: 100 blank lines and the header above it")
        #expect(batches[2].line(ofRow: 500) == imported.entries.last?.line)
        #expect(batches[2].line(ofRow: 0) == nil)
        #expect(batches[2].line(ofRow: 501) == nil)
        for batch in batches {
            for (offset, entry) in batch.entries.enumerated() {
                #expect(batch.line(ofRow: UInt32(offset + 1)) == entry.line)
            }
        }
    }

    @Test func outcomesCarryTheirLinesAndTheFileCTO() throws {
        let batches = try file(rows: 3).batches(size: 2)
        let results = [result(row: 1, action: .create)]
        let outcomes = ImportOutcome.outcomes(results, of: batches[1])
        #expect(outcomes.map(\.line) == [4])
        #expect(outcomes.map(\.fileCTO) == ["CTO"])
        #expect(ImportOutcome.outcomes([result(row: 9, action: .error)], of: batches[1]).map(\.line) == [nil])
    }

    @Test func totalsAndSummary() throws {
        let batches = try file(rows: 3).batches(size: 2)
        var totals = ImportTotals()
        totals.add(ImportONUsResponse(dryRun: true, results: [result(row: 1, action: .adopt), result(row: 2, action: .error)],
                                      counts: [.init(action: .adopt, count: 1), .init(action: .error, count: 1)], errors: 1, ozmapRequests: 4),
                   of: batches[0])
        totals.add(ImportONUsResponse(dryRun: true, results: [result(row: 1, action: .create)], counts: [], errors: 0, ozmapRequests: 2),
                   of: batches[1])
        #expect(totals.errors == 1)
        #expect(totals.ozmapRequests == 6)
        #expect(totals.outcomes.map(\.line) == [2, 3, 4])
        #expect(totals.summary(rows: 3, dryRun: true) == "3 rows: 1 adopt, 1 create, 1 error (dry run: nothing changed; run again with --apply)")
        let table = ImportReport.table(totals.outcomes, dryRun: true)
        #expect(table.first?.hasPrefix("LINE  ONU    ACTION") == true)
        #expect(table.count == 4)
        #expect(table[2].contains("ERROR") && table[2].contains("bad cto"))
    }

    private func result(row: UInt32, action: ImportAction) -> ImportRowResult {
        ImportRowResult(row: row, onuId: "onu-\(row)", action: action, detail: "", error: action == .error ? "bad cto" : "",
                        ctoBoxId: "", ctoBoxName: "", ozmapClientId: "", operationId: "")
    }
}

@Suite struct ReconcileReportTests {
    private func row(_ kind: DriftKind, _ onu: String, operation: String = "") -> DriftRow {
        DriftRow(kind: kind, onuId: onu, ozmapClientId: "c-\(onu)", ozmapPropertyId: "", fields: kind == .dataDiffers ? ["onu.serial_number"] : [],
                 ozmapdHolds: "CTO-1", ozmapHolds: "CTO-2", action: "move", operationId: operation)
    }

    @Test func groupsByKindWithCountsAndSummary() {
        let response = ReconcileResponse(
            dryRun: true, rows: [row(.atOtherBox, "o3"), row(.missingInOzmap, "o1"), row(.missingInOzmap, "o2")],
            counts: [.init(kind: .missingInOzmap, count: 2), .init(kind: .atOtherBox, count: 1), .init(kind: .duplicate, count: 0)],
            onusChecked: 12, ozmapRequests: 3, operationIds: [], checkedAt: "")
        let lines = ReconcileReport.lines(response)
        #expect(lines.first == "missing in OZmap (2)")
        #expect(lines.contains("at another box (1)"))
        #expect(!lines.contains { $0.contains("OPERATION") }, "no operation column in a dry run")
        #expect(lines.last == "12 ONUs checked, 3 differences: 2 missing in OZmap, 1 at another box (dry run: nothing changed; --apply queues the fixes)")
    }

    @Test func appliedAndClean() {
        let applied = ReconcileResponse(dryRun: false, rows: [row(.dataDiffers, "o1", operation: "op-7")], counts: [],
                                        onusChecked: 1, ozmapRequests: 1, operationIds: ["op-7"], checkedAt: "")
        let lines = ReconcileReport.lines(applied)
        #expect(lines[1].hasSuffix("OPERATION"))
        #expect(lines[2].hasSuffix("op-7"))
        #expect(lines.last == "1 ONU checked, 1 difference: 1 data differs; applied: 1 operation queued")
        let clean = ReconcileResponse(dryRun: true, rows: [], counts: [], onusChecked: 40, ozmapRequests: 1, operationIds: [], checkedAt: "")
        #expect(ReconcileReport.lines(clean) == ["40 ONUs checked, no differences"])
    }

    @Test func tableColumnsLineUp() {
        #expect(formatTable([["A", "BB", "C"], ["AAA", "B", ""]]) == ["A    BB  C", "AAA  B   "])
        #expect(formatTable([]) == [])
    }
}
